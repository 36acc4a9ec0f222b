import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { knnSearch } from '../../src/backend/ts/knn.js';
import { coresetGreedy } from '../../src/backend/ts/coreset.js';
import { close, randArray, rng } from './helpers.js';

/** Brute force: all squared distances, sorted by (distance, index). */
function bruteForce(q: Float32Array, b: Float32Array, d: number, k: number): { dist: number[]; idx: number[] } {
  const all = Array.from({ length: b.length / d }, (_, j) => {
    let s = 0;
    for (let t = 0; t < d; t++) s += (q[t] - b[j * d + t]) ** 2;
    return { j, s };
  });
  all.sort((u, v) => u.s - v.s || u.j - v.j);
  return { dist: all.slice(0, k).map((e) => e.s), idx: all.slice(0, k).map((e) => e.j) };
}

for (const [nq, nb, d, k] of [[7, 53, 5, 1], [5, 41, 13, 6], [3, 9, 3, 9]])
  test(`knnSearch matches a brute-force sort (nq=${nq}, nb=${nb}, d=${d}, k=${k})`, () => {
    const r = rng(nq * nb + d + k);
    const queries = randArray(r, nq * d);
    const base = randArray(r, nb * d);
    const dist = new Float32Array(nq * k);
    const idx = new Int32Array(nq * k);
    knnSearch({ nq, nb, d, k }, queries, base, null, dist, idx);
    for (let q = 0; q < nq; q++) {
      const ref = bruteForce(queries.subarray(q * d, (q + 1) * d), base, d, k);
      assert.equal(Array.from(idx.subarray(q * k, (q + 1) * k)), ref.idx, `indices of query ${q}`);
      // The expansion ‖q‖² + ‖b‖² − 2q·b rounded to float32 against the direct sum in float64.
      close(dist.subarray(q * k, (q + 1) * k), ref.dist, 1e-6, 1e-6, `distances of query ${q}`);
    }
  });

test('knnSearch: ties go to the lower index; k > nb pads with +∞ / −1', () => {
  // base points 0..3 on a line; query at 1.5 is equidistant from 1 and 2, and 0 and 3.
  const base = new Float32Array([0, 1, 2, 3]);
  const dist = new Float32Array(6);
  const idx = new Int32Array(6);
  knnSearch({ nq: 1, nb: 4, d: 1, k: 6 }, new Float32Array([1.5]), base, null, dist, idx);
  assert.equal(Array.from(idx), [1, 2, 0, 3, -1, -1]);
  close(dist, [0.25, 0.25, 2.25, 2.25, Infinity, Infinity], 0, 0);
  // duplicates of the same point: lower index first
  knnSearch({ nq: 1, nb: 4, d: 1, k: 2 }, new Float32Array([5]), new Float32Array([4, 4, 4, 6]), null, dist, idx);
  assert.equal(Array.from(idx.subarray(0, 2)), [0, 1]);
});

/** Independent farthest-point selection from the definition: maximise the minimum distance to the chosen set. */
function greedyRef(pts: Float32Array, n: number, d: number, m: number, start: number): number[] {
  const dist = (a: number, b: number) => {
    let s = 0;
    for (let t = 0; t < d; t++) s += (pts[a * d + t] - pts[b * d + t]) ** 2;
    return Math.sqrt(s);
  };
  const chosen = [start];
  while (chosen.length < m) {
    let best = -1;
    let bestD = -1;
    for (let i = 0; i < n; i++) {
      const di = Math.min(...chosen.map((c) => dist(i, c)));
      if (di > bestD) {
        bestD = di;
        best = i;
      }
    }
    chosen.push(best);
  }
  return chosen;
}

/** The kernel with one centre (`start`) folded in first: m further picks. */
function picks(pts: Float32Array, n: number, d: number, m: number, start: number): number[] {
  const sel = new Int32Array(m);
  coresetGreedy({ n, d, m, newest: start, starts: 0 }, pts, new Int32Array(0), new Float32Array(n).fill(Infinity), sel);
  return Array.from(sel);
}

test('coresetGreedy equals the farthest-point definition and is deterministic', () => {
  const r = rng(77);
  const [n, d, m] = [60, 4, 12];
  const pts = randArray(r, n * d);
  const sel = picks(pts, n, d, m - 1, 17);
  assert.equal([17, ...sel], greedyRef(pts, n, d, m, 17));
  assert.is(new Set([17, ...sel]).size, m, 'no point selected twice');
  assert.equal(picks(pts, n, d, m - 1, 17), sel);
});

test('coresetGreedy official start rule: mean Euclidean distance to the starts, starts not selected', () => {
  const r = rng(78);
  const [n, d] = [40, 3];
  const pts = randArray(r, n * d);
  const starts = Int32Array.from([5, 9, 30]);
  const minDist = new Float32Array(n);
  const sel = new Int32Array(4);
  coresetGreedy({ n, d, m: 4, newest: -1, starts: 3 }, pts, starts, minDist, sel);
  const dist = (a: number, b: number) => Math.sqrt(Array.from({ length: d }, (_, t) => (pts[a * d + t] - pts[b * d + t]) ** 2).reduce((x, y) => x + y));
  const delta = Array.from({ length: n }, (_, i) => (dist(i, 5) + dist(i, 9) + dist(i, 30)) / 3);
  const chosen: number[] = [];
  for (let s = 0; s < 4; s++) {
    let best = 0;
    for (let i = 1; i < n; i++) if (delta[i] > delta[best]) best = i;
    chosen.push(best);
    for (let i = 0; i < n; i++) delta[i] = Math.min(delta[i], dist(i, best));
  }
  assert.equal(Array.from(sel), chosen);
});

test('coresetGreedy: the first index wins ties', () => {
  // Corners of a square; start at 0: points 1, 2 are at distance 1, point 3 at √2 → 3 first,
  // then 1 and 2 tie at distance 1 from {0, 3} → 1.
  const pts = new Float32Array([0, 0, 1, 0, 0, 1, 1, 1]);
  assert.equal(picks(pts, 4, 2, 2, 0), [3, 1]);
});

test.run();
