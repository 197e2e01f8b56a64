// Training batch normalisation over the last (channel) axis of a [M, C] view of an NHWC tensor, in place on the
// wasm heap. Forward: batch mean and biased variance, then y = gamma * (x - mean) / sqrt(var + eps) + beta.
// Backward: the exact gradient
//   dx = gamma * invstd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat)),  dgamma = sum(dy * xhat),  dbeta = sum(dy).
// Each kernel makes two passes over the rows: the per-channel sums, then the elementwise output. A pass walks
// blocks of rows (about 16 KB, so a block stays in L1) and, within a block, the channels in chunks of up to 32
// held in registers. Sums are accumulated in float within a block and in double across blocks; the forward's
// sums are shifted by the first row, so E[x^2] - E[x]^2 does not cancel.
#include <algorithm>
#include <cmath>
#include <vector>

#include "addon.h"
#include "f32x8.h"

namespace {

using namespace nas::f32x8;
using nas::Heap;

// Rows per block: about 16 KB of floats, at least 16 and at most 256 rows (float sums stay short).
size_t blockRows(size_t C) { return std::min<size_t>(256, std::max<size_t>(16, 4096 / std::max<size_t>(C, 1))); }

// Per-channel scratch arrays, padded by 8 so a chunk's last vector can be loaded and added to unmasked.
struct Scratch {
  std::vector<double> d;
  std::vector<float> f;
  double* doubles(size_t i, size_t C) { return d.data() + i * (C + 8); }
  float* floats(size_t i, size_t C) { return f.data() + i * (C + 8); }
  void reset(size_t nd, size_t nf, size_t C) {
    d.assign(nd * (C + 8), 0.0);
    f.assign(nf * (C + 8), 0.0f);
  }
};

Scratch& scratch() {
  static thread_local Scratch s;
  return s;
}

// sum(x - shift) and sum((x - shift)^2) over rows [r0, r1) of the chunk, added to s1 and s2.
template <int NV, bool MK>
void statsChunk(const float* x, size_t C, size_t r0, size_t r1, size_t c0, const Mask& m, const float* shift,
                double* s1, double* s2) {
  V k[NV], a[NV], b[NV];
  for (int v = 0; v < NV; ++v) {
    k[v] = load(shift + c0 + 8 * v);
    a[v] = b[v] = zero();
  }
  const float* p = x + r0 * C + c0;
  for (size_t r = r0; r < r1; ++r, p += C) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const V d = ld<NV, MK>(p, v, m) - k[v];
      a[v] = a[v] + d;
      b[v] = fma(d, d, b[v]);
    }
  }
  for (int v = 0; v < NV; ++v) {
    addTo(s1 + c0 + 8 * v, a[v]);
    addTo(s2 + c0 + 8 * v, b[v]);
  }
}

// y = (x - mu) * scale + bias over rows [r0, r1) of the chunk.
template <int NV, bool MK>
void normaliseChunk(const float* x, float* y, size_t C, size_t r0, size_t r1, size_t c0, const Mask& m,
                    const float* mu, const float* scale, const float* bias) {
  V mv[NV], sv[NV], bv[NV];
  for (int v = 0; v < NV; ++v) {
    mv[v] = load(mu + c0 + 8 * v);
    sv[v] = load(scale + c0 + 8 * v);
    bv[v] = load(bias + c0 + 8 * v);
  }
  const float* p = x + r0 * C + c0;
  float* q = y + r0 * C + c0;
  for (size_t r = r0; r < r1; ++r, p += C, q += C) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) st<NV, MK>(q, v, fma(ld<NV, MK>(p, v, m) - mv[v], sv[v], bv[v]), m);
  }
}

// sum(dy) and sum(dy * (x - mu)) over rows [r0, r1) of the chunk, added to sdy and sdyx.
template <int NV, bool MK>
void gradSumsChunk(const float* dy, const float* x, size_t C, size_t r0, size_t r1, size_t c0, const Mask& m,
                   const float* mu, double* sdy, double* sdyx) {
  V mv[NV], a[NV], b[NV];
  for (int v = 0; v < NV; ++v) {
    mv[v] = load(mu + c0 + 8 * v);
    a[v] = b[v] = zero();
  }
  const float* g = dy + r0 * C + c0;
  const float* p = x + r0 * C + c0;
  for (size_t r = r0; r < r1; ++r, g += C, p += C) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const V d = ld<NV, MK>(g, v, m);
      a[v] = a[v] + d;
      b[v] = fma(d, ld<NV, MK>(p, v, m) - mv[v], b[v]);
    }
  }
  for (int v = 0; v < NV; ++v) {
    addTo(sdy + c0 + 8 * v, a[v]);
    addTo(sdyx + c0 + 8 * v, b[v]);
  }
}

// dx = dy * A + (x - mu) * B + D over rows [r0, r1) of the chunk.
template <int NV, bool MK>
void gradChunk(const float* dy, const float* x, float* dx, size_t C, size_t r0, size_t r1, size_t c0,
               const Mask& m, const float* mu, const float* A, const float* B, const float* D) {
  V mv[NV], av[NV], bv[NV], dv[NV];
  for (int v = 0; v < NV; ++v) {
    mv[v] = load(mu + c0 + 8 * v);
    av[v] = load(A + c0 + 8 * v);
    bv[v] = load(B + c0 + 8 * v);
    dv[v] = load(D + c0 + 8 * v);
  }
  const float* g = dy + r0 * C + c0;
  const float* p = x + r0 * C + c0;
  float* q = dx + r0 * C + c0;
  for (size_t r = r0; r < r1; ++r, g += C, p += C, q += C) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const V t = fma(ld<NV, MK>(p, v, m) - mv[v], bv[v], dv[v]);
      st<NV, MK>(q, v, fma(ld<NV, MK>(g, v, m), av[v], t), m);
    }
  }
}

// Calls chunk(r0, r1, c0, Int<NV>, bool_constant<MASKED>, mask) for every block of rows and chunk of channels.
template <class Chunk>
void forBlocks(size_t M, size_t C, Chunk&& chunk) {
  const size_t B = blockRows(C);
  for (size_t r0 = 0; r0 < M; r0 += B) {
    const size_t r1 = std::min(M, r0 + B);
    forChannelChunks<4>(C, [&](size_t c0, auto nv, auto mk, const Mask& m) { chunk(r0, r1, c0, nv, mk, m); });
  }
}

// batchNormForward(heap, x, gamma, beta, y, mean, variance, M, C, eps): offsets are byte offsets on the heap;
// x and y are [M, C], gamma, beta, mean and variance [C].
napi_value BatchNormForward(napi_env env, napi_callback_info info) {
  nas::Args a(env, info);
  Heap h(a);
  const size_t M = h.size(7), C = h.size(8);
  const double eps = a.f64(9);
  const float* x = h.at(1, M * C);
  const float* gamma = h.at(2, C);
  const float* beta = h.at(3, C);
  float* y = h.at(4, M * C);
  float* mean = h.at(5, C);
  float* var = h.at(6, C);
  if (!h.ok()) return nullptr;
  if (M == 0) {
    std::fill(mean, mean + C, NAN);
    std::fill(var, var + C, NAN);
    return nullptr;
  }
  Scratch& s = scratch();
  s.reset(2, 4, C);
  double* s1 = s.doubles(0, C);
  double* s2 = s.doubles(1, C);
  float* shift = s.floats(0, C);
  float* mu = s.floats(1, C);
  float* scale = s.floats(2, C);
  float* bias = s.floats(3, C);
  std::copy(x, x + C, shift);
  forBlocks(M, C, [&](size_t r0, size_t r1, size_t c0, auto nv, auto mk, const Mask& m) {
    statsChunk<decltype(nv)::value, decltype(mk)::value>(x, C, r0, r1, c0, m, shift, s1, s2);
  });
  const double invM = 1.0 / static_cast<double>(M);
  for (size_t c = 0; c < C; ++c) {
    const double d = s1[c] * invM;
    const double variance = std::max(0.0, s2[c] * invM - d * d);
    mu[c] = mean[c] = static_cast<float>(shift[c] + d);
    var[c] = static_cast<float>(variance);
    scale[c] = static_cast<float>(gamma[c] / std::sqrt(variance + eps));
    bias[c] = beta[c];
  }
  forBlocks(M, C, [&](size_t r0, size_t r1, size_t c0, auto nv, auto mk, const Mask& m) {
    normaliseChunk<decltype(nv)::value, decltype(mk)::value>(x, y, C, r0, r1, c0, m, mu, scale, bias);
  });
  return nullptr;
}

// batchNormBackward(heap, dy, x, gamma, mean, variance, dx, dgamma, dbeta, M, C, eps).
napi_value BatchNormBackward(napi_env env, napi_callback_info info) {
  nas::Args a(env, info);
  Heap h(a);
  const size_t M = h.size(9), C = h.size(10);
  const double eps = a.f64(11);
  const float* dy = h.at(1, M * C);
  const float* x = h.at(2, M * C);
  const float* gamma = h.at(3, C);
  const float* mean = h.at(4, C);
  const float* var = h.at(5, C);
  float* dx = h.at(6, M * C);
  float* dgamma = h.at(7, C);
  float* dbeta = h.at(8, C);
  if (!h.ok()) return nullptr;
  if (M == 0) {
    std::fill(dgamma, dgamma + C, 0.0f);
    std::fill(dbeta, dbeta + C, 0.0f);
    return nullptr;
  }
  Scratch& s = scratch();
  s.reset(2, 4, C);
  double* sdy = s.doubles(0, C);
  double* sdyx = s.doubles(1, C);
  float* mu = s.floats(0, C);
  float* A = s.floats(1, C);
  float* B = s.floats(2, C);
  float* D = s.floats(3, C);
  std::copy(mean, mean + C, mu);
  forBlocks(M, C, [&](size_t r0, size_t r1, size_t c0, auto nv, auto mk, const Mask& m) {
    gradSumsChunk<decltype(nv)::value, decltype(mk)::value>(dy, x, C, r0, r1, c0, m, mu, sdy, sdyx);
  });
  // dx = A * dy + B * (x - mean) + D with A = gamma * invstd, B = -A * invstd * dgamma / M, D = -A * dbeta / M.
  const double invM = 1.0 / static_cast<double>(M);
  for (size_t c = 0; c < C; ++c) {
    const double invstd = 1.0 / std::sqrt(static_cast<double>(var[c]) + eps);
    const double dg = sdyx[c] * invstd;
    const double db = sdy[c];
    dgamma[c] = static_cast<float>(dg);
    dbeta[c] = static_cast<float>(db);
    const double ga = gamma[c] * invstd;
    A[c] = static_cast<float>(ga);
    B[c] = static_cast<float>(-ga * invstd * dg * invM);
    D[c] = static_cast<float>(-ga * db * invM);
  }
  forBlocks(M, C, [&](size_t r0, size_t r1, size_t c0, auto nv, auto mk, const Mask& m) {
    gradChunk<decltype(nv)::value, decltype(mk)::value>(dy, x, dx, C, r0, r1, c0, m, mu, A, B, D);
  });
  return nullptr;
}

NAS_EXPORT(BatchNormForward);
NAS_EXPORT(BatchNormBackward);

}  // namespace
