// Depthwise 2-D convolution (NHWC, dilation 1) and its gradients, as direct loops.
//
// With channel multiplier 1 (the usual case) every loop is vectorised over channels, which NHWC keeps
// contiguous: channels are processed in blocks of up to 64 (8 AVX vectors, the last one masked when C is not
// a multiple of 8; blocks of nearly equal size, forBalancedChunks), and within a block the loops run over pixels
// and the filter taps that fall inside the input, so padding costs nothing:
//   forward          y[n,oh,ow,c]  = sum_taps x[n, oh*sh-pt+kh, ow*sw-pl+kw, c] * w[kh,kw,c]   (accumulated
//                    in registers per output pixel)
//   backprop input   dx[n, oh*sh-pt+kh, ow*sw-pl+kw, c] += dy[n,oh,ow,c] * w[kh,kw,c]  (dy kept in
//                    registers per output pixel, scattered onto dx, which is zeroed first)
//   backprop filter  dw[kh,kw,c]   = sum_pixels x * dy  (dy kept in registers per output pixel, the block's
//                    taps x 64 accumulators in an L1-resident buffer)
// The inference forward (depthwiseConv2dBiasAct) has its own loop order in the AVX-512 build (forwardRows16), with
// the same sums. Channel multiplier m > 1 (filter [KH, KW, C, m], output channel c*m+q) uses plain scalar loops. Every kernel
// walks the pixels and their taps with forEachPixel and forEachTap and supplies only the body.
//
// Exports (arguments as in conv_common.h; outC = inC * multiplier):
//   depthwiseConv2d(heap, x, filter, y, ...geometry)
//   depthwiseConv2dBackpropFilter(heap, x, dy, dFilter, ...geometry)
//   depthwiseConv2dBackpropInput(heap, dy, filter, dx, ...geometry)
#include <algorithm>
#include <cstring>
#include <vector>

#include "addon.h"
#include "conv_common.h"
#include "f32x8.h"
#include "threads.h"

namespace nas {
namespace {

using namespace f32x8;

constexpr int kBlockVecs = 8;  // 64 channels per block

struct Job {
  const float* a;  // x (forward, backprop filter) or dy (backprop input)
  const float* b;  // filter (forward, backprop input) or dy (backprop filter)
  float* out;
  ConvGeom g;
  float* acc = nullptr;  // backprop filter: taps x 64 floats of scratch
  Epilogue epi{};        // forward: bias and activation, applied in registers before the store
};

// Valid filter taps [ks, ke) for an output coordinate whose window starts at input coordinate i0.
inline void tapRange(int i0, int filter, int inDim, int* ks, int* ke) {
  *ks = std::max(0, -i0);
  *ke = std::min(filter, inDim - i0);
}

// The receptive field of one output pixel: its taps that fall inside the input (padding costs nothing).
struct Window {
  int64_t out;             // output pixel index (n, oh, ow)
  int64_t in0;             // input pixel index of tap (0, 0), which may lie outside the input
  int khs, khe, kws, kwe;  // the taps [khs, khe) x [kws, kwe) inside the input
};

// Calls f(window) for every output pixel, in NHWC order.
template <class F>
inline void forEachPixel(const ConvGeom& g, F&& f) {
  Window w{};
  for (int n = 0; n < g.batch; ++n) {
    for (int oh = 0; oh < g.outH; ++oh) {
      const int ih0 = oh * g.strideH - g.padTop;
      tapRange(ih0, g.filterH, g.inH, &w.khs, &w.khe);
      for (int ow = 0; ow < g.outW; ++ow, ++w.out) {
        const int iw0 = ow * g.strideW - g.padLeft;
        tapRange(iw0, g.filterW, g.inW, &w.kws, &w.kwe);
        w.in0 = (int64_t{n} * g.inH + ih0) * g.inW + iw0;
        f(static_cast<const Window&>(w));
      }
    }
  }
}

// Calls f(p, q) for the window's taps, p pointing at the tap's input pixel in `in` (pixels `inStride` apart) and q
// at the tap in `taps` (taps `tapStride` apart). The pointers step along each filter row, as a hand-written loop
// would (computing them from indices per tap took more instructions).
template <class P, class Q, class F>
inline void forEachTap(const ConvGeom& g, const Window& w, P* in, int64_t inStride, Q* taps, int64_t tapStride,
                       F&& f) {
  for (int kh = w.khs; kh < w.khe; ++kh) {
    P* p = in + (w.in0 + int64_t{kh} * g.inW + w.kws) * inStride;
    Q* q = taps + (int64_t{kh} * g.filterW + w.kws) * tapStride;
    for (int kw = w.kws; kw < w.kwe; ++kw, p += inStride, q += tapStride) f(p, q);
  }
}

template <int NV, bool P>
struct ForwardBlock {
  static void run(int c0, const Mask& t, const Job& j) {
    const int64_t C = j.g.inC;
    const float* bias = j.epi.bias == nullptr ? nullptr : j.epi.bias + c0;
    const int kind = j.epi.kind;
    forEachPixel(j.g, [&](const Window& w) {
      V acc[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[v] = bias == nullptr ? zero() : ld<NV, P>(bias, v, t);
      forEachTap(j.g, w, j.a + c0, C, j.b + c0, C, [&](const float* xp, const float* wp) {
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[v] = fma(ld<NV, P>(xp, v, t), ld<NV, P>(wp, v, t), acc[v]);
      });
      if (kind != kLinear) {
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[v] = activate(acc[v], kind);
      }
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) st<NV, P>(j.out + w.out * C + c0, v, acc[v], t);
    });
  }
};

template <int NV, bool P>
struct BackpropFilterBlock {
  static void run(int c0, const Mask& t, const Job& j) {
    const int64_t C = j.g.inC;
    constexpr int kStride = 8 * NV;  // floats per tap in the accumulator buffer
    const int taps = j.g.filterH * j.g.filterW;
    std::memset(j.acc, 0, sizeof(float) * taps * kStride);
    forEachPixel(j.g, [&](const Window& w) {
      V d[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) d[v] = ld<NV, P>(j.b + w.out * C + c0, v, t);
      forEachTap(j.g, w, j.a + c0, C, j.acc, kStride, [&](const float* xp, float* ap) {
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) store(ap + 8 * v, fma(ld<NV, P>(xp, v, t), d[v], load(ap + 8 * v)));
      });
    });
    for (int tap = 0; tap < taps; ++tap) {
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) st<NV, P>(j.out + tap * C + c0, v, load(j.acc + tap * kStride + 8 * v), t);
    }
  }
};

// The input gradient in scatter form: for each output pixel, dx[taps] += dy * w[taps] (dx zeroed first). (A gather
// form, summing per input pixel over the taps that reach it, measured slower: stride 2 leaves few taps per pixel.)
template <int NV, bool P>
struct BackpropInputBlock {
  static void run(int c0, const Mask& t, const Job& j) {
    const int64_t C = j.g.inC;
    forEachPixel(j.g, [&](const Window& w) {
      V d[NV];
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) d[v] = ld<NV, P>(j.a + w.out * C + c0, v, t);
      forEachTap(j.g, w, j.out + c0, C, j.b + c0, C, [&](float* xp, const float* wp) {
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) st<NV, P>(xp, v, fma(d[v], ld<NV, P>(wp, v, t), ld<NV, P>(xp, v, t)), t);
      });
    });
  }
};

#ifdef __AVX512F__
// ---- inference forward, AVX-512 (depthwiseConv2dBiasAct only; training keeps ForwardBlock) --------------------
// Output row by output row, and within a row channel block by channel block: the input is read once, row strip by
// row strip across all channels (its K rows stay in L2 while the next output rows use them), where the block-outer
// order of ForwardBlock walks the whole input once per 64 channels, and an AVX-512 kernel with the taps in registers
// 16 channels at a time walked it once per 16 (slower in the network than ForwardBlock). Each call computes P output
// pixels of one row that share their taps' column range x V vectors of 16 channels: P * V independent FMA chains
// (one chain per vector left the FMA latency exposed), one tap load per V vectors reused by the P pixels. Each output
// is ForwardBlock's sum in ForwardBlock's order (bias, then the taps row by row), so the result is bit for bit the same.
struct DwRow {
  const Job* j;
  int64_t in0;   // input pixel of tap (0, 0) of the row's output pixel 0
  int64_t out0;  // output pixel 0 of the row
  int khs, khe;
};

template <int P, int V, bool MASKED>
inline void dwPixels16(const DwRow& r, int ow, int kws, int kwe, int c0, __mmask16 tail) {
  const ConvGeom& g = r.j->g;
  const int64_t C = g.inC, step = int64_t{g.strideW} * C;
  const auto mask = [&](int v) { return MASKED && v == V - 1 ? tail : __mmask16(0xFFFF); };
  const auto ld = [&](const float* p, int v) {
    return MASKED && v == V - 1 ? _mm512_maskz_loadu_ps(tail, p + 16 * v) : _mm512_loadu_ps(p + 16 * v);
  };
  const float* bias = r.j->epi.bias;
  __m512 acc[P][V];
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[p][v] = bias == nullptr ? _mm512_setzero_ps() : ld(bias + c0, v);
  const float* x = r.j->a + (r.in0 + int64_t{ow} * g.strideW) * C + c0;
  const float* w = r.j->b + c0;
  for (int kh = r.khs; kh < r.khe; ++kh) {
    for (int kw = kws; kw < kwe; ++kw) {
      const float* xp = x + (int64_t{kh} * g.inW + kw) * C;
      const float* wp = w + (int64_t{kh} * g.filterW + kw) * C;
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) {
        const __m512 wv = ld(wp, v);
#pragma GCC unroll 8
        for (int p = 0; p < P; ++p) acc[p][v] = _mm512_fmadd_ps(ld(xp + p * step, v), wv, acc[p][v]);
      }
    }
  }
  float* y = r.j->out + (r.out0 + ow) * C + c0;
#pragma GCC unroll 8
  for (int p = 0; p < P; ++p)
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) _mm512_mask_storeu_ps(y + p * C + 16 * v, mask(v), activate16(acc[p][v], r.j->epi.kind));
}

// P pixels from ow (sharing their taps' columns) over all channels: blocks of V vectors, then the rest one by one.
template <int P, int V>
inline void dwPixelsAllChannels(const DwRow& r, int ow, int kws, int kwe) {
  const int C = r.j->g.inC;
  int c0 = 0;
  for (; c0 + 16 * V <= C; c0 += 16 * V) dwPixels16<P, V, false>(r, ow, kws, kwe, c0, 0xFFFF);
  for (; c0 + 16 <= C; c0 += 16) dwPixels16<P, 1, false>(r, ow, kws, kwe, c0, 0xFFFF);
  if (c0 < C) dwPixels16<P, 1, true>(r, ow, kws, kwe, c0, __mmask16((1u << (C - c0)) - 1));
}

void forwardRows16(const Job& j) {
  const ConvGeom& g = j.g;
  // Output columns [lo, hi) have all their taps' columns inside the input.
  const int lo = std::min(g.outW, (g.padLeft + g.strideW - 1) / g.strideW);
  const int hi = std::max(lo, std::min(g.outW, g.inW + g.padLeft - g.filterW < 0 ? 0 : (g.inW + g.padLeft - g.filterW) / g.strideW + 1));
  for (int n = 0; n < g.batch; ++n) {
    for (int oh = 0; oh < g.outH; ++oh) {
      const int ih0 = oh * g.strideH - g.padTop;
      DwRow r{&j, (int64_t{n} * g.inH + ih0) * g.inW - g.padLeft, (int64_t{n} * g.outH + oh) * g.outW, 0, 0};
      tapRange(ih0, g.filterH, g.inH, &r.khs, &r.khe);
      // Border pixels one by one (each its own tap columns), four channel vectors at a time.
      const auto single = [&](int ow) {
        int kws = 0, kwe = 0;
        tapRange(ow * g.strideW - g.padLeft, g.filterW, g.inW, &kws, &kwe);
        dwPixelsAllChannels<1, 4>(r, ow, kws, kwe);
      };
      for (int ow = 0; ow < lo; ++ow) single(ow);
      int ow = lo;
      for (; ow + 8 <= hi; ow += 8) dwPixelsAllChannels<8, 1>(r, ow, 0, g.filterW);
      for (; ow + 4 <= hi; ow += 4) dwPixelsAllChannels<4, 2>(r, ow, 0, g.filterW);
      for (; ow < hi; ++ow) dwPixelsAllChannels<1, 4>(r, ow, 0, g.filterW);
      for (; ow < g.outW; ++ow) single(ow);
    }
  }
}
#endif

// ---- channel multiplier > 1: scalar ---------------------------------------------------------------------
// Filter element (kh, kw, c, q) sits at ((kh * KW + kw) * C + c) * m + q = tap * outC + oc for output channel
// oc = c * m + q.

// For each output pixel and tap inside the input: f(o, x, t), with o the pixel's outC values in `outs`, x the tap's
// input pixel's inC values in `ins` and t the tap's outC values in `taps`.
template <class O, class I, class T, class F>
void forEachTerm(const ConvGeom& g, O* outs, I* ins, T* taps, F&& f) {
  forEachPixel(g, [&](const Window& w) {
    O* o = outs + w.out * g.outC;
    forEachTap(g, w, ins, g.inC, taps, g.outC, [&](I* x, T* t) { f(o, x, t); });
  });
}

void forwardMultiplier(const Job& j) {
  const int OC = j.g.outC, m = OC / j.g.inC;
  std::memset(j.out, 0, sizeof(float) * j.g.outSize());
  forEachTerm(j.g, j.out, j.a, j.b, [&](float* y, const float* x, const float* f) {
    for (int oc = 0; oc < OC; ++oc) y[oc] += x[oc / m] * f[oc];
  });
}

void backpropInputMultiplier(const Job& j) {
  const int OC = j.g.outC, m = OC / j.g.inC;
  std::memset(j.out, 0, sizeof(float) * j.g.inSize());
  forEachTerm(j.g, j.a, j.out, j.b, [&](const float* dy, float* dx, const float* f) {
    for (int oc = 0; oc < OC; ++oc) dx[oc / m] += dy[oc] * f[oc];
  });
}

void backpropFilterMultiplier(const Job& j) {
  const int OC = j.g.outC, m = OC / j.g.inC;
  std::memset(j.out, 0, sizeof(float) * j.g.filterSize());
  forEachTerm(j.g, j.b, j.a, j.out, [&](const float* dy, const float* x, float* dw) {
    for (int oc = 0; oc < OC; ++oc) dw[oc] += x[oc / m] * dy[oc];
  });
}

// ---- entry points ---------------------------------------------------------------------------------------

// Runs Block<NV, MASKED>::run(c0, mask, j) for each channel block of the job.
template <template <int, bool> class Block>
void forEachBlock(const Job& j) {
  forBalancedChunks<kBlockVecs>(j.g.inC, [&](size_t c0, auto nv, auto mk, const Mask& m) {
    Block<decltype(nv)::value, decltype(mk)::value>::run(static_cast<int>(c0), m, j);
  });
}

thread_local std::vector<float> tlsAcc, tlsPartials;

// The job restricted to images [n0, n1), given what its tensors are: every pixel loop walks the batch, so a part is
// the same kernel on fewer images.
Job imagesOf(const Job& j, Role ra, Role rb, Role rout, int64_t n0, int64_t n1) {
  const auto skip = [&](Role r) {
    return r == Role::Filter ? 0 : n0 * (r == Role::Input ? int64_t{j.g.inH} * j.g.inW * j.g.inC
                                                          : int64_t{j.g.outH} * j.g.outW * j.g.outC);
  };
  Job s = j;
  s.g.batch = static_cast<int>(n1 - n0);
  s.a += skip(ra);
  s.b += skip(rb);
  s.out += skip(rout);
  return s;
}

double depthwiseMacs(const ConvGeom& g) { return double(g.outSize()) * g.filterH * g.filterW; }

// Forward and input gradient split by image: no output element is shared, each is the one-thread result bit for bit.
template <template <int, bool> class Block>
void byImages(const Job& j, Role ra, Role rout) {
  const int parts = partsFor(depthwiseMacs(j.g), kMinMacsPerPart / 4, j.g.batch);
  parallelRanges(j.g.batch, parts, 1, [&](int64_t b, int64_t e) {
    const Job s = imagesOf(j, ra, Role::Filter, rout, b, e);
    if (rout == Role::Input) std::memset(s.out, 0, sizeof(float) * s.g.inSize());
    forEachBlock<Block>(s);
  });
}

// The filter gradient sums over images: one partial per part (part 0 straight into the output), added in part order.
void filterGradByImages(const Job& j) {
  const int64_t size = j.g.filterSize();
  const int parts = partsFor(depthwiseMacs(j.g), kMinMacsPerPart / 4, j.g.batch);
  if (parts > 1 && tlsPartials.size() < static_cast<size_t>((parts - 1) * size)) tlsPartials.resize((parts - 1) * size);
  float* partials = tlsPartials.data();
  runParts(parts, [&](int p) {
    int64_t b = 0, e = 0;
    partRange(j.g.batch, parts, p, 1, &b, &e);
    Job s = imagesOf(j, Role::Input, Role::Output, Role::Filter, b, e);
    s.out = p == 0 ? j.out : partials + (p - 1) * size;
    const size_t need = static_cast<size_t>(j.g.filterH) * j.g.filterW * 8 * kBlockVecs;
    if (tlsAcc.size() < need) tlsAcc.resize(need);  // the running thread's own scratch
    s.acc = tlsAcc.data();
    forEachBlock<BackpropFilterBlock>(s);
  });
  if (parts > 1) addPartials(j.out, partials, parts - 1, size, size);
}

napi_value DepthwiseConv2d(napi_env env, napi_callback_info info) {
  ConvCall c;
  if (!readConvCall(env, info, "depthwiseConv2d: bad geometry", true, Role::Input, Role::Filter, Role::Output,
                    &c))
    return nullptr;
  Job j{c.a, c.b, c.out, c.g};
  if (c.g.outC == c.g.inC)
    byImages<ForwardBlock>(j, Role::Input, Role::Output);
  else
    forwardMultiplier(j);
  return nullptr;
}

// depthwiseConv2dBiasAct(heap, x, filter, y, ...geometry, biasOffset, kind): multiplier 1 only.
napi_value DepthwiseConv2dBiasAct(napi_env env, napi_callback_info info) {
  ConvCall c;
  if (!readConvCall(env, info, "depthwiseConv2dBiasAct: bad geometry", true, Role::Input, Role::Filter,
                    Role::Output, &c))
    return nullptr;
  if (c.g.outC != c.g.inC) {
    napi_throw_range_error(env, nullptr, "depthwiseConv2dBiasAct: channel multiplier must be 1");
    return nullptr;
  }
  Job j{c.a, c.b, c.out, c.g};
  if (!readEpilogue(env, info, 17, c.g.outC, &j.epi)) return nullptr;
#ifdef __AVX512F__
  if (j.epi.kind != kSigmoid) {
    const int parts = partsFor(depthwiseMacs(j.g), kMinMacsPerPart / 4, j.g.batch);
    parallelRanges(j.g.batch, parts, 1, [&](int64_t b, int64_t e) { forwardRows16(imagesOf(j, Role::Input, Role::Filter, Role::Output, b, e)); });
    return nullptr;
  }
#endif
  byImages<ForwardBlock>(j, Role::Input, Role::Output);
  return nullptr;
}

napi_value DepthwiseConv2dBackpropInput(napi_env env, napi_callback_info info) {
  ConvCall c;
  if (!readConvCall(env, info, "depthwiseConv2dBackpropInput: bad geometry", true, Role::Output, Role::Filter,
                    Role::Input, &c))
    return nullptr;
  Job j{c.a, c.b, c.out, c.g};
  if (c.g.outC == c.g.inC)
    byImages<BackpropInputBlock>(j, Role::Output, Role::Input);
  else
    backpropInputMultiplier(j);
  return nullptr;
}

napi_value DepthwiseConv2dBackpropFilter(napi_env env, napi_callback_info info) {
  ConvCall c;
  if (!readConvCall(env, info, "depthwiseConv2dBackpropFilter: bad geometry", true, Role::Input, Role::Output,
                    Role::Filter, &c))
    return nullptr;
  Job j{c.a, c.b, c.out, c.g};
  if (c.g.outC == c.g.inC)
    filterGradByImages(j);
  else
    backpropFilterMultiplier(j);
  return nullptr;
}

NAS_EXPORT(DepthwiseConv2d);
NAS_EXPORT(DepthwiseConv2dBiasAct);
NAS_EXPORT(DepthwiseConv2dBackpropFilter);
NAS_EXPORT(DepthwiseConv2dBackpropInput);

}  // namespace
}  // namespace nas
