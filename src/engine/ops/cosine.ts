// Cosine distance 1 − cos(a, b) along one dim (1 − F.cosine_similarity(a, b, dim, eps)),
// one autograd node over the cosineDistance kernels. PyTorch's eps rule: each norm is
// clamped at eps, and the gradient reads the clamped norm n with ∂n/∂v = v/n (PyTorch clamps
// the norm in place after computing it), so ∂cos/∂a = b/(n_a·n_b) − cos·a/n_a².
import { kernels } from '../../backend/registry.js';
import type { CosineParams } from '../../backend/types.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { fmt, normDim, prod, sameShape } from '../shape-util.js';
import { checkTensor } from './elementwise.js';

/** PyTorch's default eps of cosine_similarity. */
export const COSINE_EPS = 1e-8;

/** 1 − cos(a, b) along `dim` (default 1), that dim removed from the shape; differentiable in both arguments. */
export function cosineDistance(a: Tensor, b: Tensor, dim = 1, eps = COSINE_EPS): Tensor {
  const op = 'cosineDistance';
  checkTensor(a, op, 'a');
  checkTensor(b, op, 'b');
  if (!sameShape(a.shape, b.shape)) throw new RangeError(`${op}: a ${fmt(a.shape)} and b ${fmt(b.shape)} differ in shape`);
  if (a.ndim === 0) throw new RangeError(`${op}: inputs need at least one dim`);
  const d = normDim(dim, a.ndim, op, 'dim');
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) throw new RangeError(`${op}: eps must be a finite number ≥ 0, got ${String(eps)}`);
  const p: CosineParams = { outer: prod(a.shape.slice(0, d)), mid: a.shape[d], inner: prod(a.shape.slice(d + 1)), eps };
  const out = Tensor.empty(a.shape.filter((_, i) => i !== d));
  const stats = new Float32Array(3 * out.size);
  kernels().cosineDistance(p, a.data, b.data, out.data, stats);
  return record(out, op, [a, b], (g, needs) => {
    const da = needs[0] ? Tensor.empty(a.shape) : null;
    const db = needs[1] ? Tensor.empty(b.shape) : null;
    kernels().cosineDistanceBackward(p, a.data, b.data, stats, g.data, da ? da.data : null, db ? db.data : null);
    return [da, db];
  });
}
