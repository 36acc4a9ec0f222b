// Strided copy (permute, slice, concat, expand and their backwards), fill and axpy.
import type { F32, StridedCopyParams } from '../types.js';

const MAX_DIMS = 6;

export function stridedCopy(p: StridedCopyParams, src: F32, dst: F32): void {
  const { shape, srcStrides, dstStrides, srcOffset, dstOffset, accumulate } = p;
  if (shape.length > MAX_DIMS) throw new Error(`stridedCopy: shape has ${shape.length} dims; collapse it to at most ${MAX_DIMS}`);
  for (const s of shape) if (s === 0) return;
  // Left-pad to 6 dims; the last dim is the innermost run.
  const pad = MAX_DIMS - shape.length;
  const S = [...new Array<number>(pad).fill(1), ...shape];
  const A = [...new Array<number>(pad).fill(0), ...srcStrides];
  const B = [...new Array<number>(pad).fill(0), ...dstStrides];
  const len = S[5];
  const as = A[5];
  const bs = B[5];
  for (let i0 = 0; i0 < S[0]; i0++)
    for (let i1 = 0; i1 < S[1]; i1++)
      for (let i2 = 0; i2 < S[2]; i2++)
        for (let i3 = 0; i3 < S[3]; i3++)
          for (let i4 = 0; i4 < S[4]; i4++) {
            const si = srcOffset + i0 * A[0] + i1 * A[1] + i2 * A[2] + i3 * A[3] + i4 * A[4];
            const di = dstOffset + i0 * B[0] + i1 * B[1] + i2 * B[2] + i3 * B[3] + i4 * B[4];
            if (accumulate) for (let t = 0; t < len; t++) dst[di + t * bs] += src[si + t * as];
            else if (as === 1 && bs === 1 && len >= 64) dst.set(src.subarray(si, si + len), di);
            else for (let t = 0; t < len; t++) dst[di + t * bs] = src[si + t * as];
          }
}

export function fill(p: { n: number; value: number }, y: F32): void {
  y.fill(p.value, 0, p.n);
}

/** y += alpha · x. */
export function axpy(p: { n: number; alpha: number }, x: F32, y: F32): void {
  const { n, alpha } = p;
  if (alpha === 1) for (let i = 0; i < n; i++) y[i] += x[i];
  else for (let i = 0; i < n; i++) y[i] += alpha * x[i];
}
