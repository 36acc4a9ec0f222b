// The affine coupling step of FrEIA's AllInOneBlock around its subnetwork (see
// src/nn/layers/flow.ts for the formula): split, clamped affine transform of the second
// half by the subnet's output, global affine per channel, fixed channel mixing, and the
// per-sample log-determinant. The subnet runs as ordinary engine ops between the split
// and the transform.
import { kernels } from '../../backend/registry.js';
import type { CouplingParams } from '../../backend/types.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import type { Generator } from '../random.js';
import { add, checkTensor, div, exp, log, mul, neg, sub } from './elementwise.js';
import { softplus, tanh } from './activation.js';
import { sum } from './reduce.js';
import { concat, slice } from './shape.js';
import { linear } from './linear.js';
import { conv2d } from './conv.js';

/** The fixed channel mixing: a permutation (index vector + its one-hot matrix) or a rotation matrix. */
export type CouplingMix = { kind: 'index'; perm: Int32Array; w: Tensor } | { kind: 'matrix'; w: Tensor };

export interface CouplingOptions {
  c1: number;
  c2: number;
  clamp: number;
  /** α·tanh(s/α) instead of α·tanh(s). */
  scaled: boolean;
}

export type Subnet = (x1: Tensor) => Tensor;

function softClamp(s: Tensor, o: CouplingOptions): Tensor {
  return o.scaled ? mul(tanh(div(s, o.clamp)), o.clamp) : mul(tanh(s), o.clamp);
}

function globalScale(gamma: Tensor): Tensor {
  // 0.1·Softplus(β = 0.5)(γ) = 0.1·2·ln(1 + exp(γ/2)), linear above γ/2 = 20 as PyTorch's.
  return mul(softplus(mul(gamma, 0.5)), 0.2);
}

function mixChannels(v: Tensor, w: Tensor): Tensor {
  // out[:, i] = Σ_k W[i, k]·v[:, k]: F.linear for vectors, a 1×1 F.conv2d for maps (FrEIA).
  return v.ndim === 2 ? linear(v, w) : conv2d(v, w);
}

function checkR(r: Tensor, x: Tensor, o: CouplingOptions, op: string): void {
  const want = [x.shape[0], 2 * o.c2, ...x.shape.slice(2)];
  if (!(r instanceof Tensor) || r.ndim !== want.length || r.shape.some((d, i) => d !== want[i])) {
    throw new RangeError(`${op}: the subnet must return [${want.join(', ')}], got ${r instanceof Tensor ? `[${r.shape.join(', ')}]` : typeof r}`);
  }
}

function sampleDims(x: Tensor): number[] {
  return x.ndim === 2 ? [1] : [1, 2, 3];
}

function nPix(x: Tensor): number {
  return x.shape.slice(2).reduce((a, b) => a * b, 1);
}

/** Forward as a composition of engine ops (the reference the fused kernels are tested and timed against). */
export function couplingComposite(x: Tensor, subnet: Subnet, gamma: Tensor, offset: Tensor, mix: CouplingMix, o: CouplingOptions): { y: Tensor; logdet: Tensor } {
  const x1 = slice(x, 1, 0, o.c1);
  const x2 = slice(x, 1, o.c1);
  const r = mul(subnet(x1), 0.1);
  checkR(r, x, o, 'coupling');
  const j = softClamp(slice(r, 1, 0, o.c2), o);
  const t = slice(r, 1, o.c2);
  const u = concat([x1, add(mul(x2, exp(j)), t)], 1);
  const g = globalScale(gamma);
  const y = mixChannels(add(mul(u, g), offset), mix.w);
  const logdet = add(sum(j, sampleDims(x)), mul(sum(log(g)), nPix(x)));
  return { y, logdet };
}

/** Inverse: x from y (mix given as the inverse matrix / permutation), logdet [B] = −forward's. */
export function couplingInverse(y: Tensor, subnet: Subnet, gamma: Tensor, offset: Tensor, mixInv: CouplingMix, o: CouplingOptions): { x: Tensor; logdet: Tensor } {
  const g = globalScale(gamma);
  const u = div(sub(mixChannels(y, mixInv.w), offset), g);
  const x1 = slice(u, 1, 0, o.c1);
  const r = mul(subnet(x1), 0.1);
  checkR(r, y, o, 'couplingInverse');
  const j = softClamp(slice(r, 1, 0, o.c2), o);
  const t = slice(r, 1, o.c2);
  const x2 = mul(sub(slice(u, 1, o.c1), t), exp(neg(j)));
  const x = concat([x1, x2], 1);
  const logdet = neg(add(sum(j, sampleDims(y)), mul(sum(log(g)), nPix(y))));
  return { x, logdet };
}

/** The shapes the kernels rely on, checked before any dispatch (the same error on every backend). */
function checkArgs(x: Tensor, gamma: Tensor, offset: Tensor, mix: CouplingMix, o: CouplingOptions): void {
  const op = 'coupling';
  checkTensor(x, op, 'x');
  checkTensor(gamma, op, 'gamma');
  checkTensor(offset, op, 'offset');
  if (x.ndim !== 2 && x.ndim !== 4) throw new RangeError(`${op}: x must be [B, C] or [B, C, H, W], got [${x.shape.join(', ')}]`);
  const C = x.shape[1];
  if (!Number.isInteger(o.c1) || !Number.isInteger(o.c2) || o.c1 < 1 || o.c2 < 1 || o.c1 + o.c2 !== C) {
    throw new RangeError(`${op}: c1 (${o.c1}) + c2 (${o.c2}) must split the ${C} channels of x, each at least 1`);
  }
  if (gamma.size !== C) throw new RangeError(`${op}: gamma must hold ${C} values (one per channel), got ${gamma.size}`);
  if (offset.size !== C) throw new RangeError(`${op}: offset must hold ${C} values (one per channel), got ${offset.size}`);
  if (!(o.clamp > 0) || !Number.isFinite(o.clamp)) throw new RangeError(`${op}: clamp must be a positive finite number, got ${o.clamp}`);
  if (mix.kind === 'index' && mix.perm.length !== C) throw new RangeError(`${op}: the permutation must have ${C} entries, got ${mix.perm.length}`);
}

/** π⁻¹ with π⁻¹[π(i)] = i. */
function invertPermutation(perm: Int32Array): Int32Array {
  const inv = new Int32Array(perm.length).fill(-1);
  for (let i = 0; i < perm.length; i++) {
    const k = perm[i];
    if (!(k >= 0 && k < perm.length) || inv[k] !== -1) throw new RangeError(`coupling: the permutation is not one of 0..${perm.length - 1} (entry ${i} is ${k})`);
    inv[k] = i;
  }
  return inv;
}

/**
 * Forward: y = mix(g·concat(x1, x2·e^j + t) + offset), logdet [B]. Everything but the
 * subnet (and a rotation's GEMM) is the fused couplingForward / couplingBackward kernel
 * pair. Its two outputs share one backward kernel call: the log-det's node runs first (it
 * is recorded as depending on the coupling output) and hands its gradient over.
 */
export function coupling(x: Tensor, subnet: Subnet, gamma: Tensor, offset: Tensor, mix: CouplingMix, o: CouplingOptions): { y: Tensor; logdet: Tensor } {
  checkArgs(x, gamma, offset, mix, o);
  const x1 = slice(x, 1, 0, o.c1);
  const r = subnet(x1);
  checkR(r, x, o, 'coupling');
  const B = x.shape[0];
  const p: CouplingParams = { B, C: x.shape[1], C1: o.c1, HW: nPix(x), clamp: o.clamp, scaled: o.scaled };
  const permInv = mix.kind === 'index' ? invertPermutation(mix.perm) : null;
  const v = Tensor.uninit(x.shape);
  const th = Tensor.uninit([B, o.c2, ...x.shape.slice(2)]);
  const logdet = Tensor.uninit([B]);
  kernels().couplingForward(p, x.data, r.data, gamma.data, offset.data, permInv, v.data, th.data, logdet.data);
  let dLogdet: Tensor | null = null;
  record(v, 'coupling', [x, r, gamma, offset], (g) => {
    const dx = Tensor.uninit(x.shape);
    const dr = Tensor.uninit(r.shape);
    const dgamma = Tensor.uninit(gamma.shape);
    const doffset = Tensor.uninit(offset.shape);
    kernels().couplingBackward(p, x.data, r.data, th.data, gamma.data, permInv, g.data, dLogdet ? dLogdet.data : null, dx.data, dr.data, dgamma.data, doffset.data);
    dLogdet = null;
    return [dx, dr, dgamma, doffset];
  });
  record(logdet, 'couplingLogdet', [v], (g) => {
    dLogdet = g;
    return [Tensor.empty(v.shape)]; // zeros: the coupling node then always runs, and reads dLogdet
  });
  const y = mix.kind === 'matrix' ? mixChannels(v, mix.w) : v;
  return { y, logdet };
}

/**
 * A Haar-random rotation of SO(C) (row-major, float64) drawn from `g`: the
 * couplingRotation kernel on a C×C standard Gaussian (columns drawn in order).
 */
export function haarRotation(C: number, g: Generator): Float64Array {
  if (!Number.isInteger(C) || C < 1) throw new RangeError(`haarRotation: C must be a positive integer, got ${String(C)}`);
  const a = new Float64Array(C * C);
  for (let i = 0; i < a.length; i++) a[i] = g.normal();
  const q = new Float64Array(C * C);
  kernels().couplingRotation({ C }, a, q);
  return q;
}
