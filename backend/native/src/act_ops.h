// The activations' elementwise formulas on eight-float vectors, one definition shared by the activation kernels
// (activation.cc) and the batch norm fused with an activation (batchnorm.cc), so that both give the same bits.
// Kinds (the `kind` argument of the kernels):
//   0 relu      y = max(x, 0)                   dx = dy * (y > 0)
//   1 relu6     y = min(max(x, 0), 6)           dx = dy * (0 < y < 6)
//   2 hswish    y = x * (relu6(x + 3) * (1/6))  dx = x < -3 ? 0 : x <= 3 ? dy * (x * (1/3) + 0.5) : dy
//   3 hsigmoid  y = relu6(x + 3) * (1/6)        dx = -3 < x < 3 ? dy * (1/6) : 0
//   4 sigmoid   y = 1 / (1 + exp(-x))           dx = dy * (y * (1 - y))
// The gradients at the kinks follow PyTorch 1.13 (relu6 is its hardtanh(0, 6); hardswish_backward uses the middle
// formula on the closed interval [-3, 3]). The backward reads y for relu, relu6 and sigmoid and x for hswish and
// hsigmoid (`readsInput`). The forward propagates NaN, as tfjs's stock kernels do.
#pragma once
#include "f32x8.h"

namespace nas {
namespace act {

using f32x8::V;

enum Kind { kNone = -1, kRelu = 0, kRelu6 = 1, kHswish = 2, kHsigmoid = 3, kSigmoid = 4 };  // kNone: the identity

constexpr bool readsInput(int kind) { return kind == kHswish || kind == kHsigmoid; }
constexpr bool known(int kind) { return kind >= kRelu && kind <= kSigmoid; }

template <int K>
inline V forward(V v) {
  using namespace f32x8;
  const V zero_ = zero(), six = set1(6.0f), three = set1(3.0f), sixth = set1(1.0f / 6.0f);
  if constexpr (K == kNone) return v;
  if constexpr (K == kRelu) return max(zero_, v);
  if constexpr (K == kRelu6) return min(six, max(zero_, v));
  if constexpr (K == kHswish) return v * (min(six, max(zero_, v + three)) * sixth);
  if constexpr (K == kHsigmoid) return min(six, max(zero_, v + three)) * sixth;
  if constexpr (K == kSigmoid) return set1(1.0f) / (set1(1.0f) + exp(zero_ - v));
}

// dx from dy (g) and the saved tensor t: y, or x where readsInput(K).
template <int K>
inline V backward(V g, V t) {
  using namespace f32x8;
  const V zero_ = zero(), three = set1(3.0f), six = set1(6.0f);
  if constexpr (K == kNone) return g;
  if constexpr (K == kRelu) return keep(gt(t, zero_), g);
  if constexpr (K == kRelu6) return keep(both(gt(t, zero_), lt(t, six)), g);
  if constexpr (K == kHswish) {
    const V inner = select(le(t, three), g * fma(t, set1(1.0f / 3.0f), set1(0.5f)), g);
    return keep(le(set1(-3.0f), t), inner);  // x >= -3
  }
  if constexpr (K == kHsigmoid) return keep(both(gt(t, set1(-3.0f)), lt(t, three)), g * set1(1.0f / 6.0f));
  if constexpr (K == kSigmoid) return g * (t * (set1(1.0f) - t));
}

// Calls f(Int<K>) for a known kind or kNone; false for another.
template <class F>
inline bool dispatch(int kind, F&& f) {
  switch (kind) {
    case kNone: f(f32x8::Int<kNone>{}); return true;
    case kRelu: f(f32x8::Int<kRelu>{}); return true;
    case kRelu6: f(f32x8::Int<kRelu6>{}); return true;
    case kHswish: f(f32x8::Int<kHswish>{}); return true;
    case kHsigmoid: f(f32x8::Int<kHsigmoid>{}); return true;
    case kSigmoid: f(f32x8::Int<kSigmoid>{}); return true;
    default: return false;
  }
}

}  // namespace act
}  // namespace nas
