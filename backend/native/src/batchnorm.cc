// Training batch normalisation over the last (channel) axis of a [M, C] view of an NHWC tensor, in place on the
// wasm heap. Forward: batch mean and biased variance, then y = gamma * (x - mean) / sqrt(var + eps) + beta.
// Backward: the exact gradient
//   dx = gamma * invstd / M * (M * dy - sum(dy) - xhat * sum(dy * xhat)),  dgamma = sum(dy * xhat),  dbeta = sum(dy).
// Each kernel makes two passes over the rows: the per-channel sums, then the elementwise output. A pass walks
// blocks of rows (about 16 KB, so a block stays in L1) and, within a block, the channels in chunks of up to 32
// held in registers; passes split over the kernel threads at block boundaries (threads.h). Sums are accumulated
// in float within a block and in double across blocks; the forward's
// sums are shifted by the first row, so E[x^2] - E[x]^2 does not cancel.
// The fused kernels (batchNormActForward/Backward) are batch norm followed by an activation (act_ops.h) in the
// same passes, with the same arithmetic as the two kernels one after the other, so the same bits; the normalised
// values are not stored but recomputed in the backward from x and the saved per-channel scale, which saves a
// write and two reads of a full tensor each way (the kernels are memory-bound at 224 px).
#include <algorithm>
#include <cmath>
#include <vector>

#include "act_ops.h"
#include "addon.h"
#include "f32x8.h"
#include "threads.h"

namespace {

using namespace nas::f32x8;
using nas::Heap;

// Rows per block: about 16 KB of floats, at least 16 and at most 256 rows (float sums stay short).
size_t blockRows(size_t C) { return std::min<size_t>(256, std::max<size_t>(16, 4096 / std::max<size_t>(C, 1))); }

// The per-channel arrays of one call, zeroed: two double sums (the first pass) and six float vectors (the second
// pass's coefficients), each padded by 8 so a chunk's last vector can be loaded and added to unmasked.
struct Channels {
  double* sum[2];
  float* vec[6];
};

Channels channels(size_t C) {
  static thread_local std::vector<double> d;
  static thread_local std::vector<float> f;
  const size_t n = C + 8;
  d.assign(2 * n, 0.0);
  f.assign(6 * n, 0.0f);
  float* v = f.data();
  return {{d.data(), d.data() + n}, {v, v + n, v + 2 * n, v + 3 * n, v + 4 * n, v + 5 * n}};
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

// z = act((x - mu) * scale + bias) over the chunk (kNone: no activation).
template <int K, int NV, bool MK>
void normaliseActChunk(const Chunk& k, Int<NV>, std::bool_constant<MK>, const float* x, float* z, size_t C,
                       const float* mu, const float* scale, const float* bias) {
  V mv[NV], sv[NV], bv[NV];
  loadChannels<NV>(mu, k.c0, mv);
  loadChannels<NV>(scale, k.c0, sv);
  loadChannels<NV>(bias, k.c0, bv);
  const float* p = x + k.r0 * C + k.c0;
  float* q = z + k.r0 * C + k.c0;
  for (size_t r = k.r0; r < k.r1; ++r, p += C, q += C) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) st<NV, MK>(q, v, nas::act::forward<K>(fma(ld<NV, MK>(p, v, k.m) - mv[v], sv[v], bv[v])), k.m);
  }
}

// The fused backward's dy (the activation's gradient) at vector v of row pointers: from dz and the tensor the
// activation's gradient reads, the output z, or the input recomputed as in the forward.
template <int K, int NV, bool MK>
struct ActGrad {
  const V* mv;
  const V* sv;
  const V* bv;
  const Mask& m;
  V operator()(const float* dz, const float* x, const float* z, int v) const {
    if constexpr (K == nas::act::kNone) return ld<NV, MK>(dz, v, m);
    const V t = nas::act::readsInput(K) ? fma(ld<NV, MK>(x, v, m) - mv[v], sv[v], bv[v]) : ld<NV, MK>(z, v, m);
    return nas::act::backward<K>(ld<NV, MK>(dz, v, m), t);
  }
};

// sum(dy) and sum(dy * (x - mu)) over the chunk with dy = act'(dz) (kNone: dz), added to sdy and sdyx.
template <int K, int NV, bool MK>
void actGradSumsChunk(const Chunk& k, Int<NV>, std::bool_constant<MK>, const float* dz, const float* x, const float* z,
                      size_t C, const float* mu, const float* scale, const float* bias, double* sdy, double* sdyx) {
  V mv[NV], sv[NV], bv[NV], a[NV], b[NV];
  loadChannels<NV>(mu, k.c0, mv);
  loadChannels<NV>(scale, k.c0, sv);
  loadChannels<NV>(bias, k.c0, bv);
  const ActGrad<K, NV, MK> grad{mv, sv, bv, k.m};
  for (int v = 0; v < NV; ++v) a[v] = b[v] = zero();
  const size_t o = k.r0 * C + k.c0;
  for (size_t r = k.r0; r < k.r1; ++r) {
    const size_t i = o + (r - k.r0) * C;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const V d = grad(dz + i, x + i, z + i, v);
      a[v] = a[v] + d;
      b[v] = fma(d, ld<NV, MK>(x + i, v, k.m) - mv[v], b[v]);
    }
  }
  addChannels<NV>(sdy, k.c0, a);
  addChannels<NV>(sdyx, k.c0, b);
}

// dx = dy * A + (x - mu) * B + D over the chunk with dy = act'(dz) (kNone: dz).
template <int K, int NV, bool MK>
void actGradChunk(const Chunk& k, Int<NV>, std::bool_constant<MK>, const float* dz, const float* x, const float* z,
                  float* dx, size_t C, const float* mu, const float* scale, const float* bias, const float* A,
                  const float* B, const float* D) {
  V mv[NV], sv[NV], bv[NV], av[NV], bb[NV], dv[NV];
  loadChannels<NV>(mu, k.c0, mv);
  loadChannels<NV>(scale, k.c0, sv);
  loadChannels<NV>(bias, k.c0, bv);
  loadChannels<NV>(A, k.c0, av);
  loadChannels<NV>(B, k.c0, bb);
  loadChannels<NV>(D, k.c0, dv);
  const ActGrad<K, NV, MK> grad{mv, sv, bv, k.m};
  const size_t o = k.r0 * C + k.c0;
  for (size_t r = k.r0; r < k.r1; ++r) {
    const size_t i = o + (r - k.r0) * C;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const V t = fma(ld<NV, MK>(x + i, v, k.m) - mv[v], bb[v], dv[v]);
      st<NV, MK>(dx + i, v, fma(grad(dz + i, x + i, z + i, v), av[v], t), k.m);
    }
  }
}

// The forward's first pass: the batch mean and biased variance (outputs), and the second pass's mu (the mean),
// scale = gamma / sqrt(variance + eps) and bias (beta) in padded arrays.
void forwardStats(const float* x, const float* gamma, const float* beta, float* mean, float* var, size_t M, size_t C,
                  double eps, const Channels& ch) {
  const auto [s1, s2] = ch.sum;
  float* shift = ch.vec[0];
  float* mu = ch.vec[1];
  float* scale = ch.vec[2];
  float* bias = ch.vec[3];
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
}

// What a forward call reads and writes: y = act(batchNorm(x)) (kind -1: no activation), the batch mean and variance,
// and where given the per-channel scale for a fused backward.
struct Forward {
  const float* x;
  const float* gamma;
  const float* beta;
  float* y;
  float* mean;
  float* var;
  float* scale;  // null: not kept
  size_t M, C;
  double eps;
  int kind;
};

void forward(const Forward& f) {
  const size_t M = f.M, C = f.C;
  if (M == 0) {
    std::fill(f.mean, f.mean + C, NAN);
    std::fill(f.var, f.var + C, NAN);
    if (f.scale) std::fill(f.scale, f.scale + C, NAN);
    return;
  }
  const Channels ch = channels(C);
  forwardStats(f.x, f.gamma, f.beta, f.mean, f.var, M, C, f.eps, ch);
  const float* mu = ch.vec[1];
  const float* scale = ch.vec[2];
  const float* bias = ch.vec[3];
  if (f.scale) std::copy(scale, scale + C, f.scale);
  const float* x = f.x;
  float* y = f.y;
  nas::act::dispatch(f.kind, [&](auto kk) {
    constexpr int K = decltype(kk)::value;
    forChunksParallel(M, C, 2, [&](const Chunk& k, auto nv, auto mk) { normaliseActChunk<K>(k, nv, mk, x, y, C, mu, scale, bias); });
  });
}

// The backward's coefficients from the sums sdy, sdyx: dgamma, dbeta (outputs) and dx = A * dy + B * (x - mean) + D
// with A = gamma * invstd, B = -A * invstd * dgamma / M, D = -A * dbeta / M.
void gradCoefficients(const double* sdy, const double* sdyx, const float* gamma, const float* var, size_t M, size_t C,
                      double eps, float* dgamma, float* dbeta, float* A, float* B, float* D) {
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
}

// What a backward call reads and writes: the gradient of y = act(batchNorm(x)) (kind -1: dz is batch norm's dy).
struct Backward {
  const float* dz;
  const float* x;
  const float* z;      // the forward's output, read where the activation's gradient reads it
  const float* gamma;
  const float* beta;   // fused only
  const float* mean;
  const float* var;
  const float* scale;  // fused only: the forward's
  float* dx;
  float* dgamma;
  float* dbeta;
  size_t M, C;
  double eps;
  int kind;
};

void backward(const Backward& g) {
  const size_t M = g.M, C = g.C;
  if (M == 0) {
    std::fill(g.dgamma, g.dgamma + C, 0.0f);
    std::fill(g.dbeta, g.dbeta + C, 0.0f);
    return;
  }
  const Channels ch = channels(C);
  const auto [sdy, sdyx] = ch.sum;
  const auto [mu, A, B, D, scale, bias] = ch.vec;
  std::copy(g.mean, g.mean + C, mu);
  const float *dz = g.dz, *x = g.x, *z = g.z;
  float* dx = g.dx;
  nas::act::dispatch(g.kind, [&](auto kk) {
    constexpr int K = decltype(kk)::value;
    if constexpr (K != nas::act::kNone) {
      std::copy(g.scale, g.scale + C, scale);
      std::copy(g.beta, g.beta + C, bias);
    }
    sumsByParts(M, C, sdy, sdyx, [&](const Chunk& k, auto nv, auto mk, double* a1, double* a2) {
      actGradSumsChunk<K>(k, nv, mk, dz, x, z, C, mu, scale, bias, a1, a2);
    });
    gradCoefficients(sdy, sdyx, g.gamma, g.var, M, C, g.eps, g.dgamma, g.dbeta, A, B, D);
    forChunksParallel(M, C, K == nas::act::kNone ? 3 : 4, [&](const Chunk& k, auto nv, auto mk) {
      actGradChunk<K>(k, nv, mk, dz, x, z, dx, C, mu, scale, bias, A, B, D);
    });
  });
}

// An activation kind of act_ops.h, or kNone (batch norm alone, the plain kernels' numbers).
bool knownKind(napi_env env, int kind) {
  if (nas::act::known(kind) || kind == nas::act::kNone) return true;
  napi_throw_range_error(env, nullptr, "unknown activation kind");
  return false;
}

// batchNormForward(heap, x, gamma, beta, y, mean, variance, M, C, eps): offsets are byte offsets on the heap;
// x and y are [M, C], gamma, beta, mean and variance [C].
napi_value BatchNormForward(napi_env env, napi_callback_info info) {
  nas::Args a(env, info);
  Heap h(a);
  const size_t M = h.size(7), C = h.size(8);
  const Forward f{h.at(1, M * C), h.at(2, C), h.at(3, C), h.at(4, M * C), h.at(5, C), h.at(6, C), nullptr, M, C, a.f64(9), -1};
  if (h.ok()) forward(f);
  return nullptr;
}

// batchNormActForward(heap, x, gamma, beta, z, mean, variance, scale, M, C, eps, kind): z = act(batchNorm(x)) (kind -1:
// no activation), and the per-channel scale gamma / sqrt(variance + eps) [C] for the backward (variance is stored
// rounded to float).
napi_value BatchNormActForward(napi_env env, napi_callback_info info) {
  nas::Args a(env, info);
  Heap h(a);
  const size_t M = h.size(8), C = h.size(9);
  const Forward f{h.at(1, M * C), h.at(2, C), h.at(3, C), h.at(4, M * C), h.at(5, C), h.at(6, C), h.at(7, C), M, C, a.f64(10), a.i32(11)};
  if (h.ok() && knownKind(env, f.kind)) forward(f);
  return nullptr;
}

// batchNormBackward(heap, dy, x, gamma, mean, variance, dx, dgamma, dbeta, M, C, eps).
napi_value BatchNormBackward(napi_env env, napi_callback_info info) {
  nas::Args a(env, info);
  Heap h(a);
  const size_t M = h.size(9), C = h.size(10);
  const Backward g{h.at(1, M * C), h.at(2, M * C), nullptr, h.at(3, C), nullptr, h.at(4, C), h.at(5, C), nullptr,
                   h.at(6, M * C), h.at(7, C), h.at(8, C), M, C, a.f64(11), -1};
  if (h.ok()) backward(g);
  return nullptr;
}

// batchNormActBackward(heap, dz, x, z, gamma, beta, mean, variance, scale, dx, dgamma, dbeta, M, C, eps, kind): the
// gradient of z = act(batchNorm(x)) from batchNormActForward's outputs (z is read where the activation's gradient
// reads its output; otherwise its input is recomputed from x, mean, scale and beta).
napi_value BatchNormActBackward(napi_env env, napi_callback_info info) {
  nas::Args a(env, info);
  Heap h(a);
  const size_t M = h.size(12), C = h.size(13);
  const Backward g{h.at(1, M * C), h.at(2, M * C), h.at(3, M * C), h.at(4, C), h.at(5, C), h.at(6, C), h.at(7, C), h.at(8, C),
                   h.at(9, M * C), h.at(10, C), h.at(11, C), M, C, a.f64(14), a.i32(15)};
  if (h.ok() && knownKind(env, g.kind)) backward(g);
  return nullptr;
}

NAS_EXPORT(BatchNormActForward);
NAS_EXPORT(BatchNormActBackward);
NAS_EXPORT(BatchNormForward);
NAS_EXPORT(BatchNormBackward);

}  // namespace
