// The epilogue of the inference kernels: y = act(y + bias) per channel, applied to a block of output rows while it
// is still in cache (conv2dBiasAct, depthwiseConv2dBiasAct, denseBiasAct, squeezeExciteInfer). Activation kinds
// are those of activation.cc, plus kLinear; the formulas are the same, so a fused kernel's output equals the
// separate ops' bit for bit where the arithmetic order is the same.
#pragma once
#include <cstdint>

#include "f32x8.h"

namespace nas {

enum ActKind { kLinear = -1, kRelu = 0, kRelu6 = 1, kHswish = 2, kHsigmoid = 3, kSigmoid = 4 };

inline bool validActKind(int kind) { return kind >= kLinear && kind <= kSigmoid; }

inline f32x8::V activate(f32x8::V v, int kind) {
  using namespace f32x8;
  switch (kind) {
    case kRelu:
      return max(zero(), v);
    case kRelu6:
      return min(set1(6.0f), max(zero(), v));
    case kHswish:
      return v * (min(set1(6.0f), max(zero(), v + set1(3.0f))) * set1(1.0f / 6.0f));
    case kHsigmoid:
      return min(set1(6.0f), max(zero(), v + set1(3.0f))) * set1(1.0f / 6.0f);
    case kSigmoid:
      return set1(1.0f) / (set1(1.0f) + exp(zero() - v));
    default:
      return v;
  }
}

#ifdef __AVX512F__
// activate on sixteen lanes (the AVX-512 build's inference kernels), with the same operations in the same order, so
// bit for bit the same; kSigmoid is not supported (its exp is not repeated here): callers apply it with activate.
inline __m512 activate16(__m512 v, int kind) {
  const __m512 z = _mm512_setzero_ps(), six = _mm512_set1_ps(6.0f);
  const auto clip = [&](__m512 t) { return _mm512_min_ps(six, _mm512_max_ps(z, t)); };
  switch (kind) {
    case kRelu:
      return _mm512_max_ps(z, v);
    case kRelu6:
      return clip(v);
    case kHswish:
      return _mm512_mul_ps(v, _mm512_mul_ps(clip(_mm512_add_ps(v, _mm512_set1_ps(3.0f))), _mm512_set1_ps(1.0f / 6.0f)));
    case kHsigmoid:
      return _mm512_mul_ps(clip(_mm512_add_ps(v, _mm512_set1_ps(3.0f))), _mm512_set1_ps(1.0f / 6.0f));
    default:
      return v;
  }
}
#endif

struct Epilogue {
  const float* bias = nullptr;  // [C] or null
  int kind = kLinear;
  bool active() const { return bias != nullptr || kind != kLinear; }
  // The epilogue of columns [c0, ...): the same activation, the bias from column c0 on.
  Epilogue from(int64_t c0) const { return Epilogue{bias == nullptr ? nullptr : bias + c0, kind}; }
};

// y[r, c] = act(y[r, c] + bias[c]) for rows [0, rows) of a rows x C block whose rows are `stride` floats apart
// (default C).
inline void applyEpilogue(float* y, int64_t rows, int C, const Epilogue& e, int64_t stride = -1) {
  using namespace f32x8;
  if (!e.active()) return;
  if (stride < 0) stride = C;
  for (int64_t r = 0; r < rows; ++r) {
    float* row = y + r * stride;
    forChannelChunks<4>(static_cast<size_t>(C), [&](size_t c0, auto nv, auto mk, const Mask& m) {
      constexpr int NV = decltype(nv)::value;
      constexpr bool MK = decltype(mk)::value;
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        V a = ld<NV, MK>(row + c0, v, m);
        if (e.bias != nullptr) a = a + ld<NV, MK>(e.bias + c0, v, m);
        st<NV, MK>(row + c0, v, activate(a, e.kind), m);
      }
    });
  }
}

}  // namespace nas
