// The kernels' thread pool (threads.h): one per JS thread that sets a thread count above 1 (the main thread, or each
// search worker), so that concurrent workers never wait for each other's pool. A fork is one atomic store, and the
// parts are claimed by whichever thread comes first: on a loaded machine a pool thread may not get a core for
// milliseconds, and a fixed part per thread made the caller wait for it (2 threads were 0.5-0.9x as fast as 1 on
// this 2-core machine under load; claimed parts: 0.9-1.1x). The pool threads spin for a short while after each job
// (a training step calls the kernels back to back, with some microseconds of JavaScript between them) and then
// sleep on a condition variable.
#include "threads.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "addon.h"

namespace nas {
namespace {

constexpr auto kSpin = std::chrono::microseconds(100);  // a pool thread's busy wait before it sleeps

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

class Pool {
 public:
  explicit Pool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  // Runs f(0..parts-1) and returns when all are done. The parts are claimed one at a time by whichever thread comes
  // first, this one included: a pool thread that is asleep or descheduled (another process on its core) delays
  // nothing, as this thread runs the parts it has not claimed. Which thread runs a part never changes what it
  // computes (threads.h), so the result does not depend on it.
  void run(int parts, const std::function<void(int)>& f) {
    job_ = &f;
    done_.store(0, std::memory_order_relaxed);
    const uint64_t gen = (claim_.load(std::memory_order_relaxed) >> 32) + 1;
    claim_.store(gen << 32 | static_cast<uint64_t>(parts) << 16, std::memory_order_release);
    if (sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      wake_.notify_all();
    }
    const int mine = work(gen);
    for (int spins = 0; done_.load(std::memory_order_acquire) != parts - mine; ++spins) {
      if (spins < 4096) cpuRelax(); else std::this_thread::yield();
    }
  }

 private:
  // Claims and runs parts of generation `gen` until none is left; the number it ran.
  int work(uint64_t gen) {
    int ran = 0;
    for (;;) {
      uint64_t c = claim_.load(std::memory_order_acquire);
      do {
        if ((c >> 32) != gen || (c & 0xFFFF) >= ((c >> 16) & 0xFFFF)) return ran;
      } while (!claim_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel));
      (*job_)(static_cast<int>(c & 0xFFFF));
      ++ran;
    }
  }

  void loop() {
    uint64_t seen = 0;
    for (;;) {
      const uint64_t gen = next(seen);
      if (gen == seen) return;  // stopped
      seen = gen;
      const int ran = work(gen);
      if (ran > 0) done_.fetch_add(ran, std::memory_order_release);
    }
  }

  // The next job's generation after `seen` (spinning, then sleeping), or `seen` when the pool stops.
  uint64_t next(uint64_t seen) {
    const auto until = std::chrono::steady_clock::now() + kSpin;
    for (int i = 0;; ++i) {
      const uint64_t g = claim_.load(std::memory_order_acquire) >> 32;
      if (g != seen) return g;
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) break;
      cpuRelax();
    }
    std::unique_lock<std::mutex> lock(mu_);
    sleepers_.fetch_add(1);
    wake_.wait(lock, [&] { return stop_ || (claim_.load() >> 32) != seen; });
    sleepers_.fetch_sub(1);
    return stop_ ? seen : claim_.load(std::memory_order_acquire) >> 32;
  }

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable wake_;
  // The job's generation (bits 32-63), part count (16-31) and next part to claim (0-15) in one word: a part is
  // claimed only for the generation its claimer saw, so a pool thread that wakes late never runs a part of a later
  // job, and never one past the end of its own.
  std::atomic<uint64_t> claim_{0};
  std::atomic<int> done_{0};  // parts finished by pool threads
  std::atomic<int> sleepers_{0};
  const std::function<void(int)>* job_ = nullptr;
  bool stop_ = false;
};

thread_local int tThreads = 1;
std::atomic<int64_t> gForks{0};  // kernels split into parts, since the addon loaded (forks(): tests check a split)
thread_local std::unique_ptr<Pool> tPool;
thread_local bool tInParts = false;  // inside a part: kernels called from it run in one part (partsFor)

}  // namespace

int threadCount() { return tThreads; }

void setThreadCount(int n) {
  n = std::max(1, std::min(kMaxThreads, n));
  if (n == tThreads) return;
  tPool.reset();
  if (n > 1) tPool = std::make_unique<Pool>(n - 1);
  tThreads = n;
}

void runParts(int parts, const std::function<void(int)>& f) {
  if (parts <= 0) return;
  Pool* pool = tPool.get();
  if (parts > 1) gForks.fetch_add(1, std::memory_order_relaxed);
  if (parts == 1 || !pool || tInParts || parts > kMaxParts) {
    for (int p = 0; p < parts; ++p) f(p);
    return;
  }
  tInParts = true;
  pool->run(parts, f);
  tInParts = false;
}

int partsFor(double work, double perPart, int64_t maxParts) {
  if (tInParts) return 1;  // inside a part: as on a pool thread (one thread), whichever thread runs it
  const double byWork = work / perPart;
  int64_t parts = std::min<int64_t>(tThreads, maxParts);
  if (byWork < static_cast<double>(parts)) parts = static_cast<int64_t>(byWork);
  return static_cast<int>(std::max<int64_t>(1, parts));
}

void addPartials(float* dst, const float* partials, int count, int64_t stride, int64_t n) {
  const int parts = partsFor(static_cast<double>(n) * (count + 1), kMinFloatsPerPart, n / 8 + 1);
  parallelRanges(n, parts, 8, [&](int64_t b, int64_t e) {
    for (int k = 0; k < count; ++k) {
      const float* src = partials + k * stride;
      for (int64_t i = b; i < e; ++i) dst[i] += src[i];
    }
  });
}

namespace {

// setThreads(n): the thread count of the kernels called from this JS thread. threads() reads it.
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args a(env, info);
  const int n = a.i32(0);
  if (!a.ok()) return nullptr;
  if (n < 1 || n > kMaxThreads) {
    napi_throw_range_error(env, nullptr, "setThreads: the thread count must be 1..256");
    return nullptr;
  }
  setThreadCount(n);
  return nullptr;
}

napi_value Threads(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_int32(env, threadCount(), &out);
  return out;
}

// forks(): how many kernel calls have split into more than one part since the addon loaded, on any JS thread.
napi_value Forks(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_double(env, static_cast<double>(gForks.load()), &out);
  return out;
}

NAS_EXPORT(Forks);
NAS_EXPORT(SetThreads);
NAS_EXPORT(Threads);

}  // namespace
}  // namespace nas
