# The kernels are built for a portable baseline (no -march=native: a node_modules built on one CPU must not die of
# an illegal instruction on another) and, on x64, once more for AVX2+FMA, which f32x8.h and gemm.cc's micro-kernel
# use. backend/native.ts loads the best build the CPU runs (cpuIsa(): __builtin_cpu_supports), lowered by
# NAS_NATIVE_ISA=baseline|avx2. Each level is a whole addon from the same sources, not per-ISA objects linked into
# one: inline and template code (ours and the standard library's) compiled twice with different -m flags would be
# merged by the linker, which could keep the AVX2 copy on the baseline path. The AVX-512 build differs from the AVX2
# one in gemm.cc's micro-kernels (12x16 and 12x32, one zmm a row and panel: the pointwise convolutions of inference
# at batch 1 run about twice as fast) and the inference depthwise kernel (depthwise_grad.cc, forwardRows16); its
# outputs are bit for bit the AVX2 build's.
{
  "target_defaults": {
    "sources": ["<!@(ls -1 src/*.cc)"],
    "include_dirs": ["src"],
    "cflags!": ["-O2", "-fno-exceptions"],
    "cflags_cc!": ["-O2", "-fno-exceptions", "-fno-rtti"],
    "cflags": ["-O3"],
    "cflags_cc": ["-O3", "-std=c++17", "-ffp-contract=fast", "-fno-math-errno", "-fvisibility=hidden"],
    "defines": ["NAPI_VERSION=8"]
  },
  "targets": [
    {"target_name": "nas_kernels"}
  ],
  "conditions": [
    ['target_arch=="x64"', {
      "targets": [
        {"target_name": "nas_kernels_avx2", "cflags_cc": ["-mavx2", "-mfma"]},
        {"target_name": "nas_kernels_avx512", "cflags_cc": ["-mavx512f", "-mavx2", "-mfma"]}
      ]
    }]
  ]
}
