// Fused optimizer updates, in place on the wasm heap: one call updates every parameter of a model (and its
// optimizer slots), where tfjs ops need five or six kernel dispatches per parameter (about 850 per step for
// MobileNetV3-Small, a sixth of the step). Same formulas, in float32, as train/optimizers.ts's tfjs path.
//
// Exports (the table is an Int32Array of rows, one per parameter; offsets are byte offsets into the heap):
//   optimizerUpdate(heap, table, rows, kind, hyper)
//     kind 0 sgd:     row [w, g, m, -, count, flags]   g' = s g (+ wd w); m = mu m + g'; w -= lr (nesterov ? g' + mu m : m)
//                     (m = -1: no momentum, w -= lr g')
//     kind 1 rmsprop: row [w, g, ms, mom, count, flags] TF1: ms += (g'^2 - ms)(1 - rho); mom = mu mom + lr g' / sqrt(ms + eps); w -= mom
//     kind 2 adamw:   row [w, g, m, v, count, flags]    w *= 1 - lr wd; m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
//                                                       w -= stepSize m / (sqrt(v) invSqrtBc2 + eps)
//     flags bit 0: weight decay applies. hyper (Float64Array): [lr, mu, wd, nesterov, 1 - rho, eps, 1 - b1, 1 - b2,
//     stepSize, invSqrtBc2, decayFactor, gradScale]; gradScale multiplies every gradient first (clipping).
//   sumSquares(heap, table, rows, stride, offCol, countCol) -> double: the sum of squares of the arrays named by
//     rows of `stride` int32s (offset in column offCol, length in countCol): the squared global gradient norm.
//   emaUpdate(heap, table, rows, k): rows [shadow, source, count]: shadow += (source - shadow) k.
#include <algorithm>
#include <cmath>
#include <vector>

#include "addon.h"
#include "threads.h"

namespace nas {
namespace {

constexpr int kRow = 6;
constexpr int kHyper = 12;

struct Table {
  const int32_t* rows = nullptr;
  size_t count = 0;
};

// The int32 table at argument i, holding `rows` rows of `stride` entries.
bool readTable(Args& a, size_t i, size_t rows, size_t stride, Table* t) {
  size_t bytes = 0;
  const uint8_t* p = a.buffer(i, &bytes);
  if (!a.ok()) return false;
  if (bytes / sizeof(int32_t) < rows * stride) {
    napi_throw_range_error(a.env(), nullptr, "table shorter than rows x stride");
    return false;
  }
  t->rows = reinterpret_cast<const int32_t*>(p);
  t->count = rows;
  return true;
}

// A table's byte offsets are written by JS into an Int32Array but are unsigned: a wasm heap may grow past 2 GiB,
// where they wrap to negative int32 values. -1 (kNoBuffer) marks an absent buffer; no float array starts there.
constexpr uint32_t kNoBuffer = 0xFFFFFFFFu;
inline uint32_t offsetAt(const int32_t* row, size_t k) { return static_cast<uint32_t>(row[k]); }

// A float array of `count` elements at byte offset `off` of the heap, or nullptr (and a thrown RangeError).
float* at(napi_env env, uint8_t* heap, size_t length, uint32_t off, size_t count) {
  if ((off & 3) || !fitsInHeap(length, static_cast<uint64_t>(off), count)) {
    napi_throw_range_error(env, nullptr, "array outside the wasm heap (bad offset or size)");
    return nullptr;
  }
  return reinterpret_cast<float*>(heap + off);
}

struct Hyper {
  float lr, mu, wd;
  bool nesterov;
  float oneMinusRho, eps, oneMinusB1, oneMinusB2, stepSize, invSqrtBc2, decayFactor, scale;
};

Hyper readHyper(const double* hy) {
  const auto f = [&](int i) { return static_cast<float>(hy[i]); };
  return {f(0), f(1), f(2), hy[3] != 0, f(4), f(5), f(6), f(7), f(8), f(9), f(10), f(11)};
}

// Elements [i0, i1) of one parameter (a row of the table): every element is updated on its own, so any split of
// the elements gives the same result bit for bit.
void updateRange(int kind, const Hyper& h, uint8_t* heap, const int32_t* row, size_t i0, size_t i1) {
  const bool decay = (row[5] & 1) != 0;
  float* w = reinterpret_cast<float*>(heap + offsetAt(row, 0));
  const float* g = reinterpret_cast<const float*>(heap + offsetAt(row, 1));
  float* s1 = offsetAt(row, 2) == kNoBuffer ? nullptr : reinterpret_cast<float*>(heap + offsetAt(row, 2));
  float* s2 = kind == 0 ? nullptr : reinterpret_cast<float*>(heap + offsetAt(row, 3));
  const float wdr = decay ? h.wd : 0.0f, lr = h.lr, mu = h.mu, scale = h.scale;
  if (kind == 0 && s1 == nullptr) {
    for (size_t i = i0; i < i1; ++i) w[i] -= lr * (g[i] * scale + wdr * w[i]);
  } else if (kind == 0 && h.nesterov) {
    for (size_t i = i0; i < i1; ++i) {
      const float gi = g[i] * scale + wdr * w[i];
      const float mi = mu * s1[i] + gi;
      s1[i] = mi;
      w[i] -= lr * (gi + mu * mi);
    }
  } else if (kind == 0) {
    for (size_t i = i0; i < i1; ++i) {
      const float mi = mu * s1[i] + (g[i] * scale + wdr * w[i]);
      s1[i] = mi;
      w[i] -= lr * mi;
    }
  } else if (kind == 1) {
    for (size_t i = i0; i < i1; ++i) {
      const float gi = g[i] * scale + wdr * w[i];
      const float msi = s1[i] + (gi * gi - s1[i]) * h.oneMinusRho;
      const float momi = s2[i] * mu + (gi * lr) / std::sqrt(msi + h.eps);
      s1[i] = msi;
      s2[i] = momi;
      w[i] -= momi;
    }
  } else {
    const float df = decay ? h.decayFactor : 1.0f;
    for (size_t i = i0; i < i1; ++i) {
      const float gi = g[i] * scale;
      const float mi = s1[i] + (gi - s1[i]) * h.oneMinusB1;
      const float vi = s2[i] + (gi * gi - s2[i]) * h.oneMinusB2;
      s1[i] = mi;
      s2[i] = vi;
      w[i] = w[i] * df - h.stepSize * (mi / (std::sqrt(vi) * h.invSqrtBc2 + h.eps));
    }
  }
}

// Calls f(row, i0, i1) for the elements of all rows (`stride` int32s each, the count in column countCol), split into
// parts of about equal numbers of elements (one big parameter may be split between parts); floatsPerElement is the
// memory an element's update touches.
template <class F>
void forElementParts(const Table& t, size_t stride, size_t countCol, double floatsPerElement, F&& f) {
  std::vector<size_t> start(t.count + 1, 0);
  for (size_t r = 0; r < t.count; ++r) start[r + 1] = start[r] + static_cast<size_t>(std::max(0, t.rows[r * stride + countCol]));
  const size_t total = start[t.count];
  const int parts = partsFor(floatsPerElement * total, kMinFloatsPerPart, static_cast<int64_t>(total / 64 + 1));
  parallelRanges(static_cast<int64_t>(total), parts, 64, [&](int64_t b, int64_t e) {
    size_t r = std::upper_bound(start.begin(), start.end(), static_cast<size_t>(b)) - start.begin() - 1;
    for (; r < t.count && start[r] < static_cast<size_t>(e); ++r) {
      const size_t i0 = std::max(start[r], static_cast<size_t>(b)) - start[r];
      const size_t i1 = std::min(start[r + 1], static_cast<size_t>(e)) - start[r];
      if (i0 < i1) f(t.rows + r * stride, i0, i1);
    }
  });
}

napi_value OptimizerUpdate(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t length = 0;
  uint8_t* heap = a.buffer(0, &length);
  const int32_t rows = a.i32(2);
  const int32_t kind = a.i32(3);
  size_t hyperBytes = 0;
  const uint8_t* hp = a.buffer(4, &hyperBytes);
  Table t;
  if (!a.ok() || rows < 0 || !readTable(a, 1, static_cast<size_t>(rows), kRow, &t)) return nullptr;
  if (hyperBytes / sizeof(double) < kHyper || kind < 0 || kind > 2) {
    napi_throw_range_error(env, nullptr, "bad optimizer kind or hyper-parameters");
    return nullptr;
  }
  const Hyper h = readHyper(reinterpret_cast<const double*>(hp));
  // Check every row before touching memory, so that a bad table changes nothing.
  for (size_t r = 0; r < t.count; ++r) {
    const int32_t* row = t.rows + r * kRow;
    const size_t n = row[4] < 0 ? 0 : static_cast<size_t>(row[4]);
    const bool hasS1 = kind != 0 || offsetAt(row, 2) != kNoBuffer;
    if (!at(env, heap, length, offsetAt(row, 0), n) || !at(env, heap, length, offsetAt(row, 1), n) ||
        (hasS1 && !at(env, heap, length, offsetAt(row, 2), n)) || (kind != 0 && !at(env, heap, length, offsetAt(row, 3), n))) {
      return nullptr;
    }
  }
  forElementParts(t, kRow, 4, 6, [&](const int32_t* row, size_t i0, size_t i1) { updateRange(kind, h, heap, row, i0, i1); });
  return nullptr;
}

// The squared norm: each row's sum of squares is computed whole by one part (split by rows), and the rows' sums
// are added in row order, so the result is the one-thread result bit for bit.
napi_value SumSquares(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t length = 0;
  uint8_t* heap = a.buffer(0, &length);
  const int32_t rows = a.i32(2), stride = a.i32(3), offCol = a.i32(4), countCol = a.i32(5);
  if (!a.ok()) return nullptr;
  if (rows < 0 || stride < 1 || offCol < 0 || offCol >= stride || countCol < 0 || countCol >= stride) {
    napi_throw_range_error(env, nullptr, "bad sumSquares table geometry");
    return nullptr;
  }
  Table t;
  if (!readTable(a, 1, static_cast<size_t>(rows), static_cast<size_t>(stride), &t)) return nullptr;
  std::vector<const float*> arrays(t.count);
  std::vector<size_t> counts(t.count);
  double elements = 0;
  for (size_t r = 0; r < t.count; ++r) {
    const int32_t* row = t.rows + r * stride;
    counts[r] = row[countCol] < 0 ? 0 : static_cast<size_t>(row[countCol]);
    arrays[r] = at(env, heap, length, offsetAt(row, static_cast<size_t>(offCol)), counts[r]);
    if (!arrays[r]) return nullptr;
    elements += static_cast<double>(counts[r]);
  }
  std::vector<double> sums(t.count, 0.0);
  const int parts = partsFor(elements, kMinFloatsPerPart, static_cast<int64_t>(t.count));
  parallelRanges(static_cast<int64_t>(t.count), parts, 1, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      double acc = 0;
      for (size_t i = 0; i < counts[r]; ++i) acc += static_cast<double>(arrays[r][i]) * arrays[r][i];
      sums[r] = acc;
    }
  });
  double total = 0;
  for (double v : sums) total += v;
  napi_value out;
  napi_create_double(env, total, &out);
  return out;
}

napi_value EmaUpdate(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t length = 0;
  uint8_t* heap = a.buffer(0, &length);
  const int32_t rows = a.i32(2);
  const float k = static_cast<float>(a.f64(3));
  Table t;
  if (!a.ok() || rows < 0 || !readTable(a, 1, static_cast<size_t>(rows), 3, &t)) return nullptr;
  for (size_t r = 0; r < t.count; ++r) {
    const int32_t* row = t.rows + r * 3;
    const size_t n = row[2] < 0 ? 0 : static_cast<size_t>(row[2]);
    if (!at(env, heap, length, offsetAt(row, 0), n) || !at(env, heap, length, offsetAt(row, 1), n)) return nullptr;
  }
  forElementParts(t, 3, 2, 3, [&](const int32_t* row, size_t i0, size_t i1) {
    float* s = reinterpret_cast<float*>(heap + offsetAt(row, 0));
    const float* w = reinterpret_cast<const float*>(heap + offsetAt(row, 1));
    for (size_t i = i0; i < i1; ++i) s[i] += (w[i] - s[i]) * k;
  });
  return nullptr;
}

// The batch-norm moving averages of one layer, in place: movingMean = movingMean * d + mean * a and movingVariance =
// movingVariance * d + variance * b, each product and the sum rounded to float32 as tfjs's Multiply and Add round
// them (so no fused multiply-add here): the same numbers as the tfjs ops, in one call instead of six kernels.
__attribute__((optimize("fp-contract=off"))) void movingAverages(float* m, float* v, const float* mean,
                                                                 const float* var, size_t n, float d, float a,
                                                                 float b) {
  for (size_t i = 0; i < n; ++i) {
    const float pm = m[i] * d, qm = mean[i] * a;
    const float pv = v[i] * d, qv = var[i] * b;
    m[i] = pm + qm;
    v[i] = pv + qv;
  }
}

// movingStatsUpdate(heap, table, channels, d, a, b): table holds the byte offsets of the moving mean, the moving
// variance, the batch mean and the batch variance, each `channels` floats.
napi_value MovingStatsUpdate(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t length = 0;
  uint8_t* heap = a.buffer(0, &length);
  const int32_t channels = a.i32(2);
  const float d = static_cast<float>(a.f64(3)), ka = static_cast<float>(a.f64(4)), kb = static_cast<float>(a.f64(5));
  Table t;
  if (!a.ok() || channels < 0 || !readTable(a, 1, 1, 4, &t)) return nullptr;
  float* p[4];
  for (size_t k = 0; k < 4; ++k) {
    p[k] = at(env, heap, length, offsetAt(t.rows, k), static_cast<size_t>(channels));
    if (!p[k]) return nullptr;
  }
  movingAverages(p[0], p[1], p[2], p[3], static_cast<size_t>(channels), d, ka, kb);
  return nullptr;
}

NAS_EXPORT(OptimizerUpdate);
NAS_EXPORT(MovingStatsUpdate);
NAS_EXPORT(SumSquares);
NAS_EXPORT(EmaUpdate);

}  // namespace
}  // namespace nas
