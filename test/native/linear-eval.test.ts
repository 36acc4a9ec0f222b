// The inference linear layer (linearEval: the unified AE's MLP layers with their eval BN1d
// folded into a per-feature scale and shift, and ReLU): native (pre-packed 16-feature panels,
// native/cpu/linear_eval.cc) against the ts twin (float64 sums, then the epilogue), within the
// float32 reordering bound on Σ|x·w|; every output written; the same bits on 1 and 2 threads
// and for a batch as for its rows one by one; the packed weight only a cache the kernel checks.
import * as assert from 'uvu/assert';
import type { LinearEvalParams } from '../../src/backend/types.js';
import { reorderTolerance } from '../float32-tolerance.js';
import { identical, native, nativeSuite, rand, ref, rng, withThreads } from './helpers.js';

const { it, run } = nativeSuite('native linearEval (x·wᵀ + scale, shift, ReLU)');

type Params = LinearEvalParams & { relu: boolean };

interface Inputs {
  x: Float32Array;
  w: Float32Array;
  scale: Float32Array;
  shift: Float32Array;
}

function inputs(p: Params, seed: number): Inputs {
  const r = rng(seed);
  return { x: rand(r, p.N * p.in), w: rand(r, p.out * p.in), scale: rand(r, p.out, 0.5, 2), shift: rand(r, p.out, -0.5, 0.5) };
}

function lin(k: typeof native, p: Params, i: Inputs, affine = true): Float32Array {
  const u = new Float32Array(Math.ceil(p.out / 16) * 16 * p.in).fill(NaN);
  k.linearEvalPack(p, i.w, u);
  const y = new Float32Array(p.N * p.out).fill(NaN); // every element must be written
  k.linearEval(p, i.x, i.w, u, affine ? i.scale : null, affine ? i.shift : null, y);
  return y;
}

const shapes: Array<[string, Params]> = [
  ['64 × 1024 → 1024 (AE encoder MLP), ReLU', { N: 64, in: 1024, out: 1024, relu: true }],
  ['64 × 16 → 1024 (AE decoder MLP input)', { N: 64, in: 16, out: 1024, relu: true }],
  ['13 × 300 → 17 (short row group, padded panel, depth not a block multiple)', { N: 13, in: 300, out: 17, relu: false }],
  ['1 × 5 → 3', { N: 1, in: 5, out: 3, relu: false }],
];

it('within the float32 bound of the float64 sums, every output written', () => {
  shapes.forEach(([what, p], s) => {
    const i = inputs(p, 10 + s);
    const y0 = lin(ref, p, i);
    const y1 = lin(native, p, i);
    const absY = lin(ref, { ...p, relu: false }, { ...i, x: i.x.map(Math.abs), w: i.w.map(Math.abs) }, false);
    const gamma = reorderTolerance({ depth: 1, reduction: p.in + 2 });
    for (let j = 0; j < y0.length; j++) {
      const o = j % p.out;
      const d = Math.abs(y1[j] - y0[j]);
      const tol = gamma * (absY[j] * i.scale[o] + Math.abs(i.shift[o])) + 1e-7;
      if (!(d <= tol)) assert.unreachable(`${what}[${j}]: ${y1[j]} vs ${y0[j]} differ by ${d} > ${tol.toExponential(2)}`);
    }
    if (p.relu) assert.ok(y1.every((v) => v >= 0), `${what}: ReLU`);
  });
});

it('scale and shift null: the plain product', () => {
  const p: Params = { N: 7, in: 40, out: 20, relu: false };
  const i = inputs(p, 30);
  const y = lin(native, p, i, false);
  const g = new Float32Array(p.N * p.out);
  native.gemm({ M: p.N, N: p.out, K: p.in, transA: false, transB: true, alpha: 1, beta: 0 }, i.x, i.w, g);
  for (let j = 0; j < y.length; j++) assert.ok(Math.abs(y[j] - g[j]) <= 1e-5 * (1 + Math.abs(g[j])), `[${j}]: ${y[j]} vs ${g[j]}`);
});

it('1 and 2 threads, and a batch against its rows one by one, give identical bits', () => {
  shapes.forEach(([what, p], s) => {
    const i = inputs(p, 40 + s);
    const one = withThreads(1, () => lin(native, p, i));
    const two = withThreads(2, () => lin(native, p, i));
    identical(one, two, `${what}: 1 vs 2 threads`);
    for (const n of [0, p.N - 1]) {
      const yn = lin(native, { ...p, N: 1 }, { ...i, x: i.x.subarray(n * p.in, (n + 1) * p.in) });
      identical(yn, one.subarray(n * p.out, (n + 1) * p.out), `${what}: row ${n} alone`);
    }
  });
});

it('NaN and Inf propagate (ReLU keeps NaN)', () => {
  const p: Params = { N: 3, in: 20, out: 18, relu: true };
  const i = inputs(p, 50);
  i.x[5] = NaN;
  i.x[20 + 3] = Infinity;
  const y = lin(native, p, i);
  for (let o = 0; o < p.out; o++) assert.ok(Number.isNaN(y[o]), `row 0 feature ${o}: ${y[o]}`);
  for (let o = 0; o < p.out; o++) assert.ok(!Number.isFinite(y[p.out + o]) || y[p.out + o] === 0, `row 1 feature ${o}: ${y[p.out + o]}`);
});

it('the packed weight is only a cache: a stale or garbage one is checked and repacked', () => {
  for (const p of [shapes[0][1], shapes[2][1]]) {
    const i = inputs(p, 60);
    const size = Math.ceil(p.out / 16) * 16 * p.in;
    const fresh = new Float32Array(size);
    native.linearEvalPack(p, i.w, fresh);
    const y0 = new Float32Array(p.N * p.out);
    native.linearEval(p, i.x, i.w, fresh.slice(), null, i.shift, y0);
    // Garbage, and a cache of other values with one element per panel changed.
    const garbage = rand(rng(61), size);
    const y1 = new Float32Array(p.N * p.out).fill(NaN);
    native.linearEval(p, i.x, i.w, garbage, null, i.shift, y1);
    identical(y1, y0, 'from a garbage cache');
    identical(garbage.subarray(0, 16 * p.in), fresh.subarray(0, 16 * p.in), 'the cache was repacked');
    const w2 = i.w.slice();
    for (let o = 0; o < p.out; o += 16) w2[o * p.in + (o % p.in)] += 1;
    const y2 = new Float32Array(p.N * p.out);
    native.linearEval(p, i.x, w2, fresh, null, i.shift, y2); // fresh holds the old weight
    const y3 = new Float32Array(p.N * p.out);
    const u3 = new Float32Array(size);
    native.linearEvalPack(p, w2, u3);
    native.linearEval(p, i.x, w2, u3, null, i.shift, y3);
    identical(y2, y3, 'after an in-place weight change');
  }
});

run();
