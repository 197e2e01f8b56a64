// Training batch normalisation over the last (channel) axis of a [M, C] view of an NHWC tensor, in place on the
// wasm heap. Forward: batch mean and biased variance, then y = gamma * (x - mean) / sqrt(var + eps) + beta.
// Backward: the exact gradient
//   dx = gamma * invstd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat)),  dgamma = sum(dy * xhat),  dbeta = sum(dy).
// Each kernel makes two passes over the rows: the per-channel sums, then the elementwise output. A pass walks
// blocks of rows (about 16 KB, so a block stays in L1) and, within a block, the channels in chunks of up to 32
// held in registers; passes split over the kernel threads at block boundaries (threads.h). Sums are accumulated
// in float within a block and in double across blocks; the forward's
// sums are shifted by the first row, so E[x^2] - E[x]^2 does not cancel.
#include <algorithm>
#include <cmath>
#include <vector>

#include "addon.h"
#include "f32x8.h"
#include "threads.h"

namespace {

using namespace nas::f32x8;
using nas::Heap;

// Rows per block: about 16 KB of floats, at least 16 and at most 256 rows (float sums stay short).
size_t blockRows(size_t C) { return std::min<size_t>(256, std::max<size_t>(16, 4096 / std::max<size_t>(C, 1))); }

// The per-channel arrays of one call, zeroed: two double sums (the first pass) and four float vectors (the second
// pass's coefficients), each padded by 8 so a chunk's last vector can be loaded and added to unmasked.
struct Channels {
  double* sum[2];
  float* vec[4];
};

Channels channels(size_t C) {
  static thread_local std::vector<double> d;
  static thread_local std::vector<float> f;
  const size_t n = C + 8;
  d.assign(2 * n, 0.0);
  f.assign(4 * n, 0.0f);
  return {{d.data(), d.data() + n}, {f.data(), f.data() + n, f.data() + 2 * n, f.data() + 3 * n}};
}

// A block of rows [r0, r1) and a chunk of channels from c0 (the last vector masked by m when MASKED).
struct Chunk {
  size_t r0, r1, c0;
  const Mask& m;
};

// Calls f(chunk, Int<NV>, bool_constant<MASKED>) for every block of rows in [r0, r1) (r0 a block boundary) and chunk
// of channels.
template <class F>
void forChunks(size_t r0, size_t r1, size_t C, F&& f) {
  const size_t B = blockRows(C);
  for (; r0 < r1; r0 += B) {
    const size_t e = std::min(r1, r0 + B);
    forChannelChunks<4>(C, [&](size_t c0, auto nv, auto mk, const Mask& m) { f(Chunk{r0, e, c0, m}, nv, mk); });
  }
}

// Parts of an [M, C] pass that touches `perElement` floats an element, split at block boundaries.
int rowParts(size_t M, size_t C, double perElement) {
  const size_t B = blockRows(C);
  return nas::partsFor(perElement * M * C, nas::kMinFloatsPerPart, static_cast<int64_t>((M + B - 1) / B));
}

// An elementwise pass over the rows, split into parts at block boundaries: the same blocks as one thread walks.
template <class F>
void forChunksParallel(size_t M, size_t C, double perElement, F&& f) {
  nas::parallelRanges(M, rowParts(M, C, perElement), blockRows(C),
                      [&](int64_t b, int64_t e) { forChunks(b, e, C, f); });
}

// A pass that sums per channel into the double arrays s1 and s2: f(chunk, nv, mk, s1, s2). Each part sums its rows
// into its own pair (part 0 into s1, s2), and the parts' sums are added in part order: deterministic for a thread
// count, and within double rounding of the one-thread sums.
template <class F>
void sumsByParts(size_t M, size_t C, double* s1, double* s2, F&& f) {
  static thread_local std::vector<double> extra;
  const int parts = rowParts(M, C, 2);
  const size_t n = C + 8;
  extra.assign(2 * n * static_cast<size_t>(parts - 1), 0.0);
  double* sums = extra.data();  // named inside a part, `extra` would be the running thread's
  nas::runParts(parts, [&](int p) {
    int64_t b = 0, e = 0;
    nas::partRange(M, parts, p, blockRows(C), &b, &e);
    double* a1 = p == 0 ? s1 : sums + 2 * n * (p - 1);
    double* a2 = p == 0 ? s2 : a1 + n;
    forChunks(b, e, C, [&](const Chunk& k, auto nv, auto mk) { f(k, nv, mk, a1, a2); });
  });
  for (int p = 1; p < parts; ++p) {
    const double* a1 = sums + 2 * n * (p - 1);
    for (size_t c = 0; c < C; ++c) {
      s1[c] += a1[c];
      s2[c] += a1[n + c];
    }
  }
}

// The chunk's NV vectors of a padded per-channel array.
template <int NV>
void loadChannels(const float* p, size_t c0, V* out) {
  for (int v = 0; v < NV; ++v) out[v] = load(p + c0 + 8 * v);
}

// Adds the chunk's NV vectors a to the padded per-channel double sums s.
template <int NV>
void addChannels(double* s, size_t c0, const V* a) {
  for (int v = 0; v < NV; ++v) addTo(s + c0 + 8 * v, a[v]);
}

// sum(x - shift) and sum((x - shift)^2) over the chunk, added to s1 and s2.
template <int NV, bool MK>
void statsChunk(const Chunk& k, Int<NV>, std::bool_constant<MK>, const float* x, size_t C, const float* shift,
                double* s1, double* s2) {
  V sh[NV], a[NV], b[NV];
  loadChannels<NV>(shift, k.c0, sh);
  for (int v = 0; v < NV; ++v) a[v] = b[v] = zero();
  const float* p = x + k.r0 * C + k.c0;
  for (size_t r = k.r0; r < k.r1; ++r, p += C) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const V d = ld<NV, MK>(p, v, k.m) - sh[v];
      a[v] = a[v] + d;
      b[v] = fma(d, d, b[v]);
    }
  }
  addChannels<NV>(s1, k.c0, a);
  addChannels<NV>(s2, k.c0, b);
}

// y = (x - mu) * scale + bias over the chunk.
template <int NV, bool MK>
void normaliseChunk(const Chunk& k, Int<NV>, std::bool_constant<MK>, const float* x, float* y, size_t C,
                    const float* mu, const float* scale, const float* bias) {
  V mv[NV], sv[NV], bv[NV];
  loadChannels<NV>(mu, k.c0, mv);
  loadChannels<NV>(scale, k.c0, sv);
  loadChannels<NV>(bias, k.c0, bv);
  const float* p = x + k.r0 * C + k.c0;
  float* q = y + k.r0 * C + k.c0;
  for (size_t r = k.r0; r < k.r1; ++r, p += C, q += C) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) st<NV, MK>(q, v, fma(ld<NV, MK>(p, v, k.m) - mv[v], sv[v], bv[v]), k.m);
  }
}

// sum(dy) and sum(dy * (x - mu)) over the chunk, added to sdy and sdyx.
template <int NV, bool MK>
void gradSumsChunk(const Chunk& k, Int<NV>, std::bool_constant<MK>, const float* dy, const float* x, size_t C,
                   const float* mu, double* sdy, double* sdyx) {
  V mv[NV], a[NV], b[NV];
  loadChannels<NV>(mu, k.c0, mv);
  for (int v = 0; v < NV; ++v) a[v] = b[v] = zero();
  const float* g = dy + k.r0 * C + k.c0;
  const float* p = x + k.r0 * C + k.c0;
  for (size_t r = k.r0; r < k.r1; ++r, g += C, p += C) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const V d = ld<NV, MK>(g, v, k.m);
      a[v] = a[v] + d;
      b[v] = fma(d, ld<NV, MK>(p, v, k.m) - mv[v], b[v]);
    }
  }
  addChannels<NV>(sdy, k.c0, a);
  addChannels<NV>(sdyx, k.c0, b);
}

// dx = dy * A + (x - mu) * B + D over the chunk.
template <int NV, bool MK>
void gradChunk(const Chunk& k, Int<NV>, std::bool_constant<MK>, const float* dy, const float* x, float* dx,
               size_t C, const float* mu, const float* A, const float* B, const float* D) {
  V mv[NV], av[NV], bv[NV], dv[NV];
  loadChannels<NV>(mu, k.c0, mv);
  loadChannels<NV>(A, k.c0, av);
  loadChannels<NV>(B, k.c0, bv);
  loadChannels<NV>(D, k.c0, dv);
  const float* g = dy + k.r0 * C + k.c0;
  const float* p = x + k.r0 * C + k.c0;
  float* q = dx + k.r0 * C + k.c0;
  for (size_t r = k.r0; r < k.r1; ++r, g += C, p += C, q += C) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const V t = fma(ld<NV, MK>(p, v, k.m) - mv[v], bv[v], dv[v]);
      st<NV, MK>(q, v, fma(ld<NV, MK>(g, v, k.m), av[v], t), k.m);
    }
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
  const Channels ch = channels(C);
  const auto [s1, s2] = ch.sum;
  const auto [shift, mu, scale, bias] = ch.vec;
  std::copy(x, x + C, shift);
  sumsByParts(M, C, s1, s2, [&](const Chunk& k, auto nv, auto mk, double* a1, double* a2) {
    statsChunk(k, nv, mk, x, C, shift, a1, a2);
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
  forChunksParallel(M, C, 2, [&](const Chunk& k, auto nv, auto mk) { normaliseChunk(k, nv, mk, x, y, C, mu, scale, bias); });
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
  const Channels ch = channels(C);
  const auto [sdy, sdyx] = ch.sum;
  const auto [mu, A, B, D] = ch.vec;
  std::copy(mean, mean + C, mu);
  sumsByParts(M, C, sdy, sdyx, [&](const Chunk& k, auto nv, auto mk, double* a1, double* a2) {
    gradSumsChunk(k, nv, mk, dy, x, C, mu, a1, a2);
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
  forChunksParallel(M, C, 3, [&](const Chunk& k, auto nv, auto mk) { gradChunk(k, nv, mk, dy, x, dx, C, mu, A, B, D); });
  return nullptr;
}

NAS_EXPORT(BatchNormForward);
NAS_EXPORT(BatchNormBackward);

}  // namespace
