// General matrix multiply, the reference for the native GEMM micro-kernels.
// Each output row is accumulated in float64 so that long K sums (K = C·kh·kw in
// an im2col convolution, K = 1536 in a feature projection) stay accurate.
import type { F32, GemmParams } from '../types.js';

export function gemm(p: GemmParams, a: F32, b: F32, c: F32): void {
  gemmAt(p, a, 0, b, 0, c, 0, new Float64Array(p.N));
}

/** gemmBatched: `batch` independent products over consecutive M×K, K×N, M×N blocks. */
export function gemmBatched(p: GemmParams & { batch: number }, a: F32, b: F32, c: F32): void {
  const { M, N, K, batch } = p;
  const acc = new Float64Array(N);
  for (let t = 0; t < batch; t++) gemmAt(p, a, t * M * K, b, t * K * N, c, t * M * N, acc);
}

function gemmAt(p: GemmParams, a: F32, a0: number, b: F32, b0: number, c: F32, c0: number, acc: Float64Array): void {
  const { M, N, K, transA, transB, alpha, beta } = p;
  for (let i = 0; i < M; i++) {
    if (!transB) {
      // acc += A[i, p] · B[p, :] — walks the rows of B sequentially.
      acc.fill(0);
      for (let q = 0; q < K; q++) {
        const aiq = transA ? a[a0 + q * M + i] : a[a0 + i * K + q];
        const row = b0 + q * N;
        for (let j = 0; j < N; j++) acc[j] += aiq * b[row + j];
      }
    } else {
      // B is stored N×K: C[i, j] is the dot product of A's row i with B's row j.
      for (let j = 0; j < N; j++) {
        const row = b0 + j * K;
        let s = 0;
        if (transA) for (let q = 0; q < K; q++) s += a[a0 + q * M + i] * b[row + q];
        else {
          const arow = a0 + i * K;
          for (let q = 0; q < K; q++) s += a[arow + q] * b[row + q];
        }
        acc[j] = s;
      }
    }
    const crow = c0 + i * N;
    // beta = 0 overwrites C without reading it, so stale NaNs never leak through.
    if (beta === 0) for (let j = 0; j < N; j++) c[crow + j] = alpha * acc[j];
    else for (let j = 0; j < N; j++) c[crow + j] = alpha * acc[j] + beta * c[crow + j];
  }
}
