// Batch and group normalisation against the ts reference (2-D and 1-D layouts,
// affine and not, training and eval gradients).
import * as assert from 'uvu/assert';
import { identical, native, nativeSuite, near, rand, ref, rng, withThreads } from './helpers.js';

const { it, run } = nativeSuite('native batch / group norm');

const layouts: Array<[number, number, number]> = [
  [4, 16, 1024], // E1 of the unified AE at batch 4
  [3, 5, 7], // odd
  [1, 3, 33], // batch 1
  [64, 1024, 1], // BatchNorm1d of the bottleneck MLP
  [5, 7, 1],
];

it('batchNormStats matches (two-pass, offset data)', () => {
  layouts.forEach(([N, C, HW], i) => {
    const r = rng(i + 1);
    const x = rand(r, N * C * HW, 99, 101); // a large mean: E[x²]−E[x]² would lose the variance
    const m0 = new Float32Array(C), v0 = new Float32Array(C), m1 = new Float32Array(C), v1 = new Float32Array(C);
    ref.batchNormStats({ N, C, HW }, x, m0, v0);
    native.batchNormStats({ N, C, HW }, x, m1, v1);
    near(m1, m0, 1e-6, `mean ${N}x${C}x${HW}`);
    near(v1, v0, 1e-4, `variance ${N}x${C}x${HW}`);
  });
});

it('batchNormApply and batchNormBackward (training / eval, with and without affine)', () => {
  layouts.forEach(([N, C, HW], i) => {
    const p = { N, C, HW };
    const r = rng(10 + i);
    const n = N * C * HW;
    const x = rand(r, n, -2, 3);
    const dy = rand(r, n);
    const mean = rand(r, C, -0.5, 0.5);
    const invstd = rand(r, C, 0.5, 2);
    for (const affine of [true, false]) {
      const gamma = affine ? rand(r, C, 0.5, 1.5) : null;
      const beta = affine ? rand(r, C) : null;
      const y0 = new Float32Array(n), y1 = new Float32Array(n);
      ref.batchNormApply(p, x, mean, invstd, gamma, beta, y0);
      native.batchNormApply(p, x, mean, invstd, gamma, beta, y1);
      near(y1, y0, 1e-6, `apply ${N}x${C}x${HW} affine=${affine}`);
      for (const training of [true, false]) {
        const dx0 = new Float32Array(n), dx1 = new Float32Array(n);
        const dg0 = affine ? new Float32Array(C) : null, dg1 = affine ? new Float32Array(C).fill(NaN) : null;
        const db0 = affine ? new Float32Array(C) : null, db1 = affine ? new Float32Array(C).fill(NaN) : null;
        ref.batchNormBackward({ ...p, training }, x, dy, mean, invstd, gamma, dx0, dg0, db0);
        native.batchNormBackward({ ...p, training }, x, dy, mean, invstd, gamma, dx1, dg1, db1);
        const what = `backward ${N}x${C}x${HW} affine=${affine} training=${training}`;
        near(dx1, dx0, 1e-5, `${what} dx`);
        if (dg0 && dg1 && db0 && db1) {
          near(dg1, dg0, 1e-5, `${what} dgamma`);
          near(db1, db0, 1e-5, `${what} dbeta`);
        }
      }
    }
  });
});

// The eval-time fusion: exactly batchNormApply then relu on the same backend (same bits),
// within the ts reference's float64-then-round difference (1e-6 relative) across backends.
it('batchNormApplyRelu: equals batchNormApply + relu bitwise, in place too, 1 and 2 threads', () => {
  layouts.forEach(([N, C, HW], i) => {
    const p = { N, C, HW };
    const r = rng(40 + i);
    const n = N * C * HW;
    const x = rand(r, n, -2, 2);
    x[0] = NaN; // passes through, as relu does
    const mean = rand(r, C, -0.5, 0.5);
    const invstd = rand(r, C, 0.5, 2);
    for (const affine of [true, false]) {
      const gamma = affine ? rand(r, C, -1.5, 1.5) : null;
      const beta = affine ? rand(r, C) : null;
      const what = `${N}x${C}x${HW} affine=${affine}`;
      const t = new Float32Array(n), unfused = new Float32Array(n);
      native.batchNormApply(p, x, mean, invstd, gamma, beta, t);
      native.unary({ op: 'relu', n, alpha: 0, beta: 0 }, t, unfused);
      const go = () => {
        const y = new Float32Array(n);
        native.batchNormApplyRelu(p, x, mean, invstd, gamma, beta, y);
        const inPlace = x.slice();
        native.batchNormApplyRelu(p, inPlace, mean, invstd, gamma, beta, inPlace);
        return [y, inPlace];
      };
      for (const th of [1, 2]) {
        const [y, inPlace] = withThreads(th, go);
        identical(y, unfused, `fused vs unfused ${what} threads=${th}`);
        identical(inPlace, unfused, `in place ${what} threads=${th}`);
      }
      const y0 = new Float32Array(n);
      ref.batchNormApplyRelu(p, x, mean, invstd, gamma, beta, y0);
      const t0 = new Float32Array(n), u0 = new Float32Array(n);
      ref.batchNormApply(p, x, mean, invstd, gamma, beta, t0);
      ref.unary({ op: 'relu', n, alpha: 0, beta: 0 }, t0, u0);
      identical(y0, u0, `ts fused vs ts unfused ${what}`);
      near(unfused, y0, 1e-6, `native vs ts ${what}`);
    }
  });
});

it('batchNormApplyRelu rejects an output that overlaps the input without being it', () => {
  const p = { N: 2, C: 3, HW: 4 };
  const buf = new Float32Array(32);
  const c = new Float32Array(3).fill(1);
  assert.throws(() => native.batchNormApplyRelu(p, buf.subarray(0, 24), c, c, null, null, buf.subarray(4, 28)), /overlaps x/);
});

it('groupNormForward / groupNormBackward', () => {
  for (const [N, C, HW, G] of [[2, 8, 25, 4], [3, 6, 17, 1], [1, 12, 9, 12], [2, 32, 64, 8]]) {
    const p = { N, C, HW, G, eps: 1e-5 };
    const r = rng(N * 1000 + C * 10 + G);
    const n = N * C * HW;
    const x = rand(r, n, -1, 2);
    const dy = rand(r, n);
    for (const affine of [true, false]) {
      const gamma = affine ? rand(r, C, 0.5, 1.5) : null;
      const beta = affine ? rand(r, C) : null;
      const y0 = new Float32Array(n), y1 = new Float32Array(n);
      const m0 = new Float32Array(N * G), m1 = new Float32Array(N * G), s0 = new Float32Array(N * G), s1 = new Float32Array(N * G);
      ref.groupNormForward(p, x, gamma, beta, y0, m0, s0);
      native.groupNormForward(p, x, gamma, beta, y1, m1, s1);
      const what = `GN ${N}x${C}x${HW} G=${G} affine=${affine}`;
      near(y1, y0, 1e-5, `${what} y`);
      near(m1, m0, 1e-6, `${what} mean`);
      near(s1, s0, 1e-5, `${what} invstd`);
      const dx0 = new Float32Array(n), dx1 = new Float32Array(n);
      const dg0 = affine ? new Float32Array(C) : null, dg1 = affine ? new Float32Array(C) : null;
      const db0 = affine ? new Float32Array(C) : null, db1 = affine ? new Float32Array(C) : null;
      ref.groupNormBackward(p, x, dy, m0, s0, gamma, dx0, dg0, db0);
      native.groupNormBackward(p, x, dy, m0, s0, gamma, dx1, dg1, db1);
      near(dx1, dx0, 1e-5, `${what} dx`);
      if (dg0 && dg1 && db0 && db1) {
        near(dg1, dg0, 1e-5, `${what} dgamma`);
        near(db1, db0, 1e-5, `${what} dbeta`);
      }
    }
  }
});

it('statistics and gradients do not depend on the thread count', () => {
  const [N, C, HW] = [6, 16, 300];
  const r = rng(99);
  const x = rand(r, N * C * HW);
  const dy = rand(r, N * C * HW);
  const go = () => {
    const mean = new Float32Array(C), v = new Float32Array(C), dx = new Float32Array(x.length);
    const dg = new Float32Array(C), db = new Float32Array(C);
    native.batchNormStats({ N, C, HW }, x, mean, v);
    const invstd = v.map((t) => 1 / Math.sqrt(t + 1e-5));
    native.batchNormBackward({ N, C, HW, training: true }, x, dy, mean, invstd, null, dx, dg, db);
    return [mean, v, dx, dg, db];
  };
  const a = withThreads(1, go);
  const b = withThreads(2, go);
  a.forEach((t, i) => identical(t, b[i], `output ${i}`));
});

run();
