// OpenSimplex noise: the `opensimplex` package's published values (its own test file:
// noise2(0.5, 0.5) for three seeds), and, bit for bit, values of noise2 / noise3 and of RD++'s
// fractal sums from scripts/make-rdpp-fixtures.py. The package cannot be installed where the
// fixtures are made, so they come from scripts/opensimplex_port.py, a pure-Python port that
// reproduces the published values before writing anything. Also: grid layouts, the crop
// property the fixed-field quirk relies on, the seed's 64-bit arithmetic, bad arguments.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fractalNoise2, fractalNoise3, OpenSimplex, RDPP_FRACTAL, simplexPermutation } from '../../src/anomalies/simplex-noise.js';
import { simplexField3d } from '../../src/engine/index.js';
import { kernelBackend, setBackend, currentBackend } from '../../src/backend/registry.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/rdpp/noise.json', import.meta.url), 'utf8'));

test('published values of the opensimplex package: noise2(0.5, 0.5) for seeds −1e9, 0, 1e9', () => {
  const published: [number, number][] = [
    [-1000000000, -0.07384566459931621],
    [0, -0.7752903093693847],
    [1000000000, 0.014494483991342916],
  ];
  for (const [seed, v] of published) assert.is(new OpenSimplex(seed).noise2(0.5, 0.5), v, `seed ${seed}`);
  assert.equal(fx.published.map((r: [string, number]) => r[1]), published.map((r) => r[1]));
});

test('noise2 and noise3 equal the fixture bit for bit (5 seeds incl. ±2⁶² scale, 64 points with negative coordinates)', () => {
  for (const s of fx.seeds) {
    const g = new OpenSimplex(BigInt(s.seed));
    fx.points.forEach((p: number[], i: number) => {
      assert.is(g.noise2(p[0], p[1]), s.noise2[i], `seed ${s.seed} noise2 #${i}`);
      assert.is(g.noise3(p[0], p[1], p[2]), s.noise3[i], `seed ${s.seed} noise3 #${i}`);
    });
  }
  // A safe-integer seed given as a number is the same seed.
  assert.is(new OpenSimplex(111).noise3(1.5, -2.25, 0.5), new OpenSimplex(111n).noise3(1.5, -2.25, 0.5));
});

test("RD++'s fractal noise: 6 octaves, persistence 0.6, period 32 on [3, 31, 31] and the 2-D form on [20, 24], bit for bit", () => {
  assert.equal({ ...RDPP_FRACTAL }, { octaves: 6, persistence: 0.6, period: 32 });
  const f3 = fractalNoise3(new OpenSimplex(BigInt(fx.fractal3.seed)), [3, 31, 31]);
  assert.is(f3.length, fx.fractal3.values.length);
  for (let i = 0; i < f3.length; i++) if (f3[i] !== fx.fractal3.values[i]) assert.unreachable(`fractal3[${i}] ${f3[i]} vs ${fx.fractal3.values[i]}`);
  const f2 = fractalNoise2(new OpenSimplex(7), [20, 24]);
  for (let i = 0; i < f2.length; i++) if (f2[i] !== fx.fractal2.values[i]) assert.unreachable(`fractal2[${i}] ${f2[i]} vs ${fx.fractal2.values[i]}`);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of f3) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  assert.ok(lo < -0.3 && hi > 0.3 && lo > -2.5 && hi < 2.5, `range [${lo}, ${hi}]`);
});

test('grids: noise3Grid is [z, y, x] row-major, noise2Grid [y, x]; a smaller grid is the top-left crop of a larger one', () => {
  const g = new OpenSimplex(42);
  const xs = [0.1, 1.7, -3.2];
  const ys = [2.5, -0.4];
  const zs = [0, 0.75];
  const n3 = g.noise3Grid(xs, ys, zs);
  assert.is(n3[(1 * 2 + 0) * 3 + 2], g.noise3(xs[2], ys[0], zs[1]));
  const n2 = g.noise2Grid(xs, ys);
  assert.is(n2[1 * 3 + 1], g.noise2(xs[1], ys[1]));
  const big = fractalNoise3(g, [3, 12, 9]);
  const small = fractalNoise3(g, [2, 5, 4]);
  for (let z = 0; z < 2; z++) for (let y = 0; y < 5; y++) for (let x = 0; x < 4; x++) assert.is(small[(z * 5 + y) * 4 + x], big[(z * 12 + y) * 9 + x]);
});

test('seeding: a permutation of 0..255 per seed, 64-bit wrap-around, different seeds give different fields', () => {
  for (const s of [0, 1, -1, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 70n + 3n]) {
    const { perm, gradIndex3 } = simplexPermutation(s);
    assert.equal([...perm].sort((a, b) => a - b), Array.from({ length: 256 }, (_, i) => i));
    for (let i = 0; i < 256; i++) assert.is(gradIndex3[i], (perm[i] % 24) * 3);
  }
  // Seeds equal modulo 2⁶⁴ give the same permutation (the LCG works on 64-bit integers).
  assert.equal(simplexPermutation(5n).perm, simplexPermutation(5n + 2n ** 64n).perm);
  assert.not.equal(new OpenSimplex(1).noise3(0.3, 0.6, 0.9), new OpenSimplex(2).noise3(0.3, 0.6, 0.9));
});

test('bad arguments: seeds that are not integers, shapes and fractal options, each named', () => {
  assert.throws(() => new OpenSimplex(1.5), /seed must be a safe integer or a bigint/);
  assert.throws(() => new OpenSimplex(2 ** 60), /seed must be a safe integer or a bigint/);
  const g = new OpenSimplex(0);
  assert.throws(() => fractalNoise3(g, [3, -1, 4]), /shape must be 3 non-negative integers/);
  assert.throws(() => fractalNoise2(g, [3, 4, 5] as unknown as [number, number]), /shape must be 2 non-negative integers/);
  assert.throws(() => fractalNoise3(g, [1, 2, 2], { octaves: 0, persistence: 0.5, period: 8 }), /octaves must be an integer ≥ 1/);
  assert.throws(() => fractalNoise3(g, [1, 2, 2], { octaves: 2, persistence: 1.5, period: 8 }), /persistence must be in \(0, 1\]/);
  assert.throws(() => fractalNoise3(g, [1, 2, 2], { octaves: 2, persistence: 0.5, period: 0 }), /period must be a positive number/);
});

test('the spec vectors (diffusion spec §2.4, lmas/opensimplex v0.4): _init(12345) tables and N3, the first 3-D sample of _init(0)', () => {
  const { perm, gradIndex3 } = simplexPermutation(12345);
  assert.equal([...perm.slice(0, 8)], [33, 182, 149, 37, 26, 75, 1, 19]);
  assert.equal([...gradIndex3.slice(0, 8)], [27, 42, 15, 39, 6, 9, 3, 57]);
  const g = new OpenSimplex(12345);
  assert.is(g.noise3(0.5, 0.25, 3.9), 0.15020718937478536);
  assert.is(g.noise3(1.7, -2.3, 0.3), -0.4209884807961166);
  assert.is(g.noise3(10.1, 4.2, 7.7), 0.08369913996979392);
  assert.is(new OpenSimplex(0).noise3(-229.83465230445677, -683.013450165731, 224.4622045892053), 0.08959722891335488);
  // The same values through the engine's field kernel (one value, one octave of period 1 at the origin (x, y)).
  const one = (seed: number, x: number, y: number, z: number) => simplexField3d({ seed, height: 1, width: 1, t: z, octaves: 1, persistence: 1, frequency: 1, x0: x, y0: y })[0];
  assert.is(one(12345, 1.7, -2.3, 0.3), -0.4209884807961166);
  assert.is(one(0, -229.83465230445677, -683.013450165731, 224.4622045892053), 0.08959722891335488);
});

test("simplexField3d: AnoDDPM's rand_3d_fixed_T_octaves — defaults (6, 0.8, 64), value(i, j) = Σ pᵏ N3(j/f_k, i/f_k, t/f_k), the same bits on ts", () => {
  const f = simplexField3d({ seed: 7, height: 20, width: 24, t: 3 });
  const g = new OpenSimplex(7);
  for (const [i, j] of [[0, 0], [5, 17], [19, 23], [11, 2]]) {
    let v = 0;
    let a = 1;
    let fk = 64;
    for (let k = 0; k < 6; k++) {
      v += a * g.noise3(j / fk, i / fk, 3 / fk);
      a *= 0.8;
      fk /= 2;
    }
    assert.is(f[i * 24 + j], v, `(${i}, ${j})`);
  }
  // Explicit defaults and a bigint seed are the same field; RD++'s form is the fractal sum.
  assert.equal(simplexField3d({ seed: 7n, height: 20, width: 24, t: [3], octaves: 6, persistence: 0.8, frequency: 64 }), f);
  assert.equal(simplexField3d({ seed: 11, height: 5, width: 6, t: [0, 1, 2], octaves: 6, persistence: 0.6, frequency: 32 }), fractalNoise3(new OpenSimplex(11), [3, 5, 6]));
  // The ts backend gives the same bits as whichever backend ran above.
  const was = currentBackend();
  const used = kernelBackend('simplexField3');
  setBackend('ts');
  try {
    assert.equal(simplexField3d({ seed: 7, height: 20, width: 24, t: 3 }), f, `ts vs ${used}`);
  } finally {
    setBackend(was);
  }
  // Field statistics of the spec (std ≈ 0.47–0.49 at 64², no normalisation).
  const big = simplexField3d({ seed: 3, height: 64, width: 64 });
  let m = 0;
  for (const v of big) m += v;
  m /= big.length;
  let s2 = 0;
  for (const v of big) s2 += (v - m) ** 2;
  const sd = Math.sqrt(s2 / big.length);
  assert.ok(sd > 0.3 && sd < 0.7, `std ${sd}`);
});

test('simplexField3d: bad arguments, each named', () => {
  const ok = { seed: 1, height: 2, width: 2 };
  assert.throws(() => simplexField3d({ ...ok, seed: 1.5 }), /seed must be a safe integer or a bigint/);
  assert.throws(() => simplexField3d({ ...ok, height: -1 }), /simplexField3d: height must be an integer/);
  assert.throws(() => simplexField3d({ ...ok, width: 2.5 }), /simplexField3d: width must be an integer/);
  assert.throws(() => simplexField3d({ ...ok, octaves: 0 }), /simplexField3d: octaves must be an integer in \[1, 64\]/);
  assert.throws(() => simplexField3d({ ...ok, octaves: 65 }), /simplexField3d: octaves/);
  assert.throws(() => simplexField3d({ ...ok, persistence: NaN }), /simplexField3d: persistence must be a finite number/);
  assert.throws(() => simplexField3d({ ...ok, frequency: 0 }), /simplexField3d: frequency \(a wavelength in pixels\) must be a finite number > 0/);
  assert.throws(() => simplexField3d({ ...ok, t: [0, NaN] }), /simplexField3d: t must hold finite numbers/);
  assert.throws(() => simplexField3d({ ...ok, x0: Infinity }), /simplexField3d: x0 and y0 must be finite/);
  assert.is(simplexField3d({ ...ok, t: [] }).length, 0);
});

test.run();
