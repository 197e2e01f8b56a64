// Elementwise sum of two float32 arrays of the same size, in place on the wasm heap, split over the kernel threads at
// multiples of 32 floats (each element is one IEEE addition, so any split is the stock kernel's result bit for bit).
// tfjs's wasm Add runs on one thread; in a training step it sums every gradient that reaches a tensor twice (the
// residual connections, squeeze-excite's two uses of its input) and the residual adds: about 9% of a
// MobileNetV3-Small step at 224 px.
//
// Export: addArrays(heap, a, b, out, n)   out[i] = a[i] + b[i]
#include "addon.h"
#include "f32x8.h"
#include "threads.h"

namespace nas {
namespace {

using namespace f32x8;

void addRange(const float* a, const float* b, float* out, size_t n) {
  forFlat(n, [&](size_t i, auto nv, auto mk, const Mask& m) {
    constexpr int NV = decltype(nv)::value;
    constexpr bool MK = decltype(mk)::value;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) st<NV, MK>(out + i, v, ld<NV, MK>(a + i, v, m) + ld<NV, MK>(b + i, v, m), m);
  });
}

napi_value AddArrays(napi_env env, napi_callback_info info) {
  Args args(env, info);
  Heap h(args);
  const size_t n = h.size(4);
  const float* a = h.at(1, n);
  const float* b = h.at(2, n);
  float* out = h.at(3, n);
  if (!h.ok()) return nullptr;
  const int parts = partsFor(3.0 * n, kMinFloatsPerPart, static_cast<int64_t>(n / 32 + 1));
  parallelRanges(static_cast<int64_t>(n), parts, 32, [&](int64_t s, int64_t e) { addRange(a + s, b + s, out + s, e - s); });
  return nullptr;
}

NAS_EXPORT(AddArrays);

}  // namespace
}  // namespace nas
