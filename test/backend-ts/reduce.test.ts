import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { logSoftmax, logSoftmaxBackward, reduceMax, reduceSum, softmax, softmaxBackward } from '../../src/backend/ts/reduce.js';
import { close, randArray, rng } from './helpers.js';

const shapes: [number, number, number][] = [
  [3, 5, 7],
  [1, 9, 1],
  [4, 1, 3],
  [2, 6, 1],
];

const at = (o: number, m: number, i: number, mid: number, inner: number) => (o * mid + m) * inner + i;

for (const [outer, mid, inner] of shapes) {
  const p = { outer, mid, inner };
  const r = rng(outer * 100 + mid * 10 + inner);
  const x = randArray(r, outer * mid * inner, -4, 4);

  test(`reduceSum and reduceMax over [${outer}, ${mid}, ${inner}]`, () => {
    const y = new Float32Array(outer * inner);
    reduceSum(p, x, y);
    const ym = new Float32Array(outer * inner);
    const am = new Int32Array(outer * inner);
    reduceMax(p, x, ym, am);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const lane = Array.from({ length: mid }, (_, m) => x[at(o, m, i, mid, inner)]);
        assert.ok(Math.abs(y[o * inner + i] - lane.reduce((s, v) => s + v, 0)) < 1e-5, 'sum');
        assert.is(ym[o * inner + i], Math.max(...lane));
        assert.is(am[o * inner + i], lane.indexOf(Math.max(...lane)));
      }
  });

  test(`softmax / logSoftmax over [${outer}, ${mid}, ${inner}]: sums to 1, log agrees, backwards match the Jacobian`, () => {
    const n = outer * mid * inner;
    const y = new Float32Array(n);
    softmax(p, x, y);
    const ly = new Float32Array(n);
    logSoftmax(p, x, ly);
    const dy = randArray(r, n);
    const dx = new Float32Array(n);
    softmaxBackward(p, y, dy, dx);
    const ldx = new Float32Array(n);
    logSoftmaxBackward(p, ly, dy, ldx);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const idx = Array.from({ length: mid }, (_, m) => at(o, m, i, mid, inner));
        const e = idx.map((k) => Math.exp(x[k]));
        const z = e.reduce((s, v) => s + v, 0);
        let total = 0;
        idx.forEach((k, m) => {
          total += y[k];
          assert.ok(Math.abs(y[k] - e[m] / z) < 1e-6, 'softmax value');
          assert.ok(Math.abs(ly[k] - Math.log(e[m] / z)) < 1e-5, 'logSoftmax value');
        });
        assert.ok(Math.abs(total - 1) < 1e-6, 'sums to 1');
        // Explicit Jacobians: ∂s_a/∂x_b = s_a(δ_ab − s_b); ∂log s_a/∂x_b = δ_ab − s_b.
        idx.forEach((kb, b) => {
          let g = 0;
          let lg = 0;
          idx.forEach((ka, a) => {
            const sa = e[a] / z;
            const sb = e[b] / z;
            g += dy[ka] * sa * ((a === b ? 1 : 0) - sb);
            lg += dy[ka] * ((a === b ? 1 : 0) - sb);
          });
          assert.ok(Math.abs(dx[kb] - g) < 1e-5, 'softmax backward');
          assert.ok(Math.abs(ldx[kb] - lg) < 1e-5, 'logSoftmax backward');
        });
      }
  });
}

test('reduceMax: first index on ties, NaN wins', () => {
  const y = new Float32Array(3);
  const a = new Int32Array(3);
  // outer 3, mid 4, inner 1
  reduceMax({ outer: 3, mid: 4, inner: 1 }, new Float32Array([1, 3, 3, 2, -1, -1, -1, -1, 0, NaN, 5, NaN]), y, a);
  assert.equal(Array.from(a), [1, 0, 1]);
  assert.is(y[0], 3);
  assert.is(y[1], -1);
  assert.ok(Number.isNaN(y[2]));
});

test('softmax is stable for large logits', () => {
  const y = new Float32Array(3);
  softmax({ outer: 1, mid: 3, inner: 1 }, new Float32Array([1000, 1000, -1000]), y);
  close(y, [0.5, 0.5, 0], 1e-7, 0);
  const ly = new Float32Array(3);
  logSoftmax({ outer: 1, mid: 3, inner: 1 }, new Float32Array([1000, 1000, -1000]), ly);
  close(ly, [-Math.LN2, -Math.LN2, -2000 - Math.LN2], 1e-4, 1e-6);
});

test.run();
