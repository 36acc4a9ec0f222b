// PatchCore's re-weighted image score (the paper's eq. 7; anomalib's default; feature-reference
// spec §2.5 (c)): with p* the patch of the largest score s*, m* its nearest bank vector and
// N_b the b = min(b, bank size) bank vectors nearest to m* (m* itself first, as the search
// returns them), D_j = ‖x_{p*} − n_j‖ (Euclidean) and w = 1 − softmax(D)₀, the image score is
// w·s*. The weight grows when m* sits far from its own neighbours compared with the test
// patch (a rare normal pattern), shrinking scores of patches near dense bank regions less.
import { halfToFloat, Tensor } from '../../engine/index.js';

/** The k-nearest-neighbour search the score needs (KnnIndex's). */
export interface BankSearch {
  ntotal: number;
  search(queries: Float32Array | Tensor, k: number): { distances: Float32Array; indices: Int32Array };
}

/**
 * Re-weighted score of one image: `patch` its top patch's embedding, `score` that patch's score, `nearest` its nearest bank index.
 * `bank` [n, d] is float32 values or the IEEE half bits of a float16 bank: only the rows used are decoded (exactly).
 */
export function reweightedScore(patch: Float32Array, score: number, nearest: number, bank: Float32Array | Uint16Array, index: BankSearch, b: number): number {
  const d = patch.length;
  const kk = Math.min(b, index.ntotal);
  const row = (i: number): Float32Array => (bank instanceof Uint16Array ? halfToFloat(bank.subarray(i * d, (i + 1) * d)) : bank.subarray(i * d, (i + 1) * d));
  const { indices } = index.search(Tensor.fromData(row(nearest).slice(), [1, d]), kk);
  const dist = new Float64Array(kk);
  for (let j = 0; j < kk; j++) {
    const n = row(indices[j]);
    let acc = 0;
    for (let t = 0; t < d; t++) {
      const v = patch[t] - n[t];
      acc += v * v;
    }
    dist[j] = Math.sqrt(acc);
  }
  // softmax(D)₀ with the max subtracted (stable)
  let mx = -Infinity;
  for (let j = 0; j < kk; j++) mx = Math.max(mx, dist[j]);
  let sum = 0;
  for (let j = 0; j < kk; j++) sum += Math.exp(dist[j] - mx);
  const w = 1 - Math.exp(dist[0] - mx) / sum;
  return w * score;
}
