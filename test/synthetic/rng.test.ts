// The seeded generator behind every synthetic image: reproducible, key-sensitive,
// well spread, and strict about its keys.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Rng, hashKeys, nameKey } from '../../src/data/synthetic/rng.js';
import { addValueNoise, fillNormalPairs, inverseNormalCdf } from '../../src/data/synthetic/noise.js';

const draws = (r: Rng, n: number) => Array.from({ length: n }, () => r.uint32());

test('same keys give the same stream; any key change gives another', () => {
  assert.equal(draws(new Rng(1, 2, 3), 20), draws(new Rng(1, 2, 3), 20));
  const base = draws(new Rng(1, 2, 3), 20);
  for (const keys of [[1, 2, 4], [2, 2, 3], [1, 3, 3], [1, 2], [1, 2, 3, 0]]) {
    assert.not.equal(draws(new Rng(...keys), 20), base, `keys ${keys}`);
  }
  // Keys above 32 bits count too.
  assert.not.equal(draws(new Rng(2 ** 40), 5), draws(new Rng(0), 5));
  assert.is.not(hashKeys([7, 8]), hashKeys([8, 7]));
});

test('fork: fixed by the parent state and the key, independent of later parent draws', () => {
  const a = new Rng(5).fork('lesion');
  const parent = new Rng(5);
  const b = parent.fork('lesion');
  parent.uint32();
  assert.equal(draws(a, 10), draws(b, 10));
  assert.not.equal(draws(new Rng(5).fork('lesion'), 10), draws(new Rng(5).fork('noise'), 10));
  assert.is(nameKey('lesion'), nameKey('lesion'));
});

test('uniform draws cover [0, 1) evenly; normals have unit variance', () => {
  const r = new Rng(42);
  const bins = new Array(10).fill(0);
  let sum = 0;
  let sq = 0;
  const N = 20000;
  for (let i = 0; i < N; i++) {
    const u = r.float();
    assert.ok(u >= 0 && u < 1);
    bins[Math.floor(u * 10)]++;
    const z = r.normal();
    sum += z;
    sq += z * z;
  }
  // Chi-square with 9 degrees of freedom: 27.9 is its 0.999 quantile.
  const chi2 = bins.reduce((acc, b) => acc + (b - N / 10) ** 2 / (N / 10), 0);
  assert.ok(chi2 < 27.9, `chi-square ${chi2} over bins ${bins}`);
  assert.ok(Math.abs(sum / N) < 0.03, `mean ${sum / N}`);
  assert.ok(Math.abs(sq / N - 1) < 0.05, `variance ${sq / N}`);
  const ints = new Set(Array.from({ length: 500 }, () => r.int(7)));
  assert.equal([...ints].sort(), [0, 1, 2, 3, 4, 5, 6]);
});

test('table normals (pixel noise): zero mean, unit variance, independent halves', () => {
  const a = new Float32Array(20000);
  const b = new Float32Array(20000);
  fillNormalPairs(new Rng(3), a, b);
  let ma = 0, va = 0, cab = 0;
  for (let i = 0; i < a.length; i++) {
    ma += a[i]!;
    va += a[i]! * a[i]!;
    cab += a[i]! * b[i]!;
  }
  assert.ok(Math.abs(ma / a.length) < 0.03);
  assert.ok(Math.abs(va / a.length - 1) < 0.05, `variance ${va / a.length}`);
  assert.ok(Math.abs(cab / a.length) < 0.03, `correlation ${cab / a.length}`);
  assert.ok(Math.abs(inverseNormalCdf(0.975) - 1.959964) < 1e-6);
  assert.ok(Math.abs(inverseNormalCdf(0.001) + 3.090232) < 1e-6);
});

test('value noise: smooth (neighbours correlate), zero-mean, deterministic', () => {
  const S = 64;
  const f = addValueNoise(new Float32Array(S * S), S, new Rng(9), 4);
  const g = addValueNoise(new Float32Array(S * S), S, new Rng(9), 4);
  assert.equal(Array.from(f), Array.from(g));
  let diff = 0, v = 0, m = 0;
  for (let i = 0; i < S; i++) for (let j = 0; j < S - 1; j++) diff += (f[i * S + j + 1]! - f[i * S + j]!) ** 2;
  for (const x of f) m += x / f.length;
  for (const x of f) v += (x - m) ** 2 / f.length;
  assert.ok(v > 0.05, `the field varies (variance ${v})`);
  assert.ok(diff / (S * (S - 1)) < 0.05 * v, 'neighbouring pixels differ far less than the field varies');
  // One field's mean wanders (few lattice cells); over 40 fields it is near 0 (sd ≈ 0.13 / √40 = 0.02).
  let mean = 0;
  for (let k = 0; k < 40; k++) {
    const h = addValueNoise(new Float32Array(S * S), S, new Rng(100 + k), 4);
    for (const x of h) mean += x / (h.length * 40);
  }
  assert.ok(Math.abs(mean) < 0.08, `mean ${mean}`);
});

test('bad keys throw a RangeError naming the problem', () => {
  assert.throws(() => new Rng(-1), /non-negative safe integer/);
  assert.throws(() => new Rng(1.5), /non-negative safe integer/);
  assert.throws(() => new Rng(Number.NaN), /non-negative safe integer/);
});

test.run();
