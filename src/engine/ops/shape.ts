// Shape ops. Views (reshape, flatten, unsqueeze, squeeze) share storage because every
// tensor is contiguous; the rest (permute, transpose, slice, concat, expand) copy
// through the stridedCopy kernel and differentiate with the inverse copy.
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { checkShape, checkSize, fmt, normDim, prod, stridesOf } from '../shape-util.js';
import { checkTensor } from './elementwise.js';
import { copyStrided, expandRaw, sumToShape } from './strided.js';

/** A view with a new shape (one entry may be −1). */
export function reshape(x: Tensor, shape: number[]): Tensor {
  checkTensor(x, 'reshape', 'input');
  if (!Array.isArray(shape)) throw new TypeError(`reshape: shape must be an array of sizes, got ${String(shape)}`);
  let infer = -1;
  const s = shape.map((v, i) => {
    if (v === -1) {
      if (infer >= 0) throw new RangeError(`reshape: only one dim may be -1, got ${fmt(shape)}`);
      infer = i;
      return 1;
    }
    return checkSize(v, 'reshape', `shape[${i}]`);
  });
  const known = prod(s);
  if (infer >= 0) {
    if (known === 0 || x.size % known !== 0) throw new RangeError(`reshape: cannot infer the -1 in ${fmt(shape)} for ${x.size} elements`);
    s[infer] = x.size / known;
  }
  if (prod(s) !== x.size) throw new RangeError(`reshape: shape ${fmt(shape)} has ${prod(s)} elements but the input ${fmt(x.shape)} has ${x.size}`);
  return viewAs(x, s, 'reshape');
}

export const view = reshape;

function viewAs(x: Tensor, shape: number[], name: string): Tensor {
  const y = new Tensor(x.storage, shape);
  return record(y, name, [x], (g) => [new Tensor(g.storage, x.shape)]);
}

/** Merges dims start..end (inclusive) into one. */
export function flatten(x: Tensor, start = 0, end = -1): Tensor {
  checkTensor(x, 'flatten', 'input');
  if (x.ndim === 0) return viewAs(x, [1], 'flatten');
  const s = normDim(start, x.ndim, 'flatten', 'start');
  const e = normDim(end, x.ndim, 'flatten', 'end');
  if (s > e) throw new RangeError(`flatten: start (${start}) comes after end (${end})`);
  const shape = [...x.shape.slice(0, s), prod(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return viewAs(x, shape, 'flatten');
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  checkTensor(x, 'unsqueeze', 'input');
  const d = normDim(dim, x.ndim + 1, 'unsqueeze');
  const shape = x.shape.slice();
  shape.splice(d, 0, 1);
  return viewAs(x, shape, 'unsqueeze');
}

/** Removes size-1 dims (all of them, or only `dim`, which is then a no-op if its size is not 1). */
export function squeeze(x: Tensor, dim?: number): Tensor {
  checkTensor(x, 'squeeze', 'input');
  if (dim === undefined) return viewAs(x, x.shape.filter((s) => s !== 1), 'squeeze');
  if (x.ndim === 0) return viewAs(x, [], 'squeeze');
  const d = normDim(dim, x.ndim, 'squeeze');
  if (x.shape[d] !== 1) return viewAs(x, x.shape, 'squeeze');
  return viewAs(x, x.shape.filter((_, i) => i !== d), 'squeeze');
}

/** A differentiable copy. */
export function clone(x: Tensor): Tensor {
  checkTensor(x, 'clone', 'input');
  const y = Tensor.uninit(x.shape); // every element copied
  copyStrided(x.shape, x.data, stridesOf(x.shape), 0, y.data, stridesOf(x.shape), 0);
  return record(y, 'clone', [x], (g) => [g]);
}

/** Reorders dims; returns a contiguous copy. */
export function permute(x: Tensor, dims: number[]): Tensor {
  checkTensor(x, 'permute', 'input');
  if (!Array.isArray(dims) || dims.length !== x.ndim) {
    throw new RangeError(`permute: dims must list each of the input's ${x.ndim} dims once, got ${JSON.stringify(dims)}`);
  }
  const p = dims.map((d, i) => normDim(d, x.ndim, 'permute', `dims[${i}]`));
  if (new Set(p).size !== p.length) throw new RangeError(`permute: dims ${JSON.stringify(dims)} repeat a dim`);
  const shape = p.map((d) => x.shape[d]);
  const xs = stridesOf(x.shape);
  const y = Tensor.uninit(shape); // every element copied
  copyStrided(shape, x.data, p.map((d) => xs[d]), 0, y.data, stridesOf(shape), 0);
  return record(y, 'permute', [x], (g) => {
    // Scatter back: walk g in order, writing to the permuted positions of dx.
    const dx = Tensor.empty(x.shape);
    copyStrided(shape, g.data, stridesOf(shape), 0, dx.data, p.map((d) => xs[d]), 0);
    return [dx];
  });
}

export function transpose(x: Tensor, d0: number, d1: number): Tensor {
  checkTensor(x, 'transpose', 'input');
  const a = normDim(d0, x.ndim, 'transpose', 'd0');
  const b = normDim(d1, x.ndim, 'transpose', 'd1');
  const dims = x.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** Elements start, start + step, ... < end along `dim` (negative start/end count from the end; clamped). */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  checkTensor(x, 'slice', 'input');
  const d = normDim(dim, x.ndim, 'slice');
  const n = x.shape[d];
  for (const [v, name] of [
    [start, 'start'],
    [end ?? 0, 'end'],
  ] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`slice: ${name} must be an integer, got ${String(v)}`);
  }
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 1) throw new RangeError(`slice: step must be a positive integer, got ${String(step)}`);
  const clampIdx = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  const s0 = clampIdx(start);
  const e0 = end === undefined ? n : clampIdx(end);
  const len = Math.max(0, Math.ceil((e0 - s0) / step));
  const shape = x.shape.slice();
  shape[d] = len;
  const xs = stridesOf(x.shape);
  const srcStrides = xs.slice();
  srcStrides[d] = xs[d] * step;
  const y = Tensor.uninit(shape); // every element copied
  copyStrided(shape, x.data, srcStrides, s0 * xs[d], y.data, stridesOf(shape), 0);
  return record(y, 'slice', [x], (g) => {
    const dx = Tensor.empty(x.shape);
    copyStrided(shape, g.data, stridesOf(shape), 0, dx.data, srcStrides, s0 * xs[d]);
    return [dx];
  });
}

/** Joins tensors along `dim`; all other dims must match. */
export function concat(xs: Tensor[], dim: number): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new TypeError('concat: xs must be a non-empty array of tensors');
  xs.forEach((t, i) => checkTensor(t, 'concat', `xs[${i}]`));
  const first = xs[0];
  const d = normDim(dim, first.ndim, 'concat');
  xs.forEach((t, i) => {
    if (t.ndim !== first.ndim || t.shape.some((s, k) => k !== d && s !== first.shape[k])) {
      throw new RangeError(`concat: xs[${i}] has shape ${fmt(t.shape)}, which does not match xs[0] ${fmt(first.shape)} outside dim ${d}`);
    }
  });
  const shape = first.shape.slice();
  shape[d] = xs.reduce((a, t) => a + t.shape[d], 0);
  const ys = stridesOf(shape);
  const y = Tensor.uninit(shape); // the parts cover every element
  const offsets: number[] = [];
  let off = 0;
  for (const t of xs) {
    offsets.push(off * ys[d]);
    copyStrided(t.shape, t.data, stridesOf(t.shape), 0, y.data, ys, off * ys[d]);
    off += t.shape[d];
  }
  return record(y, 'concat', xs, (g, needs) =>
    xs.map((t, i) => {
      if (!needs[i]) return null;
      const dx = Tensor.empty(t.shape);
      copyStrided(t.shape, g.data, ys, offsets[i], dx.data, stridesOf(t.shape), 0);
      return dx;
    }),
  );
}

export const cat = concat;

/** Stacks equal-shaped tensors along a new dim. */
export function stack(xs: Tensor[], dim = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new TypeError('stack: xs must be a non-empty array of tensors');
  xs.forEach((t, i) => checkTensor(t, 'stack', `xs[${i}]`));
  const d = normDim(dim, xs[0].ndim + 1, 'stack');
  return concat(xs.map((t) => unsqueeze(t, d)), d);
}

/** Broadcasts to `shape` (−1 keeps a dim), as a contiguous copy. */
export function expand(x: Tensor, shape: number[]): Tensor {
  checkTensor(x, 'expand', 'input');
  checkShape(shape.map((s) => (s === -1 ? 0 : s)), 'expand');
  if (shape.length < x.ndim) throw new RangeError(`expand: shape ${fmt(shape)} has fewer dims than the input ${fmt(x.shape)}`);
  const off = shape.length - x.ndim;
  const target = shape.map((s, i) => {
    const own = i >= off ? x.shape[i - off] : 1;
    if (s === -1) {
      if (i < off) throw new RangeError(`expand: -1 is not allowed for the new leading dim ${i}`);
      return own;
    }
    if (own !== 1 && own !== s) throw new RangeError(`expand: the input's dim ${i - off} has size ${own}, which cannot expand to ${s}`);
    return s;
  });
  const y = expandRaw(x, target);
  return record(y, 'expand', [x], (g) => [sumToShape(g, x.shape)]);
}
