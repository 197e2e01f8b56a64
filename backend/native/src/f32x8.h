// Eight-float vectors for the native kernels: AVX2+FMA intrinsics when the compiler targets them (the
// nas_kernels_avx2 build of binding.gyp; then NAS_F32X8_AVX2 is defined, and gemm.cc's hand-written micro-kernel
// and version.cc's isa() key on it too), a portable scalar fallback otherwise (the baseline build). Kernels are
// written once against this interface; those over the contiguous channel axis of NHWC tensors walk it in chunks of
// up to NV vectors held in registers, the last vector of a chunk masked when C is not a multiple of 8
// (forChannelChunks).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define NAS_F32X8_AVX2 1
#endif

namespace nas {
namespace f32x8 {

#ifdef NAS_F32X8_AVX2

struct V {
  __m256 v;
};
// Lanes [0, n) of a vector.
struct Mask {
  __m256i m;
  explicit Mask(int lanes = 8)
      : m(_mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))) {}
};

inline V load(const float* p) { return {_mm256_loadu_ps(p)}; }
inline V loadn(const float* p, const Mask& m) { return {_mm256_maskload_ps(p, m.m)}; }  // zeros past n
inline void store(float* p, V a) { _mm256_storeu_ps(p, a.v); }
inline void storen(float* p, V a, const Mask& m) { _mm256_maskstore_ps(p, m.m, a.v); }
inline V set1(float f) { return {_mm256_set1_ps(f)}; }
inline V zero() { return {_mm256_setzero_ps()}; }
inline V operator+(V a, V b) { return {_mm256_add_ps(a.v, b.v)}; }
inline V operator-(V a, V b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline V operator*(V a, V b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline V operator/(V a, V b) { return {_mm256_div_ps(a.v, b.v)}; }
inline V fma(V a, V b, V c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }  // a*b + c
// min/max return b when either is NaN (x86 semantics, kept by the fallback): min(6, max(0, x)) propagates NaN.
inline V min(V a, V b) { return {_mm256_min_ps(a.v, b.v)}; }
inline V max(V a, V b) { return {_mm256_max_ps(a.v, b.v)}; }
// Comparisons give all-ones lanes where true; `keep(m, a)` is a where m, else 0.
inline V lt(V a, V b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LT_OQ)}; }
inline V le(V a, V b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_LE_OQ)}; }
inline V gt(V a, V b) { return {_mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ)}; }
inline V both(V m1, V m2) { return {_mm256_and_ps(m1.v, m2.v)}; }
inline V keep(V m, V a) { return {_mm256_and_ps(m.v, a.v)}; }
inline V select(V m, V a, V b) { return {_mm256_blendv_ps(b.v, a.v, m.v)}; }  // m ? a : b

// Adds the lanes of a to dst[0..8) in double precision (block-wise accumulation of long sums).
inline void addTo(double* dst, V a) {
  __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(a.v));
  __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(a.v, 1));
  _mm256_storeu_pd(dst, _mm256_add_pd(_mm256_loadu_pd(dst), lo));
  _mm256_storeu_pd(dst + 4, _mm256_add_pd(_mm256_loadu_pd(dst + 4), hi));
}

// e^x, Cephes' single-precision polynomial (about 1 ulp on the clamped range [-88.38, 88.38]).
inline V exp(V a) {
  __m256 x = _mm256_min_ps(_mm256_set1_ps(88.3762626647949f),
                           _mm256_max_ps(_mm256_set1_ps(-88.3762626647949f), a.v));  // NaN stays NaN
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return {_mm256_mul_ps(y, _mm256_castsi256_ps(e))};
}

#else  // portable fallback: the same operations lane by lane

struct V {
  float v[8];
};
struct Mask {
  int n;
  explicit Mask(int lanes = 8) : n(lanes) {}
};

#define NAS_LANES(expr)             \
  V r;                              \
  for (int i = 0; i < 8; ++i) expr; \
  return r
inline V load(const float* p) { NAS_LANES(r.v[i] = p[i]); }
inline V loadn(const float* p, const Mask& m) { NAS_LANES(r.v[i] = i < m.n ? p[i] : 0.0f); }
inline void store(float* p, V a) {
  for (int i = 0; i < 8; ++i) p[i] = a.v[i];
}
inline void storen(float* p, V a, const Mask& m) {
  for (int i = 0; i < m.n; ++i) p[i] = a.v[i];
}
inline V set1(float f) { NAS_LANES(r.v[i] = f); }
inline V zero() { return set1(0.0f); }
inline V operator+(V a, V b) { NAS_LANES(r.v[i] = a.v[i] + b.v[i]); }
inline V operator-(V a, V b) { NAS_LANES(r.v[i] = a.v[i] - b.v[i]); }
inline V operator*(V a, V b) { NAS_LANES(r.v[i] = a.v[i] * b.v[i]); }
inline V operator/(V a, V b) { NAS_LANES(r.v[i] = a.v[i] / b.v[i]); }
inline V fma(V a, V b, V c) { NAS_LANES(r.v[i] = a.v[i] * b.v[i] + c.v[i]); }
inline V min(V a, V b) { NAS_LANES(r.v[i] = a.v[i] < b.v[i] ? a.v[i] : b.v[i]); }
inline V max(V a, V b) { NAS_LANES(r.v[i] = a.v[i] > b.v[i] ? a.v[i] : b.v[i]); }
// Masks are 1.0f / 0.0f lanes in the fallback.
inline V lt(V a, V b) { NAS_LANES(r.v[i] = a.v[i] < b.v[i] ? 1.0f : 0.0f); }
inline V le(V a, V b) { NAS_LANES(r.v[i] = a.v[i] <= b.v[i] ? 1.0f : 0.0f); }
inline V gt(V a, V b) { NAS_LANES(r.v[i] = a.v[i] > b.v[i] ? 1.0f : 0.0f); }
inline V both(V m1, V m2) { NAS_LANES(r.v[i] = m1.v[i] != 0.0f && m2.v[i] != 0.0f ? 1.0f : 0.0f); }
inline V keep(V m, V a) { NAS_LANES(r.v[i] = m.v[i] != 0.0f ? a.v[i] : 0.0f); }
inline V select(V m, V a, V b) { NAS_LANES(r.v[i] = m.v[i] != 0.0f ? a.v[i] : b.v[i]); }
inline void addTo(double* dst, V a) {
  for (int i = 0; i < 8; ++i) dst[i] += a.v[i];
}
inline V exp(V a) { NAS_LANES(r.v[i] = std::exp(a.v[i])); }
#undef NAS_LANES

#endif

template <int N>
using Int = std::integral_constant<int, N>;

// Loads/stores vector v of a chunk of NV vectors starting at p; the chunk's last vector is masked when MASKED.
template <int NV, bool MASKED>
inline V ld(const float* p, int v, const Mask& m) {
  return (MASKED && v == NV - 1) ? loadn(p + 8 * v, m) : load(p + 8 * v);
}
template <int NV, bool MASKED>
inline void st(float* p, int v, V a, const Mask& m) {
  if (MASKED && v == NV - 1)
    storen(p + 8 * v, a, m);
  else
    store(p + 8 * v, a);
}

namespace detail {
// The last chunk of forChannelChunks: `rest` (1 to 8 * NV) channels in the fewest vectors.
template <int NV, class Body>
inline void lastChunk(size_t c0, int rest, Body& body) {
  if constexpr (NV > 1) {
    if (rest <= 8 * (NV - 1)) return lastChunk<NV - 1>(c0, rest, body);
  }
  if (rest % 8 != 0)
    body(c0, Int<NV>{}, std::true_type{}, Mask(rest % 8));
  else
    body(c0, Int<NV>{}, std::false_type{}, Mask(8));
}
}  // namespace detail

// Calls body(c0, Int<NV>, std::bool_constant<MASKED>, mask) for chunks covering channels [0, C): chunks of
// MaxNV vectors, then one chunk of ceil(rest / 8) vectors whose last vector is masked if rest is not a multiple
// of 8.
template <int MaxNV, class Body>
inline void forChannelChunks(size_t C, Body&& body) {
  const Mask full(8);
  size_t c0 = 0;
  for (; c0 + 8 * MaxNV <= C; c0 += 8 * MaxNV) body(c0, Int<MaxNV>{}, std::false_type{}, full);
  if (c0 < C) detail::lastChunk<MaxNV>(c0, static_cast<int>(C - c0), body);
}

// As forChannelChunks, with as many chunks (ceil(C / (8 MaxNV))) but of nearly equal vectors: C = 72 is 40 + 32, not
// 64 + 8, whose one-vector tail is a single chain of dependent FMAs where a kernel keeps a chain per vector.
template <int MaxNV, class Body>
inline void forBalancedChunks(size_t C, Body&& body) {
  const size_t vecs = (C + 7) / 8, chunks = (vecs + MaxNV - 1) / MaxNV;
  size_t c0 = 0;
  for (size_t i = 0; i < chunks && c0 < C; ++i) {
    const size_t nv = vecs * (i + 1) / chunks - vecs * i / chunks;
    detail::lastChunk<MaxNV>(c0, static_cast<int>(std::min(C - c0, nv * 8)), body);
    c0 += nv * 8;
  }
}

// Calls body(p_offset, Int<NV>, masked, mask) over a flat array of n floats: blocks of 32, then the rest.
template <class Body>
inline void forFlat(size_t n, Body&& body) {
  const Mask full(8);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) body(i, Int<4>{}, std::false_type{}, full);
  for (; i + 8 <= n; i += 8) body(i, Int<1>{}, std::false_type{}, full);
  if (i < n) body(i, Int<1>{}, std::true_type{}, Mask(static_cast<int>(n - i)));
}

}  // namespace f32x8
}  // namespace nas
