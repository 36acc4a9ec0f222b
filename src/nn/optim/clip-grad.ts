// Global gradient-norm clipping with PyTorch 1.13's torch.nn.utils.clip_grad_norm_ semantics
// (diffusion spec §7.7): total = ‖(‖g_1‖, …, ‖g_n‖)‖₂ over the parameters that have a
// gradient, coef = min(max_norm / (total + 1e-6), 1), every gradient multiplied by coef in
// place. PyTorch's float32 steps are mirrored: each norm and the total rounded to float32
// (sums in double), max_norm / x taken as reciprocal(x) · max_norm, as Tensor.__rtruediv__.
// A non-finite total (error_if_nonfinite = False, the default) propagates into the
// gradients, as in PyTorch.
import type { Tensor } from '../../engine/index.js';

/** Clips the gradients of `params` in place to a global L2 norm of at most maxNorm; returns the total norm before clipping. */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0) || !Number.isFinite(maxNorm)) {
    throw new RangeError(`clipGradNorm: maxNorm must be a finite number ≥ 0, got ${String(maxNorm)}`);
  }
  const grads: Float32Array[] = [];
  for (const p of params) if (p.grad) grads.push(p.grad.data);
  if (grads.length === 0) return 0;
  let sq = 0;
  for (const g of grads) {
    let s = 0;
    for (let i = 0; i < g.length; i++) s += g[i] * g[i];
    const n = Math.fround(Math.sqrt(s));
    sq += n * n;
  }
  const total = Math.fround(Math.sqrt(sq));
  const coef = Math.min(Math.fround(Math.fround(1 / Math.fround(total + Math.fround(1e-6))) * Math.fround(maxNorm)), 1);
  // coef = 1 multiplies by one (PyTorch does too): the values stay as they are.
  if (!(coef === 1)) for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = g[i] * coef;
  return total;
}
