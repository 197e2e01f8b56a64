{
  "targets": [
    {
      "target_name": "nas_kernels",
      "sources": ["<!@(ls -1 src/*.cc)"],
      "include_dirs": ["src"],
      "cflags!": ["-O2", "-fno-exceptions"],
      "cflags_cc!": ["-O2", "-fno-exceptions", "-fno-rtti"],
      "cflags": ["-O3"],
      "cflags_cc": ["-O3", "-std=c++17", "-march=native", "-mtune=native", "-ffp-contract=fast", "-fno-math-errno"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
