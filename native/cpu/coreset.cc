// Greedy k-center selection (anomalib's KCenterGreedy order: the start point is the
// first pick). Each round updates every point's distance to the coreset with its
// distance to the last pick, in parallel chunks; the farthest point is reduced with
// (distance desc, index asc), so the choice does not depend on the chunking.
#include "medianomaly/coreset.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "distance.h"
#include "medianomaly/threadpool.h"

namespace medianomaly {

void coreset_greedy(const CoresetParams& p, const float* points, int32_t* selected) {
  if (p.m <= 0 || p.n <= 0) return;
  std::vector<float> mind(static_cast<size_t>(p.n), std::numeric_limits<float>::infinity());
  const int64_t threads = get_threads();
  const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(threads, p.n / 256));
  std::vector<float> best_d(static_cast<size_t>(chunks));
  std::vector<int64_t> best_i(static_cast<size_t>(chunks));
  int64_t last = p.start;
  selected[0] = static_cast<int32_t>(last);
  for (int64_t s = 1; s < p.m; ++s) {
    const float* c = points + last * p.d;
    parallel_run(chunks, [&](int64_t ch) {
      const int64_t b = p.n * ch / chunks, e = p.n * (ch + 1) / chunks;
      float bd = -1.0f;
      int64_t bi = b;
      for (int64_t i = b; i < e; ++i) {
        const float d = detail::sq_dist(points + i * p.d, c, p.d);
        float v = mind[i];
        if (d < v) v = mind[i] = d;
        if (v > bd) {
          bd = v;
          bi = i;
        }
      }
      best_d[ch] = bd;
      best_i[ch] = bi;
    });
    int64_t pick = best_i[0];
    float pd = best_d[0];
    for (int64_t ch = 1; ch < chunks; ++ch)
      if (best_d[ch] > pd) {
        pd = best_d[ch];
        pick = best_i[ch];
      }
    mind[pick] = 0.0f;
    selected[s] = static_cast<int32_t>(pick);
    last = pick;
  }
}

}  // namespace medianomaly
