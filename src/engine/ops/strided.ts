// Raw (non-recording) building blocks over the strided kernels: strided copy, broadcast
// binary op, sum over a set of dims. They collapse dims before dispatch, and split the
// rare > 6-dim remainder into several kernel calls, so kernels only see ≤ 6 dims.
import { kernels } from '../../backend/registry.js';
import type { BinaryOp } from '../../backend/types.js';
import { Tensor } from '../tensor.js';
import { broadcastStrides, collapse, prod, sameShape, stridesOf } from '../shape-util.js';

const MAX_DIMS = 6;

/** dst[dstOffset + i·dstStrides] (=|+=) src[srcOffset + i·srcStrides] for every index i of shape. */
export function copyStrided(
  shape: readonly number[],
  src: Float32Array,
  srcStrides: readonly number[],
  srcOffset: number,
  dst: Float32Array,
  dstStrides: readonly number[],
  dstOffset: number,
  accumulate = false,
): void {
  if (prod(shape) === 0) return;
  const c = collapse(shape, [srcStrides, dstStrides]);
  const run = (depth: number, so: number, dof: number) => {
    if (c.shape.length - depth <= MAX_DIMS) {
      kernels().stridedCopy(
        {
          shape: c.shape.slice(depth),
          srcStrides: c.strides[0].slice(depth),
          srcOffset: so,
          dstStrides: c.strides[1].slice(depth),
          dstOffset: dof,
          accumulate,
        },
        src,
        dst,
      );
      return;
    }
    for (let i = 0; i < c.shape[depth]; i++) run(depth + 1, so + i * c.strides[0][depth], dof + i * c.strides[1][depth]);
  };
  run(0, srcOffset, dstOffset);
}

/** A contiguous copy of `x` broadcast to `shape` (stride-0 reads on broadcast dims). */
export function expandRaw(x: Tensor, shape: readonly number[]): Tensor {
  const out = Tensor.uninit(shape); // the copy writes every element
  copyStrided(shape, x.data, broadcastStrides(x.shape, shape), 0, out.data, stridesOf(shape), 0);
  return out;
}

/** y = a op b with broadcasting to `shape` (already validated). */
export function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor, shape: readonly number[]): Tensor {
  const out = Tensor.uninit(shape); // the binary kernel calls write every element
  if (out.size === 0) return out;
  const c = collapse(shape, [broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape), stridesOf(shape)]);
  const [as, bs, ys] = c.strides;
  const run = (depth: number, ao: number, bo: number, yo: number) => {
    if (c.shape.length - depth <= MAX_DIMS) {
      kernels().binary(
        { op, shape: c.shape.slice(depth), aStrides: as.slice(depth), bStrides: bs.slice(depth) },
        ao === 0 ? a.data : a.data.subarray(ao),
        bo === 0 ? b.data : b.data.subarray(bo),
        yo === 0 ? out.data : out.data.subarray(yo),
      );
      return;
    }
    for (let i = 0; i < c.shape[depth]; i++) run(depth + 1, ao + i * as[depth], bo + i * bs[depth], yo + i * ys[depth]);
  };
  run(0, 0, 0, 0);
  return out;
}

/**
 * Sum over `dims` (sorted, unique, normalised); the result keeps size-1 dims in their
 * place (keepdim layout). Runs of adjacent dims reduce in one kernel call.
 */
export function sumDimsRaw(x: Tensor, dims: readonly number[]): Tensor {
  let shape = x.shape.slice();
  let data = x.data;
  // Group into runs of consecutive dims, reduce from the last run so earlier indices stay valid.
  const runs: [number, number][] = [];
  for (const d of dims) {
    const last = runs[runs.length - 1];
    if (last && last[1] === d) last[1] = d + 1;
    else runs.push([d, d + 1]);
  }
  for (let r = runs.length - 1; r >= 0; r--) {
    const [lo, hi] = runs[r];
    const outer = prod(shape.slice(0, lo));
    const mid = prod(shape.slice(lo, hi));
    const inner = prod(shape.slice(hi));
    const y = new Float32Array(outer * inner);
    if (mid > 0 && y.length > 0) kernels().reduceSum({ outer, mid, inner }, data, y);
    data = y;
    shape = [...shape.slice(0, lo), ...new Array<number>(hi - lo).fill(1), ...shape.slice(hi)];
  }
  return Tensor.fromData(data === x.data ? data.slice() : data, shape);
}

/** The gradient of a broadcast: sums `g` down to `shape` (leading dims and size-1 dims). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let d = 0; d < g.ndim; d++) if (d < lead || (shape[d - lead] === 1 && g.shape[d] !== 1)) dims.push(d);
  const s = sumDimsRaw(g, dims);
  return Tensor.fromData(s.data, shape);
}
