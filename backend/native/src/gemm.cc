// SGEMM: see gemm.h. Blocking follows Goto/BLIS: for each NC-wide column block of C and KC-deep slice of K,
// B is packed into KC x 16 micro-panels (8 wide at the right edge); for each MC-high row block, A is either
// packed into kMR-row micro-panels or, when the block is used against few B panels (small N), read in place by
// the micro-kernel (packing would cost as much as the arithmetic). The micro-kernel keeps a 6x16 tile of C in
// twelve ymm registers and does 12 FMAs per step of k (AVX2), or a 12x16 tile in twelve zmm registers (AVX-512;
// 12x32 in 24 where two full panels lie side by side).
// Each element of C is the same FMA chain in every build with FMA: tile shapes change only which elements are
// computed together.
#include "gemm.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "addon.h"
#include "f32x8.h"
#include "threads.h"

namespace nas {
namespace {

#ifdef __AVX512F__
constexpr int kMR = 12;    // rows of the micro-tile: twelve zmm accumulators, enough to cover the FMA latency
#else
constexpr int kMR = 6;     // rows of the micro-tile
#endif
constexpr int kNR = 16;    // columns of the micro-tile (two ymm)
constexpr int kKC = 256;   // depth of a packed slice: a 6 x KC panel of A and a KC x 16 panel of B fit in L1
constexpr int kMC = 144;   // rows of an A block (multiple of kMR): an MC x KC block of A fits in L2
constexpr int kNC = 4096;  // columns of a packed B block (multiple of kNR)
// A is read in place (not packed) when it meets at most this many 16-wide panels of B, and B (when not
// transposed) is read in place when it meets at most this many kMR-row panels of A: packing costs about as
// much as the arithmetic then.
constexpr int kDirectAMaxPanels = 6;
constexpr int kDirectBMaxPanels = 12;

// A 64-byte aligned, growable, reused scratch buffer.
class Scratch {
 public:
  float* get(size_t n) {
    if (storage_.size() < n + 16) storage_.resize(n + 16);
    auto p = reinterpret_cast<uintptr_t>(storage_.data());
    return reinterpret_cast<float*>((p + 63) & ~static_cast<uintptr_t>(63));
  }

 private:
  std::vector<float> storage_;
};

thread_local Scratch tlsPackA, tlsPackB, tlsEdgeA;

// ---- packing --------------------------------------------------------------------------------------------

// Packs rows [i0, i0+mc) x cols [k0, k0+kc) of op(A) into micro-panels of kMR rows: panel p holds
// ap[k * kMR + r] = op(A)(i0 + p*kMR + r, k0 + k), zero for rows past mc.
void packA(bool trans, const float* A, int lda, int i0, int mc, int k0, int kc, float* ap) {
  for (int p = 0; p < mc; p += kMR, ap += static_cast<ptrdiff_t>(kMR) * kc) {
    const int m = std::min(kMR, mc - p);
    if (!trans) {
      const float* rows[kMR];
      for (int r = 0; r < kMR; ++r) rows[r] = A + static_cast<ptrdiff_t>(i0 + p + std::min(r, m - 1)) * lda + k0;
      if (m == kMR) {
        for (int k = 0; k < kc; ++k)
          for (int r = 0; r < kMR; ++r) ap[k * kMR + r] = rows[r][k];
      } else {
        for (int k = 0; k < kc; ++k)
          for (int r = 0; r < kMR; ++r) ap[k * kMR + r] = r < m ? rows[r][k] : 0.0f;
      }
    } else {
      for (int k = 0; k < kc; ++k) {
        const float* src = A + static_cast<ptrdiff_t>(k0 + k) * lda + i0 + p;
        for (int r = 0; r < kMR; ++r) ap[k * kMR + r] = r < m ? src[r] : 0.0f;
      }
    }
  }
}

// Packs rows [k0, k0+kc) x cols [j0, j0+nc) of op(B) into micro-panels of 16 columns (the last one 8 wide
// when at most 8 columns remain): panel q holds bp[k * w + j] = op(B)(k0 + k, j0 + q + j), zero past nc.
// Panel q starts at bp + q * kc (every panel but the last is 16 wide).
void packB(bool trans, const float* B, int ldb, int k0, int kc, int j0, int nc, float* bp) {
  for (int q = 0; q < nc; q += kNR) {
    const int n = std::min(kNR, nc - q);
    const int w = n > 8 ? 16 : 8;
    float* dst = bp + static_cast<ptrdiff_t>(q) * kc;
    if (!trans) {
      const float* src = B + static_cast<ptrdiff_t>(k0) * ldb + j0 + q;
      // Constant-size copies: with a variable size the compiler emitted `rep movsq`, whose start-up cost made
      // packing B a tenth of MobileNetV3-Large's inference time.
      if (n == 16) {
        for (int k = 0; k < kc; ++k, src += ldb, dst += 16) std::memcpy(dst, src, sizeof(float) * 16);
      } else if (n == 8) {
        for (int k = 0; k < kc; ++k, src += ldb, dst += 8) std::memcpy(dst, src, sizeof(float) * 8);
      } else {
        for (int k = 0; k < kc; ++k, src += ldb, dst += w) {
          int j = 0;
          for (; j < n; ++j) dst[j] = src[j];
          for (; j < w; ++j) dst[j] = 0.0f;
        }
      }
    } else {
      // op(B)(k, j) = B[j * ldb + k]: read each source row contiguously, write with stride w.
      for (int j = 0; j < n; ++j) {
        const float* src = B + static_cast<ptrdiff_t>(j0 + q + j) * ldb + k0;
        for (int k = 0; k < kc; ++k) dst[k * w + j] = src[k];
      }
      for (int j = n; j < w; ++j)
        for (int k = 0; k < kc; ++k) dst[k * w + j] = 0.0f;
    }
  }
}

// ---- micro-kernels --------------------------------------------------------------------------------------
// C[0:m, 0:n] = alpha * Atile * Bpanel + beta * C (beta == 0: C not read), for an m x n tile (m <= 6,
// n <= 8 * NV). Atile element (r, k) is a[k * s + r] (kColContig: packed panels with s = 6, or transposed A
// in place with s = lda) or a[r * s + k] (row-major A in place); the tile always has 6 readable rows (callers
// pack edge tiles). Bpanel element (k, j) is b[k * bs + j] for j < 8 * NV (packed: bs = 8 * NV; B in place:
// bs = ldb, and the panel is full width).

#if defined(__AVX512F__)

// The sigmoid's exp has no sixteen-lane form (activate16): its epilogue runs after the store.
inline bool fusesEpilogue(const Epilogue* epi, float alpha) { return epi != nullptr && epi->kind != kSigmoid && alpha == 1.0f; }

// One zmm per row holds the tile's 16 columns (NV = 2; NV = 1: an 8-wide panel, its upper lanes zero). The FMAs
// per element are the AVX2 kernel's, in the same order, so its results are bit for bit the same. MR = 6 computes
// only the first 6 rows of a ragged last panel (every layer's pixel count leaves one of 1 or 4 rows: 49, 196, 784).
// epi (non-null only where fusesEpilogue) is applied to the tile in registers before the store: storing the tile and
// reading it back in applyEpilogue cost a third of sgemmSerial's own time in MobileNetV3-Large's inference.
// Rows [0, m) of a tile's 16 columns (lanes cm) from its accumulators: alpha, beta, then epi, stored.
template <int MR>
inline void storeTile16(const __m512* acc, float* c, ptrdiff_t ldc, int m, __mmask16 cm, float alpha, float beta,
                        const Epilogue* epi) {
  const __m512 va = _mm512_set1_ps(alpha);
  const __m512 vb = _mm512_set1_ps(beta);
  const bool hasBias = epi != nullptr && epi->bias != nullptr;
  const __m512 bias = hasBias ? _mm512_maskz_loadu_ps(cm, epi->bias) : _mm512_setzero_ps();
  const int kind = epi == nullptr ? kLinear : epi->kind;
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) {
    if (r >= m) break;
    float* cr = c + r * ldc;
    __m512 x = alpha != 1.0f ? _mm512_mul_ps(acc[r], va) : acc[r];
    if (beta != 0.0f) x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(cm, cr), x);
    if (hasBias) x = _mm512_add_ps(x, bias);
    _mm512_mask_storeu_ps(cr, cm, activate16(x, kind));
  }
}

template <int NV, bool kColContig, int MR = kMR>
void microKernel(int kc, const float* __restrict a, ptrdiff_t s, const float* __restrict b, ptrdiff_t bs,
                 float* c, ptrdiff_t ldc, int m, int n, float alpha, float beta, const Epilogue* epi) {
  const __mmask16 bm = NV == 2 ? 0xFFFF : 0x00FF;
  __m512 acc[MR];
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) acc[r] = _mm512_setzero_ps();
  if (kColContig) {
    for (int k = 0; k < kc; ++k, a += s, b += bs) {
      const __m512 b0 = _mm512_maskz_loadu_ps(bm, b);
#pragma GCC unroll 12
      for (int r = 0; r < MR; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r]), b0, acc[r]);
    }
  } else {
    for (int k = 0; k < kc; ++k, b += bs) {
      const __m512 b0 = _mm512_maskz_loadu_ps(bm, b);
#pragma GCC unroll 12
      for (int r = 0; r < MR; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r * s + k]), b0, acc[r]);
    }
  }
  const __mmask16 cm = n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
  storeTile16<MR>(acc, c, ldc, m, cm, alpha, beta, epi);
}

// Two 16-column panels side by side (b, b2: full width, the same row stride bs) as one 12x32 tile: 24 zmm
// accumulators, each broadcast of A used twice. Each element's FMAs are microKernel's, so the result is the same.
template <bool kColContig, int MR = kMR>
void microKernel32(int kc, const float* __restrict a, ptrdiff_t s, const float* __restrict b,
                   const float* __restrict b2, ptrdiff_t bs, float* c, ptrdiff_t ldc, int m, float alpha, float beta,
                   const Epilogue* epi) {
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 12
  for (int r = 0; r < MR; ++r) acc0[r] = acc1[r] = _mm512_setzero_ps();
  for (int k = 0; k < kc; ++k, b += bs, b2 += bs) {
    const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b2);
#pragma GCC unroll 12
    for (int r = 0; r < MR; ++r) {
      const __m512 ar = _mm512_set1_ps(kColContig ? a[k * s + r] : a[r * s + k]);
      acc0[r] = _mm512_fmadd_ps(ar, b0, acc0[r]);
      acc1[r] = _mm512_fmadd_ps(ar, b1, acc1[r]);
    }
  }
  const Epilogue right = epi == nullptr ? Epilogue{} : epi->from(16);
  storeTile16<MR>(acc0, c, ldc, m, 0xFFFF, alpha, beta, epi);
  storeTile16<MR>(acc1, c + 16, ldc, m, 0xFFFF, alpha, beta, epi == nullptr ? nullptr : &right);
}

#elif defined(NAS_F32X8_AVX2)

template <int NV, bool kColContig>
void microKernel(int kc, const float* __restrict a, ptrdiff_t s, const float* __restrict b, ptrdiff_t bs,
                 float* c, ptrdiff_t ldc, int m, int n, float alpha, float beta) {
  __m256 acc0[kMR], acc1[kMR];
#pragma GCC unroll 6
  for (int r = 0; r < kMR; ++r) {
    acc0[r] = _mm256_setzero_ps();
    acc1[r] = _mm256_setzero_ps();
  }
  if (kColContig) {
    for (int k = 0; k < kc; ++k) {
      const __m256 b0 = _mm256_loadu_ps(b);
      const __m256 b1 = NV == 2 ? _mm256_loadu_ps(b + 8) : b0;
#pragma GCC unroll 6
      for (int r = 0; r < kMR; ++r) {
        const __m256 ar = _mm256_broadcast_ss(a + r);
        acc0[r] = _mm256_fmadd_ps(ar, b0, acc0[r]);
        if (NV == 2) acc1[r] = _mm256_fmadd_ps(ar, b1, acc1[r]);
      }
      a += s;
      b += bs;
    }
  } else {
    const float* a0 = a;
    const float* a1 = a + s;
    const float* a2 = a + 2 * s;
    const float* a3 = a + 3 * s;
    const float* a4 = a + 4 * s;
    const float* a5 = a + 5 * s;
    for (int k = 0; k < kc; ++k) {
      const __m256 b0 = _mm256_loadu_ps(b);
      const __m256 b1 = NV == 2 ? _mm256_loadu_ps(b + 8) : b0;
      const float* rows[kMR] = {a0 + k, a1 + k, a2 + k, a3 + k, a4 + k, a5 + k};
#pragma GCC unroll 6
      for (int r = 0; r < kMR; ++r) {
        const __m256 ar = _mm256_broadcast_ss(rows[r]);
        acc0[r] = _mm256_fmadd_ps(ar, b0, acc0[r]);
        if (NV == 2) acc1[r] = _mm256_fmadd_ps(ar, b1, acc1[r]);
      }
      b += bs;
    }
  }

  const __m256 va = _mm256_set1_ps(alpha);
  const __m256 vb = _mm256_set1_ps(beta);
  const bool scale = alpha != 1.0f;
  if (n == 8 * NV) {
#pragma GCC unroll 6
    for (int r = 0; r < kMR; ++r) {
      if (r >= m) break;
      float* cr = c + r * ldc;
      __m256 x0 = scale ? _mm256_mul_ps(acc0[r], va) : acc0[r];
      if (beta != 0.0f) x0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), x0);
      _mm256_storeu_ps(cr, x0);
      if (NV == 2) {
        __m256 x1 = scale ? _mm256_mul_ps(acc1[r], va) : acc1[r];
        if (beta != 0.0f) x1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), x1);
        _mm256_storeu_ps(cr + 8, x1);
      }
    }
  } else {
    const __m256i m0 = f32x8::Mask(n).m;
    const __m256i m1 = f32x8::Mask(n - 8).m;
#pragma GCC unroll 6
    for (int r = 0; r < kMR; ++r) {
      if (r >= m) break;
      float* cr = c + r * ldc;
      __m256 x0 = scale ? _mm256_mul_ps(acc0[r], va) : acc0[r];
      if (beta != 0.0f) x0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr, m0), x0);
      _mm256_maskstore_ps(cr, m0, x0);
      if (NV == 2) {
        __m256 x1 = scale ? _mm256_mul_ps(acc1[r], va) : acc1[r];
        if (beta != 0.0f) x1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr + 8, m1), x1);
        _mm256_maskstore_ps(cr + 8, m1, x1);
      }
    }
  }
}

#else  // portable fallback: the compiler vectorizes the inner j loops where it can.

template <int NV, bool kColContig>
void microKernel(int kc, const float* __restrict a, ptrdiff_t s, const float* __restrict b, ptrdiff_t bs,
                 float* c, ptrdiff_t ldc, int m, int n, float alpha, float beta) {
  constexpr int W = 8 * NV;
  float acc[kMR][W] = {};
  for (int k = 0; k < kc; ++k) {
    const float* bk = b + k * bs;
    for (int r = 0; r < kMR; ++r) {
      const float ar = kColContig ? a[k * s + r] : a[r * s + k];
      for (int j = 0; j < W; ++j) acc[r][j] += ar * bk[j];
    }
  }
  for (int r = 0; r < m; ++r) {
    float* cr = c + r * ldc;
    for (int j = 0; j < n; ++j) cr[j] = alpha * acc[r][j] + (beta != 0.0f ? beta * cr[j] : 0.0f);
  }
}

#endif

// The micro-kernel on one tile, then epi (null: none) on it: in registers where the AVX-512 kernel fuses it.
// b2 (AVX-512 only; else null): a second full panel right of b, the two run as one 32-column tile (nr = 32).
template <bool kColContig>
inline void runKernel(int nr, int kc, const float* a, ptrdiff_t s, const float* b, const float* b2, ptrdiff_t bs,
                      float* c, ptrdiff_t ldc, int m, float alpha, float beta, const Epilogue* epi) {
#ifdef __AVX512F__
  const Epilogue* fused = fusesEpilogue(epi, alpha) ? epi : nullptr;
  if (b2 != nullptr) {
    if (m <= 6)
      microKernel32<kColContig, 6>(kc, a, s, b, b2, bs, c, ldc, m, alpha, beta, fused);
    else
      microKernel32<kColContig>(kc, a, s, b, b2, bs, c, ldc, m, alpha, beta, fused);
  } else if (m <= 6) {
    if (nr > 8)
      microKernel<2, kColContig, 6>(kc, a, s, b, bs, c, ldc, m, nr, alpha, beta, fused);
    else
      microKernel<1, kColContig, 6>(kc, a, s, b, bs, c, ldc, m, nr, alpha, beta, fused);
  } else if (nr > 8) {
    microKernel<2, kColContig>(kc, a, s, b, bs, c, ldc, m, nr, alpha, beta, fused);
  } else {
    microKernel<1, kColContig>(kc, a, s, b, bs, c, ldc, m, nr, alpha, beta, fused);
  }
  if (epi != nullptr && fused == nullptr) applyEpilogue(c, m, nr, *epi, ldc);
#else
  if (nr > 8)
    microKernel<2, kColContig>(kc, a, s, b, bs, c, ldc, m, nr, alpha, beta);
  else
    microKernel<1, kColContig>(kc, a, s, b, bs, c, ldc, m, nr, alpha, beta);
  if (epi != nullptr) applyEpilogue(c, m, nr, *epi, ldc);
#endif
}

void scaleC(int M, int N, float beta, float* C, int ldc) {
  for (int i = 0; i < M; ++i) {
    float* ci = C + static_cast<ptrdiff_t>(i) * ldc;
    if (beta == 0.0f)
      std::memset(ci, 0, sizeof(float) * N);
    else if (beta != 1.0f)
      for (int j = 0; j < N; ++j) ci[j] *= beta;
  }
}

}  // namespace

static void sgemmSerial(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda,
                        const float* B, int ldb, float beta, float* C, int ldc, const Epilogue& epi) {
  if (K <= 0 || alpha == 0.0f) {
    scaleC(M, N, beta, C, ldc);
    applyEpilogue(C, M, N, epi, ldc);
    return;
  }
  // Balance the K slices (e.g. K = 288 -> 144 + 144 rather than 256 + 32).
  const int kSlices = (K + kKC - 1) / kKC;
  const int kcStep = (K + kSlices - 1) / kSlices;

  const int mPanels = (M + kMR - 1) / kMR;
  for (int jc = 0; jc < N; jc += kNC) {
    const int nc = std::min(kNC, N - jc);
    const int ncPanels = (nc + kNR - 1) / kNR;
    const bool directA = ncPanels <= kDirectAMaxPanels;
    const bool directB = !transB && mPanels <= kDirectBMaxPanels;
    // With B in place, only a ragged last panel (not a multiple of 8 wide, or 9..15 wide) is packed.
    const int lastW = nc - (ncPanels - 1) * kNR;
    const bool packLastB = directB && lastW != 8 && lastW != 16;
    for (int pc = 0; pc < K; pc += kcStep) {
      const int kc = std::min(kcStep, K - pc);
      const float betaK = pc == 0 ? beta : 1.0f;
      const bool last = pc + kc >= K;
      float* bp = nullptr;
      if (!directB) {
        bp = tlsPackB.get(static_cast<size_t>(ncPanels) * kNR * kc);
        packB(transB, B, ldb, pc, kc, jc, nc, bp);
      } else if (packLastB) {
        bp = tlsPackB.get(static_cast<size_t>(kNR) * kc);
        packB(false, B, ldb, pc, kc, jc + (ncPanels - 1) * kNR, lastW, bp);
      }
      for (int ic = 0; ic < M; ic += kMC) {
        const int mc = std::min(kMC, M - ic);
        const float* ap = nullptr;
        const float* edge = nullptr;  // with A in place: the packed ragged last panel of the block, if any
        const int mFull = mc - mc % kMR;
        if (!directA) {
          float* packed = tlsPackA.get(static_cast<size_t>((mc + kMR - 1) / kMR) * kMR * kc);
          packA(transA, A, lda, ic, mc, pc, kc, packed);
          ap = packed;
        } else if (mFull < mc) {
          float* packed = tlsEdgeA.get(static_cast<size_t>(kMR) * kc);
          packA(transA, A, lda, ic + mFull, mc - mFull, pc, kc, packed);
          edge = packed;
        }
        for (int jr = 0; jr < nc;) {
          int nr = std::min(kNR, nc - jr);
          const float* bpanel;
          ptrdiff_t bs;
          if (!directB) {
            bpanel = bp + static_cast<ptrdiff_t>(jr) * kc;
            bs = nr > 8 ? 16 : 8;
          } else if (packLastB && jr + kNR >= nc) {
            bpanel = bp;
            bs = nr > 8 ? 16 : 8;
          } else {
            bpanel = B + static_cast<ptrdiff_t>(pc) * ldb + jc + jr;
            bs = ldb;
          }
          const float* bpanel2 = nullptr;  // AVX-512: the next panel too, when both are full and read alike
#ifdef __AVX512F__
          if (nc - jr >= 2 * kNR && !(packLastB && jr + 2 * kNR >= nc)) {
            bpanel2 = directB ? bpanel + kNR : bpanel + static_cast<ptrdiff_t>(kNR) * kc;
            nr = 2 * kNR;
          }
#endif
          const Epilogue tileEpi = epi.from(jc + jr);
          const Epilogue* e = last && epi.active() ? &tileEpi : nullptr;
          for (int ir = 0; ir < mc; ir += kMR) {
            const int mr = std::min(kMR, mc - ir);
            float* cTile = C + static_cast<ptrdiff_t>(ic + ir) * ldc + jc + jr;
            if (ap) {
              runKernel<true>(nr, kc, ap + static_cast<ptrdiff_t>(ir) * kc, kMR, bpanel, bpanel2, bs, cTile, ldc, mr, alpha,
                              betaK, e);
            } else if (mr < kMR) {
              // Reading a ragged tile in place would run past A: use its packed (zero-padded) copy.
              runKernel<true>(nr, kc, edge, kMR, bpanel, bpanel2, bs, cTile, ldc, mr, alpha, betaK, e);
            } else if (transA) {
              const float* a = A + static_cast<ptrdiff_t>(pc) * lda + ic + ir;
              runKernel<true>(nr, kc, a, lda, bpanel, bpanel2, bs, cTile, ldc, mr, alpha, betaK, e);
            } else {
              const float* a = A + static_cast<ptrdiff_t>(ic + ir) * lda + pc;
              runKernel<false>(nr, kc, a, lda, bpanel, bpanel2, bs, cTile, ldc, mr, alpha, betaK, e);
            }
          }
          jr += nr;
        }
      }
    }
  }
}

// One row of C (M == 1, neither operand transposed): C[0, j] = sum_k A[k] B[k, j]. The micro-kernel would walk a
// 16-column panel of B down its K rows, a row stride apart (4 KB for 1024 columns: one page, and one L1 set, per
// row), and compute 6 rows of which 5 are padding; here the rows of B are read whole, in order, into a block of
// sums kept in L1. Each sum is the micro-kernel's: one FMA chain per K slice from zero, the slices added in order,
// alpha and beta as its store applies them, so the result is bit for bit sgemmSerial's.
constexpr int kGemvCols = 2048;  // columns of C summed at once (8 KB of sums)
static thread_local Scratch tlsGemv;

// t[0, n) += sum over r < R of x[r] * b[r * ldb + (0, n)], each element's terms added in order of r.
template <int R>
static void addRows(float* t, size_t n, const float* x, const float* b, int ldb) {
  using namespace f32x8;
  V xs[R];
  for (int r = 0; r < R; ++r) xs[r] = set1(x[r]);
  forFlat(n, [&](size_t i, auto nv, auto mk, const Mask& m) {
    constexpr int NV = decltype(nv)::value;
    constexpr bool MK = decltype(mk)::value;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      V a = ld<NV, MK>(t + i, v, m);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) a = fma(xs[r], ld<NV, MK>(b + static_cast<ptrdiff_t>(r) * ldb + i, v, m), a);
      st<NV, MK>(t + i, v, a, m);
    }
  });
}

// C[0, j] = alpha * t[j] + betaK * C[0, j], as the micro-kernel stores a tile (betaK == 0: C not read).
static void storeRow(float* c, const float* t, size_t n, float alpha, float betaK) {
  using namespace f32x8;
  forFlat(n, [&](size_t i, auto nv, auto mk, const Mask& m) {
    constexpr int NV = decltype(nv)::value;
    constexpr bool MK = decltype(mk)::value;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      V r = ld<NV, MK>(t + i, v, m);
      if (alpha != 1.0f) r = r * set1(alpha);
      if (betaK != 0.0f) r = fma(set1(betaK), ld<NV, MK>(c + i, v, m), r);
      st<NV, MK>(c + i, v, r, m);
    }
  });
}

static void gemvRow(int N, int K, float alpha, const float* A, const float* B, int ldb, float beta, float* C,
                    const Epilogue& epi) {
  const int kSlices = (K + kKC - 1) / kKC;
  const int kcStep = (K + kSlices - 1) / kSlices;
  float* t = tlsGemv.get(kGemvCols);
  for (int j0 = 0; j0 < N; j0 += kGemvCols) {
    const size_t nb = static_cast<size_t>(std::min(kGemvCols, N - j0));
    for (int pc = 0; pc < K; pc += kcStep) {
      const int kEnd = std::min(K, pc + kcStep);
      std::memset(t, 0, sizeof(float) * nb);
      int k = pc;
      for (; k + 4 <= kEnd; k += 4) addRows<4>(t, nb, A + k, B + static_cast<ptrdiff_t>(k) * ldb + j0, ldb);
      for (; k < kEnd; ++k) addRows<1>(t, nb, A + k, B + static_cast<ptrdiff_t>(k) * ldb + j0, ldb);
      storeRow(C + j0, t, nb, alpha, pc == 0 ? beta : 1.0f);
    }
    applyEpilogue(C + j0, 1, static_cast<int>(nb), epi.from(j0));
  }
}

// Each element of C is computed by one part, with the same K slices and the same micro-kernel arithmetic whatever
// the rows and columns around it: the split (over whole kMR-row or 16-column panels) is bit for bit the serial product.
void sgemm(bool transA, bool transB, int M, int N, int K, float alpha, const float* A, int lda, const float* B,
           int ldb, float beta, float* C, int ldc, const Epilogue& epi) {
  if (M <= 0 || N <= 0) return;
  if (M == 1 && !transA && !transB && K > 0 && alpha != 0.0f) {
    const int parts = partsFor(double(N) * K, kMinMacsPerPart, (N + kNR - 1) / kNR);
    parallelRanges(N, parts, kNR, [&](int64_t b, int64_t e) { gemvRow(int(e - b), K, alpha, A, B + b, ldb, beta, C + b, epi.from(b)); });
    return;
  }
  const int64_t mPanels = (M + kMR - 1) / kMR, nPanels = (N + kNR - 1) / kNR;
  const bool byRows = mPanels >= nPanels;
  const int parts = partsFor(double(M) * N * std::max(K, 1), kMinMacsPerPart, byRows ? mPanels : nPanels);
  if (parts == 1) return sgemmSerial(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, epi);
  if (byRows) {
    parallelRanges(M, parts, kMR, [&](int64_t b, int64_t e) {
      const float* a = transA ? A + b : A + b * lda;
      sgemmSerial(transA, transB, int(e - b), N, K, alpha, a, lda, B, ldb, beta, C + b * ldc, ldc, epi);
    });
  } else {
    parallelRanges(N, parts, kNR, [&](int64_t b, int64_t e) {
      const float* bb = transB ? B + b * ldb : B + b;
      sgemmSerial(transA, transB, M, int(e - b), K, alpha, A, lda, bb, ldb, beta, C + b, ldc, epi.from(b));
    });
  }
}

namespace {

// JS: sgemm(heap, aOffset, bOffset, cOffset, M, N, K, transA, transB, lda, ldb, ldc, alpha, beta)
// Offsets are byte offsets into the ArrayBuffer (4-byte aligned); transA/transB are 0 or 1. The operand
// ranges are checked against the buffer's length.
napi_value Sgemm(napi_env env, napi_callback_info info) {
  Args args(env, info);
  size_t length = 0;
  uint8_t* base = args.buffer(0, &length);
  const float* A = args.f32(0, 1);
  const float* B = args.f32(0, 2);
  float* C = args.f32(0, 3);
  const int M = args.i32(4), N = args.i32(5), K = args.i32(6);
  const bool tA = args.i32(7) != 0, tB = args.i32(8) != 0;
  const int lda = args.i32(9), ldb = args.i32(10), ldc = args.i32(11);
  const float alpha = static_cast<float>(args.f64(12));
  const float beta = static_cast<float>(args.f64(13));
  if (!args.ok()) return nullptr;
  if (M < 0 || N < 0 || K < 0 || lda < (tA ? M : K) || ldb < (tB ? K : N) || ldc < N || lda < 1 || ldb < 1 ||
      ldc < 1) {
    napi_throw_range_error(env, nullptr, "sgemm: bad dimensions or leading dimensions");
    return nullptr;
  }
  // Whether a rows x cols matrix with row stride ld, starting at p, lies inside the buffer.
  auto fits = [&](const float* p, int rows, int cols, int ld) {
    if (rows == 0 || cols == 0) return true;
    const uint64_t start = static_cast<uint64_t>(reinterpret_cast<const uint8_t*>(p) - base);
    return fitsInHeap(length, start, static_cast<uint64_t>(rows - 1) * ld + cols);
  };
  if (!fits(A, tA ? K : M, tA ? M : K, lda) || !fits(B, tB ? N : K, tB ? K : N, ldb) || !fits(C, M, N, ldc)) {
    napi_throw_range_error(env, nullptr, "sgemm: an operand runs past the end of the buffer");
    return nullptr;
  }
  sgemm(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  return nullptr;
}

NAS_EXPORT(Sgemm);

}  // namespace
}  // namespace nas
