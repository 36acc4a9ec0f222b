import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { batchNormApply, batchNormBackward, batchNormStats, groupNormBackward, groupNormForward } from '../../src/backend/ts/norm.js';
import { close, randArray, rng } from './helpers.js';

const EPS = 1e-5;

/** Float64 batch norm over [N, C, HW] with batch statistics (training) or given ones (eval). */
function bn64(N: number, C: number, HW: number, x: Float64Array, gamma: ArrayLike<number>, beta: ArrayLike<number>, fixed?: { mean: number[]; invstd: number[] }): Float64Array {
  const y = new Float64Array(x.length);
  for (let c = 0; c < C; c++) {
    const vals: number[] = [];
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) vals.push(x[(n * C + c) * HW + i]);
    const mu = fixed ? fixed.mean[c] : vals.reduce((s, v) => s + v, 0) / vals.length;
    const is = fixed ? fixed.invstd[c] : 1 / Math.sqrt(vals.reduce((s, v) => s + (v - mu) ** 2, 0) / vals.length + EPS);
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) {
      const k = (n * C + c) * HW + i;
      y[k] = (x[k] - mu) * is * gamma[c] + beta[c];
    }
  }
  return y;
}

/** Float64 group norm over [N, C, HW] with G groups. */
function gn64(N: number, C: number, HW: number, G: number, x: Float64Array, gamma: ArrayLike<number>, beta: ArrayLike<number>): Float64Array {
  const y = new Float64Array(x.length);
  const Cg = C / G;
  for (let n = 0; n < N; n++)
    for (let g = 0; g < G; g++) {
      const idx: number[] = [];
      for (let c = g * Cg; c < (g + 1) * Cg; c++) for (let i = 0; i < HW; i++) idx.push((n * C + c) * HW + i);
      const mu = idx.reduce((s, k) => s + x[k], 0) / idx.length;
      const is = 1 / Math.sqrt(idx.reduce((s, k) => s + (x[k] - mu) ** 2, 0) / idx.length + EPS);
      for (const k of idx) {
        const c = Math.floor(k / HW) % C;
        y[k] = (x[k] - mu) * is * gamma[c] + beta[c];
      }
    }
  return y;
}

/** Central-difference gradient of L(v) = <f(v), dy> w.r.t. every entry of v (float64). */
function numericGrad(v: Float64Array, dy: ArrayLike<number>, f: (v: Float64Array) => Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(v.length);
  const L = () => {
    const y = f(v);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * dy[i];
    return s;
  };
  for (let i = 0; i < v.length; i++) {
    const old = v[i];
    v[i] = old + h;
    const up = L();
    v[i] = old - h;
    const down = L();
    v[i] = old;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

const [N, C, HW] = [3, 4, 5];

test('batchNormStats: mean and biased variance, accurate for a large mean', () => {
  const r = rng(1);
  const x = randArray(r, N * C * HW);
  // Channel 3 sits on a large offset: E[x²] − E[x]² would lose every digit here.
  for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) x[(n * C + 3) * HW + i] = 4096 + x[(n * C + 3) * HW + i] / 64;
  const mean = new Float32Array(C);
  const variance = new Float32Array(C);
  batchNormStats({ N, C, HW }, x, mean, variance);
  for (let c = 0; c < C; c++) {
    const vals: number[] = [];
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) vals.push(x[(n * C + c) * HW + i]);
    const mu = vals.reduce((s, v) => s + v, 0) / vals.length;
    const v = vals.reduce((s, t) => s + (t - mu) ** 2, 0) / vals.length;
    assert.ok(Math.abs(mean[c] - mu) <= 1e-6 * Math.max(1, Math.abs(mu)), `mean[${c}]`);
    assert.ok(Math.abs(variance[c] - v) <= 1e-5 * v, `variance[${c}] ${variance[c]} vs ${v}`);
  }
});

test('batchNormApply matches the formula, with and without affine parameters', () => {
  const r = rng(2);
  const x = randArray(r, N * C * HW);
  const mean = randArray(r, C);
  const invstd = randArray(r, C, 0.5, 2);
  const gamma = randArray(r, C);
  const beta = randArray(r, C);
  const y = new Float32Array(x.length);
  batchNormApply({ N, C, HW }, x, mean, invstd, gamma, beta, y);
  const fixed = { mean: Array.from(mean), invstd: Array.from(invstd) };
  close(y, bn64(N, C, HW, Float64Array.from(x), gamma, beta, fixed), 1e-6, 1e-6, 'y');
  batchNormApply({ N, C, HW }, x, mean, invstd, null, null, y);
  close(y, bn64(N, C, HW, Float64Array.from(x), new Array(C).fill(1), new Array(C).fill(0), fixed), 1e-6, 1e-6, 'y (no affine)');
});

for (const training of [true, false])
  test(`batchNormBackward (${training ? 'training' : 'eval'}) matches finite differences`, () => {
    const r = rng(training ? 3 : 4);
    const x = randArray(r, N * C * HW, -2, 2);
    const gamma = randArray(r, C, 0.5, 1.5);
    const beta = randArray(r, C);
    const dy = randArray(r, x.length);
    const mean = new Float32Array(C);
    const variance = new Float32Array(C);
    batchNormStats({ N, C, HW }, x, mean, variance);
    const invstd = Float32Array.from(variance, (v) => 1 / Math.sqrt(v + EPS));
    const dx = new Float32Array(x.length);
    const dgamma = new Float32Array(C);
    const dbeta = new Float32Array(C);
    batchNormBackward({ N, C, HW, training }, x, dy, mean, invstd, gamma, dx, dgamma, dbeta);

    // Eval mode uses the statistics as constants (the float32 values the kernel saw).
    const fixed = training ? undefined : { mean: Array.from(mean), invstd: Array.from(invstd) };
    const x64 = Float64Array.from(x);
    const g64 = Float64Array.from(gamma);
    const b64 = Float64Array.from(beta);
    close(dx, numericGrad(x64, dy, (v) => bn64(N, C, HW, v, g64, b64, fixed)), 1e-4, 1e-3, 'dx');
    close(dgamma, numericGrad(g64, dy, (v) => bn64(N, C, HW, x64, v, b64, fixed)), 1e-4, 1e-3, 'dgamma');
    close(dbeta, numericGrad(b64, dy, (v) => bn64(N, C, HW, x64, g64, v, fixed)), 1e-4, 1e-3, 'dbeta');

    // affine = false: gamma treated as 1, no parameter gradients requested.
    batchNormBackward({ N, C, HW, training }, x, dy, mean, invstd, null, dx, null, null);
    const ones = new Float64Array(C).fill(1);
    close(dx, numericGrad(x64, dy, (v) => bn64(N, C, HW, v, ones, new Float64Array(C), fixed)), 1e-4, 1e-3, 'dx (no affine)');
  });

for (const G of [1, 2, 4])
  test(`groupNorm forward and backward with G = ${G} match float64 and finite differences`, () => {
    const r = rng(10 + G);
    const x = randArray(r, N * C * HW, -2, 2);
    const gamma = randArray(r, C, 0.5, 1.5);
    const beta = randArray(r, C);
    const p = { N, C, HW, G, eps: EPS };
    const y = new Float32Array(x.length);
    const mean = new Float32Array(N * G);
    const invstd = new Float32Array(N * G);
    groupNormForward(p, x, gamma, beta, y, mean, invstd);
    const x64 = Float64Array.from(x);
    const g64 = Float64Array.from(gamma);
    const b64 = Float64Array.from(beta);
    close(y, gn64(N, C, HW, G, x64, g64, b64), 1e-5, 1e-5, 'y');

    const dy = randArray(r, x.length);
    const dx = new Float32Array(x.length);
    const dgamma = new Float32Array(C);
    const dbeta = new Float32Array(C);
    groupNormBackward(p, x, dy, mean, invstd, gamma, dx, dgamma, dbeta);
    close(dx, numericGrad(x64, dy, (v) => gn64(N, C, HW, G, v, g64, b64)), 1e-4, 1e-3, 'dx');
    close(dgamma, numericGrad(g64, dy, (v) => gn64(N, C, HW, G, x64, v, b64)), 1e-4, 1e-3, 'dgamma');
    close(dbeta, numericGrad(b64, dy, (v) => gn64(N, C, HW, G, x64, g64, v)), 1e-4, 1e-3, 'dbeta');

    groupNormForward(p, x, null, null, y, mean, invstd);
    const ones = new Float64Array(C).fill(1);
    const zeros = new Float64Array(C);
    close(y, gn64(N, C, HW, G, x64, ones, zeros), 1e-5, 1e-5, 'y (no affine)');
    groupNormBackward(p, x, dy, mean, invstd, null, dx, null, null);
    close(dx, numericGrad(x64, dy, (v) => gn64(N, C, HW, G, v, ones, zeros)), 1e-4, 1e-3, 'dx (no affine)');
  });

test.run();
