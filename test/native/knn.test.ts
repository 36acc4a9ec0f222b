// knnSearch (exact k-NN, squared L2 through the packed GEMM) against the ts reference, on
// both GEMM engines and 1 and 2 threads. The two compute the expansion ‖q‖² + ‖b‖² − 2q·b
// with different rounding (float32 GEMM blocks vs float64 sums), so distances are compared
// within the float32 bound of a d-term dot product and neighbours up to ties within it.
import * as assert from 'uvu/assert';
import { reorderTolerance } from '../float32-tolerance.js';
import { equalInts, identical, native, nativeSuite, openblasLinked, rand, ref, rng, setBlas, withThreads } from './helpers.js';

const { it, itIf, run } = nativeSuite('native kNN');

function sqNorm(x: Float32Array, i: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) s += x[i * d + t] ** 2;
  return s;
}

/** Exact (float64) squared distance of query i to base row j. */
function exact(q: Float32Array, b: Float32Array, i: number, j: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) s += (q[i * d + t] - b[j * d + t]) ** 2;
  return s;
}

function search(kern: typeof native, nq: number, nb: number, d: number, k: number, q: Float32Array, b: Float32Array, norms: Float32Array | null = null) {
  const dist = new Float32Array(nq * k).fill(NaN); // the kernel overwrites every slot
  const idx = new Int32Array(nq * k).fill(-7);
  kern.knnSearch({ nq, nb, d, k }, q, b, norms, dist, idx);
  return { dist, idx };
}

/**
 * Native against ts: every distance within the bound, and every reported neighbour really
 * at its reported distance (so an index may differ from ts's only where two distances tie
 * within rounding); +inf / −1 exactly where k > nb.
 */
function conforms(nq: number, nb: number, d: number, k: number, seed: number, what: string): void {
  const r = rng(seed);
  const q = rand(r, nq * d);
  const b = rand(r, nb * d);
  const want = search(ref, nq, nb, d, k, q, b);
  const got = search(native, nq, nb, d, k, q, b);
  let scale = 0;
  for (let i = 0; i < nq; i++) scale = Math.max(scale, sqNorm(q, i, d));
  let bmax = 0;
  for (let j = 0; j < nb; j++) bmax = Math.max(bmax, sqNorm(b, j, d));
  const tol = reorderTolerance({ depth: 3, reduction: d + 2, scale: scale + bmax });
  for (let i = 0; i < nq; i++)
    for (let t = 0; t < k; t++) {
      const o = i * k + t;
      if (t >= nb) {
        assert.is(got.dist[o], Infinity, `${what}: slot ${t} of query ${i} past nb`);
        assert.is(got.idx[o], -1, `${what}: index slot ${t} of query ${i} past nb`);
        continue;
      }
      if (!(Math.abs(got.dist[o] - want.dist[o]) <= tol)) assert.unreachable(`${what}: query ${i} rank ${t}: ${got.dist[o]} vs ${want.dist[o]} (tol ${tol})`);
      const j = got.idx[o];
      assert.ok(j >= 0 && j < nb, `${what}: index ${j} in range`);
      if (j !== want.idx[o]) {
        const dd = exact(q, b, i, j, d);
        if (!(Math.abs(dd - want.dist[o]) <= 2 * tol)) assert.unreachable(`${what}: query ${i} rank ${t}: neighbour ${j} (distance ${dd}) instead of ${want.idx[o]} (${want.dist[o]}) is not a tie within rounding`);
      }
      if (t > 0) assert.ok(got.dist[o] >= got.dist[o - 1], `${what}: ascending`);
    }
  // No neighbour twice in a list.
  for (let i = 0; i < nq; i++) {
    const row = Array.from(got.idx.subarray(i * k, (i + 1) * k)).filter((j) => j >= 0);
    assert.is(new Set(row).size, row.length, `${what}: query ${i} lists a neighbour twice`);
  }
}

// Odd sizes; nb over several 288-row tiles and 2048-row blocks; nq over two 1024-query blocks.
const SIZES: Array<[number, number, number, number]> = [
  [1, 1, 1, 1], [1, 50, 3, 1], [7, 50, 3, 3], [13, 301, 37, 5], [6, 9, 128, 9], [3, 4, 5, 6],
  [1, 2500, 19, 3], [33, 700, 17, 1], [1100, 620, 8, 3],
];

for (const engine of ['builtin', 'openblas'] as const)
  itIf(engine === 'builtin' || openblasLinked, `${engine}: native equals ts within rounding (k = 1, 3, k > nb, batch 1, odd sizes), 1 and 2 threads`, () => {
    setBlas(engine);
    try {
      let seed = 1;
      for (const threads of [1, 2])
        withThreads(threads, () => {
          for (const [nq, nb, d, k] of SIZES) conforms(nq, nb, d, k, seed++, `${engine} ${threads}t ${nq}x${nb}x${d} k=${k}`);
        });
    } finally {
      setBlas('auto');
    }
  });

it('built-in engine: the same bits on 1 and 2 threads, and with the norms given', () => {
  setBlas('builtin');
  try {
    for (const [nq, nb, d, k] of [[5, 2000, 33, 4], [1100, 620, 8, 1], [1, 3000, 64, 2]]) {
      const r = rng(nq + nb);
      const q = rand(r, nq * d);
      const b = rand(r, nb * d);
      const one = withThreads(1, () => search(native, nq, nb, d, k, q, b));
      const two = withThreads(2, () => search(native, nq, nb, d, k, q, b));
      identical(two.dist, one.dist, `distances ${nq}x${nb}x${d}`);
      equalInts(two.idx, one.idx, `indices ${nq}x${nb}x${d}`);
      // Norms handed in (here from float64 sums) give the same neighbours within rounding.
      const norms = Float32Array.from({ length: nb }, (_, j) => sqNorm(b, j, d));
      const given = search(native, nq, nb, d, k, q, b, norms);
      const tol = reorderTolerance({ depth: 3, reduction: d, scale: 2 * d });
      for (let i = 0; i < given.dist.length; i++) assert.ok(Math.abs(given.dist[i] - one.dist[i]) <= tol, `given norms: distance ${i}`);
    }
  } finally {
    setBlas('auto');
  }
});

it('ties keep the lower index (duplicates across tiles and threads); distances clamp at 0', () => {
  // Integer coordinates: every distance is exact in float32 on both paths.
  const d = 4;
  const nb = 1000;
  const b = new Float32Array(nb * d);
  for (let j = 0; j < nb; j++) b.set([j % 5, 0, 1, 2], j * d); // rows j, j+5, … are duplicates
  const q = new Float32Array([2, 0, 1, 2, 0.5, 0, 1, 2]);
  for (const engine of openblasLinked ? (['builtin', 'openblas'] as const) : (['builtin'] as const)) {
    setBlas(engine);
    try {
      for (const threads of [1, 2]) {
        const got = withThreads(threads, () => search(native, 2, nb, d, 4, q, b));
        equalInts(got.idx, [2, 7, 12, 17, 0, 1, 5, 6], `${engine} ${threads}t tie order`);
        assert.equal(Array.from(got.dist), [0, 0, 0, 0, 0.25, 0.25, 0.25, 0.25], `${engine} distances`);
        const want = search(ref, 2, nb, d, 4, q, b);
        equalInts(want.idx, got.idx, 'ts tie order');
      }
    } finally {
      setBlas('auto');
    }
  }
});

it('knnSearchHalf: native equals ts within rounding and equals native knnSearch on the decoded bank bit for bit (both engines, direct and GEMM paths), 1 and 2 threads', () => {
  const engines = openblasLinked ? (['builtin', 'openblas'] as const) : (['builtin'] as const);
  for (const engine of engines) {
    setBlas(engine);
    try {
      for (const threads of [1, 2])
        withThreads(threads, () => {
          for (const [nq, nb, d, k] of [[1, 50, 3, 1], [7, 301, 37, 5], [15, 700, 24, 3], [31, 700, 24, 3], [32, 700, 24, 3], [40, 2500, 19, 2], [3, 4, 5, 6]] as const) {
            const r = rng(nq * 31 + nb + d);
            const q = rand(r, nq * d);
            const half = new Uint16Array(nb * d);
            ref.halfFromFloat({ n: nb * d }, rand(r, nb * d), half);
            const decoded = new Float32Array(nb * d);
            ref.halfToFloat({ n: nb * d }, half, decoded);
            const what = `${engine} ${threads}t ${nq}x${nb}x${d} k=${k}`;
            const run = (kern: typeof native) => {
              const dist = new Float32Array(nq * k).fill(NaN);
              const idx = new Int32Array(nq * k).fill(-7);
              kern.knnSearchHalf({ nq, nb, d, k }, q, half, null, dist, idx);
              return { dist, idx };
            };
            const got = run(native);
            const f32 = search(native, nq, nb, d, k, q, decoded);
            identical(got.dist, f32.dist, `${what}: distances = float32 search of the decoded bank`);
            equalInts(got.idx, f32.idx, `${what}: indices = float32 search of the decoded bank`);
            const want = run(ref);
            const tol = reorderTolerance({ depth: 3, reduction: d + 2, scale: 2 * d });
            for (let i = 0; i < got.dist.length; i++) {
              if (want.idx[i] < 0) {
                assert.is(got.idx[i], -1, `${what}: padding`);
                continue;
              }
              if (!(Math.abs(got.dist[i] - want.dist[i]) <= tol)) assert.unreachable(`${what}: distance ${i}: ${got.dist[i]} vs ts ${want.dist[i]}`);
              if (got.idx[i] !== want.idx[i]) {
                const qi = Math.floor(i / k);
                const dd = exact(q, decoded, qi, got.idx[i], d);
                assert.ok(Math.abs(dd - want.dist[i]) <= 2 * tol, `${what}: a different neighbour only on a tie within rounding`);
              }
            }
          }
        });
    } finally {
      setBlas('auto');
    }
  }
});

it('small batches (< 32 queries) take the direct path: the GEMM path within the float32 bound, same ties rule, same bits on 1 and 2 threads', () => {
  const [nb, d, k] = [1500, 45, 4];
  const r = rng(77);
  const b = rand(r, nb * d);
  const q = rand(r, 40 * d);
  for (const engine of openblasLinked ? (['builtin', 'openblas'] as const) : (['builtin'] as const)) {
    setBlas(engine);
    try {
      const batch = search(native, 40, nb, d, k, q, b); // ≥ 32 queries: the GEMM
      for (const [q0, nq] of [[0, 1], [3, 2], [5, 7], [16, 15], [9, 31]]) {
        const part = q.subarray(q0 * d, (q0 + nq) * d);
        const one = withThreads(1, () => search(native, nq, nb, d, k, part, b));
        const two = withThreads(2, () => search(native, nq, nb, d, k, part, b));
        identical(two.dist, one.dist, `${engine} direct ${nq}: 1 vs 2 threads`);
        equalInts(two.idx, one.idx, `${engine} direct ${nq}: 1 vs 2 threads`);
        const tol = reorderTolerance({ depth: 3, reduction: d + 2, scale: 2 * d });
        for (let i = 0; i < nq * k; i++) {
          const o = q0 * k + i;
          assert.ok(Math.abs(one.dist[i] - batch.dist[o]) <= tol, `${engine} direct ${nq}: distance ${i} within the bound of the GEMM's`);
          if (one.idx[i] !== batch.idx[o]) {
            const dd = exact(q, b, q0 + Math.floor(i / k), one.idx[i], d);
            assert.ok(Math.abs(dd - batch.dist[o]) <= 2 * tol, `${engine} direct ${nq}: a different neighbour only on a tie`);
          }
        }
      }
    } finally {
      setBlas('auto');
    }
  }
  // Ties: duplicate rows spread over several tiles and thread segments, one query.
  const dup = new Float32Array(1000 * 4);
  for (let j = 0; j < 1000; j++) dup.set([j % 5, 0, 1, 2], j * 4);
  for (const threads of [1, 2]) {
    const got = withThreads(threads, () => search(native, 1, 1000, 4, 5, new Float32Array([2, 0, 1, 2]), dup));
    equalInts(got.idx, [2, 7, 12, 17, 22], `direct path ${threads}t: ties keep the lower index`);
  }
});

it('NaN distances never enter; k > nb and nb = 0 give +inf / -1', () => {
  const q = new Float32Array([0, 0]);
  const b = new Float32Array([NaN, 0, 1, 1, 3, 3]);
  const got = search(native, 1, 3, 2, 4, q, b);
  equalInts(got.idx, [1, 2, -1, -1], 'NaN row skipped');
  const empty = search(native, 2, 0, 2, 2, new Float32Array(4), new Float32Array(0));
  assert.equal(Array.from(empty.dist), [Infinity, Infinity, Infinity, Infinity]);
  equalInts(empty.idx, [-1, -1, -1, -1], 'empty bank');
});

run();
