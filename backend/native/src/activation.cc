// Elementwise activations and their gradients, in place on the wasm heap. Kinds (the `kind` argument):
//   0 relu      y = max(x, 0)                   dx = dy * (y > 0)
//   1 relu6     y = min(max(x, 0), 6)           dx = dy * (0 < y < 6)
//   2 hswish    y = x * (relu6(x + 3) * (1/6))  dx = x < -3 ? 0 : x <= 3 ? dy * (x * (1/3) + 0.5) : dy
//   3 hsigmoid  y = relu6(x + 3) * (1/6)        dx = -3 < x < 3 ? dy * (1/6) : 0
//   4 sigmoid   y = 1 / (1 + exp(-x))           dx = dy * (y * (1 - y))
// The gradients at the kinks follow PyTorch 1.13 (relu6 is its hardtanh(0, 6); hardswish_backward uses the middle
// formula on the closed interval [-3, 3]). The backward reads y for relu, relu6 and sigmoid and x for hswish and
// hsigmoid: the `saved` argument. The forward propagates NaN, as tfjs's stock kernels do.
#include "addon.h"
#include "f32x8.h"
#include "threads.h"

namespace {

using namespace nas::f32x8;
using nas::Heap;

enum Kind { kRelu = 0, kRelu6 = 1, kHswish = 2, kHsigmoid = 3, kSigmoid = 4 };

// Elementwise maps split into parts at multiples of 32 floats: forFlat then walks each part's floats in the same
// blocks (and the same tail) as it walks the whole array, so the split is bit for bit the one-thread result.
template <class F>
void parallelFlat(size_t n, double floatsPerElement, F&& f) {
  const int parts = nas::partsFor(floatsPerElement * n, nas::kMinFloatsPerPart, n / 32 + 1);
  nas::parallelRanges(static_cast<int64_t>(n), parts, 32, [&](int64_t b, int64_t e) { f(b, e - b); });
}

template <class F>
void map1Serial(const float* x, float* y, size_t n, F f) {
  forFlat(n, [&](size_t i, auto nv, auto mk, const Mask& m) {
    constexpr int NV = decltype(nv)::value;
    constexpr bool MK = decltype(mk)::value;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) st<NV, MK>(y + i, v, f(ld<NV, MK>(x + i, v, m)), m);
  });
}

template <class F>
void map1(const float* x, float* y, size_t n, F f) {
  parallelFlat(n, 2, [&](size_t b, size_t k) { map1Serial(x + b, y + b, k, f); });
}

template <class F>
void map2Serial(const float* a, const float* b, float* y, size_t n, F f) {
  forFlat(n, [&](size_t i, auto nv, auto mk, const Mask& m) {
    constexpr int NV = decltype(nv)::value;
    constexpr bool MK = decltype(mk)::value;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) st<NV, MK>(y + i, v, f(ld<NV, MK>(a + i, v, m), ld<NV, MK>(b + i, v, m)), m);
  });
}

template <class F>
void map2(const float* a, const float* b, float* y, size_t n, F f) {
  parallelFlat(n, 3, [&](size_t i, size_t k) { map2Serial(a + i, b + i, y + i, k, f); });
}

// activationForward(heap, x, y, n, kind).
napi_value ActivationForward(napi_env env, napi_callback_info info) {
  nas::Args a(env, info);
  Heap h(a);
  const size_t n = h.size(3);
  const int kind = a.i32(4);
  const float* x = h.at(1, n);
  float* y = h.at(2, n);
  if (!h.ok()) return nullptr;
  const V zero_ = zero(), one = set1(1.0f), three = set1(3.0f), six = set1(6.0f), sixth = set1(1.0f / 6.0f);
  switch (kind) {
    case kRelu:
      map1(x, y, n, [&](V v) { return max(zero_, v); });
      break;
    case kRelu6:
      map1(x, y, n, [&](V v) { return min(six, max(zero_, v)); });
      break;
    case kHswish:
      map1(x, y, n, [&](V v) { return v * (min(six, max(zero_, v + three)) * sixth); });
      break;
    case kHsigmoid:
      map1(x, y, n, [&](V v) { return min(six, max(zero_, v + three)) * sixth; });
      break;
    case kSigmoid:
      map1(x, y, n, [&](V v) { return one / (one + exp(zero_ - v)); });
      break;
    default:
      napi_throw_range_error(env, nullptr, "unknown activation kind");
  }
  return nullptr;
}

// activationBackward(heap, dy, saved, dx, n, kind): saved is y for relu, relu6, sigmoid and x otherwise.
napi_value ActivationBackward(napi_env env, napi_callback_info info) {
  nas::Args a(env, info);
  Heap h(a);
  const size_t n = h.size(4);
  const int kind = a.i32(5);
  const float* dy = h.at(1, n);
  const float* t = h.at(2, n);
  float* dx = h.at(3, n);
  if (!h.ok()) return nullptr;
  const V zero_ = zero(), one = set1(1.0f), three = set1(3.0f), minus3 = set1(-3.0f), six = set1(6.0f),
          sixth = set1(1.0f / 6.0f), third = set1(1.0f / 3.0f), half = set1(0.5f);
  switch (kind) {
    case kRelu:
      map2(dy, t, dx, n, [&](V g, V y) { return keep(gt(y, zero_), g); });
      break;
    case kRelu6:
      map2(dy, t, dx, n, [&](V g, V y) { return keep(both(gt(y, zero_), lt(y, six)), g); });
      break;
    case kHswish:
      map2(dy, t, dx, n, [&](V g, V x) {
        const V inner = select(le(x, three), g * fma(x, third, half), g);
        return keep(le(minus3, x), inner);  // x >= -3
      });
      break;
    case kHsigmoid:
      map2(dy, t, dx, n, [&](V g, V x) { return keep(both(gt(x, minus3), lt(x, three)), g * sixth); });
      break;
    case kSigmoid:
      map2(dy, t, dx, n, [&](V g, V y) { return g * (y * (one - y)); });
      break;
    default:
      napi_throw_range_error(env, nullptr, "unknown activation kind");
  }
  return nullptr;
}

NAS_EXPORT(ActivationForward);
NAS_EXPORT(ActivationBackward);

}  // namespace
