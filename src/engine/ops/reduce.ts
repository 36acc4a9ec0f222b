// Reductions: sum, mean (over any set of dims) and max (over one dim or everything).
import { kernels } from '../../backend/registry.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { normDim, prod } from '../shape-util.js';
import { checkTensor } from './elementwise.js';
import { expandRaw, sumDimsRaw } from './strided.js';

/** Sorted unique normalised dims; omitted (or [], as in PyTorch) means every dim. */
function reduceDims(x: Tensor, dims: number | number[] | undefined | null, op: string): number[] {
  if (dims === undefined || dims === null || (Array.isArray(dims) && dims.length === 0)) return x.shape.map((_, i) => i);
  const list = typeof dims === 'number' ? [dims] : dims;
  if (!Array.isArray(list)) throw new TypeError(`${op}: dims must be a number or an array of numbers, got ${String(dims)}`);
  const norm = list.map((d, i) => normDim(d, x.ndim, op, Array.isArray(dims) ? `dims[${i}]` : 'dim'));
  const set = [...new Set(norm)].sort((a, b) => a - b);
  if (set.length !== norm.length) throw new RangeError(`${op}: dims ${JSON.stringify(list)} name the same dim twice`);
  return set;
}

function outShape(x: Tensor, dims: number[], keepdim: boolean): number[] {
  if (keepdim) return x.shape.map((s, i) => (dims.includes(i) ? 1 : s));
  return x.shape.filter((_, i) => !dims.includes(i));
}

function scaled(x: Tensor, alpha: number): Tensor {
  const y = Tensor.empty(x.shape);
  if (x.size > 0) kernels().unary({ op: 'mulScalar', n: x.size, alpha, beta: 0 }, x.data, y.data);
  return y;
}

/** Sum over `dims` (all dims when omitted: a scalar of shape []). */
export function sum(x: Tensor, dims?: number | number[] | null, keepdim = false): Tensor {
  checkTensor(x, 'sum', 'input');
  const ds = reduceDims(x, dims, 'sum');
  const kept = sumDimsRaw(x, ds); // keepdim layout
  const y = Tensor.fromData(kept.data, outShape(x, ds, keepdim));
  return record(y, 'sum', [x], (g) => [expandRaw(Tensor.fromData(g.data, kept.shape), x.shape)]);
}

/** Mean over `dims` (all dims when omitted). */
export function mean(x: Tensor, dims?: number | number[] | null, keepdim = false): Tensor {
  checkTensor(x, 'mean', 'input');
  const ds = reduceDims(x, dims, 'mean');
  const count = prod(ds.map((d) => x.shape[d]));
  const kept = scaled(sumDimsRaw(x, ds), 1 / count); // count 0 gives NaN, like PyTorch's mean of an empty tensor
  const y = Tensor.fromData(kept.data, outShape(x, ds, keepdim));
  return record(y, 'mean', [x], (g) => [scaled(expandRaw(Tensor.fromData(g.data, kept.shape), x.shape), 1 / count)]);
}

/**
 * Max over one dim (or over everything when dim is omitted: a scalar). The gradient goes
 * to the first maximal element, as PyTorch's max(dim) does.
 */
export function max(x: Tensor, dim?: number | null, keepdim = false): Tensor {
  checkTensor(x, 'max', 'input');
  if (x.size === 0) throw new RangeError('max: the input is empty; a maximum needs at least one element');
  const all = dim === undefined || dim === null;
  const d = all ? 0 : normDim(dim, x.ndim, 'max');
  const outer = all ? 1 : prod(x.shape.slice(0, d));
  const mid = all ? x.size : x.shape[d];
  const inner = all ? 1 : prod(x.shape.slice(d + 1));
  const y = new Float32Array(outer * inner);
  const argmax = new Int32Array(outer * inner);
  kernels().reduceMax({ outer, mid, inner }, x.data, y, argmax);
  let shape: number[];
  if (all) shape = keepdim ? x.shape.map(() => 1) : [];
  else shape = keepdim ? x.shape.map((s, i) => (i === d ? 1 : s)) : x.shape.filter((_, i) => i !== d);
  return record(Tensor.fromData(y, shape), 'max', [x], (g) => {
    // The table has no scatter kernel; this writes only outer·inner values.
    const dx = Tensor.empty(x.shape);
    const gd = g.data;
    const dxd = dx.data; // hoisted: .data checks the storage on every read
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const k = o * inner + i;
        dxd[(o * mid + argmax[k]) * inner + i] = gd[k];
      }
    }
    return [dx];
  });
}
