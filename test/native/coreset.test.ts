// coresetGreedy / coresetProject against the ts reference: both compute every float32
// value with the same operations in the same order, so selections, running minima and
// projections are bit-identical, on 1 and 2 threads.
import * as assert from 'uvu/assert';
import { equalInts, identical, native, nativeSuite, rand, ref, rng, withThreads } from './helpers.js';

const { it, run } = nativeSuite('native coreset');

function greedy(kern: typeof native, n: number, d: number, m: number, pts: Float32Array, starts: Int32Array, newest: number) {
  const minDist = new Float32Array(n).fill(Infinity);
  const sel = new Int32Array(m).fill(-7);
  kern.coresetGreedy({ n, d, m, newest, starts: starts.length }, pts, starts, minDist, sel);
  return { minDist, sel };
}

it('coresetGreedy: the same picks and running minima as ts (official starts, one selected start), 1 and 2 threads', () => {
  // d covers 16-blocks, the 8-block and the scalar tail; n spans several 4096-point chunks.
  const cases: Array<[number, number, number, number, number]> = [
    [1, 3, 1, 1, -1], [50, 2, 10, 10, -1], [9000, 16, 25, 10, -1], [513, 128, 20, 10, -1], [300, 37, 30, 0, 3], [8193, 27, 12, 0, 8192],
  ];
  for (const threads of [1, 2])
    withThreads(threads, () => {
      for (const [n, d, m, ns, newest] of cases) {
        const r = rng(n + d);
        const pts = rand(r, n * d);
        const starts = Int32Array.from({ length: ns }, (_, i) => (i * 7919 + 11) % n);
        const want = greedy(ref, n, d, m, pts, starts, newest);
        const got = greedy(native, n, d, m, pts, starts, newest);
        equalInts(got.sel, want.sel, `${threads}t picks n=${n} d=${d} m=${m}`);
        identical(got.minDist, want.minDist, `${threads}t minDist n=${n} d=${d}`);
      }
    });
});

function greedyHalf(kern: typeof native, n: number, d: number, m: number, pts: Uint16Array, starts: Int32Array, newest: number) {
  const minDist = new Float32Array(n).fill(Infinity);
  const sel = new Int32Array(m).fill(-7);
  kern.coresetGreedyHalf({ n, d, m, newest, starts: starts.length }, pts, starts, minDist, sel);
  return { minDist, sel };
}

it('coresetGreedyHalf: the same picks and running minima as ts, and as coresetGreedy on the decoded values, 1 and 2 threads', () => {
  const cases: Array<[number, number, number, number, number]> = [
    [1, 3, 1, 1, -1], [50, 2, 10, 10, -1], [9000, 16, 25, 10, -1], [513, 128, 20, 10, -1], [300, 37, 30, 0, 3], [8500, 27, 12, 0, 8499],
  ];
  for (const threads of [1, 2])
    withThreads(threads, () => {
      for (const [n, d, m, ns, newest] of cases) {
        const r = rng(n + d + 1);
        const half = new Uint16Array(n * d);
        ref.halfFromFloat({ n: n * d }, rand(r, n * d, -4, 4), half);
        const decoded = new Float32Array(n * d);
        ref.halfToFloat({ n: n * d }, half, decoded);
        const starts = Int32Array.from({ length: ns }, (_, i) => (i * 7919 + 11) % n);
        const want = greedyHalf(ref, n, d, m, half, starts, newest);
        const got = greedyHalf(native, n, d, m, half, starts, newest);
        equalInts(got.sel, want.sel, `${threads}t half picks n=${n} d=${d} m=${m}`);
        identical(got.minDist, want.minDist, `${threads}t half minDist n=${n} d=${d}`);
        const f32 = greedy(native, n, d, m, decoded, starts, newest);
        equalInts(got.sel, f32.sel, `${threads}t half = float32 on decoded values n=${n} d=${d}`);
      }
    });
});

it('coresetGreedy: continuing from the last pick in chunks equals one call', () => {
  const [n, d, m] = [3000, 24, 30];
  const pts = rand(rng(5), n * d);
  const starts = Int32Array.from([4, 99, 2000]);
  const whole = greedy(native, n, d, m, pts, starts, -1);
  const minDist = new Float32Array(n);
  const sel = new Int32Array(m);
  native.coresetGreedy({ n, d, m: 0, newest: -1, starts: 3 }, pts, starts, minDist, sel); // starts only
  let newest = -1;
  for (let s = 0; s < m; s += 7) {
    const part = new Int32Array(Math.min(7, m - s));
    native.coresetGreedy({ n, d, m: part.length, newest, starts: 0 }, pts, new Int32Array(0), minDist, part);
    sel.set(part, s);
    newest = part[part.length - 1];
  }
  equalInts(sel, whole.sel, 'chunked picks');
  assert.is(new Set(sel).size, m, 'no point twice');
});

it('coresetGreedy / coresetGreedyHalf: a start index outside the points, or float32 points given to the half kernel, are refused', () => {
  assert.throws(() => native.coresetGreedyHalf({ n: 4, d: 2, m: 1, newest: -1, starts: 0 }, new Float32Array(8) as unknown as Uint16Array, new Int32Array(0), new Float32Array(4), new Int32Array(1)), /Uint16Array/);
  assert.throws(() => native.coresetGreedy({ n: 4, d: 2, m: 1, newest: -1, starts: 1 }, new Float32Array(8), Int32Array.from([4]), new Float32Array(4), new Int32Array(1)), /index/);
});

it('coresetProject: bit-identical to ts (column tails, row tails, long rows), 1 and 2 threads', () => {
  for (const threads of [1, 2])
    withThreads(threads, () => {
      for (const [n, d, e] of [[1, 1, 1], [7, 33, 5], [9, 1024, 128], [13, 100, 35], [64, 19, 16]]) {
        const r = rng(n * e + d);
        const x = rand(r, n * d, -3, 3);
        const w = rand(r, d * e, -0.1, 0.1);
        const want = new Float32Array(n * e);
        const got = new Float32Array(n * e).fill(NaN);
        ref.coresetProject({ n, d, e }, x, w, want);
        native.coresetProject({ n, d, e }, x, w, got);
        identical(got, want, `${threads}t project ${n}x${d}→${e}`);
      }
    });
});

run();
