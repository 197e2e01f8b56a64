// Squeeze-excite pieces on NHWC tensors, in place on the wasm heap: global average pooling [N,H,W,C] -> [N,C]
// and the channel scale y = x * s[:, None, None, :], each with a fused backward:
//   pool:  dx[n,h,w,c] = dy[n,c] / (H*W)
//   scale: dx = dy * s[n,c],  ds[n,c] = sum over h,w of dy * x   (one pass)
// Per image, channels are walked in chunks of up to 32 held in registers, rows (pixels) with stride C.
#include "addon.h"
#include "f32x8.h"
#include "pool.h"
#include "threads.h"

namespace {

using namespace nas::f32x8;
using nas::Heap;

// Calls f(n) for each of N images, split over the kernel threads by image (each image's outputs are one part's):
// bit for bit the one-thread result. floatsPerImage is the memory one image's pass touches.
template <class F>
void forImages(size_t N, double floatsPerImage, F&& f) {
  const int parts = nas::partsFor(floatsPerImage * N, nas::kMinFloatsPerPart, static_cast<int64_t>(N));
  nas::parallelRanges(static_cast<int64_t>(N), parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) f(static_cast<size_t>(n));
  });
}

// globalAvgPoolForward(heap, x, y, N, HW, C).
napi_value GlobalAvgPoolForward(napi_env env, napi_callback_info info) {
  nas::Args a(env, info);
  Heap h(a);
  const size_t N = h.size(3), HW = h.size(4), C = h.size(5);
  const float* x = h.at(1, N * HW * C);
  float* y = h.at(2, N * C);
  if (!h.ok()) return nullptr;
  forImages(N, double(HW) * C, [&](size_t n) { nas::meanOverRows(x + n * HW * C, HW, C, y + n * C); });
  return nullptr;
}

// globalAvgPoolBackward(heap, dy, dx, N, HW, C).
napi_value GlobalAvgPoolBackward(napi_env env, napi_callback_info info) {
  nas::Args a(env, info);
  Heap h(a);
  const size_t N = h.size(3), HW = h.size(4), C = h.size(5);
  const float* dy = h.at(1, N * C);
  float* dx = h.at(2, N * HW * C);
  if (!h.ok()) return nullptr;
  const V inv = set1(1.0f / static_cast<float>(HW));
  forImages(N, 2.0 * HW * C, [&](size_t n) {
    const float* gn = dy + n * C;
    float* dxn = dx + n * HW * C;
    forChannelChunks<4>(C, [&](size_t c0, auto nv, auto mk, const Mask& m) {
      constexpr int NV = decltype(nv)::value;
      constexpr bool MK = decltype(mk)::value;
      V g[NV];
      for (int v = 0; v < NV; ++v) g[v] = ld<NV, MK>(gn + c0, v, m) * inv;
      float* q = dxn + c0;
      for (size_t r = 0; r < HW; ++r, q += C) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) st<NV, MK>(q, v, g[v], m);
      }
    });
  });
  return nullptr;
}

// channelScaleForward(heap, x, s, y, N, HW, C).
napi_value ChannelScaleForward(napi_env env, napi_callback_info info) {
  nas::Args a(env, info);
  Heap h(a);
  const size_t N = h.size(4), HW = h.size(5), C = h.size(6);
  const float* x = h.at(1, N * HW * C);
  const float* s = h.at(2, N * C);
  float* y = h.at(3, N * HW * C);
  if (!h.ok()) return nullptr;
  forImages(N, 2.0 * HW * C, [&](size_t n) {
    const float* xn = x + n * HW * C;
    const float* sn = s + n * C;
    float* yn = y + n * HW * C;
    forChannelChunks<4>(C, [&](size_t c0, auto nv, auto mk, const Mask& m) {
      constexpr int NV = decltype(nv)::value;
      constexpr bool MK = decltype(mk)::value;
      V sv[NV];
      for (int v = 0; v < NV; ++v) sv[v] = ld<NV, MK>(sn + c0, v, m);
      const float* p = xn + c0;
      float* q = yn + c0;
      for (size_t r = 0; r < HW; ++r, p += C, q += C) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) st<NV, MK>(q, v, ld<NV, MK>(p, v, m) * sv[v], m);
      }
    });
  });
  return nullptr;
}

// channelScaleBackward(heap, dy, x, s, dx, ds, N, HW, C).
napi_value ChannelScaleBackward(napi_env env, napi_callback_info info) {
  nas::Args a(env, info);
  Heap h(a);
  const size_t N = h.size(6), HW = h.size(7), C = h.size(8);
  const float* dy = h.at(1, N * HW * C);
  const float* x = h.at(2, N * HW * C);
  const float* s = h.at(3, N * C);
  float* dx = h.at(4, N * HW * C);
  float* ds = h.at(5, N * C);
  if (!h.ok()) return nullptr;
  forImages(N, 3.0 * HW * C, [&](size_t n) {
    const size_t base = n * HW * C;
    forChannelChunks<4>(C, [&](size_t c0, auto nv, auto mk, const Mask& m) {
      constexpr int NV = decltype(nv)::value;
      constexpr bool MK = decltype(mk)::value;
      V sv[NV], acc[NV];
      for (int v = 0; v < NV; ++v) {
        sv[v] = ld<NV, MK>(s + n * C + c0, v, m);
        acc[v] = zero();
      }
      const float* g = dy + base + c0;
      const float* p = x + base + c0;
      float* q = dx + base + c0;
      for (size_t r = 0; r < HW; ++r, g += C, p += C, q += C) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          const V d = ld<NV, MK>(g, v, m);
          st<NV, MK>(q, v, d * sv[v], m);
          acc[v] = fma(d, ld<NV, MK>(p, v, m), acc[v]);
        }
      }
      for (int v = 0; v < NV; ++v) st<NV, MK>(ds + n * C + c0, v, acc[v], m);
    });
  });
  return nullptr;
}

NAS_EXPORT(GlobalAvgPoolForward);
NAS_EXPORT(GlobalAvgPoolBackward);
NAS_EXPORT(ChannelScaleForward);
NAS_EXPORT(ChannelScaleBackward);

}  // namespace
