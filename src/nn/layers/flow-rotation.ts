// Fixed random channel mixings for the coupling block: a uniform random permutation and
// a Haar-distributed rotation from SO(C) (the distribution of SciPy's
// special_ortho_group, which FrEIA draws its soft permutation from). Only the
// distribution matters: FrEIA, anomalib and this library draw different matrices for the
// same seed.
import { haarRotation, type Generator } from '../../engine/index.js';

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
 * the other coset maps onto SO(C) uniformly). Householder QR in float64 (the
 * couplingRotation kernel: the same bits on every backend).
 */
export function randomRotation(C: number, g: Generator): Float64Array {
  return haarRotation(C, g);
}
