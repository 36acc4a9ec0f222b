// gemm / gemmBatched against the ts reference, on both engines (built-in micro-kernel
// and OpenBLAS when linked), every trans combination, beta 0 and 1, odd sizes.
import * as assert from 'uvu/assert';
import type { GemmParams } from '../../src/backend/types.js';
import { identical, native, nativeSuite, near, openblasLinked, rand, ref, rng, setBlas, withThreads } from './helpers.js';

const { it, itIf, run } = nativeSuite('native gemm');

const engines = (): Array<'builtin' | 'openblas'> => (openblasLinked ? ['builtin', 'openblas'] : ['builtin']);

function check(p: GemmParams, seed: number, what: string): void {
  const r = rng(seed);
  const a = rand(r, p.M * p.K);
  const b = rand(r, p.K * p.N);
  const c0 = rand(r, p.M * p.N);
  const expected = c0.slice();
  ref.gemm(p, a, b, expected);
  const got = c0.slice();
  native.gemm(p, a, b, got);
  // Each C entry sums K products of magnitude ≤ 1: error relative to √K-ish magnitudes.
  near(got, expected, 2e-6 * Math.max(8, p.K), what);
}

const sizes: Array<[number, number, number]> = [
  [1, 1, 1],
  [1, 17, 3],
  [5, 1, 9],
  [7, 13, 1],
  [6, 16, 256],
  [13, 35, 257],
  [37, 50, 300],
  [150, 33, 70],
  [65, 130, 513],
];

for (const engine of ['builtin', 'openblas'] as const) {
  itIf(engine === 'builtin' || openblasLinked, `${engine}: all trans combinations, beta 0 and 1, odd sizes`, () => {
    setBlas(engine);
    try {
      let seed = 1;
      for (const [M, N, K] of sizes)
        for (const transA of [false, true])
          for (const transB of [false, true])
            for (const [alpha, beta] of [[1, 0], [1, 1], [-0.5, 0.25]] as const)
              check({ M, N, K, transA, transB, alpha, beta }, seed++, `${engine} ${M}x${N}x${K} tA=${transA} tB=${transB} a=${alpha} b=${beta}`);
    } finally {
      setBlas('auto');
    }
  });
}

it('beta = 0 ignores NaN already in C; K = 0 scales C by beta', () => {
  for (const engine of engines()) {
    setBlas(engine);
    const c = new Float32Array(12).fill(NaN);
    native.gemm({ M: 3, N: 4, K: 2, transA: false, transB: false, alpha: 1, beta: 0 }, new Float32Array(6).fill(1), new Float32Array(8).fill(2), c);
    near(c, new Float32Array(12).fill(4), 0, `${engine} NaN C`);
    const d = new Float32Array([1, 2, 3, 4]);
    native.gemm({ M: 2, N: 2, K: 0, transA: false, transB: false, alpha: 1, beta: 2 }, new Float32Array(0), new Float32Array(0), d);
    near(d, [2, 4, 6, 8], 0, `${engine} K=0`);
  }
  setBlas('auto');
});

it('reads subarray views at their byteOffset', () => {
  const r = rng(7);
  const big = rand(r, 1000);
  const a = big.subarray(3, 3 + 5 * 7);
  const b = big.subarray(101, 101 + 7 * 6);
  const p = { M: 5, N: 6, K: 7, transA: false, transB: false, alpha: 1, beta: 0 };
  const want = new Float32Array(30);
  ref.gemm(p, a.slice(), b.slice(), want);
  const out = new Float32Array(64);
  const view = out.subarray(17, 47);
  native.gemm(p, a, b, view);
  near(view, want, 1e-5, 'view');
  assert.is(out[16], 0, 'nothing written before the view');
  assert.is(out[47], 0, 'nothing written after the view');
});

it('gemmBatched matches per-batch gemm', () => {
  for (const [M, N, K] of [[3, 5, 7], [40, 33, 65]]) {
    const p = { M, N, K, transA: true, transB: false, alpha: 1, beta: 0, batch: 5 };
    const r = rng(M);
    const a = rand(r, 5 * M * K);
    const b = rand(r, 5 * K * N);
    const want = new Float32Array(5 * M * N);
    ref.gemmBatched(p, a, b, want);
    const got = new Float32Array(5 * M * N);
    native.gemmBatched(p, a, b, got);
    near(got, want, 1e-5 * K, `batched ${M}x${N}x${K}`);
  }
});

it('built-in engine: 1 and 2 threads give identical results', () => {
  setBlas('builtin');
  try {
    const p = { M: 200, N: 301, K: 333, transA: false, transB: true, alpha: 1, beta: 0 };
    const r = rng(11);
    const a = rand(r, p.M * p.K);
    const b = rand(r, p.K * p.N);
    const c1 = withThreads(1, () => {
      const c = new Float32Array(p.M * p.N);
      native.gemm(p, a, b, c);
      return c;
    });
    const c2 = withThreads(2, () => {
      const c = new Float32Array(p.M * p.N);
      native.gemm(p, a, b, c);
      return c;
    });
    identical(c1, c2, 'threads 1 vs 2');
  } finally {
    setBlas('auto');
  }
});

run();
