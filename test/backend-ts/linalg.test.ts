// The Gaussian statistics kernels of the ts backend against hand-computed values and
// independent formulas: moments of known vectors, inverses that multiply back to I,
// a non-positive-definite block flagged by column, Mahalanobis of a diagonal matrix.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { choleskyInverse, gaussianMoments, mahalanobis } from '../../src/backend/ts/linalg.js';
import { close, randArray, rng } from './helpers.js';

test('gaussianMoments: sums and outer products of two images, with and without a shift', () => {
  // B = 2, P = 2, d = 2; x[b, j, :].
  const x = new Float32Array([1, 2, /* b0 j1 */ 3, -1, /* b1 j0 */ 0.5, 4, /* b1 j1 */ -2, 2]);
  const sum = new Float64Array(4);
  const outer = new Float64Array(8);
  gaussianMoments({ B: 2, P: 2, d: 2 }, x, null, sum, outer);
  assert.equal(Array.from(sum), [1.5, 6, 1, 1]);
  // j0: [1,2]ᵀ[1,2] + [0.5,4]ᵀ[0.5,4] = [[1.25, 4], [4, 20]]; j1: [3,-1], [-2,2] → [[13, -7], [-7, 5]]
  assert.equal(Array.from(outer), [1.25, 4, 4, 20, 13, -7, -7, 5]);
  // Accumulates: a second call adds; a shift is subtracted first.
  const shift = new Float32Array([1, 2, 0, 0]);
  gaussianMoments({ B: 1, P: 2, d: 2 }, x.subarray(0, 4), shift, sum, outer);
  assert.equal(Array.from(sum), [1.5, 6, 4, 0]);
  assert.equal(Array.from(outer), [1.25, 4, 4, 20, 22, -10, -10, 6]);
});

test('choleskyInverse: a 2×2 block by hand, and random SPD blocks multiply back to I', () => {
  const a = new Float64Array([4, 2, 2, 3]); // inverse = [[3, -2], [-2, 4]] / 8
  const inv = new Float64Array(4);
  const info = new Int32Array(1);
  choleskyInverse({ P: 1, d: 2 }, a, inv, info);
  assert.is(info[0], 0);
  close(inv, [3 / 8, -2 / 8, -2 / 8, 4 / 8], 1e-15, 1e-15, '2×2 inverse');

  const r = rng(5);
  for (const d of [1, 3, 8, 17]) {
    const P = 3;
    const m = new Float64Array(P * d * d);
    for (let j = 0; j < P; j++) {
      // M = GᵀG + 0.1·I (SPD).
      const g = randArray(r, d * d);
      for (let i = 0; i < d; i++)
        for (let k = 0; k < d; k++) {
          let s = i === k ? 0.1 : 0;
          for (let t = 0; t < d; t++) s += g[t * d + i] * g[t * d + k];
          m[j * d * d + i * d + k] = s;
        }
    }
    const out = new Float64Array(m.length);
    const inf = new Int32Array(P);
    choleskyInverse({ P, d }, m, out, inf);
    assert.equal(Array.from(inf), new Array(P).fill(0));
    for (let j = 0; j < P; j++) {
      const o = j * d * d;
      const prod = new Float64Array(d * d);
      for (let i = 0; i < d; i++)
        for (let k = 0; k < d; k++) {
          let s = 0;
          for (let t = 0; t < d; t++) s += m[o + i * d + t] * out[o + t * d + k];
          prod[i * d + k] = s;
        }
      const eye = Array.from({ length: d * d }, (_, e) => (e % (d + 1) === 0 ? 1 : 0));
      close(prod, eye, 1e-9, 0, `M·M⁻¹ = I (d = ${d}, block ${j})`);
      for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) assert.is(out[o + i * d + k], out[o + k * d + i], 'symmetric');
    }
    // In place gives the same values.
    const copy = m.slice();
    choleskyInverse({ P, d }, copy, copy, inf);
    assert.equal(Array.from(copy), Array.from(out), `in place (d = ${d})`);
  }
});

test('choleskyInverse: a block that is not positive definite is flagged with its column and set to NaN', () => {
  // Block 0 SPD; block 1 has eigenvalues 3 and −1 (fails at column 1); block 2 NaN (column 0).
  const a = new Float64Array([2, 0, 0, 2, 1, 2, 2, 1, NaN, 0, 0, 1]);
  const inv = new Float64Array(12);
  const info = new Int32Array(3);
  choleskyInverse({ P: 3, d: 2 }, a, inv, info);
  assert.equal(Array.from(info), [0, 2, 1]);
  close(inv.subarray(0, 4), [0.5, 0, 0, 0.5], 1e-15, 0, 'SPD block');
  assert.ok(Array.from(inv.subarray(4)).every(Number.isNaN), 'failed blocks are NaN');
  // Zero pivot: singular.
  const z = new Float64Array([1, 1, 1, 1]);
  choleskyInverse({ P: 1, d: 2 }, z, new Float64Array(4), info);
  assert.is(info[0], 2);
});

test('mahalanobis: diagonal inverse covariance gives Σ δ²/σ²; a full matrix matches δᵀAδ', () => {
  // P = 2, d = 2, B = 2.
  const x = new Float32Array([1, 2, 0, 0, /* b1 */ -1, 1, 3, 4]);
  const mean = new Float32Array([0, 1, 1, 1]);
  const inv = new Float32Array([2, 0, 0, 0.5, /* j1 */ 1, 0.5, 0.5, 2]);
  const out = new Float32Array(4).fill(NaN);
  mahalanobis({ B: 2, P: 2, d: 2 }, x, mean, inv, out);
  // b0 j0: δ = (1, 1) → 2 + 0.5 = 2.5; b0 j1: δ = (−1, −1) → 1 + 1 + 2 = 4
  // b1 j0: δ = (−1, 0) → 2; b1 j1: δ = (2, 3) → 4 + 2·0.5·6 + 18 = 28
  assert.equal(Array.from(out), [2.5, 4, 2, 28]);
});

test.run();
