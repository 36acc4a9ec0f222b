// One process-wide worker pool and a deterministic parallel_for.
//
// parallel_for splits [0, n) into a number of chunks that depends only on n, the grain
// and the configured thread count — never on which threads happen to be free — and a
// kernel's arithmetic per output element never depends on chunk boundaries. So results
// are reproducible for a given thread count (and, for every kernel here, across thread
// counts). Calls made from inside a running parallel region, or while another JS thread
// (worker_threads) holds the pool, run the same chunks inline on the calling thread.
#pragma once

#include <cstdint>
#include <functional>

namespace medianomaly {

/** Configured thread count (>= 1). Initialised from MEDIANOMALY_THREADS, else hardware threads. */
int get_threads();
/** Resize the pool; n < 1 is treated as 1. Also sets OpenBLAS's thread count when linked. */
void set_threads(int n);
/** True while the calling thread executes a chunk of a parallel_for. */
bool in_parallel_region();

/** Runs fn(chunk_index) for chunk_index in [0, chunks), spread over the pool. */
void parallel_run(int64_t chunks, const std::function<void(int64_t)>& fn);

/**
 * fn(begin, end) over [0, n), in at most get_threads() chunks of at least `grain` items.
 * Below one grain of work it runs inline without touching the pool.
 */
template <typename F>
void parallel_for(int64_t n, int64_t grain, F&& fn) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int64_t chunks = (n + grain - 1) / grain;
  const int64_t t = get_threads();
  if (chunks > t) chunks = t;
  if (chunks <= 1 || in_parallel_region()) {
    fn(int64_t{0}, n);
    return;
  }
  parallel_run(chunks, [&](int64_t c) {
    const int64_t b = n * c / chunks;
    const int64_t e = n * (c + 1) / chunks;
    if (b < e) fn(b, e);
  });
}

}  // namespace medianomaly
