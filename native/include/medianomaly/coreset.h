// Greedy k-center (farthest point) coreset selection.
#pragma once

#include <cstdint>

namespace medianomaly {

struct CoresetParams {
  int64_t n = 0, d = 0, m = 0, start = 0;
};

/**
 * selected[0] = start; then m − 1 times: update each point's distance to the coreset
 * with its distance to the last pick, pick the farthest point (first on ties).
 */
void coreset_greedy(const CoresetParams& p, const float* points, int32_t* selected);

}  // namespace medianomaly
