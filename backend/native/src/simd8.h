// 8-lane float vectors for the channel loops of the NHWC kernels: AVX2/FMA when the compiler targets it, a
// plain 8-float struct otherwise (which compilers map onto NEON/SSE or scalar code).
//
// Channel blocks: kernels vectorised over channels process them in blocks of up to kBlockVecs vectors; a
// block is instantiated for its vector count NV and whether its last vector is partial (PARTIAL), and masked
// loads/stores then touch only the first `tail.lanes` lanes of that vector.
#pragma once

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define NAS_SIMD8_AVX2 1
#endif

namespace nas {
namespace simd {

constexpr int kBlockVecs = 8;  // 64 channels per block

#ifdef NAS_SIMD8_AVX2

using vf = __m256;

struct Tail {
  __m256i mask;
  explicit Tail(int lanes)
      : mask(_mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))) {}
};

inline vf zero() { return _mm256_setzero_ps(); }
inline vf load(const float* p) { return _mm256_loadu_ps(p); }
inline void store(float* p, vf v) { _mm256_storeu_ps(p, v); }
inline vf load(const float* p, const Tail& t) { return _mm256_maskload_ps(p, t.mask); }
inline void store(float* p, vf v, const Tail& t) { _mm256_maskstore_ps(p, t.mask, v); }
inline vf fma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
inline vf add(vf a, vf b) { return _mm256_add_ps(a, b); }

#else

struct vf {
  float f[8];
};

struct Tail {
  int lanes;
  explicit Tail(int n) : lanes(n) {}
};

inline vf zero() {
  vf r;
  for (int i = 0; i < 8; ++i) r.f[i] = 0.0f;
  return r;
}
inline vf load(const float* p) {
  vf r;
  for (int i = 0; i < 8; ++i) r.f[i] = p[i];
  return r;
}
inline void store(float* p, vf v) {
  for (int i = 0; i < 8; ++i) p[i] = v.f[i];
}
inline vf load(const float* p, const Tail& t) {
  vf r = zero();
  for (int i = 0; i < t.lanes; ++i) r.f[i] = p[i];
  return r;
}
inline void store(float* p, vf v, const Tail& t) {
  for (int i = 0; i < t.lanes; ++i) p[i] = v.f[i];
}
inline vf fma(vf a, vf b, vf c) {
  vf r;
  for (int i = 0; i < 8; ++i) r.f[i] = a.f[i] * b.f[i] + c.f[i];
  return r;
}
inline vf add(vf a, vf b) {
  vf r;
  for (int i = 0; i < 8; ++i) r.f[i] = a.f[i] + b.f[i];
  return r;
}

#endif

// Vector v of a channel block (masked if it is the partial last one).
template <int NV, bool PARTIAL>
inline vf loadV(const float* p, int v, const Tail& t) {
  return (PARTIAL && v == NV - 1) ? load(p + 8 * v, t) : load(p + 8 * v);
}
template <int NV, bool PARTIAL>
inline void storeV(float* p, int v, vf x, const Tail& t) {
  if (PARTIAL && v == NV - 1)
    store(p + 8 * v, x, t);
  else
    store(p + 8 * v, x);
}

// Calls Block<NV, PARTIAL>::run(c0, tail, args...) for each channel block of [0, C).
template <template <int, bool> class Block, typename... A>
inline void forChannelBlocks(int C, A&... args) {
  int c0 = 0;
  const Tail full(8);
  for (; c0 + 8 * kBlockVecs <= C; c0 += 8 * kBlockVecs) Block<kBlockVecs, false>::run(c0, full, args...);
  const int rest = C - c0;
  if (rest == 0) return;
  const int nv = (rest + 7) / 8;
  const bool partial = rest % 8 != 0;
  const Tail tail(rest - 8 * (nv - 1));
  switch (nv * 2 + (partial ? 1 : 0)) {
#define NAS_SIMD8_CASE(N)                                 \
  case 2 * N:                                             \
    Block<N, false>::run(c0, tail, args...);              \
    break;                                                \
  case 2 * N + 1:                                         \
    Block<N, true>::run(c0, tail, args...);               \
    break;
    NAS_SIMD8_CASE(1)
    NAS_SIMD8_CASE(2)
    NAS_SIMD8_CASE(3)
    NAS_SIMD8_CASE(4)
    NAS_SIMD8_CASE(5)
    NAS_SIMD8_CASE(6)
    NAS_SIMD8_CASE(7)
    NAS_SIMD8_CASE(8)
#undef NAS_SIMD8_CASE
    default:
      break;
  }
}

}  // namespace simd
}  // namespace nas
