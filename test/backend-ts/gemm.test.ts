import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gemm, gemmBatched } from '../../src/backend/ts/gemm.js';
import { close, randArray, rng } from './helpers.js';

/** op(X)[i, j] for a row-major matrix stored rows×cols, transposed when `t`. */
function at(x: Float32Array, t: boolean, rows: number, cols: number, i: number, j: number): number {
  return t ? x[j * cols + i] : x[i * cols + j];
}

function naive(M: number, N: number, K: number, tA: boolean, tB: boolean, alpha: number, beta: number, a: Float32Array, b: Float32Array, c0: Float32Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      // A is M×K (stored K×M when transposed), B is K×N (stored N×K when transposed).
      for (let q = 0; q < K; q++) s += at(a, tA, tA ? K : M, tA ? M : K, i, q) * at(b, tB, tB ? N : K, tB ? K : N, q, j);
      out.push(alpha * s + (beta === 0 ? 0 : beta * c0[i * N + j]));
    }
  return out;
}

for (const transA of [false, true])
  for (const transB of [false, true])
    test(`gemm matches the sum formula (transA=${transA}, transB=${transB})`, () => {
      const r = rng(11 + Number(transA) * 2 + Number(transB));
      const [M, N, K] = [5, 7, 9];
      const a = randArray(r, M * K);
      const b = randArray(r, K * N);
      const c = randArray(r, M * N);
      const expected = naive(M, N, K, transA, transB, 0.7, 0.3, a, b, c);
      gemm({ M, N, K, transA, transB, alpha: 0.7, beta: 0.3 }, a, b, c);
      close(c, expected, 1e-5, 1e-5, 'C');
    });

test('gemm with beta = 0 ignores NaN in C', () => {
  const r = rng(3);
  const [M, N, K] = [3, 4, 2];
  const a = randArray(r, M * K);
  const b = randArray(r, K * N);
  const c = new Float32Array(M * N).fill(NaN);
  gemm({ M, N, K, transA: false, transB: false, alpha: 1, beta: 0 }, a, b, c);
  close(c, naive(M, N, K, false, false, 1, 0, a, b, c), 1e-6, 1e-6, 'C');
  assert.ok(c.every(Number.isFinite));
});

test('gemmBatched equals independent products per block', () => {
  const r = rng(5);
  const [M, N, K, batch] = [3, 5, 4, 3];
  const a = randArray(r, batch * M * K);
  const b = randArray(r, batch * K * N);
  const c = new Float32Array(batch * M * N);
  gemmBatched({ M, N, K, transA: false, transB: true, alpha: 1, beta: 0, batch }, a, b, c);
  for (let t = 0; t < batch; t++) {
    const exp = naive(M, N, K, false, true, 1, 0, a.subarray(t * M * K), b.subarray(t * K * N), new Float32Array(M * N));
    close(c.subarray(t * M * N, (t + 1) * M * N), exp, 1e-6, 1e-6, `C[${t}]`);
  }
});

test.run();
