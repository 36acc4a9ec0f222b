// Greedy k-center (farthest-point) coreset selection, as in PatchCore's samplers.
import type { CoresetParams, F32, I32 } from '../types.js';

/**
 * selected[0] = start; then repeatedly: update every point's distance to the coreset
 * with its distance to the newest centre (running minimum), and take the farthest
 * point (first index on ties). Distances are squared Euclidean in float64, computed
 * directly as Σ (a − b)²; the argmax is the same as for Euclidean distances since the
 * square root is monotone. A point already selected has distance 0 and is chosen
 * again only when every point is at distance 0 (m > number of distinct points).
 */
export function coresetGreedy(p: CoresetParams, points: F32, selected: I32): void {
  const { n, d, m, start } = p;
  if (m <= 0) return;
  const minDist = new Float64Array(n).fill(Infinity);
  let centre = start;
  selected[0] = centre;
  for (let s = 1; s < m; s++) {
    const cRow = centre * d;
    let best = -1;
    let bestDist = -Infinity;
    for (let i = 0; i < n; i++) {
      const row = i * d;
      let dist = 0;
      for (let j = 0; j < d; j++) {
        const t = points[row + j] - points[cRow + j];
        dist += t * t;
      }
      if (dist < minDist[i]) minDist[i] = dist;
      if (minDist[i] > bestDist) {
        bestDist = minDist[i];
        best = i;
      }
    }
    centre = best;
    selected[s] = centre;
  }
}
