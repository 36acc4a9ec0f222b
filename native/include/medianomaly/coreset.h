// PatchCore's approximate greedy coreset: a random projection, then farthest-point
// (k-center greedy) selection with one fused pass over the points per pick.
#pragma once

#include <cstdint>

#include "status.h"

namespace medianomaly {

struct CoresetParams {
  int64_t n = 0, d = 0, m = 0;
  int64_t newest = -1;  // a centre whose distances are folded in before the first pick (−1: none)
  int64_t starts = 0;   // > 0: first set min_dist from these start points (official rule)
};

/**
 * The distance every part of the coreset uses, Σ (a − b)² in float32 without fused
 * multiply-adds, in this order (the ts twin repeats it operation for operation, so both
 * backends pick the same points): 16 lane sums, lane l += e·e for t ≡ l (mod 16) over
 * full 16-blocks, then one 8-block into lanes 0–7; v_l = s_l + s_{l+8}; h_l = v_l + v_{l+4};
 * s = (h0 + h2) + (h1 + h3); then the remaining t one by one, s += e·e.
 */
float coreset_sq_dist(const float* a, const float* b, int64_t d);

/**
 * 1. starts > 0: min_dist[i] = (mean over the start points s of √dist(i, s))², the mean
 *    summed in start order in float32 (the official sampler's initial distances; the
 *    start points are not selected).
 * 2. m times: one pass over the points folds the newest centre into min_dist
 *    (min_dist[i] = min(min_dist[i], dist(i, newest)), skipped while there is none) and
 *    finds the farthest point (largest min_dist, lowest index on ties); it is selected
 *    and becomes the newest centre. The last pick is not folded in: pass it as `newest`
 *    to continue in another call (progress reporting between chunks).
 * A pick's pass is split into chunks that depend on n only (≤ 64 of ≥ 8192 points), handed
 * to the pool's threads dynamically (a thread the OS deschedules on a busy machine delays
 * one chunk, not half the pass); chunks are reduced in order by (distance desc, index asc),
 * so the picks do not depend on the thread count. State: min_dist (n floats) only.
 */
Status coreset_greedy(const CoresetParams& p, const float* points, const int32_t* start_idx, float* min_dist,
                      int32_t* selected);

/**
 * coreset_greedy on points stored as IEEE half (raw bits): each value is converted to
 * float32 exactly and the distances are then computed exactly as above, so the picks equal
 * coreset_greedy's on the float32 values of the halves (what the ts twin does). Half the
 * memory traffic per pick.
 */
Status coreset_greedy_half(const CoresetParams& p, const uint16_t* points, const int32_t* start_idx, float* min_dist,
                           int32_t* selected);

struct CoresetProjectParams {
  int64_t n = 0, d = 0, e = 0;
};

/**
 * y[i, j] = Σ_t x[i, t]·wt[t, j] for x [n, d], wt [d, e]: float32, t ascending, each product
 * and each sum rounded (no fused multiply-add), so the ts twin reproduces it bit for bit.
 */
void coreset_project(const CoresetProjectParams& p, const float* x, const float* wt, float* y);

}  // namespace medianomaly
