// ledoitWolf against scikit-learn's LedoitWolf (fixtures from scripts/make-sklearn-fixtures.py):
// location, covariance, shrinkage and precision (pinvh) to 1e-6 relative to each result's
// magnitude, and the Mahalanobis distances of held-out points; plus the eigen solver and
// pseudo-inverse on their own.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ledoitWolf, mahalanobis, pinvSymmetric, symmetricEigen } from '../../src/stats/index.js';

interface Case {
  name: string;
  n: number;
  p: number;
  x: number[];
  location: number[];
  covariance: number[];
  shrinkage: number;
  precision: number[];
  queries: number[];
  mahalanobis: number[];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/sklearn/ledoit-wolf.json', import.meta.url), 'utf8')) as { cases: Case[] };

/** max|a − e| ≤ tol · max(max|e|, floor). */
function near(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string, floor = 1e-12): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  let scale = floor;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * scale)) assert.unreachable(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (scale ${scale})`);
  }
}

test('the fixture covers n > p, n < p, one feature, one sample and normalised embeddings', () => {
  assert.equal(fixture.cases.map((c) => c.name), ['n > p, correlated features', 'n < p', 'one feature', 'one sample', 'L2-normalised embeddings']);
  assert.ok(fixture.cases.some((c) => c.shrinkage > 0.3) && fixture.cases.some((c) => c.shrinkage > 0 && c.shrinkage < 0.3));
});

for (const c of fixture.cases) {
  test(`ledoitWolf = scikit-learn LedoitWolf: ${c.name} (n = ${c.n}, p = ${c.p})`, () => {
    for (const input of [Float64Array.from(c.x), Float32Array.from(c.x)]) {
      const r = ledoitWolf(input, c.n, c.p);
      // Float32 input: the samples themselves are rounded, so the comparison loosens.
      const tol = input instanceof Float64Array ? 1e-6 : 1e-4;
      near(r.location, c.location, tol, 'location');
      near(r.covariance, c.covariance, tol, 'covariance');
      assert.ok(Math.abs(r.shrinkage - c.shrinkage) <= tol, `shrinkage ${r.shrinkage} vs ${c.shrinkage}`);
      near(r.precision, c.precision, input instanceof Float64Array ? 1e-6 : 1e-2, 'precision');
    }
    const r = ledoitWolf(Float64Array.from(c.x), c.n, c.p);
    const m = c.queries.length / c.p;
    // The squared distances in float64 from our precision match scikit-learn's exactly-ish...
    const q64 = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let a = 0; a < c.p; a++)
        for (let b = 0; b < c.p; b++)
          s += (c.queries[i * c.p + a] - r.location[a]) * r.precision[a * c.p + b] * (c.queries[i * c.p + b] - r.location[b]);
      q64[i] = s;
    }
    near(q64, c.mahalanobis, 1e-6, 'squared Mahalanobis (float64)');
    // ...and the batched float32 kernel path (the reference's float32 einsum) within float32 rounding.
    const q32 = mahalanobis(Float64Array.from(c.queries), m, r.location, r.precision, { squared: true });
    near(q32, c.mahalanobis, 1e-5, 'squared Mahalanobis (float32 kernel)');
    const d = mahalanobis(Float64Array.from(c.queries), m, r.location, r.precision);
    near(d, Array.from(q32, (v) => Math.sqrt(Math.max(0, v))), 1e-7, 'distance = √max(0, q)');
  });
}

test('symmetricEigen: A·v = λ·v, ascending eigenvalues, orthonormal vectors; pinvSymmetric of a singular matrix', () => {
  const n = 7;
  const a = new Float64Array(n * n);
  let s = 1;
  const rnd = () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 1;
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rnd();
  const { values, vectors } = symmetricEigen(a, n);
  for (let k = 1; k < n; k++) assert.ok(values[k] >= values[k - 1]);
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      let av = 0;
      for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[j * n + k];
      assert.ok(Math.abs(av - values[k] * vectors[i * n + k]) < 1e-12, `A·v = λ·v (${k}, ${i})`);
    }
    for (let l = 0; l < n; l++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += vectors[i * n + k] * vectors[i * n + l];
      assert.ok(Math.abs(dot - (k === l ? 1 : 0)) < 1e-12, `orthonormal (${k}, ${l})`);
    }
  }
  // u·uᵀ (rank one): pseudo-inverse u·uᵀ/‖u‖⁴.
  const u = [1, 2, -2];
  const r1 = Float64Array.from({ length: 9 }, (_, e) => u[Math.floor(e / 3)] * u[e % 3]);
  near(pinvSymmetric(r1, 3), Array.from(r1, (v) => v / 81), 1e-12, 'pinv of u·uᵀ');
  near(pinvSymmetric(new Float64Array(4), 2), [0, 0, 0, 0], 0, 'pinv of 0');
});

test('ledoitWolf: bad arguments are refused with what to fix', () => {
  assert.throws(() => ledoitWolf(new Float64Array(6), 2, 4), /x must hold n·p = 2·4 = 8 values, got 6/);
  assert.throws(() => ledoitWolf(new Float64Array(0), 0, 4), /n \(samples\) must be an integer ≥ 1/);
  assert.throws(() => ledoitWolf(Float64Array.from([1, NaN, 2, 3]), 2, 2), /sample 0 has a non-finite value \(NaN\) at feature 1/);
  assert.throws(() => ledoitWolf([1, 2] as unknown as Float64Array, 1, 2), /Float64Array or Float32Array/);
});

test.run();
