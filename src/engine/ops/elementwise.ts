// Elementwise arithmetic with PyTorch broadcasting. Unary ops go through the `unary`
// kernel and get their derivative from `unaryBackward`; binary ops through `binary`,
// with broadcast gradients summed back to each operand's shape.
import { kernels } from '../../backend/registry.js';
import type { BinaryOp, UnaryOp } from '../../backend/types.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { broadcastShapes } from '../shape-util.js';
import { binaryRaw, sumToShape } from './strided.js';

export function checkTensor(x: unknown, op: string, arg: string): Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: ${arg} must be a Tensor, got ${x === null ? 'null' : typeof x}`);
  // A detached or replaced buffer: the same TypeError on every backend, naming the argument.
  const d = x.storage.data;
  if (!(d instanceof Float32Array) || d.length !== x.size) {
    throw new TypeError(`${op}: ${arg}'s storage no longer holds its ${x.size} float32 values (a detached buffer or a replaced storage.data)`);
  }
  return x;
}

function scalarTensor(v: number): Tensor {
  const t = Tensor.empty([]);
  t.data[0] = v;
  return t;
}

function operand(x: unknown, op: string, arg: string): Tensor {
  if (typeof x === 'number') return scalarTensor(x);
  return checkTensor(x, op, arg);
}

/** y = f(x) for a kernel UnaryOp, with its derivative from unaryBackward. */
export function unaryOp(x: Tensor, op: UnaryOp, name: string, alpha = 0, beta = 0): Tensor {
  checkTensor(x, name, 'input');
  const p = { op, n: x.size, alpha, beta };
  const y = Tensor.uninit(x.shape); // unary and unaryBackward overwrite every element
  if (x.size > 0) kernels().unary(p, x.data, y.data);
  return record(y, name, [x], (g) => {
    const dx = Tensor.uninit(x.shape);
    if (x.size > 0) kernels().unaryBackward(p, x.data, y.data, g.data, dx.data);
    return [dx];
  });
}

function binaryOp(op: BinaryOp, a0: Tensor | number, b0: Tensor | number, name: string, back: (g: Tensor, a: Tensor, b: Tensor, y: Tensor, needs: readonly boolean[]) => [Tensor | null, Tensor | null]): Tensor {
  const a = operand(a0, name, 'a');
  const b = operand(b0, name, 'b');
  const shape = broadcastShapes(a.shape, b.shape, name);
  const y = binaryRaw(op, a, b, shape);
  return record(y, name, [a, b], (g, needs) => {
    const [ga, gb] = back(g, a, b, y, needs);
    return [ga && sumToShape(ga, a.shape), gb && sumToShape(gb, b.shape)];
  });
}

const mulRaw = (a: Tensor, b: Tensor) => binaryRaw('mul', a, b, broadcastShapes(a.shape, b.shape, 'mul'));
const divRaw = (a: Tensor, b: Tensor) => binaryRaw('div', a, b, broadcastShapes(a.shape, b.shape, 'div'));
const negRaw = (x: Tensor) => {
  const y = Tensor.empty(x.shape);
  if (x.size > 0) kernels().unary({ op: 'neg', n: x.size, alpha: 0, beta: 0 }, x.data, y.data);
  return y;
};

export function add(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) return unaryOp(a, 'addScalar', 'add', num(b, 'add'));
  if (typeof a === 'number' && b instanceof Tensor) return unaryOp(b, 'addScalar', 'add', num(a, 'add'));
  return binaryOp('add', a, b, 'add', (g) => [g, g]);
}

export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) return unaryOp(a, 'addScalar', 'sub', -num(b, 'sub'));
  return binaryOp('sub', a, b, 'sub', (g, _a, _b, _y, needs) => [g, needs[1] ? negRaw(g) : null]);
}

export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) return unaryOp(a, 'mulScalar', 'mul', num(b, 'mul'));
  if (typeof a === 'number' && b instanceof Tensor) return unaryOp(b, 'mulScalar', 'mul', num(a, 'mul'));
  return binaryOp('mul', a, b, 'mul', (g, x, w, _y, needs) => [needs[0] ? mulRaw(g, w) : null, needs[1] ? mulRaw(g, x) : null]);
}

export function div(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) return unaryOp(a, 'mulScalar', 'div', 1 / num(b, 'div'));
  // d(a/b)/db = −a/b² = −y/b.
  return binaryOp('div', a, b, 'div', (g, _x, w, y, needs) => [
    needs[0] ? divRaw(g, w) : null,
    needs[1] ? negRaw(divRaw(mulRaw(g, y), w)) : null,
  ]);
}

/** x^e. A tensor exponent differentiates as y·ln(x) (NaN for negative bases, as in PyTorch). */
export function pow(a: Tensor | number, b: Tensor | number): Tensor {
  if (typeof b === 'number' && a instanceof Tensor) return unaryOp(a, 'powScalar', 'pow', num(b, 'pow'));
  return binaryOp('pow', a, b, 'pow', (g, x, e, y, needs) => {
    let ga: Tensor | null = null;
    let gb: Tensor | null = null;
    if (needs[0]) {
      // e · x^(e − 1) · g, computed as e · x^e / x would be NaN at x = 0.
      const em1 = unaryRawOp(e, 'addScalar', -1);
      ga = mulRaw(mulRaw(g, e), binaryRaw('pow', x, em1, broadcastShapes(x.shape, em1.shape, 'pow')));
    }
    if (needs[1]) gb = mulRaw(mulRaw(g, y), unaryRawOp(x, 'log'));
    return [ga, gb];
  });
}

function unaryRawOp(x: Tensor, op: UnaryOp, alpha = 0, beta = 0): Tensor {
  const y = Tensor.empty(x.shape);
  if (x.size > 0) kernels().unary({ op, n: x.size, alpha, beta }, x.data, y.data);
  return y;
}

/** The derivative of max/min: g where `win` > `lose`, g/2 on ties (PyTorch), 0 elsewhere. */
function selectGrad(g: Tensor, win: Tensor, lose: Tensor): Tensor {
  const shape = g.shape;
  const d = binaryRaw('sub', win, lose, shape);
  const nd = negRaw(d);
  // unaryBackward('relu') passes dy where its argument is > 0: a mask without a compare kernel.
  const p = { op: 'relu' as const, n: g.size, alpha: 0, beta: 0 };
  const above = Tensor.empty(shape);
  const below = Tensor.empty(shape);
  if (g.size > 0) {
    kernels().unaryBackward(p, d.data, d.data, g.data, above.data);
    kernels().unaryBackward(p, nd.data, nd.data, g.data, below.data);
  }
  // g·[d>0] + ½·g·[d=0] = ½·(g·[d>0] + g − g·[d<0]).
  const notBelow = binaryRaw('sub', g, below, shape);
  return unaryRawOp(binaryRaw('add', above, notBelow, shape), 'mulScalar', 0.5);
}

export function maximum(a: Tensor | number, b: Tensor | number): Tensor {
  return binaryOp('maximum', a, b, 'maximum', (g, x, w, _y, needs) => [needs[0] ? selectGrad(g, x, w) : null, needs[1] ? selectGrad(g, w, x) : null]);
}

export function minimum(a: Tensor | number, b: Tensor | number): Tensor {
  return binaryOp('minimum', a, b, 'minimum', (g, x, w, _y, needs) => [needs[0] ? selectGrad(g, w, x) : null, needs[1] ? selectGrad(g, x, w) : null]);
}

/** A scalar operand. NaN and ±Infinity are values (not sizes), so they pass, as in PyTorch. */
function num(v: number, op: string): number {
  if (typeof v !== 'number') throw new TypeError(`${op}: a scalar operand must be a number, got ${typeof v}`);
  return v;
}

export const neg = (x: Tensor) => unaryOp(x, 'neg', 'neg');
export const exp = (x: Tensor) => unaryOp(x, 'exp', 'exp');
export const log = (x: Tensor) => unaryOp(x, 'log', 'log');
export const sqrt = (x: Tensor) => unaryOp(x, 'sqrt', 'sqrt');
export const abs = (x: Tensor) => unaryOp(x, 'abs', 'abs');
export const square = (x: Tensor) => unaryOp(x, 'square', 'square');
export const reciprocal = (x: Tensor) => unaryOp(x, 'reciprocal', 'reciprocal');

/** min(max(x, min), max); either bound may be omitted. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  if (typeof lo !== 'number' || Number.isNaN(lo)) throw new TypeError(`clamp: min must be a number, got ${String(min)}`);
  if (typeof hi !== 'number' || Number.isNaN(hi)) throw new TypeError(`clamp: max must be a number, got ${String(max)}`);
  if (lo > hi) throw new RangeError(`clamp: min (${lo}) is greater than max (${hi})`);
  return unaryOp(x, 'clamp', 'clamp', lo, hi);
}
