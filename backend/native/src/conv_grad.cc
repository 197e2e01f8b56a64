// Dense 2-D convolution (NHWC, dilation 1) and its gradients, as matrix products (gemm.h).
//
// A pointwise convolution (1x1, stride 1, no padding) is a matrix product over the pixels: with X as
// [rows = N*H*W, Cin], W as [Cin, Cout] and Y as [rows, Cout]:
//   forward  Y  = X W,   backprop filter  dW = X^T dY,   backprop input  dX = dY W^T.
// Any other geometry goes through im2col: the patch matrix P [N*OH*OW, KH*KW*Cin] (row = output pixel, the
// receptive field in filter order, zeros outside the input) makes the convolution Y = P W with W viewed as
// [KH*KW*Cin, Cout], so dW = P^T dY and dP = dY W^T, which col2im scatters back onto dX. P is built in chunks
// of rows in a reused thread_local buffer, so scratch memory stays bounded (about 256 KB, or 128 rows).
//
// Exports (arguments as in conv_common.h):
//   conv2d(heap, x, filter, y, ...geometry)
//   conv2dBackpropFilter(heap, x, dy, dFilter, ...geometry)
//   conv2dBackpropInput(heap, dy, filter, dx, ...geometry)
#include <algorithm>
#include <cstring>
#include <vector>

#include "addon.h"
#include "conv_common.h"
#include "f32x8.h"
#include "gemm.h"
#include "threads.h"

namespace nas {
namespace {

constexpr int64_t kColFloats = int64_t{1} << 16;  // target size of a patch-matrix chunk (256 KB: L2)
constexpr int64_t kMinChunkRows = 128;

thread_local std::vector<float> tlsCol;

float* colBuffer(size_t n) {
  if (tlsCol.size() < n) tlsCol.resize(n);
  return tlsCol.data();
}

int64_t chunkRows(const ConvGeom& g) {
  const int64_t rowLen = int64_t{g.filterH} * g.filterW * g.inC;
  return std::min(g.outRows(), std::max(kColFloats / rowLen, kMinChunkRows));
}

// Copies and fills of a few pixels of a few channels (im2col's unit of work: KW * C floats, often at most 16)
// with one or two vector moves (the second overlapping the first) instead of a libc call; longer ones via libc.
inline void copyFloats(float* __restrict d, const float* __restrict s, int64_t n) {
  using namespace f32x8;
  if (n > 16) {
    std::memcpy(d, s, sizeof(float) * n);
  } else if (n >= 8) {
    const V head = load(s), tail = load(s + n - 8);
    store(d, head);
    store(d + n - 8, tail);
  } else {
    const Mask m(static_cast<int>(n));
    storen(d, loadn(s, m), m);
  }
}

inline void zeroFloats(float* d, int64_t n) {
  using namespace f32x8;
  if (n > 16) {
    std::memset(d, 0, sizeof(float) * n);
  } else if (n >= 8) {
    store(d, zero());
    store(d + n - 8, zero());
  } else {
    storen(d, zero(), Mask(static_cast<int>(n)));
  }
}

// Calls f(n, oh, ow0, ow1, i0) for the runs of consecutive output pixels (n, oh, ow0..ow1-1) that make up rows
// [r0, r0 + rows); i0 is the index (from r0) of the run's first row.
template <typename F>
void forRowRuns(const ConvGeom& g, int64_t r0, int64_t rows, F&& f) {
  const int64_t end = r0 + rows;
  for (int64_t r = r0; r < end;) {
    const int ow0 = static_cast<int>(r % g.outW);
    const int64_t q = r / g.outW;
    const int oh = static_cast<int>(q % g.outH);
    const int n = static_cast<int>(q / g.outH);
    const int ow1 = static_cast<int>(std::min<int64_t>(g.outW, ow0 + (end - r)));
    f(n, oh, ow0, ow1, r - r0);
    r += ow1 - ow0;
  }
}

// Output columns [owA, owB) whose KW-wide window lies inside the input.
inline void interiorColumns(const ConvGeom& g, int* owA, int* owB) {
  // ow * sw - pl >= 0  and  ow * sw - pl + KW <= W
  *owA = (g.padLeft + g.strideW - 1) / g.strideW;
  const int last = g.inW - g.filterW + g.padLeft;  // ow * sw <= last
  *owB = last < 0 ? 0 : last / g.strideW + 1;
}

// Rows [r0, r0 + rows) of the patch matrix of x into col ([rows, KH*KW*Cin]).
void im2col(const float* x, const ConvGeom& g, int64_t r0, int64_t rows, float* col) {
  const int C = g.inC, KW = g.filterW;
  const int64_t span = int64_t{KW} * C;  // one filter row of a patch
  const int64_t rowLen = g.filterH * span;
  int owA, owB;
  interiorColumns(g, &owA, &owB);
  forRowRuns(g, r0, rows, [&](int n, int oh, int ow0, int ow1, int64_t i0) {
    for (int kh = 0; kh < g.filterH; ++kh) {
      float* dst = col + i0 * rowLen + kh * span;
      const int ih = oh * g.strideH - g.padTop + kh;
      if (ih < 0 || ih >= g.inH) {
        for (int ow = ow0; ow < ow1; ++ow, dst += rowLen) zeroFloats(dst, span);
        continue;
      }
      const float* src = x + (int64_t{n} * g.inH + ih) * g.inW * C;
      for (int ow = ow0; ow < ow1; ++ow, dst += rowLen) {
        const int iw0 = ow * g.strideW - g.padLeft;
        if (ow >= owA && ow < owB) {
          copyFloats(dst, src + int64_t{iw0} * C, span);  // the KW pixels are adjacent in x
          continue;
        }
        for (int kw = 0; kw < KW; ++kw) {
          const int iw = iw0 + kw;
          if (iw < 0 || iw >= g.inW)
            zeroFloats(dst + int64_t{kw} * C, C);
          else
            copyFloats(dst + int64_t{kw} * C, src + int64_t{iw} * C, C);
        }
      }
    }
  });
}

inline void addTo(float* __restrict d, const float* __restrict s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) d[i] += s[i];
}

// dx += col2im(rows [r0, r0 + rows) of the patch-matrix gradient dcol). Pixel-major (all of a patch's taps, then
// the next patch): with overlapping windows, tap-major order would re-add to what the last store just wrote.
void col2imAdd(const float* dcol, const ConvGeom& g, int64_t r0, int64_t rows, float* dx) {
  const int C = g.inC, KW = g.filterW;
  const int64_t span = int64_t{KW} * C;
  const int64_t rowLen = g.filterH * span;
  int owA, owB;
  interiorColumns(g, &owA, &owB);
  forRowRuns(g, r0, rows, [&](int n, int oh, int ow0, int ow1, int64_t i0) {
    const int ih0 = oh * g.strideH - g.padTop;
    const int khs = std::max(0, -ih0), khe = std::min(g.filterH, g.inH - ih0);
    const float* patch = dcol + i0 * rowLen;
    for (int ow = ow0; ow < ow1; ++ow, patch += rowLen) {
      const int iw0 = ow * g.strideW - g.padLeft;
      const bool interior = ow >= owA && ow < owB;
      for (int kh = khs; kh < khe; ++kh) {
        const float* src = patch + kh * span;
        float* dst = dx + (int64_t{n} * g.inH + ih0 + kh) * g.inW * C;
        if (interior) {
          addTo(dst + int64_t{iw0} * C, src, span);
          continue;
        }
        for (int kw = 0; kw < KW; ++kw) {
          const int iw = iw0 + kw;
          if (iw >= 0 && iw < g.inW) addTo(dst + int64_t{iw} * C, src + int64_t{kw} * C, C);
        }
      }
    }
  });
}

// Output rows [r0, r1) of the forward convolution, the epilogue (bias, activation) applied by the matrix product to
// each tile of output as it is finished, while it is in L1.
void forwardRows(const float* x, const float* w, float* y, const ConvGeom& g, const Epilogue& epi, int64_t r0,
                 int64_t r1) {
  if (g.isPointwise()) {
    matmulEpilogue(static_cast<int>(r1 - r0), g.outC, g.inC, x + r0 * g.inC, w, y + r0 * g.outC, epi);
    return;
  }
  const int rowLen = g.filterH * g.filterW * g.inC;
  const int64_t chunk = chunkRows(g);
  float* col = colBuffer(static_cast<size_t>(chunk * rowLen));
  for (int64_t r = r0; r < r1; r += chunk) {
    const int64_t n = std::min(chunk, r1 - r);
    im2col(x, g, r, n, col);
    matmulEpilogue(static_cast<int>(n), g.outC, rowLen, col, w, y + r * g.outC, epi);
  }
}

// Multiply-adds of the convolution (the work the kernels split by).
double convMacs(const ConvGeom& g) { return double(g.outRows()) * g.outC * g.filterH * g.filterW * g.inC; }

// Split over output rows: each row is computed whole by one part, so the result is the one-thread result bit for bit.
void conv2dForward(const float* x, const float* w, float* y, const ConvGeom& g, const Epilogue& epi = {}) {
  const int64_t rows = g.outRows();
  if (rows == 0) return;
  const int parts = partsFor(convMacs(g), kMinMacsPerPart, rows / 6);
  parallelRanges(rows, parts, 6, [&](int64_t b, int64_t e) { forwardRows(x, w, y, g, epi, b, e); });
}

// dw (rowLen x outC) = the sum over rows [r0, r1) of patch^T dy.
void filterGradRows(const float* x, const float* dy, float* dw, const ConvGeom& g, int64_t r0, int64_t r1) {
  const int rowLen = g.filterH * g.filterW * g.inC;
  if (g.isPointwise()) {
    matmul(true, false, g.inC, g.outC, static_cast<int>(r1 - r0), x + r0 * g.inC, dy + r0 * g.outC, dw);
    return;
  }
  if (r1 <= r0) std::memset(dw, 0, sizeof(float) * rowLen * g.outC);  // a part with no rows adds zeros
  const int64_t chunk = chunkRows(g);
  float* col = colBuffer(static_cast<size_t>(chunk * rowLen));
  for (int64_t r = r0; r < r1; r += chunk) {
    const int64_t n = std::min(chunk, r1 - r);
    im2col(x, g, r, n, col);
    matmul(true, false, rowLen, g.outC, static_cast<int>(n), col, dy + r * g.outC, dw, r > r0);
  }
}

thread_local std::vector<float> tlsPartials;

// A sum over the rows: each part sums its rows into its own partial (part 0 straight into dw), and the partials are
// added in part order, so the result depends on the thread count (by float rounding) but not on the run.
void conv2dBackpropFilter(const float* x, const float* dy, float* dw, const ConvGeom& g) {
  const int64_t rows = g.outRows();
  const int64_t size = int64_t{g.filterH} * g.filterW * g.inC * g.outC;
  if (rows == 0) {
    std::memset(dw, 0, sizeof(float) * size);
    return;
  }
  const int parts = partsFor(convMacs(g), kMinMacsPerPart, rows / 64);
  if (parts > 1 && tlsPartials.size() < static_cast<size_t>((parts - 1) * size)) tlsPartials.resize((parts - 1) * size);
  float* partials = tlsPartials.data();
  runParts(parts, [&](int p) {
    int64_t b = 0, e = 0;
    partRange(rows, parts, p, 1, &b, &e);
    filterGradRows(x, dy, p == 0 ? dw : partials + (p - 1) * size, g, b, e);
  });
  if (parts > 1) addPartials(dw, partials, parts - 1, size, size);
}

// dx of images [n0, n1): col2im scatters only into the images of its rows, so parts split by image never share an
// element of dx, and each element sums its terms in the one-thread order.
void inputGradImages(const float* dy, const float* w, float* dx, const ConvGeom& g, int64_t n0, int64_t n1) {
  const int64_t imageIn = int64_t{g.inH} * g.inW * g.inC, imageRows = int64_t{g.outH} * g.outW;
  std::memset(dx + n0 * imageIn, 0, sizeof(float) * (n1 - n0) * imageIn);
  const int rowLen = g.filterH * g.filterW * g.inC;
  const int64_t chunk = chunkRows(g);
  float* dcol = colBuffer(static_cast<size_t>(chunk * rowLen));
  for (int64_t r = n0 * imageRows; r < n1 * imageRows; r += chunk) {
    const int64_t n = std::min(chunk, n1 * imageRows - r);
    matmul(false, true, static_cast<int>(n), rowLen, g.outC, dy + r * g.outC, w, dcol);
    col2imAdd(dcol, g, r, n, dx);
  }
}

void conv2dBackpropInput(const float* dy, const float* w, float* dx, const ConvGeom& g) {
  const int64_t rows = g.outRows();
  if (g.isPointwise()) {
    if (rows > 0) matmul(false, true, static_cast<int>(rows), g.inC, g.outC, dy, w, dx);
    return;
  }
  const int parts = rows == 0 ? 1 : partsFor(convMacs(g), kMinMacsPerPart, g.batch);
  parallelRanges(g.batch, parts, 1, [&](int64_t b, int64_t e) { inputGradImages(dy, w, dx, g, b, e); });
}

napi_value Conv2d(napi_env env, napi_callback_info info) {
  ConvCall c;
  if (!readConvCall(env, info, "conv2d: bad geometry", false, Role::Input, Role::Filter, Role::Output, &c))
    return nullptr;
  conv2dForward(c.a, c.b, c.out, c.g);
  return nullptr;
}

// conv2dBiasAct(heap, x, filter, y, ...geometry, biasOffset, kind): y = act(conv(x, filter) + bias).
napi_value Conv2dBiasAct(napi_env env, napi_callback_info info) {
  ConvCall c;
  if (!readConvCall(env, info, "conv2dBiasAct: bad geometry", false, Role::Input, Role::Filter, Role::Output, &c))
    return nullptr;
  Epilogue epi;
  if (!readEpilogue(env, info, 17, c.g.outC, &epi)) return nullptr;
  conv2dForward(c.a, c.b, c.out, c.g, epi);
  return nullptr;
}

napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  ConvCall c;
  if (!readConvCall(env, info, "conv2dBackpropFilter: bad geometry", false, Role::Input, Role::Output,
                    Role::Filter, &c))
    return nullptr;
  conv2dBackpropFilter(c.a, c.b, c.out, c.g);
  return nullptr;
}

napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  ConvCall c;
  if (!readConvCall(env, info, "conv2dBackpropInput: bad geometry", false, Role::Output, Role::Filter,
                    Role::Input, &c))
    return nullptr;
  conv2dBackpropInput(c.a, c.b, c.out, c.g);
  return nullptr;
}

NAS_EXPORT(Conv2d);
NAS_EXPORT(Conv2dBiasAct);
NAS_EXPORT(Conv2dBackpropFilter);
NAS_EXPORT(Conv2dBackpropInput);

}  // namespace
}  // namespace nas
