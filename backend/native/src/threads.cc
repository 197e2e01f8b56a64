// The kernels' thread pool (threads.h): one per JS thread that sets a thread count above 1 (the main thread, or each
// search worker), so that concurrent workers never wait for each other's pool. A fork is one atomic store: the pool
// threads spin for a short while after each part (a training step calls the kernels back to back, with some
// microseconds of JavaScript between them) and then sleep on a condition variable.
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
    for (int i = 1; i <= workers; ++i) threads_.emplace_back([this, i] { loop(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  int workers() const { return static_cast<int>(threads_.size()); }

  // Runs f(0) here and f(1..parts-1) on the pool threads of the same index; returns when all are done.
  void run(int parts, const std::function<void(int)>& f) {
    job_ = &f;
    pending_.store(parts - 1);
    // The generation and the part count in one word: a pool thread reads both at once.
    word_.store(((word_.load() >> 16) + 1) << 16 | static_cast<uint64_t>(parts));
    if (sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      wake_.notify_all();
    }
    f(0);
    for (int spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) {
      if (spins < 4096) cpuRelax(); else std::this_thread::yield();
    }
  }

 private:
  // Starts from generation 0 (not the current word): a thread that starts late must still see the first job.
  void loop(int index) {
    uint64_t seen = 0;
    for (;;) {
      const uint64_t w = next(seen);
      if (w == seen) return;  // stopped
      seen = w;
      if (index < static_cast<int>(w & 0xFFFF)) {
        (*job_)(index);
        pending_.fetch_sub(1, std::memory_order_release);
      }
    }
  }

  // The next job word after `seen` (spinning, then sleeping), or `seen` when the pool stops.
  uint64_t next(uint64_t seen) {
    const auto until = std::chrono::steady_clock::now() + kSpin;
    for (int i = 0;; ++i) {
      const uint64_t w = word_.load(std::memory_order_acquire);
      if (w != seen) return w;
      if ((i & 63) == 63 && std::chrono::steady_clock::now() > until) break;
      cpuRelax();
    }
    std::unique_lock<std::mutex> lock(mu_);
    sleepers_.fetch_add(1);
    wake_.wait(lock, [&] { return stop_ || word_.load() != seen; });
    sleepers_.fetch_sub(1);
    return stop_ ? seen : word_.load(std::memory_order_acquire);
  }

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<uint64_t> word_{0};
  std::atomic<int> pending_{0};
  std::atomic<int> sleepers_{0};
  const std::function<void(int)>* job_ = nullptr;
  bool stop_ = false;
};

thread_local int tThreads = 1;
thread_local std::unique_ptr<Pool> tPool;
thread_local bool tInParts = false;  // a kernel called from inside a part runs its parts serially

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
  if (parts == 1 || !pool || tInParts || pool->workers() < parts - 1) {
    for (int p = 0; p < parts; ++p) f(p);
    return;
  }
  tInParts = true;
  pool->run(parts, f);
  tInParts = false;
}

int partsFor(double work, double perPart, int64_t maxParts) {
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

NAS_EXPORT(SetThreads);
NAS_EXPORT(Threads);

}  // namespace
}  // namespace nas
