// Exact k-NN by brute force: queries in blocks of 4 against base rows in pairs
// (8 distances share their loads), a sorted top-k list per query. A candidate enters
// only when strictly closer than the current k-th, so ties keep the lower base index.
#include "medianomaly/knn.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "distance.h"
#include "medianomaly/threadpool.h"

namespace medianomaly {

namespace {

struct TopK {
  std::vector<float> dist;
  std::vector<int32_t> idx;
  int64_t size = 0, k = 0;

  void reset(int64_t kk) {
    k = kk;
    size = 0;
    dist.assign(static_cast<size_t>(kk), std::numeric_limits<float>::infinity());
    idx.assign(static_cast<size_t>(kk), -1);
  }
  void offer(float d, int32_t i) {
    if (size == k && !(d < dist[k - 1])) return;
    if (d != d) return;  // NaN distances never enter
    int64_t pos = size < k ? size : k - 1;
    while (pos > 0 && d < dist[pos - 1]) {
      dist[pos] = dist[pos - 1];
      idx[pos] = idx[pos - 1];
      --pos;
    }
    dist[pos] = d;
    idx[pos] = i;
    if (size < k) ++size;
  }
};

}  // namespace

void knn_search(const KnnParams& p, const float* queries, const float* base, float* distances, int32_t* indices) {
  if (p.nq <= 0 || p.k <= 0) return;
  const int64_t blocks = (p.nq + 3) / 4;
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    TopK top[4];
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t q0 = blk * 4, nq = std::min<int64_t>(4, p.nq - q0);
      const float* q[4];
      for (int i = 0; i < 4; ++i) q[i] = queries + (q0 + (i < nq ? i : 0)) * p.d;
      for (int i = 0; i < nq; ++i) top[i].reset(p.k);
      float d8[8];
      for (int64_t j = 0; j < p.nb; j += 2) {
        const bool pair = j + 1 < p.nb;
        const float* r0 = base + j * p.d;
        const float* r1 = pair ? r0 + p.d : r0;
        detail::sq_dist_4x2(q, r0, r1, p.d, d8);
        for (int i = 0; i < nq; ++i) {
          top[i].offer(d8[2 * i], static_cast<int32_t>(j));
          if (pair) top[i].offer(d8[2 * i + 1], static_cast<int32_t>(j + 1));
        }
      }
      for (int i = 0; i < nq; ++i) {
        float* dd = distances + (q0 + i) * p.k;
        int32_t* ii = indices + (q0 + i) * p.k;
        for (int64_t t = 0; t < p.k; ++t) {
          dd[t] = top[i].dist[t];
          ii[t] = top[i].idx[t];
        }
      }
    }
  });
}

}  // namespace medianomaly
