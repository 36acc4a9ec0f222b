// The process-wide worker pool behind parallel_for (see threadpool.h for the
// determinism rules). Workers are started lazily on the first parallel region, so
// loading the addon (also in a worker_thread) costs nothing.
#include "medianomaly/threadpool.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define MEDIANOMALY_PAUSE() _mm_pause()
#else
#define MEDIANOMALY_PAUSE() ((void)0)
#endif

namespace medianomaly {

void blas_set_threads(int n);  // gemm.cc: keeps OpenBLAS's own pool the same size as ours

namespace {

thread_local bool t_in_region = false;

int threads_from_env() {
  const char* s = std::getenv("MEDIANOMALY_THREADS");
  if (s && *s) {
    char* end = nullptr;
    const long v = std::strtol(s, &end, 10);
    if (end && *end == '\0' && v >= 1 && v <= 1024) return static_cast<int>(v);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw ? static_cast<int>(hw) : 1;
}

class Pool {
 public:
  Pool() : threads_(threads_from_env()) { blas_set_threads(threads_); }
  ~Pool() { stop_workers(); }

  int threads() const { return threads_.load(std::memory_order_relaxed); }

  void set_threads(int n) {
    if (n < 1) n = 1;
    std::lock_guard<std::mutex> dispatch(dispatch_);
    stop_workers();
    threads_.store(n, std::memory_order_relaxed);
    blas_set_threads(n);
  }

  void run(int64_t chunks, const std::function<void(int64_t)>& fn) {
    if (t_in_region) {  // nested region: this thread may already own dispatch_
      run_inline(chunks, fn);
      return;
    }
    std::unique_lock<std::mutex> dispatch(dispatch_, std::try_to_lock);
    if (!dispatch.owns_lock() || threads() <= 1) {
      // Another JS thread is using the pool (or there is none): same chunks, inline.
      run_inline(chunks, fn);
      return;
    }
    if (workers_.empty()) start_workers(threads() - 1);
    {
      std::lock_guard<std::mutex> lock(m_);
      job_ = &fn;
      chunks_ = chunks;
      next_.store(0, std::memory_order_relaxed);
      remaining_.store(chunks, std::memory_order_relaxed);
      error_ = nullptr;
      generation_.fetch_add(1, std::memory_order_acq_rel);
    }
    cv_work_.notify_all();
    work_on_current_job();
    // Spin briefly (chunks are usually balanced), then sleep until the last one ends.
    // A worker that joined this job must have left it before `fn` goes out of scope.
    auto finished = [&] {
      return remaining_.load(std::memory_order_acquire) == 0 && active_.load(std::memory_order_acquire) == 0;
    };
    for (int i = 0; i < 4000 && !finished(); ++i) MEDIANOMALY_PAUSE();
    std::exception_ptr err;
    {
      std::unique_lock<std::mutex> lock(m_);
      cv_done_.wait(lock, finished);
      job_ = nullptr;
      err = error_;
      error_ = nullptr;
    }
    if (err) std::rethrow_exception(err);
  }

 private:
  static void run_inline(int64_t chunks, const std::function<void(int64_t)>& fn) {
    const bool was = t_in_region;
    t_in_region = true;
    try {
      for (int64_t c = 0; c < chunks; ++c) fn(c);
    } catch (...) {
      t_in_region = was;
      throw;
    }
    t_in_region = was;
  }

  void work_on_current_job() {
    const std::function<void(int64_t)>* job;
    int64_t chunks;
    {
      std::lock_guard<std::mutex> lock(m_);
      job = job_;
      chunks = chunks_;
      if (!job) return;
      active_.fetch_add(1, std::memory_order_acq_rel);
    }
    t_in_region = true;
    for (;;) {
      const int64_t c = next_.fetch_add(1, std::memory_order_relaxed);
      if (c >= chunks) break;
      try {
        (*job)(c);
      } catch (...) {
        std::lock_guard<std::mutex> lock(m_);
        if (!error_) error_ = std::current_exception();
      }
      remaining_.fetch_sub(1, std::memory_order_acq_rel);
    }
    t_in_region = false;
    {
      std::lock_guard<std::mutex> lock(m_);
      active_.fetch_sub(1, std::memory_order_acq_rel);
    }
    cv_done_.notify_all();
  }

  // `seen` is the generation current when the worker was started, so a job posted right
  // after start_workers() (before this thread first runs) is not missed.
  void worker_loop(uint64_t seen) {
    for (;;) {
      // A short spin catches back-to-back kernels without a futex round trip.
      for (int i = 0; i < 2000; ++i) {
        if (generation_.load(std::memory_order_acquire) != seen || stop_flag_.load()) break;
        MEDIANOMALY_PAUSE();
      }
      {
        std::unique_lock<std::mutex> lock(m_);
        cv_work_.wait(lock, [&] { return stop_ || generation_.load() != seen; });
        if (stop_) return;
        seen = generation_.load();
      }
      work_on_current_job();
    }
  }

  void start_workers(int count) {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = false;
      stop_flag_.store(false);
    }
    const uint64_t gen = generation_.load();
    for (int i = 0; i < count; ++i) workers_.emplace_back([this, gen] { worker_loop(gen); });
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(m_);
      stop_ = true;
      stop_flag_.store(true);
    }
    cv_work_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::atomic<int> threads_;
  std::mutex dispatch_;  // held by the thread that owns the current parallel region
  std::mutex m_;
  std::condition_variable cv_work_, cv_done_;
  std::vector<std::thread> workers_;
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t chunks_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> remaining_{0};
  std::exception_ptr error_;
  std::atomic<int> active_{0};  // threads currently inside work_on_current_job
  std::atomic<uint64_t> generation_{0};  // written under m_, read lock-free by spinning workers
  bool stop_ = false;
  std::atomic<bool> stop_flag_{false};
};

Pool& pool() {
  static Pool instance;
  return instance;
}

}  // namespace

int get_threads() { return pool().threads(); }
void set_threads(int n) { pool().set_threads(n); }
bool in_parallel_region() { return t_in_region; }

void parallel_run(int64_t chunks, const std::function<void(int64_t)>& fn) {
  if (chunks <= 0) return;
  pool().run(chunks, fn);
}

}  // namespace medianomaly
