// Elementwise activations and their gradients, in place on the wasm heap; the formulas and kinds are act_ops.h's.
#include "act_ops.h"
#include "addon.h"
#include "f32x8.h"
#include "threads.h"

namespace {

using namespace nas::f32x8;
using nas::Heap;

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
  const bool ok = nas::act::known(kind) && nas::act::dispatch(kind, [&](auto k) {
    map1(x, y, n, [](V v) { return nas::act::forward<decltype(k)::value>(v); });
  });
  if (!ok) napi_throw_range_error(env, nullptr, "unknown activation kind");
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
  const bool ok = nas::act::known(kind) && nas::act::dispatch(kind, [&](auto k) {
    map2(dy, t, dx, n, [](V g, V s) { return nas::act::backward<decltype(k)::value>(g, s); });
  });
  if (!ok) napi_throw_range_error(env, nullptr, "unknown activation kind");
  return nullptr;
}

NAS_EXPORT(ActivationForward);
NAS_EXPORT(ActivationBackward);

}  // namespace
