// The mean over the rows of a rows x C block (global average pooling of one NHWC image), shared by the pooling
// kernel (pool_scale.cc) and the squeeze-excite inference kernel (infer.cc).
#pragma once
#include <cstddef>

#include "f32x8.h"

namespace nas {

inline void meanOverRows(const float* x, size_t rows, size_t C, float* y) {
  using namespace f32x8;
  const V inv = set1(1.0f / static_cast<float>(rows));
  forChannelChunks<4>(C, [&](size_t c0, auto nv, auto mk, const Mask& m) {
    constexpr int NV = decltype(nv)::value;
    constexpr bool MK = decltype(mk)::value;
    V acc[NV];
    for (int v = 0; v < NV; ++v) acc[v] = zero();
    const float* p = x + c0;
    for (size_t r = 0; r < rows; ++r, p += C) {
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[v] = acc[v] + ld<NV, MK>(p, v, m);
    }
    for (int v = 0; v < NV; ++v) st<NV, MK>(y + c0, v, acc[v] * inv, m);
  });
}

}  // namespace nas
