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
#include <cmath>

#include "addon.h"

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
  const double* hy = reinterpret_cast<const double*>(hp);
  const float lr = static_cast<float>(hy[0]), mu = static_cast<float>(hy[1]), wd = static_cast<float>(hy[2]);
  const bool nesterov = hy[3] != 0;
  const float oneMinusRho = static_cast<float>(hy[4]), eps = static_cast<float>(hy[5]);
  const float oneMinusB1 = static_cast<float>(hy[6]), oneMinusB2 = static_cast<float>(hy[7]);
  const float stepSize = static_cast<float>(hy[8]), invSqrtBc2 = static_cast<float>(hy[9]);
  const float decayFactor = static_cast<float>(hy[10]), scale = static_cast<float>(hy[11]);

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
  for (size_t r = 0; r < t.count; ++r) {
    const int32_t* row = t.rows + r * kRow;
    const size_t n = static_cast<size_t>(row[4]);
    const bool decay = (row[5] & 1) != 0;
    float* w = reinterpret_cast<float*>(heap + offsetAt(row, 0));
    const float* g = reinterpret_cast<const float*>(heap + offsetAt(row, 1));
    if (kind == 0) {
      const float wdr = decay ? wd : 0.0f;
      if (offsetAt(row, 2) == kNoBuffer) {
        for (size_t i = 0; i < n; ++i) w[i] -= lr * (g[i] * scale + wdr * w[i]);
        continue;
      }
      float* m = reinterpret_cast<float*>(heap + offsetAt(row, 2));
      if (nesterov) {
        for (size_t i = 0; i < n; ++i) {
          const float gi = g[i] * scale + wdr * w[i];
          const float mi = mu * m[i] + gi;
          m[i] = mi;
          w[i] -= lr * (gi + mu * mi);
        }
      } else {
        for (size_t i = 0; i < n; ++i) {
          const float mi = mu * m[i] + (g[i] * scale + wdr * w[i]);
          m[i] = mi;
          w[i] -= lr * mi;
        }
      }
    } else if (kind == 1) {
      const float wdr = decay ? wd : 0.0f;
      float* ms = reinterpret_cast<float*>(heap + offsetAt(row, 2));
      float* mom = reinterpret_cast<float*>(heap + offsetAt(row, 3));
      for (size_t i = 0; i < n; ++i) {
        const float gi = g[i] * scale + wdr * w[i];
        const float msi = ms[i] + (gi * gi - ms[i]) * oneMinusRho;
        const float momi = mom[i] * mu + (gi * lr) / std::sqrt(msi + eps);
        ms[i] = msi;
        mom[i] = momi;
        w[i] -= momi;
      }
    } else {
      const float df = decay ? decayFactor : 1.0f;
      float* m = reinterpret_cast<float*>(heap + offsetAt(row, 2));
      float* v = reinterpret_cast<float*>(heap + offsetAt(row, 3));
      for (size_t i = 0; i < n; ++i) {
        const float gi = g[i] * scale;
        const float mi = m[i] + (gi - m[i]) * oneMinusB1;
        const float vi = v[i] + (gi * gi - v[i]) * oneMinusB2;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * df - stepSize * (mi / (std::sqrt(vi) * invSqrtBc2 + eps));
      }
    }
  }
  return nullptr;
}

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
  double total = 0;
  for (size_t r = 0; r < t.count; ++r) {
    const int32_t* row = t.rows + r * stride;
    const size_t n = row[countCol] < 0 ? 0 : static_cast<size_t>(row[countCol]);
    const float* g = at(env, heap, length, offsetAt(row, static_cast<size_t>(offCol)), n);
    if (!g) return nullptr;
    double acc = 0;
    for (size_t i = 0; i < n; ++i) acc += static_cast<double>(g[i]) * g[i];
    total += acc;
  }
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
  for (size_t r = 0; r < t.count; ++r) {
    const int32_t* row = t.rows + r * 3;
    const size_t n = static_cast<size_t>(row[2]);
    float* s = reinterpret_cast<float*>(heap + offsetAt(row, 0));
    const float* w = reinterpret_cast<const float*>(heap + offsetAt(row, 1));
    for (size_t i = 0; i < n; ++i) s[i] += (w[i] - s[i]) * k;
  }
  return nullptr;
}

NAS_EXPORT(OptimizerUpdate);
NAS_EXPORT(SumSquares);
NAS_EXPORT(EmaUpdate);

}  // namespace
}  // namespace nas
