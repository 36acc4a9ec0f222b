// Scaled dot-product attention (diffusion spec §7.4), one autograd node over the attention
// kernels: out = softmax(q kᵀ / √d) v per set, softmax over the key axis computed stably in
// fp32. The softmax weights are kept for the backward (memory O(batch·lq·lk)); when no
// gradient is recorded (sampling under noGrad) they go to one reused module-level buffer
// instead, so repeated denoising steps do not allocate them again.
import { kernels } from '../../backend/registry.js';
import type { AttentionParams } from '../../backend/types.js';
import { isGradEnabled, record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { fmt } from '../shape-util.js';
import { checkTensor } from './elementwise.js';

/** The softmax weights of calls that record no gradient (grown as needed, never shrunk). */
let scratch = new Float32Array(0);

/**
 * q [B·h, Lq, d], k [B·h, Lk, d], v [B·h, Lk, dv] → [B·h, Lq, dv]; `scale` defaults to 1/√d.
 * Differentiable in q, k and v.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, scale?: number): Tensor {
  const op = 'scaledDotProductAttention';
  checkTensor(q, op, 'q');
  checkTensor(k, op, 'k');
  checkTensor(v, op, 'v');
  if (q.ndim !== 3 || k.ndim !== 3 || v.ndim !== 3) {
    throw new RangeError(`${op}: q, k, v must be 3-D [batch, L, d], got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`);
  }
  const [B, Lq, D] = q.shape;
  const [, Lk, Dv] = v.shape;
  if (k.shape[0] !== B || v.shape[0] !== B) throw new RangeError(`${op}: batch sizes differ: q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}`);
  if (k.shape[2] !== D) throw new RangeError(`${op}: k ${fmt(k.shape)} must have the width of q ${fmt(q.shape)}`);
  if (k.shape[1] !== Lk) throw new RangeError(`${op}: k ${fmt(k.shape)} and v ${fmt(v.shape)} must hold the same number of keys`);
  if (Lk === 0) throw new RangeError(`${op}: no keys (softmax over an empty axis)`);
  const s = scale ?? 1 / Math.sqrt(D);
  if (typeof s !== 'number' || !Number.isFinite(s)) throw new RangeError(`${op}: scale must be a finite number, got ${String(scale)}`);
  const p: AttentionParams = { batch: B, lq: Lq, lk: Lk, d: D, dv: Dv, scale: s };
  const out = Tensor.uninit([B, Lq, Dv]); // attentionForward writes every element
  const n = B * Lq * Lk;
  const recorded = isGradEnabled() && (q.requiresGrad || k.requiresGrad || v.requiresGrad);
  let w: Float32Array;
  if (recorded) w = new Float32Array(n);
  else {
    if (scratch.length < n) scratch = new Float32Array(n);
    w = scratch.subarray(0, n);
  }
  kernels().attentionForward(p, q.data, k.data, v.data, out.data, w);
  if (!recorded) return out;
  return record(out, op, [q, k, v], (g, needs) => {
    const dq = needs[0] ? Tensor.empty(q.shape) : null;
    const dk = needs[1] ? Tensor.empty(k.shape) : null;
    const dv = needs[2] ? Tensor.empty(v.shape) : null;
    kernels().attentionBackward(p, q.data, k.data, v.data, w, g.data, dq ? dq.data : null, dk ? dk.data : null, dv ? dv.data : null);
    return [dq, dk, dv];
  });
}
