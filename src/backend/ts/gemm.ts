// General matrix multiply, the reference for the native GEMM micro-kernels.
//
// Every C[i, j] is formed as a dot product of two contiguous rows: op(A)'s row i
// (gathered once per i into a float64 row) and op(B)ᵀ's row j. When B is stored
// K×N it is first transposed into a scratch N×K copy (tiled, so both sides of the
// copy stay in cache). Four j at a time give four independent sums that share each
// load of A's row and hide the add latency a single running sum would serialise on.
// Sums accumulate in float64, so long K sums (K = C·kh·kw, K = 1536 for a feature
// projection) stay accurate.
import type { F32, GemmParams } from '../types.js';

export function gemm(p: GemmParams, a: F32, b: F32, c: F32): void {
  gemmAt(p, a, 0, b, 0, c, 0, new Float64Array(p.K), p.transB ? null : new Float32Array(p.N * p.K));
}

/** gemmBatched: `batch` independent products over consecutive M×K, K×N, M×N blocks. */
export function gemmBatched(p: GemmParams & { batch: number }, a: F32, b: F32, c: F32): void {
  const { M, N, K, batch } = p;
  const aRow = new Float64Array(K);
  const bt = p.transB ? null : new Float32Array(N * K);
  for (let t = 0; t < batch; t++) gemmAt(p, a, t * M * K, b, t * K * N, c, t * M * N, aRow, bt);
}

const TILE = 32;

/** dst (cols×rows) = transpose of the rows×cols matrix at src + off, tile by tile. */
function transpose(src: F32, off: number, rows: number, cols: number, dst: F32): void {
  for (let r0 = 0; r0 < rows; r0 += TILE) {
    const r1 = Math.min(rows, r0 + TILE);
    for (let c0 = 0; c0 < cols; c0 += TILE) {
      const c1 = Math.min(cols, c0 + TILE);
      for (let r = r0; r < r1; r++) for (let q = c0; q < c1; q++) dst[q * rows + r] = src[off + r * cols + q];
    }
  }
}

function gemmAt(p: GemmParams, a: F32, a0: number, b: F32, b0: number, c: F32, c0: number, aRow: Float64Array, bt: F32 | null): void {
  const { M, N, K, transA, alpha, beta } = p;
  // bs/bo: op(B)ᵀ as N rows of K, either B itself (stored N×K) or its transposed copy.
  let bs = b;
  let bo = b0;
  if (bt) {
    transpose(b, b0, K, N, bt);
    bs = bt;
    bo = 0;
  }
  for (let i = 0; i < M; i++) {
    if (transA) for (let q = 0; q < K; q++) aRow[q] = a[a0 + q * M + i];
    else for (let q = 0; q < K; q++) aRow[q] = a[a0 + i * K + q];
    const cRow = c0 + i * N;
    let j = 0;
    for (; j + 4 <= N; j += 4) {
      const r0 = bo + j * K;
      const r1 = r0 + K;
      const r2 = r1 + K;
      const r3 = r2 + K;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let q = 0; q < K; q++) {
        const x = aRow[q];
        s0 += x * bs[r0 + q];
        s1 += x * bs[r1 + q];
        s2 += x * bs[r2 + q];
        s3 += x * bs[r3 + q];
      }
      store(c, cRow + j, s0, alpha, beta);
      store(c, cRow + j + 1, s1, alpha, beta);
      store(c, cRow + j + 2, s2, alpha, beta);
      store(c, cRow + j + 3, s3, alpha, beta);
    }
    for (; j < N; j++) {
      const r = bo + j * K;
      let s = 0;
      for (let q = 0; q < K; q++) s += aRow[q] * bs[r + q];
      store(c, cRow + j, s, alpha, beta);
    }
  }
}

/** C = alpha·s + beta·C; beta = 0 never reads C, so stale NaNs in it do not leak through. */
function store(c: F32, at: number, s: number, alpha: number, beta: number): void {
  c[at] = beta === 0 ? alpha * s : alpha * s + beta * c[at];
}
