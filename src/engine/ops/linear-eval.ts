// Inference-only linear layer with a per-feature scale, shift and ReLU folded into the store
// (the unified AE's MLP layers with their eval BatchNorm1d): the linearEval kernel, which
// reads the weight in a prepared form (16-feature panels on the native backend). The packed
// copy is kept per weight tensor and backend; the kernel itself checks it against the weight
// on every call and repacks whatever changed (optimiser steps, state-dict loads and other
// in-place writes), so a stale copy is never used and no snapshot of the weight is kept here.
import { kernelBackend, kernels } from '../../backend/registry.js';
import type { LinearEvalParams } from '../../backend/types.js';
import { isGradEnabled } from '../autograd.js';
import { fmt } from '../shape-util.js';
import { Tensor } from '../tensor.js';
import { checkTensor } from './elementwise.js';

export interface LinearEvalOptions {
  /** Per output feature factor (the folded BN's γ/√(σ² + ε)); null = 1. */
  scale?: Float32Array | null;
  /** Per output feature offset (bias, or β + (bias − μ)·scale); null = 0. */
  shift?: Float32Array | null;
  /** Apply ReLU after the shift. */
  relu?: boolean;
}

interface Packed {
  backend: string;
  u: Float32Array;
}

const packCache = new WeakMap<Tensor, Packed>();

/** The packed-weight cache of w (packed when first made; the kernel keeps it current). */
function packedWeight(w: Tensor, p: LinearEvalParams): Float32Array {
  const backend = kernelBackend('linearEval');
  const size = Math.ceil(p.out / 16) * 16 * p.in;
  const hit = packCache.get(w);
  if (hit && hit.backend === backend && hit.u.length === size) return hit.u;
  const u = new Float32Array(size);
  kernels().linearEvalPack(p, w.data, u);
  packCache.set(w, { backend, u });
  return u;
}

/**
 * relu?((x · wᵀ) · scale + shift) for x [N, in] and w [out, in]. No graph is recorded: call it
 * under noGrad, or with tensors that do not require gradients.
 */
export function linearEval(x: Tensor, w: Tensor, opts: LinearEvalOptions = {}): Tensor {
  const op = 'linearEval';
  checkTensor(x, op, 'input');
  checkTensor(w, op, 'weight');
  if (isGradEnabled() && (x.requiresGrad || w.requiresGrad)) {
    throw new Error(`${op}: inference only (no gradients); run it under noGrad, or use linear`);
  }
  if (x.ndim !== 2 || w.ndim !== 2 || x.shape[1] !== w.shape[1]) {
    throw new RangeError(`${op}: expected x [N, in] and weight [out, in], got ${fmt(x.shape)} and ${fmt(w.shape)}`);
  }
  const [N, inF] = x.shape;
  const out = w.shape[0];
  for (const [name, v] of [['scale', opts.scale], ['shift', opts.shift]] as const) {
    if (v && v.length !== out) throw new RangeError(`${op}: ${name} must have one value per output feature (${out}), got ${v.length}`);
  }
  const p: LinearEvalParams = { N, in: inF, out };
  const y = Tensor.uninit([N, out]);
  if (y.size > 0) kernels().linearEval({ ...p, relu: opts.relu ?? false }, x.data, w.data, packedWeight(w, p), opts.scale ?? null, opts.shift ?? null, y.data);
  return y;
}
