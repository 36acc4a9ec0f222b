// Fixed random channel mixings for the coupling block: a uniform random permutation and
// a Haar-distributed rotation from SO(C) (the distribution of SciPy's
// special_ortho_group, which FrEIA draws its soft permutation from). Only the
// distribution matters: FrEIA, anomalib and this library draw different matrices for the
// same seed.
import type { Generator } from '../../engine/index.js';

/** π with out[i] = v[π(i)]: a Fisher–Yates shuffle of 0..C−1. */
export function randomPermutation(C: number, g: Generator): Int32Array {
  const p = new Int32Array(C);
  for (let i = 0; i < C; i++) p[i] = i;
  g.shuffle(p);
  return p;
}

/** The one-hot matrix W[i, π(i)] = 1 (row-major C×C), as FrEIA ≤ 2023-03 stores w_perm. */
export function permutationMatrix(perm: Int32Array): Float32Array {
  const C = perm.length;
  const w = new Float32Array(C * C);
  for (let i = 0; i < C; i++) w[i * C + perm[i]] = 1;
  return w;
}

/**
 * A Haar-random rotation (row-major C×C, float64): Q of the QR factorisation of a
 * standard Gaussian matrix, with the signs fixed so that R has a positive diagonal (which
 * makes Q Haar on O(C) — Mezzadri 2007), then one column negated when det Q = −1 (Haar on
 * the other coset maps onto SO(C) uniformly). Householder QR in float64.
 */
export function randomRotation(C: number, g: Generator): Float64Array {
  // Column-major working copy: column k is a[k·C .. k·C + C), so the reflections stream.
  const a = new Float64Array(C * C);
  for (let i = 0; i < a.length; i++) a[i] = g.normal();
  const v = new Float64Array(C); // the current Householder vector
  const betas = new Float64Array(C);
  const vs: Float64Array[] = [];
  let negatives = 0; // sign flips applied, for det Q
  const rdiagSign = new Float64Array(C);
  for (let k = 0; k < C; k++) {
    const col = k * C;
    let norm2 = 0;
    for (let i = k; i < C; i++) norm2 += a[col + i] * a[col + i];
    const norm = Math.sqrt(norm2);
    const x0 = a[col + k];
    if (k === C - 1 || norm === 0) {
      // Nothing to reflect: H = I; R[k, k] = x0.
      vs.push(new Float64Array(0));
      betas[k] = 0;
      rdiagSign[k] = x0 < 0 ? -1 : 1;
      continue;
    }
    // H x = −sign(x0)·‖x‖·e0 with v = x + sign(x0)‖x‖e0 (no cancellation).
    const s = x0 < 0 ? -1 : 1;
    const alpha = -s * norm;
    for (let i = k; i < C; i++) v[i] = a[col + i];
    v[k] = x0 - alpha;
    let vv = 0;
    for (let i = k; i < C; i++) vv += v[i] * v[i];
    const beta = 2 / vv;
    // Apply H = I − β v vᵀ to the remaining columns.
    for (let j = k + 1; j < C; j++) {
      const cj = j * C;
      let dot = 0;
      for (let i = k; i < C; i++) dot += v[i] * a[cj + i];
      const f = beta * dot;
      for (let i = k; i < C; i++) a[cj + i] -= f * v[i];
    }
    vs.push(v.slice(k));
    betas[k] = beta;
    rdiagSign[k] = alpha < 0 ? -1 : 1;
    negatives++; // every reflection has det −1
  }
  // Q = H_0 H_1 … H_{C−2}: apply the reflections to the identity from the last one back.
  const q = new Float64Array(C * C); // column-major
  for (let i = 0; i < C; i++) q[i * C + i] = 1;
  for (let k = C - 1; k >= 0; k--) {
    const beta = betas[k];
    if (beta === 0) continue;
    const hv = vs[k]; // entries k..C−1
    for (let j = k; j < C; j++) {
      const cj = j * C;
      let dot = 0;
      for (let i = k; i < C; i++) dot += hv[i - k] * q[cj + i];
      const f = beta * dot;
      for (let i = k; i < C; i++) q[cj + i] -= f * hv[i - k];
    }
  }
  // Q·diag(sign R_kk): column k times the sign; det Q = (−1)^reflections · Π signs.
  let det = negatives % 2 === 0 ? 1 : -1;
  for (let k = 0; k < C; k++) {
    if (rdiagSign[k] < 0) {
      det = -det;
      const cj = k * C;
      for (let i = 0; i < C; i++) q[cj + i] = -q[cj + i];
    }
  }
  if (det < 0) for (let i = 0; i < C; i++) q[i] = -q[i]; // negate column 0
  // Row-major out: out[i·C + j] = Q[i, j] = q[j·C + i].
  const out = new Float64Array(C * C);
  for (let j = 0; j < C; j++) for (let i = 0; i < C; i++) out[i * C + j] = q[j * C + i];
  return out;
}
