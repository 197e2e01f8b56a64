// Inference-only kernels: a dense layer with its bias and activation fused, and a whole squeeze-excite module in one
// call (pool, reduce FC + ReLU, expand FC + gate, channel scale). At batch 1 the per-kernel overhead of tfjs
// (about 10-60 us a call) is of the order of these layers' arithmetic, so fusing them is most of the speed-up.
//
// Exports:
//   denseBiasAct(heap, x, w, bias, y, M, K, N, kind)            y[M,N] = act(x[M,K] w[K,N] + bias[N]); bias < 0: none
//   squeezeExciteInfer(heap, x, w1, b1, w2, b2, y, N, HW, C, R, gate)
//       s = mean over HW of x[n]; h = relu(s w1[C,R] + b1); g = gate(h w2[R,C] + b2); y[n,p,c] = x[n,p,c] * g[c]
#include <vector>

#include "addon.h"
#include "epilogue.h"
#include "f32x8.h"
#include "gemm.h"
#include "pool.h"
#include "threads.h"

namespace nas {
namespace {

using namespace f32x8;

thread_local std::vector<float> tlsSe;

napi_value DenseBiasAct(napi_env env, napi_callback_info info) {
  Args a(env, info);
  Heap h(a);
  const size_t M = h.size(5), K = h.size(6), N = h.size(7);
  const int kind = a.i32(8);
  const float* x = h.at(1, M * K);
  const float* w = h.at(2, K * N);
  const bool hasBias = a.f64(3) >= 0;
  const float* bias = hasBias ? h.at(3, N) : nullptr;
  float* y = h.at(4, M * N);
  if (!h.ok()) return nullptr;
  if (!validActKind(kind)) {
    napi_throw_range_error(env, nullptr, "unknown activation kind");
    return nullptr;
  }
  if (M == 0 || N == 0) return nullptr;
  matmulEpilogue(static_cast<int>(M), static_cast<int>(N), static_cast<int>(K), x, w, y, Epilogue{bias, kind});
  return nullptr;
}

// One image of squeezeExciteInfer, with scratch for 2 C + R floats.
void exciteImage(const float* xn, float* yn, size_t HW, size_t C, size_t R, const float* w1, const float* b1,
                 const float* w2, const float* b2, int gate, float* scratch) {
  float* s = scratch;
  float* hid = s + C;
  float* g = hid + R;
  meanOverRows(xn, HW, C, s);
  if (R > 0) {
    matmulEpilogue(1, static_cast<int>(R), static_cast<int>(C), s, w1, hid, Epilogue{b1, kRelu});
    matmul(false, false, 1, static_cast<int>(C), static_cast<int>(R), hid, w2, g);
  } else {
    for (size_t c = 0; c < C; ++c) g[c] = 0.0f;
  }
  applyEpilogue(g, 1, static_cast<int>(C), Epilogue{b2, gate});
  for (size_t r = 0; r < HW; ++r) {
    const float* xp = xn + r * C;
    float* yp = yn + r * C;
    forChannelChunks<4>(C, [&](size_t c0, auto nv, auto mk, const Mask& m) {
      constexpr int NV = decltype(nv)::value;
      constexpr bool MK = decltype(mk)::value;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) st<NV, MK>(yp + c0, v, ld<NV, MK>(xp + c0, v, m) * ld<NV, MK>(g + c0, v, m), m);
    });
  }
}

napi_value SqueezeExciteInfer(napi_env env, napi_callback_info info) {
  Args a(env, info);
  Heap h(a);
  const size_t N = h.size(7), HW = h.size(8), C = h.size(9), R = h.size(10);
  const int gate = a.i32(11);
  const float* x = h.at(1, N * HW * C);
  const float* w1 = h.at(2, C * R);
  const float* b1 = h.at(3, R);
  const float* w2 = h.at(4, R * C);
  const float* b2 = h.at(5, C);
  float* y = h.at(6, N * HW * C);
  if (!h.ok()) return nullptr;
  if (gate != kHsigmoid && gate != kSigmoid) {
    napi_throw_range_error(env, nullptr, "squeezeExciteInfer: gate must be hsigmoid or sigmoid");
    return nullptr;
  }
  if (HW == 0 || C == 0) return nullptr;
  // Split by image; each image's squeeze and excite runs whole in one part, on that thread's scratch.
  const int parts = partsFor(2.0 * N * HW * C, kMinFloatsPerPart, static_cast<int64_t>(N));
  parallelRanges(static_cast<int64_t>(N), parts, 1, [&](int64_t b, int64_t e) {
    if (tlsSe.size() < 2 * C + R) tlsSe.resize(2 * C + R);
    for (int64_t n = b; n < e; ++n) exciteImage(x + n * HW * C, y + n * HW * C, HW, C, R, w1, b1, w2, b2, gate, tlsSe.data());
  });
  return nullptr;
}

NAS_EXPORT(DenseBiasAct);
NAS_EXPORT(SqueezeExciteInfer);

}  // namespace
}  // namespace nas
