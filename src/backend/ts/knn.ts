// Exact k-nearest-neighbour search by squared Euclidean distance (faiss IndexFlatL2
// semantics: distances ascending, ties broken by the lower base index).
import type { F32, I32, KnnParams } from '../types.js';

/**
 * For each query the distance to every base row is Σ (q − b)² in float64 (the direct
 * form: no cancellation, unlike ‖q‖² + ‖b‖² − 2q·b). The k best are kept in a sorted
 * list; base rows are scanned in index order and a candidate must be strictly closer
 * than the current k-th to enter, which yields lower-index-first ties for free.
 * When k > nb the remaining slots get distance +∞ and index −1 (faiss convention).
 */
export function knnSearch(p: KnnParams, queries: F32, base: F32, distances: F32, indices: I32): void {
  const { nq, nb, d, k } = p;
  const bestD = new Float64Array(k);
  const bestI = new Int32Array(k);
  for (let q = 0; q < nq; q++) {
    bestD.fill(Infinity);
    bestI.fill(-1);
    const qRow = q * d;
    for (let b = 0; b < nb; b++) {
      const bRow = b * d;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = queries[qRow + j] - base[bRow + j];
        s += t * t;
      }
      if (!(s < bestD[k - 1])) continue;
      // Insertion: shift larger entries right; equal distances stay ahead (lower index).
      let pos = k - 1;
      while (pos > 0 && bestD[pos - 1] > s) {
        bestD[pos] = bestD[pos - 1];
        bestI[pos] = bestI[pos - 1];
        pos--;
      }
      bestD[pos] = s;
      bestI[pos] = b;
    }
    distances.set(bestD, q * k);
    indices.set(bestI, q * k);
  }
}
