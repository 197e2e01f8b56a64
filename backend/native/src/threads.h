// Intra-op parallelism for the kernels: a small pool of native threads per calling (JS) thread, and fork-join
// helpers that split a kernel's work into parts. Determinism: the number of parts depends only on the shape and the
// thread count set for the calling thread (never on which pool threads are free), and every part always computes
// the same elements; reductions keep one partial per part and combine them in part order. So a kernel's result is
// the same on every run with a given thread count, and where no reduction crosses parts (everything but the weight
// gradients of convolutions and the batch-norm sums) it is bit for bit the one-thread result.
#pragma once
#include <algorithm>
#include <cstdint>
#include <functional>

namespace nas {

constexpr int kMaxThreads = 256;

// Threads the kernels called from this thread split their work over (default 1: the calling thread only).
int threadCount();
// Sets it (1..kMaxThreads), starting or stopping pool threads.
void setThreadCount(int n);

constexpr int kMaxParts = 0xFFFF;

// Runs f(p) for p in [0, parts) on the calling thread and the pool, each part claimed by the first thread free (the
// calling thread runs whatever the pool has not started, so a sleeping or descheduled pool thread costs no wait).
// A kernel called from inside a part splits into one part (partsFor), on any thread: so which thread runs a part
// never changes its result. Parts run here, in order, without a pool or above kMaxParts.
void runParts(int parts, const std::function<void(int)>& f);

// Parts worth splitting `work` into, at least `perPart` units each (multiply-adds for matrix products, floats for
// memory-bound passes), at most threadCount() and maxParts: 1 below the threshold, so tiny layers pay no dispatch.
int partsFor(double work, double perPart, int64_t maxParts);

// Units of work below which a part is not worth a fork (about 30-50 us of one core's work either way). Measured on
// MobileNetV3-Small training steps (2 cores, under load): kernel calls split into parts of under about 80 us of
// one-thread time took 1.2-2x as long with 2 threads as with 1 (the fork, and the data left in the other core's
// cache), and 8x the former thresholds (2^17, 2^14) made 32 px steps 1.0-1.6x as fast at 2 threads against 0.8-1.0x
// with no change at 224 px, where nearly all the work is in calls of over 300 us.
constexpr double kMinMacsPerPart = 1 << 20;    // multiply-adds (matrix products, convolutions)
constexpr double kMinFloatsPerPart = 1 << 17;  // floats read and written (elementwise and reduction passes)

// Range [begin, end) of part p of `parts` over [0, n), aligned to multiples of `align` (except the end).
inline void partRange(int64_t n, int parts, int p, int64_t align, int64_t* begin, int64_t* end) {
  const int64_t units = (n + align - 1) / align;
  *begin = std::min(n, units * p / parts * align);
  *end = std::min(n, units * (p + 1) / parts * align);
}

// Calls f(begin, end) for `parts` aligned ranges covering [0, n), in parallel.
template <class F>
void parallelRanges(int64_t n, int parts, int64_t align, F&& f) {
  if (parts <= 1) {
    f(int64_t{0}, n);
    return;
  }
  runParts(parts, [&](int p) {
    int64_t b = 0, e = 0;
    partRange(n, parts, p, align, &b, &e);
    if (b < e) f(b, e);
  });
}

// Sums parts' partial arrays into dst in part order: dst[i] += partial[k][i] for k = 0, 1, ... (each partial holds
// n floats, `stride` apart), split over elements.
void addPartials(float* dst, const float* partials, int count, int64_t stride, int64_t n);

}  // namespace nas
