// cosineDistance / cosineDistanceBackward: the native kernels against their ts twin (the same
// float64 operations in the same order, so the same bits), on 1 and 2 threads; the
// chunked inner = 1 path (several chunks and a tail), the blocked inner > 1 path, eps
// clamping of a zero vector, a wanted-only-one gradient, empty views, and refused arguments.
import * as assert from 'uvu/assert';
import type { CosineParams } from '../../src/backend/types.js';
import { COSINE_CHUNK } from '../../src/backend/ts/cosine.js';
import { identical, native, nativeSuite, rand, ref, rng, withThreads } from './helpers.js';

const { it, run } = nativeSuite('native cosine');

function forward(k: typeof ref, p: CosineParams, a: Float32Array, b: Float32Array) {
  const d = new Float32Array(p.outer * p.inner).fill(NaN);
  const stats = new Float32Array(3 * p.outer * p.inner).fill(NaN);
  k.cosineDistance(p, a, b, d, stats);
  return { d, stats };
}

function backward(k: typeof ref, p: CosineParams, a: Float32Array, b: Float32Array, stats: Float32Array, dd: Float32Array, want: [boolean, boolean]) {
  const n = p.outer * p.mid * p.inner;
  const da = want[0] ? new Float32Array(n).fill(NaN) : null;
  const db = want[1] ? new Float32Array(n).fill(NaN) : null;
  k.cosineDistanceBackward(p, a, b, stats, dd, da, db);
  return { da, db };
}

it('forward and backward equal the ts twin bit for bit, on 1 and 2 threads (global and pixel layouts)', () => {
  const cases: Array<[number, number, number]> = [
    [3, 2 * COSINE_CHUNK + 37, 1], // several chunks and a tail
    [2, 13, 1],
    [1, 5, 1],
    [2, 64, 1100], // inner blocks and a partial block
    [4, 3, 7],
    [1, 1, 9],
  ];
  let seed = 7;
  for (const [outer, mid, inner] of cases) {
    const p: CosineParams = { outer, mid, inner, eps: 1e-8 };
    const r = rng(seed++);
    const n = outer * mid * inner;
    const a = rand(r, n);
    const b = rand(r, n, -0.5, 1.5);
    const dd = rand(r, outer * inner);
    const want = forward(ref, p, a, b);
    const wantGrad = backward(ref, p, a, b, want.stats, dd, [true, true]);
    for (const threads of [1, 2]) {
      withThreads(threads, () => {
        const got = forward(native, p, a, b);
        const what = `[${outer}, ${mid}, ${inner}] on ${threads} thread(s)`;
        identical(got.d, want.d, `d ${what}`);
        identical(got.stats, want.stats, `stats ${what}`);
        const g = backward(native, p, a, b, want.stats, dd, [true, true]);
        identical(g.da!, wantGrad.da!, `da ${what}`);
        identical(g.db!, wantGrad.db!, `db ${what}`);
        const onlyB = backward(native, p, a, b, want.stats, dd, [false, true]);
        assert.is(onlyB.da, null);
        identical(onlyB.db!, wantGrad.db!, `db alone ${what}`);
      });
    }
    // the ts forward against a direct float64 cosine
    for (let o = 0; o < outer; o++) {
      const i = inner - 1;
      let dot = 0, sa = 0, sb = 0;
      for (let m = 0; m < mid; m++) {
        const k = (o * mid + m) * inner + i;
        dot += a[k] * b[k];
        sa += a[k] * a[k];
        sb += b[k] * b[k];
      }
      const c = dot / Math.sqrt(sa * sb);
      assert.ok(Math.abs(want.d[o * inner + i] - (1 - c)) <= 1e-6, `ts d vs float64 [${outer}, ${mid}, ${inner}]`);
    }
  }
});

it("eps clamps each norm (PyTorch's rule): a zero vector has cosine 0 and a finite gradient", () => {
  const p: CosineParams = { outer: 2, mid: 2, inner: 1, eps: 1e-4 };
  const a = new Float32Array([0, 0, 1e-5, 0]);
  const b = new Float32Array([1, 2, 1, 1]);
  for (const k of [ref, native]) {
    const { d, stats } = forward(k, p, a, b);
    assert.is(d[0], 1);
    // a = (1e-5, 0): a/max(‖a‖, 1e-4) = (0.1, 0), cos = 0.1/√2
    assert.ok(Math.abs(d[1] - (1 - 0.1 / Math.SQRT2)) < 1e-6, `d[1] = ${d[1]}`);
    const { da } = backward(k, p, a, b, stats, new Float32Array([1, 1]), [true, false]);
    // −∂cos/∂a with PyTorch's clamped norm: −(b/(n_a n_b) − cos·a/n_a²) = −(7071.07, 7071.07) + (70.71, 0)
    assert.ok(Math.abs(da![2] - -7000.357) < 0.05 && Math.abs(da![3] - -7071.068) < 0.05, `da = ${da![2]}, ${da![3]}`);
    assert.ok(da!.every(Number.isFinite));
  }
});

it('empty views return at once; bad arguments are refused with the argument named', () => {
  for (const p of [{ outer: 0, mid: 5, inner: 3, eps: 1e-8 }, { outer: 2, mid: 0, inner: 3, eps: 1e-8 }, { outer: 2, mid: 4, inner: 0, eps: 1e-8 }]) {
    const k = p.outer * p.inner;
    const d = new Float32Array(k);
    native.cosineDistance(p, new Float32Array(0), new Float32Array(0), d, new Float32Array(3 * k));
    if (p.mid === 0) assert.ok(d.every((v) => v === 1), 'mid = 0: cos 0, distance 1'); // 0/(eps·eps)
    native.cosineDistanceBackward(p, new Float32Array(0), new Float32Array(0), new Float32Array(3 * k), new Float32Array(k), new Float32Array(0), null);
  }
  const p: CosineParams = { outer: 2, mid: 3, inner: 1, eps: 1e-8 };
  const six = new Float32Array(6);
  assert.throws(() => native.cosineDistance(p, six, new Float32Array(5), new Float32Array(2), new Float32Array(6)), /cosineDistance.*\bb\b/);
  assert.throws(() => native.cosineDistance(p, six, six, new Float32Array(2), new Float32Array(5)), /stats/);
  assert.throws(() => native.cosineDistance({ ...p, eps: -1 }, six, six, new Float32Array(2), new Float32Array(6)), /eps/);
  assert.throws(() => native.cosineDistance({ ...p, eps: NaN }, six, six, new Float32Array(2), new Float32Array(6)), /eps/);
  assert.throws(() => native.cosineDistanceBackward(p, six, six, new Float32Array(6), new Float32Array(1), six, null), /dd/);
  assert.throws(() => native.cosineDistanceBackward(p, six, six, new Float32Array(6), new Float32Array(2), new Float32Array(4), null), /da/);
});

run();
