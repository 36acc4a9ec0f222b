// simplexField3: the native kernel against its ts twin — the same float64 operations in the
// same order, so the same float64 bits (compared as float64, before any rounding to float32) —
// on 1 and 2 threads; the spec's OpenSimplex test vectors (lmas/opensimplex v0.4, _init(12345)
// and _init(0)) through one-value fields; empty fields; refused arguments, each named.
import * as assert from 'uvu/assert';
import type { SimplexFieldParams } from '../../src/backend/types.js';
import { simplexPermutation } from '../../src/engine/ops/simplex.js';
import { native, nativeSuite, ref, withThreads } from './helpers.js';

const { it, run } = nativeSuite('native simplex');

function field(k: typeof ref, p: SimplexFieldParams, tables: Int32Array, z: number[]): Float64Array {
  const out = new Float64Array(p.depth * p.height * p.width).fill(NaN);
  k.simplexField3(p, tables, Float64Array.from(z), out);
  return out;
}

function same(a: Float64Array, b: Float64Array, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.unreachable(`${what}: [${i}] ${a[i]} vs ${b[i]}`);
}

const POINT = { depth: 1, height: 1, width: 1, octaves: 1, persistence: 1, period: 1 };

it('the spec vectors: N3 of _init(12345) at three points and the first 3-D sample of v0.4 with _init(0), exactly', () => {
  const cases: Array<[number, number, number, number, number]> = [
    [12345, 0.5, 0.25, 3.9, 0.15020718937478536],
    [12345, 1.7, -2.3, 0.3, -0.4209884807961166],
    [12345, 10.1, 4.2, 7.7, 0.08369913996979392],
    [0, -229.83465230445677, -683.013450165731, 224.4622045892053, 0.08959722891335488],
  ];
  for (const [seed, x, y, z, want] of cases) {
    // One value, one octave of period 1 at the origin (x, y): (x + 0)/1 = x exactly.
    const p = { ...POINT, x0: x, y0: y };
    const t = simplexPermutation(seed).tables;
    assert.is(field(native, p, t, [z])[0], want, `native seed ${seed} (${x}, ${y}, ${z})`);
    assert.is(field(ref, p, t, [z])[0], want, `ts seed ${seed} (${x}, ${y}, ${z})`);
  }
});

it('fields equal the ts twin bit for bit on 1 and 2 threads: AnoDDPM (6, 0.8, 64) and RD++ (6, 0.6, 32) forms, offsets, odd sizes', () => {
  const cases: Array<[SimplexFieldParams, number[], number | bigint]> = [
    [{ depth: 1, height: 64, width: 64, octaves: 6, persistence: 0.8, period: 64, x0: 0, y0: 0 }, [0], 12345],
    [{ depth: 1, height: 37, width: 53, octaves: 6, persistence: 0.8, period: 64, x0: 0, y0: 0 }, [250], -(2n ** 40n) + 7n],
    [{ depth: 3, height: 31, width: 29, octaves: 6, persistence: 0.6, period: 32, x0: 0, y0: 0 }, [0, 1, 2], 99],
    [{ depth: 2, height: 9, width: 300, octaves: 3, persistence: 0.5, period: 7.5, x0: -1000.25, y0: 17.5 }, [-3.5, 1e3], 0],
    [{ depth: 1, height: 1, width: 1, octaves: 64, persistence: 1, period: 1e6, x0: 0.5, y0: 0.5 }, [0.5], 1],
  ];
  for (const [p, z, seed] of cases) {
    const t = simplexPermutation(seed).tables;
    const want = field(ref, p, t, z);
    for (const threads of [1, 2]) {
      withThreads(threads, () => same(field(native, p, t, z), want, `[${p.depth}, ${p.height}, ${p.width}] ${p.octaves} octaves on ${threads} thread(s)`));
    }
  }
  // Values are sums of in-range noise: finite and inside ±Σ pᵏ.
  const f = field(native, cases[0][0], simplexPermutation(12345).tables, [0]);
  assert.ok(f.every((v) => Number.isFinite(v) && Math.abs(v) < 3.7));
});

it('empty fields write nothing', () => {
  const t = simplexPermutation(0).tables;
  for (const [depth, height, width] of [[0, 4, 4], [1, 0, 4], [1, 4, 0]]) {
    const out = new Float64Array(1).fill(7);
    native.simplexField3({ depth, height, width, octaves: 2, persistence: 0.5, period: 8, x0: 0, y0: 0 }, t, new Float64Array(depth), out);
    assert.is(out[0], 7);
  }
});

it('bad arguments are refused with the kernel and the argument named', () => {
  const t = simplexPermutation(0).tables;
  const p: SimplexFieldParams = { depth: 1, height: 2, width: 3, octaves: 2, persistence: 0.5, period: 8, x0: 0, y0: 0 };
  const z = new Float64Array(1);
  const out = new Float64Array(6);
  const call = (q: Partial<SimplexFieldParams>, tt: unknown = t, zz: unknown = z, oo: unknown = out) =>
    (native.simplexField3 as (...a: unknown[]) => void)({ ...p, ...q }, tt, zz, oo);
  call({}); // the good call passes
  assert.throws(() => call({ octaves: 0 }), /simplexField3.*octaves/);
  assert.throws(() => call({ octaves: 65 }), /simplexField3.*octaves/);
  assert.throws(() => call({ octaves: 1.5 }), /simplexField3.*octaves/);
  assert.throws(() => call({ period: 0 }), /simplexField3.*period/);
  assert.throws(() => call({ period: Infinity }), /simplexField3.*period/);
  assert.throws(() => call({ persistence: NaN }), /simplexField3.*persistence/);
  assert.throws(() => call({ x0: Infinity }), /simplexField3.*x0/);
  assert.throws(() => call({ height: -1 }), /simplexField3.*height/);
  assert.throws(() => call({}, new Int32Array(511)), /simplexField3.*tables/);
  assert.throws(() => call({}, new Float32Array(512)), /simplexField3.*tables/);
  const badPerm = t.slice();
  badPerm[3] = 256;
  assert.throws(() => call({}, badPerm), /simplexField3.*perm/);
  const badGrad = t.slice();
  badGrad[256 + 5] = 70;
  assert.throws(() => call({}, badGrad), /simplexField3.*pgi3/);
  badGrad[256 + 5] = 4;
  assert.throws(() => call({}, badGrad), /simplexField3.*pgi3/);
  assert.throws(() => call({}, t, new Float64Array(0)), /simplexField3.*\bz\b/);
  assert.throws(() => call({}, t, Float64Array.of(NaN)), /simplexField3.*\bz\b/);
  assert.throws(() => call({}, t, z, new Float64Array(5)), /simplexField3.*out/);
  assert.throws(() => call({}, t, z, new Float32Array(6)), /simplexField3.*out/);
});

run();
