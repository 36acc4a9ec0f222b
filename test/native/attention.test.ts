// attentionForward / attentionBackward: the native kernels against their ts twin (the same
// steps; the products sum in float32 natively and in float64 in ts, so they agree within
// float32 rounding), odd sizes, batch 1, lq ≠ lk, a wanted-only-one gradient, the same bits
// on 1 and 2 threads (each set runs on one thread with the built-in GEMM), and refusals.
import * as assert from 'uvu/assert';
import type { AttentionParams } from '../../src/backend/types.js';
import { identical, native, nativeSuite, near, rand, ref, rng, withThreads } from './helpers.js';

const { it, run } = nativeSuite('native attention');

function forward(k: typeof ref, p: AttentionParams, q: Float32Array, kk: Float32Array, v: Float32Array) {
  const out = new Float32Array(p.batch * p.lq * p.dv).fill(NaN);
  const w = new Float32Array(p.batch * p.lq * p.lk).fill(NaN);
  k.attentionForward(p, q, kk, v, out, w);
  return { out, w };
}

function backward(k: typeof ref, p: AttentionParams, q: Float32Array, kk: Float32Array, v: Float32Array, w: Float32Array, g: Float32Array, want = [true, true, true]) {
  const dq = want[0] ? new Float32Array(p.batch * p.lq * p.d).fill(NaN) : null;
  const dk = want[1] ? new Float32Array(p.batch * p.lk * p.d).fill(NaN) : null;
  const dv = want[2] ? new Float32Array(p.batch * p.lk * p.dv).fill(NaN) : null;
  k.attentionBackward(p, q, kk, v, w, g, dq, dk, dv);
  return { dq, dk, dv };
}

const cases: Array<[number, number, number, number, number]> = [
  [1, 17, 17, 8, 8],
  [3, 5, 11, 3, 7],
  [2, 33, 33, 13, 13],
  [4, 1, 1, 1, 1],
  [2, 70, 129, 16, 9],
];

it('forward and backward agree with the ts twin (odd sizes, batch 1, lq ≠ lk)', () => {
  let seed = 3;
  for (const [batch, lq, lk, d, dv] of cases) {
    const p: AttentionParams = { batch, lq, lk, d, dv, scale: 1 / Math.sqrt(d) };
    const r = rng(seed++);
    const q = rand(r, batch * lq * d, -2, 2), kk = rand(r, batch * lk * d, -2, 2), v = rand(r, batch * lk * dv);
    const g = rand(r, batch * lq * dv);
    const a = forward(native, p, q, kk, v), b = forward(ref, p, q, kk, v);
    const what = `[${batch}, ${lq}, ${lk}, ${d}, ${dv}]`;
    near(a.w, b.w, 1e-5, `${what} w`);
    near(a.out, b.out, 1e-5, `${what} out`);
    const ga = backward(native, p, q, kk, v, a.w, g), gb = backward(ref, p, q, kk, v, b.w, g);
    near(ga.dq!, gb.dq!, 1e-4, `${what} dq`);
    near(ga.dk!, gb.dk!, 1e-4, `${what} dk`);
    near(ga.dv!, gb.dv!, 1e-5, `${what} dv`);
    // Only one gradient wanted: the same values.
    for (const i of [0, 1, 2]) {
      const want = [i === 0, i === 1, i === 2];
      const one = backward(native, p, q, kk, v, a.w, g, want);
      const got = [one.dq, one.dk, one.dv][i]!;
      identical(got, [ga.dq, ga.dk, ga.dv][i]!, `${what} only gradient ${i}`);
    }
  }
});

it('the same bits on 1 and 2 threads', () => {
  const p: AttentionParams = { batch: 6, lq: 64, lk: 64, d: 32, dv: 32, scale: 1 / Math.sqrt(32) };
  const r = rng(11);
  const q = rand(r, 6 * 64 * 32), kk = rand(r, 6 * 64 * 32), v = rand(r, 6 * 64 * 32), g = rand(r, 6 * 64 * 32);
  const one = withThreads(1, () => {
    const f = forward(native, p, q, kk, v);
    return { ...f, ...backward(native, p, q, kk, v, f.w, g) };
  });
  const two = withThreads(2, () => {
    const f = forward(native, p, q, kk, v);
    return { ...f, ...backward(native, p, q, kk, v, f.w, g) };
  });
  for (const key of ['out', 'w', 'dq', 'dk', 'dv'] as const) identical(one[key]!, two[key]!, key);
});

it('large scores stay finite (row max subtracted)', () => {
  const p: AttentionParams = { batch: 1, lq: 3, lk: 4, d: 2, dv: 2, scale: 1 };
  const q = Float32Array.from([100, 100, -100, 50, 0, 0]);
  const kk = Float32Array.from([100, 100, 99, 99, -100, -100, 0, 0]);
  const v = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const a = forward(native, p, q, kk, v), b = forward(ref, p, q, kk, v);
  for (const x of a.out) assert.ok(Number.isFinite(x));
  near(a.out, b.out, 1e-6, 'out');
  near(a.w.subarray(0, 4), [1, 0, 0, 0], 1e-6, 'saturated row');
});

it('refuses short arrays and bad sizes, naming the argument', () => {
  const p: AttentionParams = { batch: 2, lq: 3, lk: 4, d: 2, dv: 5, scale: 0.5 };
  const f = (n: number) => new Float32Array(n);
  assert.throws(() => native.attentionForward(p, f(11), f(16), f(40), f(30), f(24)), /q/);
  assert.throws(() => native.attentionForward(p, f(12), f(16), f(39), f(30), f(24)), /\bv\b/);
  assert.throws(() => native.attentionForward(p, f(12), f(16), f(40), f(30), f(23)), /\bw\b/);
  assert.throws(() => native.attentionBackward(p, f(12), f(16), f(40), f(24), f(30), f(12), f(15), null), /dk/);
  assert.throws(() => native.attentionForward({ ...p, lq: -1 }, f(12), f(16), f(40), f(30), f(24)), /lq/);
  assert.throws(() => native.attentionForward({ ...p, scale: NaN }, f(12), f(16), f(40), f(30), f(24)), /scale/);
});

run();
