// Exact k-nearest-neighbour search by squared Euclidean distance (faiss IndexFlatL2
// semantics: distances ascending, ties broken by the lower base index).
import type { F32, I32, KnnParams, U16 } from '../types.js';
import { halfToFloat } from './half.js';

const QBLOCK = 4;

/**
 * The distance from a query q to a base row b is the expansion ‖q‖² + ‖b‖² − 2·q·b, as
 * the native kernel computes it (there the q·b block comes from the GEMM): here every term
 * is accumulated in float64 in dimension order, the sum clamped at 0 and rounded to float32
 * before it is compared. The expansion differs from the direct Σ (q − b)² by rounding
 * (cancellation when a distance is small against the norms); the native float32 result
 * differs from this one within the float32 bound of a d-term dot product, so conformance
 * tests compare distances within that bound and neighbours up to ties within rounding.
 * `baseNorms` (‖b‖² per row, float32) is used when given, else the norms are computed.
 *
 * Queries are processed four at a time so that each base row read from memory serves
 * four sums. Each query keeps its k best in a sorted list; base rows are scanned in index
 * order and a candidate must be strictly closer than the current k-th to enter, which
 * gives lower-index-first ties. When k > nb the remaining slots get distance +∞ and
 * index −1 (faiss convention); NaN distances never enter.
 */
export function knnSearch(p: KnnParams, queries: F32, base: F32, baseNorms: F32 | null, distances: F32, indices: I32): void {
  const { nq, nb, d, k } = p;
  if (nq <= 0 || k <= 0) return;
  const qn = sqNorms(queries, nq, d);
  const bn = baseNorms ? Float64Array.from(baseNorms.subarray(0, nb)) : sqNorms(base, nb, d);
  const bestD = new Float64Array(QBLOCK * k);
  const bestI = new Int32Array(QBLOCK * k);
  for (let q0 = 0; q0 < nq; q0 += QBLOCK) {
    const nbq = Math.min(QBLOCK, nq - q0);
    bestD.fill(Infinity);
    bestI.fill(-1);
    // Rows past the end of a short final block repeat the last query; they are never written out.
    const i1 = Math.min(q0 + 1, nq - 1);
    const i2 = Math.min(q0 + 2, nq - 1);
    const i3 = Math.min(q0 + 3, nq - 1);
    const r0 = q0 * d;
    const r1 = i1 * d;
    const r2 = i2 * d;
    const r3 = i3 * d;
    for (let b = 0; b < nb; b++) {
      const bRow = b * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < d; j++) {
        const v = base[bRow + j];
        s0 += queries[r0 + j] * v;
        s1 += queries[r1 + j] * v;
        s2 += queries[r2 + j] * v;
        s3 += queries[r3 + j] * v;
      }
      const nb2 = bn[b];
      offer(bestD, bestI, 0, k, dist(qn[q0], nb2, s0), b);
      if (nbq > 1) offer(bestD, bestI, k, k, dist(qn[i1], nb2, s1), b);
      if (nbq > 2) offer(bestD, bestI, 2 * k, k, dist(qn[i2], nb2, s2), b);
      if (nbq > 3) offer(bestD, bestI, 3 * k, k, dist(qn[i3], nb2, s3), b);
    }
    for (let t = 0; t < nbq; t++) {
      distances.set(bestD.subarray(t * k, (t + 1) * k), (q0 + t) * k);
      indices.set(bestI.subarray(t * k, (t + 1) * k), (q0 + t) * k);
    }
  }
}

/**
 * knnSearch against a base stored as IEEE half: the values are decoded exactly to float32
 * and searched as above (the native kernel converts bank blocks on the fly, distances in float32).
 */
export function knnSearchHalf(p: KnnParams, queries: F32, base: U16, baseNorms: F32 | null, distances: F32, indices: I32): void {
  const values = new Float32Array(p.nb * p.d);
  halfToFloat({ n: values.length }, base, values);
  knnSearch(p, queries, values, baseNorms, distances, indices);
}

/** ‖q‖² + ‖b‖² − 2·q·b clamped at 0 (NaN stays NaN), rounded to float32. */
function dist(qn: number, bn: number, dot: number): number {
  const v = qn + bn - 2 * dot;
  return Math.fround(v < 0 ? 0 : v);
}

/** ‖x_i‖² per row, float64, dimension order. */
export function sqNorms(x: F32, n: number, d: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i * d, e = j + d; j < e; j++) s += x[j] * x[j];
    out[i] = s;
  }
  return out;
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
