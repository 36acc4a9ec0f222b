// Exact k-nearest-neighbour search by squared Euclidean distance (faiss IndexFlatL2
// semantics: distances ascending, ties broken by the lower base index).
import type { F32, I32, KnnParams } from '../types.js';

const QBLOCK = 4;

/**
 * The distance from a query to a base row is Σ (q − b)² in float64, summed in
 * dimension order (the direct form: no cancellation, unlike ‖q‖² + ‖b‖² − 2q·b).
 * Queries are processed four at a time so that each base row read from memory
 * serves four independent sums. Each query keeps its k best in a sorted list; base
 * rows are scanned in index order and a candidate must be strictly closer than the
 * current k-th to enter, which gives lower-index-first ties.
 * When k > nb the remaining slots get distance +∞ and index −1 (faiss convention).
 */
export function knnSearch(p: KnnParams, queries: F32, base: F32, distances: F32, indices: I32): void {
  const { nq, nb, d, k } = p;
  const bestD = new Float64Array(QBLOCK * k);
  const bestI = new Int32Array(QBLOCK * k);
  for (let q0 = 0; q0 < nq; q0 += QBLOCK) {
    const nbq = Math.min(QBLOCK, nq - q0);
    bestD.fill(Infinity);
    bestI.fill(-1);
    // Rows past the end of a short final block repeat the last query; they are never written out.
    const r0 = q0 * d;
    const r1 = Math.min(q0 + 1, nq - 1) * d;
    const r2 = Math.min(q0 + 2, nq - 1) * d;
    const r3 = Math.min(q0 + 3, nq - 1) * d;
    for (let b = 0; b < nb; b++) {
      const bRow = b * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < d; j++) {
        const v = base[bRow + j];
        const t0 = queries[r0 + j] - v;
        const t1 = queries[r1 + j] - v;
        const t2 = queries[r2 + j] - v;
        const t3 = queries[r3 + j] - v;
        s0 += t0 * t0;
        s1 += t1 * t1;
        s2 += t2 * t2;
        s3 += t3 * t3;
      }
      offer(bestD, bestI, 0, k, s0, b);
      if (nbq > 1) offer(bestD, bestI, k, k, s1, b);
      if (nbq > 2) offer(bestD, bestI, 2 * k, k, s2, b);
      if (nbq > 3) offer(bestD, bestI, 3 * k, k, s3, b);
    }
    for (let t = 0; t < nbq; t++) {
      distances.set(bestD.subarray(t * k, (t + 1) * k), (q0 + t) * k);
      indices.set(bestI.subarray(t * k, (t + 1) * k), (q0 + t) * k);
    }
  }
}

/** Inserts (s, b) into the sorted k-list at `off` if it is strictly closer than the current last. */
function offer(bestD: Float64Array, bestI: Int32Array, off: number, k: number, s: number, b: number): void {
  if (!(s < bestD[off + k - 1])) return; // also rejects NaN
  let pos = k - 1;
  // Shift strictly larger entries right; equal distances stay ahead (they have lower indices).
  while (pos > 0 && bestD[off + pos - 1] > s) {
    bestD[off + pos] = bestD[off + pos - 1];
    bestI[off + pos] = bestI[off + pos - 1];
    pos--;
  }
  bestD[off + pos] = s;
  bestI[off + pos] = b;
}
