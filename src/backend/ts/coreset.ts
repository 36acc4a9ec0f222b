// Greedy k-center (farthest-point) coreset selection, as in PatchCore's samplers.
import type { CoresetParams, F32, I32 } from '../types.js';

/**
 * selected[0] = start; then repeatedly: update every point's distance to the coreset
 * with its distance to the newest centre (running minimum), and take the farthest
 * point (first index on ties). Distances are squared Euclidean in float64, summed
 * directly as Σ (a − b)² in dimension order; the argmax equals that of Euclidean
 * distances since the square root is monotone. A selected point has distance 0 and
 * is chosen again only when every point is at distance 0 (m > distinct points).
 */
export function coresetGreedy(p: CoresetParams, points: F32, selected: I32): void {
  const { n, d, m, start } = p;
  if (m <= 0) return;
  const minDist = new Float64Array(n).fill(Infinity);
  let centre = start;
  selected[0] = centre;
  for (let s = 1; s < m; s++) {
    updateMinDistances(points, n, d, centre, minDist);
    let best = 0;
    for (let i = 1; i < n; i++) if (minDist[i] > minDist[best]) best = i;
    centre = best;
    selected[s] = centre;
  }
}

/** minDist[i] = min(minDist[i], ‖x_i − x_centre‖²): one pass over the points, in memory order. */
function updateMinDistances(points: F32, n: number, d: number, centre: number, minDist: Float64Array): void {
  const c = centre * d;
  for (let i = 0; i < n; i++) {
    const r = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = points[r + j] - points[c + j];
      s += t * t;
    }
    if (s < minDist[i]) minDist[i] = s;
  }
}
