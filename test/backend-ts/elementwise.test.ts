import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { binary, unary, unaryBackward } from '../../src/backend/ts/elementwise.js';
import type { BinaryOp, UnaryOp } from '../../src/backend/types.js';
import { close, randArray, rng } from './helpers.js';

/** Independent float64 definitions of every unary op, with the alpha/beta each one uses. */
const defs: { op: UnaryOp; f: (x: number) => number; alpha?: number; beta?: number; lo?: number; hi?: number }[] = [
  { op: 'neg', f: (x) => 0 - x },
  { op: 'relu', f: (x) => (x > 0 ? x : 0) },
  { op: 'leakyRelu', f: (x) => (x >= 0 ? x : 0.2 * x), alpha: 0.2 },
  { op: 'sigmoid', f: (x) => Math.exp(x) / (1 + Math.exp(x)) },
  { op: 'tanh', f: (x) => (Math.exp(2 * x) - 1) / (Math.exp(2 * x) + 1) },
  { op: 'silu', f: (x) => (x * Math.exp(x)) / (1 + Math.exp(x)) },
  { op: 'exp', f: (x) => Math.E ** x },
  { op: 'log', f: (x) => Math.log(x), lo: 0.2, hi: 3 },
  { op: 'sqrt', f: (x) => x ** 0.5, lo: 0.2, hi: 3 },
  { op: 'abs', f: (x) => (x < 0 ? -x : x) },
  { op: 'square', f: (x) => x ** 2 },
  { op: 'reciprocal', f: (x) => x ** -1, lo: 0.3, hi: 2 },
  { op: 'softplus', f: (x) => Math.log(1 + Math.exp(x)), lo: -5, hi: 5 },
  { op: 'clamp', f: (x) => (x < -0.5 ? -0.5 : x > 0.25 ? 0.25 : x), alpha: -0.5, beta: 0.25 },
  { op: 'powScalar', f: (x) => x ** 2.5, alpha: 2.5, lo: 0.2, hi: 2 },
  { op: 'addScalar', f: (x) => x + 1.5, alpha: 1.5 },
  { op: 'mulScalar', f: (x) => x * -3, alpha: -3 },
];

for (const d of defs) {
  test(`unary ${d.op}: value and derivative (central differences in float64)`, () => {
    const r = rng(d.op.length * 31 + 7);
    const n = 37;
    const x = randArray(r, n, d.lo ?? -3, d.hi ?? 3);
    const p = { op: d.op, n, alpha: d.alpha ?? 0, beta: d.beta ?? 0 };
    const y = new Float32Array(n);
    unary(p, x, y);
    close(y, Array.from(x, d.f), 1e-6, 2e-6, 'y');
    const dy = randArray(r, n);
    const dx = new Float32Array(n);
    unaryBackward(p, x, y, dy, dx);
    const h = 1e-6;
    const expected = Array.from(x, (xi, i) => {
      // Points within h of a kink (relu at 0, clamp bounds) would make the difference meaningless.
      return (dy[i] * (d.f(xi + h) - d.f(xi - h))) / (2 * h);
    });
    close(dx, expected, 1e-4, 1e-4, 'dx');
  });
}

test('softplus is the identity above 20 and exact for very negative inputs', () => {
  const x = new Float32Array([30, -30]);
  const y = new Float32Array(2);
  unary({ op: 'softplus', n: 2, alpha: 0, beta: 0 }, x, y);
  close(y, [30, Math.log1p(Math.exp(-30))], 0, 1e-6);
});

test('relu, clamp and maximum propagate NaN; relu/clamp gradients at the boundary', () => {
  const x = new Float32Array([NaN, 0, -1, 2]);
  const y = new Float32Array(4);
  unary({ op: 'relu', n: 4, alpha: 0, beta: 0 }, x, y);
  assert.ok(Number.isNaN(y[0]));
  close(y.subarray(1), [0, 0, 2]);
  const dx = new Float32Array(4);
  unaryBackward({ op: 'relu', n: 4, alpha: 0, beta: 0 }, x, y, new Float32Array([1, 1, 1, 1]), dx);
  close(dx.subarray(1), [0, 0, 1]);
  unary({ op: 'clamp', n: 4, alpha: 0, beta: 1 }, x, y);
  assert.ok(Number.isNaN(y[0]));
  close(y.subarray(1), [0, 0, 1]);
  unaryBackward({ op: 'clamp', n: 4, alpha: 0, beta: 2 }, x, y, new Float32Array([1, 1, 1, 1]), dx);
  close(dx.subarray(1), [1, 0, 1], 0, 0, 'clamp gradient includes both bounds');
  unaryBackward({ op: 'powScalar', n: 4, alpha: 0, beta: 0 }, x, y, new Float32Array([1, 1, 1, 1]), dx);
  close(dx, [0, 0, 0, 0], 0, 0, 'd/dx x^0');
});

const binaryDefs: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  maximum: (a, b) => (a > b ? a : b),
  minimum: (a, b) => (a < b ? a : b),
  pow: (a, b) => a ** b,
};

/** Broadcast reference: index each operand by its own (possibly size-1) shape, right-aligned. */
function broadcastRef(f: (a: number, b: number) => number, shape: number[], aShape: number[], bShape: number[], a: Float32Array, b: Float32Array): number[] {
  const total = shape.reduce((m, s) => m * s, 1);
  const out: number[] = [];
  const flatIndex = (idx: number[], s: number[]) => {
    let k = 0;
    const off = idx.length - s.length;
    for (let d = 0; d < s.length; d++) k = k * s[d] + (s[d] === 1 ? 0 : idx[off + d]);
    return k;
  };
  for (let t = 0; t < total; t++) {
    const idx: number[] = [];
    let rem = t;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx.unshift(rem % shape[d]);
      rem = Math.floor(rem / shape[d]);
    }
    out.push(f(a[flatIndex(idx, aShape)], b[flatIndex(idx, bShape)]));
  }
  return out;
}

/** Strides of operand shape `s` expanded to `shape` (0 on broadcast dims). */
function expandedStrides(shape: number[], s: number[]): number[] {
  const full = [...new Array(shape.length - s.length).fill(1), ...s];
  const st: number[] = new Array(shape.length).fill(0);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = full[d] === 1 ? 0 : acc;
    acc *= full[d];
  }
  return st;
}

for (const op of Object.keys(binaryDefs) as BinaryOp[]) {
  test(`binary ${op}: flat and broadcast paths`, () => {
    const r = rng(op.length * 13 + 1);
    const f = binaryDefs[op];
    const positive = op === 'pow';
    const cases: [number[], number[], number[]][] = [
      [[3, 5, 7], [3, 5, 7], [3, 5, 7]], // flat
      [[2, 3, 4, 5], [2, 3, 4, 5], [3, 1, 1]], // per-channel operand
      [[2, 3, 4, 5], [2, 1, 4, 1], [1, 3, 1, 5]], // both broadcast
      [[4, 3], [1], [4, 3]], // scalar operand
    ];
    for (const [shape, aShape, bShape] of cases) {
      const a = randArray(r, aShape.reduce((m, s) => m * s, 1), positive ? 0.1 : -2, 2);
      const b = randArray(r, bShape.reduce((m, s) => m * s, 1), positive ? -2 : -2, 2);
      const y = new Float32Array(shape.reduce((m, s) => m * s, 1));
      binary({ op, shape, aStrides: expandedStrides(shape, aShape), bStrides: expandedStrides(shape, bShape) }, a, b, y);
      close(y, broadcastRef(f, shape, aShape, bShape, a, b), 1e-6, 1e-6, `${op} ${JSON.stringify([shape, aShape, bShape])}`);
    }
  });
}

test('binary over 6 dims with a transposed, broadcast operand', () => {
  const r = rng(9);
  const shape = [2, 1, 3, 2, 2, 3];
  const n = 72;
  const a = randArray(r, n);
  // b is a 3×2 matrix read transposed as the last two dims: b'[i4, i5] = b[i5·2 + i4].
  const b = randArray(r, 6);
  const y = new Float32Array(n);
  binary({ op: 'sub', shape, aStrides: [36, 36, 12, 6, 3, 1], bStrides: [0, 0, 0, 0, 1, 2] }, a, b, y);
  const expected = Array.from(a, (ai, t) => ai - b[(t % 3) * 2 + (Math.floor(t / 3) % 2)]);
  close(y, expected, 1e-6, 1e-6, 'y');
});

test.run();
