// Elementwise kernels: every UnaryOp with its derivative, and broadcasting binary ops.
// Each op has its own loop (the switch sits outside), so the JIT sees one tight,
// monomorphic loop per op instead of a function call per element.
import type { BinaryOp, BinaryParams, F32, UnaryParams } from '../types.js';

/** PyTorch's softplus defaults: beta = 1, and the identity above threshold = 20. */
const SOFTPLUS_THRESHOLD = 20;

export function unary(p: UnaryParams, x: F32, y: F32): void {
  const { n, alpha, beta } = p;
  switch (p.op) {
    case 'neg':
      for (let i = 0; i < n; i++) y[i] = -x[i];
      return;
    case 'relu':
      // NaN passes through, as in PyTorch.
      for (let i = 0; i < n; i++) y[i] = x[i] > 0 || x[i] !== x[i] ? x[i] : 0;
      return;
    case 'leakyRelu':
      for (let i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : x[i] * alpha;
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) y[i] = 1 / (1 + Math.exp(-x[i]));
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) y[i] = Math.tanh(x[i]);
      return;
    case 'silu':
      for (let i = 0; i < n; i++) y[i] = x[i] / (1 + Math.exp(-x[i]));
      return;
    case 'exp':
      for (let i = 0; i < n; i++) y[i] = Math.exp(x[i]);
      return;
    case 'log':
      for (let i = 0; i < n; i++) y[i] = Math.log(x[i]);
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) y[i] = Math.sqrt(x[i]);
      return;
    case 'abs':
      for (let i = 0; i < n; i++) y[i] = Math.abs(x[i]);
      return;
    case 'square':
      for (let i = 0; i < n; i++) y[i] = x[i] * x[i];
      return;
    case 'reciprocal':
      for (let i = 0; i < n; i++) y[i] = 1 / x[i];
      return;
    case 'softplus':
      // log1p(exp(x)) loses nothing for large negative x and would overflow for large x.
      for (let i = 0; i < n; i++) y[i] = x[i] > SOFTPLUS_THRESHOLD ? x[i] : Math.log1p(Math.exp(x[i]));
      return;
    case 'clamp':
      // min(max(x, lo), hi) keeps NaN, as torch.clamp does.
      for (let i = 0; i < n; i++) y[i] = Math.min(Math.max(x[i], alpha), beta);
      return;
    case 'powScalar':
      for (let i = 0; i < n; i++) y[i] = Math.pow(x[i], alpha);
      return;
    case 'addScalar':
      for (let i = 0; i < n; i++) y[i] = x[i] + alpha;
      return;
    case 'mulScalar':
      for (let i = 0; i < n; i++) y[i] = x[i] * alpha;
      return;
    default:
      throw new Error(`unary: unknown op '${String(p.op)}'`);
  }
}

export function unaryBackward(p: UnaryParams, x: F32, y: F32, dy: F32, dx: F32): void {
  const { n, alpha, beta } = p;
  switch (p.op) {
    case 'neg':
      for (let i = 0; i < n; i++) dx[i] = -dy[i];
      return;
    case 'relu':
      for (let i = 0; i < n; i++) dx[i] = y[i] > 0 ? dy[i] : 0;
      return;
    case 'leakyRelu':
      for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? dy[i] : dy[i] * alpha;
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1 - y[i]);
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) dx[i] = dy[i] * (1 - y[i] * y[i]);
      return;
    case 'silu':
      for (let i = 0; i < n; i++) {
        const s = 1 / (1 + Math.exp(-x[i]));
        dx[i] = dy[i] * s * (1 + x[i] * (1 - s));
      }
      return;
    case 'exp':
      for (let i = 0; i < n; i++) dx[i] = dy[i] * y[i];
      return;
    case 'log':
      for (let i = 0; i < n; i++) dx[i] = dy[i] / x[i];
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) dx[i] = dy[i] / (2 * y[i]);
      return;
    case 'abs':
      for (let i = 0; i < n; i++) dx[i] = dy[i] * Math.sign(x[i]);
      return;
    case 'square':
      for (let i = 0; i < n; i++) dx[i] = 2 * x[i] * dy[i];
      return;
    case 'reciprocal':
      for (let i = 0; i < n; i++) dx[i] = -dy[i] * y[i] * y[i];
      return;
    case 'softplus':
      for (let i = 0; i < n; i++) dx[i] = x[i] > SOFTPLUS_THRESHOLD ? dy[i] : dy[i] / (1 + Math.exp(-x[i]));
      return;
    case 'clamp':
      // The gradient flows where the input lies inside [min, max], bounds included (PyTorch).
      for (let i = 0; i < n; i++) dx[i] = x[i] >= alpha && x[i] <= beta ? dy[i] : 0;
      return;
    case 'powScalar':
      // d/dx x^0 is 0 everywhere (PyTorch), not 0·x^-1, which would be NaN at x = 0.
      if (alpha === 0) dx.fill(0, 0, n);
      else for (let i = 0; i < n; i++) dx[i] = dy[i] * alpha * Math.pow(x[i], alpha - 1);
      return;
    case 'addScalar':
      for (let i = 0; i < n; i++) dx[i] = dy[i];
      return;
    case 'mulScalar':
      for (let i = 0; i < n; i++) dx[i] = dy[i] * alpha;
      return;
    default:
      throw new Error(`unaryBackward: unknown op '${String(p.op)}'`);
  }
}

/** y[yi + t] = a[ai + t·as] op b[bi + t·bs] for t < len: one innermost row of a binary op. */
type Row = (a: F32, ai: number, as: number, b: F32, bi: number, bs: number, y: F32, yi: number, len: number) => void;

const rows: Record<BinaryOp, Row> = {
  add: (a, ai, as, b, bi, bs, y, yi, len) => {
    for (let t = 0; t < len; t++) y[yi + t] = a[ai + t * as] + b[bi + t * bs];
  },
  sub: (a, ai, as, b, bi, bs, y, yi, len) => {
    for (let t = 0; t < len; t++) y[yi + t] = a[ai + t * as] - b[bi + t * bs];
  },
  mul: (a, ai, as, b, bi, bs, y, yi, len) => {
    for (let t = 0; t < len; t++) y[yi + t] = a[ai + t * as] * b[bi + t * bs];
  },
  div: (a, ai, as, b, bi, bs, y, yi, len) => {
    for (let t = 0; t < len; t++) y[yi + t] = a[ai + t * as] / b[bi + t * bs];
  },
  // Math.max/min propagate NaN, like torch.maximum/minimum.
  maximum: (a, ai, as, b, bi, bs, y, yi, len) => {
    for (let t = 0; t < len; t++) y[yi + t] = Math.max(a[ai + t * as], b[bi + t * bs]);
  },
  minimum: (a, ai, as, b, bi, bs, y, yi, len) => {
    for (let t = 0; t < len; t++) y[yi + t] = Math.min(a[ai + t * as], b[bi + t * bs]);
  },
  pow: (a, ai, as, b, bi, bs, y, yi, len) => {
    for (let t = 0; t < len; t++) y[yi + t] = Math.pow(a[ai + t * as], b[bi + t * bs]);
  },
};

/** Dense row-major strides of `shape`. */
function denseStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

/** Whether `strides` walk `shape` densely (a size-1 dim's stride is irrelevant). */
function isDense(shape: number[], strides: number[], dense: number[]): boolean {
  if (strides.length !== shape.length) return false;
  for (let d = 0; d < shape.length; d++) if (shape[d] !== 1 && strides[d] !== dense[d]) return false;
  return true;
}

export function binary(p: BinaryParams, a: F32, b: F32, y: F32): void {
  const row = rows[p.op];
  if (!row) throw new Error(`binary: unknown op '${String(p.op)}'`);
  const { shape, aStrides, bStrides } = p;
  const total = shape.reduce((m, s) => m * s, 1);
  if (total === 0) return;
  const dense = denseStrides(shape);
  // Same-shape operands: one flat row over the whole buffer.
  if (isDense(shape, aStrides, dense) && isDense(shape, bStrides, dense)) {
    row(a, 0, 1, b, 0, 1, y, 0, total);
    return;
  }
  // General case: the output is dense, so it is walked in order; the last dim is the
  // innermost row, the leading dims (left-padded to 5) are nested loops.
  if (shape.length > 6) throw new Error(`binary: shape has ${shape.length} dims; collapse it to at most 6`);
  const pad = 6 - shape.length;
  const S = [...new Array<number>(pad).fill(1), ...shape];
  const A = [...new Array<number>(pad).fill(0), ...aStrides];
  const B = [...new Array<number>(pad).fill(0), ...bStrides];
  const len = S[5];
  let yi = 0;
  for (let i0 = 0; i0 < S[0]; i0++)
    for (let i1 = 0; i1 < S[1]; i1++)
      for (let i2 = 0; i2 < S[2]; i2++)
        for (let i3 = 0; i3 < S[3]; i3++)
          for (let i4 = 0; i4 < S[4]; i4++) {
            const ai = i0 * A[0] + i1 * A[1] + i2 * A[2] + i3 * A[3] + i4 * A[4];
            const bi = i0 * B[0] + i1 * B[1] + i2 * B[2] + i3 * B[3] + i4 * B[4];
            row(a, ai, A[5], b, bi, B[5], y, yi, len);
            yi += len;
          }
}
