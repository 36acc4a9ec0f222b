// gaussianMoments, choleskyInverse and mahalanobis against the ts reference: odd sizes,
// batch 1, 1 and 2 threads. Moments and inverses follow the reference's summation order
// (no fused multiply-add), so they must match bit for bit; Mahalanobis forms its row sums
// in float32 and matches within float32 rounding. Results never depend on the thread count.
import * as assert from 'uvu/assert';
import { equalInts, identical, native, nativeSuite, near, rand, ref, rng, withThreads } from './helpers.js';

const { it, run } = nativeSuite('native linalg');

function sameF64(a: Float64Array, b: Float64Array, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) assert.unreachable(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
  }
}

/** P random SPD blocks: GᵀG/d + ridge·I. */
function spd(r: () => number, P: number, d: number, ridge = 0.05): Float64Array {
  const m = new Float64Array(P * d * d);
  for (let j = 0; j < P; j++) {
    const g = rand(r, d * d);
    for (let i = 0; i < d; i++)
      for (let k = 0; k <= i; k++) {
        let s = i === k ? ridge : 0;
        for (let t = 0; t < d; t++) s += (g[t * d + i] * g[t * d + k]) / d;
        m[j * d * d + i * d + k] = s;
        m[j * d * d + k * d + i] = s;
      }
  }
  return m;
}

it('gaussianMoments: bitwise equal to ts (with and without shift, two accumulating calls), 1 and 2 threads', () => {
  for (const [B, P, d] of [[1, 1, 1], [3, 5, 7], [4, 9, 16], [2, 3, 33], [5, 2, 100]]) {
    const r = rng(B * 131 + P * 7 + d);
    const x1 = rand(r, B * P * d, -2, 3);
    const x2 = rand(r, B * P * d, -2, 3);
    const shift = rand(r, P * d);
    for (const sh of [null, shift]) {
      const s0 = new Float64Array(P * d), o0 = new Float64Array(P * d * d);
      ref.gaussianMoments({ B, P, d }, x1, sh, s0, o0);
      ref.gaussianMoments({ B, P, d }, x2, sh, s0, o0);
      for (const threads of [1, 2]) {
        const s1 = new Float64Array(P * d), o1 = new Float64Array(P * d * d);
        withThreads(threads, () => {
          native.gaussianMoments({ B, P, d }, x1, sh, s1, o1);
          native.gaussianMoments({ B, P, d }, x2, sh, s1, o1);
        });
        const what = `moments ${B}×${P}×${d} shift=${sh !== null} threads=${threads}`;
        sameF64(s1, s0, `${what} sum`);
        sameF64(o1, o0, `${what} sumOuter`);
      }
    }
  }
});

it('choleskyInverse: bitwise equal to ts on SPD blocks (odd d, one block, in place), 1 and 2 threads', () => {
  for (const [P, d] of [[1, 1], [1, 2], [5, 3], [3, 17], [7, 40], [2, 101]]) {
    const a = spd(rng(P * 13 + d), P, d);
    const inv0 = new Float64Array(a.length).fill(NaN);
    const info0 = new Int32Array(P).fill(-7);
    ref.choleskyInverse({ P, d }, a, inv0, info0);
    equalInts(info0, new Array(P).fill(0), 'ts info');
    for (const threads of [1, 2]) {
      const inv1 = new Float64Array(a.length).fill(NaN);
      const info1 = new Int32Array(P).fill(-7);
      withThreads(threads, () => native.choleskyInverse({ P, d }, a, inv1, info1));
      equalInts(info1, info0, `info P=${P} d=${d}`);
      sameF64(inv1, inv0, `inverse P=${P} d=${d} threads=${threads}`);
    }
    const inPlace = a.slice();
    native.choleskyInverse({ P, d }, inPlace, inPlace, new Int32Array(P));
    sameF64(inPlace, inv0, `in place P=${P} d=${d}`);
  }
});

it('choleskyInverse: non-positive-definite and NaN blocks flagged by column like ts, NaN-filled', () => {
  const d = 5;
  const a = spd(rng(3), 4, d);
  a[1 * d * d + 3 * d + 3] = -1; // block 1: negative diagonal at column 3
  a[2 * d * d + 2 * d + 0] = NaN; // block 2: NaN below the diagonal (read), pivot of column 2 NaN
  a[3 * d * d + 0 * d + 4] = NaN; // block 3: NaN above the diagonal (never read): still SPD
  const i0 = new Float64Array(a.length), i1 = new Float64Array(a.length);
  const f0 = new Int32Array(4), f1 = new Int32Array(4);
  ref.choleskyInverse({ P: 4, d }, a, i0, f0);
  native.choleskyInverse({ P: 4, d }, a, i1, f1);
  equalInts(f1, f0, 'info');
  assert.equal(Array.from(f1), [0, 4, 3, 0]);
  sameF64(i1, i0, 'inverses');
  assert.ok(Array.from(i1.subarray(d * d, 3 * d * d)).every(Number.isNaN));
});

it('mahalanobis: within float32 rounding of ts; bitwise the same on 1 and 2 threads; batch 1 and odd sizes', () => {
  for (const [B, P, d] of [[1, 1, 1], [1, 3, 7], [5, 4, 9], [9, 6, 16], [3, 2, 100], [6, 1, 512]]) {
    const r = rng(B * 17 + P * 5 + d);
    const inv64 = new Float64Array(P * d * d);
    ref.choleskyInverse({ P, d }, spd(r, P, d, 0.5), inv64, new Int32Array(P));
    const inv = Float32Array.from(inv64);
    const mean = rand(r, P * d);
    const x = rand(r, B * P * d, -1.5, 1.5);
    const q0 = new Float32Array(B * P).fill(NaN);
    ref.mahalanobis({ B, P, d }, x, mean, inv, q0);
    const q1 = new Float32Array(B * P).fill(NaN);
    const q2 = new Float32Array(B * P).fill(NaN);
    withThreads(1, () => native.mahalanobis({ B, P, d }, x, mean, inv, q1));
    withThreads(2, () => native.mahalanobis({ B, P, d }, x, mean, inv, q2));
    near(q1, q0, 2e-5, `mahalanobis ${B}×${P}×${d}`);
    identical(q1, q2, `threads ${B}×${P}×${d}`);
    assert.ok(Array.from(q1).every((v) => v >= 0), 'SPD: non-negative');
  }
});

run();
