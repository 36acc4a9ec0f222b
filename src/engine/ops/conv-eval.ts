// Inference-only 4×4 stride-2 padding-1 convolution and transposed convolution with a
// per-channel scale, shift and ReLU folded into the store (the unified AE's blocks with
// their eval BatchNorm): the conv2dEval kernel, which on the native backend runs Winograd
// F(4×4, 2×2) on the stride phases. Outputs are within a float32 bound of conv2d /
// convTranspose2d followed by the affine map and ReLU, not their bits.
//
// The kernel reads the filters in a prepared form (conv2dEvalPack). Preparing them costs
// about as much as a small layer, so it is cached per weight tensor and backend, and
// redone whenever the weight's values differ from the copy taken when it was prepared
// (optimiser steps and state-dict loads write the values in place).
import { kernelBackend, kernels } from '../../backend/registry.js';
import type { Conv2dParams } from '../../backend/types.js';
import { isGradEnabled } from '../autograd.js';
import { fmt } from '../shape-util.js';
import { Tensor } from '../tensor.js';
import { checkTensor } from './elementwise.js';

export interface ConvEvalOptions {
  /** false: conv2d's layout (w [Cout, Cin, 4, 4]); true: convTranspose2d's (w [Cin, Cout, 4, 4]). */
  transposed: boolean;
  /** Per output channel factor (the folded BN's γ/√(σ² + ε)); null = 1. */
  scale?: Float32Array | null;
  /** Per output channel offset (bias, or β − μ·scale); null = 0. */
  shift?: Float32Array | null;
  /** Apply ReLU after the shift. */
  relu?: boolean;
}

interface Packed {
  backend: string;
  transposed: boolean;
  values: Buffer;
  u: Float32Array;
}

const packCache = new WeakMap<Tensor, Packed>();

/** The packed filters of w for p, reused while w's values and the backend are unchanged. */
function packedFilters(w: Tensor, p: Conv2dParams & { transposed: boolean }): Float32Array {
  const backend = kernelBackend('conv2dEvalPack');
  const data = w.data;
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const hit = packCache.get(w);
  if (hit && hit.backend === backend && hit.transposed === p.transposed && hit.values.equals(bytes)) return hit.u;
  const cin = p.transposed ? p.K : p.C;
  const cout = p.transposed ? p.C : p.K;
  const u = new Float32Array(100 * Math.ceil(cin / 16) * 16 * Math.ceil(cout / 16) * 16);
  kernels().conv2dEvalPack(p, data, u);
  packCache.set(w, { backend, transposed: p.transposed, values: Buffer.from(bytes), u });
  return u;
}

/** Whether conv2dEval runs this layer geometry. */
export function convEvalSupported(g: { kernelSize: readonly number[]; stride: readonly number[]; padding: readonly number[]; dilation: readonly number[]; groups: number }): boolean {
  const two = (v: readonly number[], n: number) => v[0] === n && v[1] === n;
  return two(g.kernelSize, 4) && two(g.stride, 2) && two(g.padding, 1) && two(g.dilation, 1) && g.groups === 1;
}

/**
 * relu?(conv(x, w) · scale + shift) for a 4×4, stride-2, padding-1 conv (transposed: the
 * transposed conv, output 2H × 2W). No graph is recorded: call it under noGrad, or with
 * tensors that do not require gradients.
 */
export function conv2dEval(x: Tensor, w: Tensor, opts: ConvEvalOptions): Tensor {
  const op = 'conv2dEval';
  checkTensor(x, op, 'input');
  checkTensor(w, op, 'weight');
  if (isGradEnabled() && (x.requiresGrad || w.requiresGrad)) {
    throw new Error(`${op}: inference only (no gradients); run it under noGrad, or use conv2d / convTranspose2d`);
  }
  if (x.ndim !== 4) throw new RangeError(`${op}: input must be 4-D [N, C, H, W], got shape ${fmt(x.shape)}`);
  if (w.ndim !== 4 || w.shape[2] !== 4 || w.shape[3] !== 4) throw new RangeError(`${op}: weight must be [·, ·, 4, 4], got shape ${fmt(w.shape)}`);
  const [N, Cx, H, W] = x.shape;
  const { transposed } = opts;
  const [w0, w1] = w.shape;
  if ((transposed ? w0 : w1) !== Cx) {
    throw new RangeError(`${op}: weight ${fmt(w.shape)} expects ${transposed ? w0 : w1} input channels but the input has ${Cx}`);
  }
  const cout = transposed ? w1 : w0;
  for (const [name, v] of [['scale', opts.scale], ['shift', opts.shift]] as const) {
    if (v && v.length !== cout) throw new RangeError(`${op}: ${name} must have one value per output channel (${cout}), got ${v.length}`);
  }
  let p: Conv2dParams & { transposed: boolean; relu: boolean };
  const geom = { kh: 4, kw: 4, sh: 2, sw: 2, ph: 1, pw: 1, dh: 1, dw: 1, groups: 1 };
  if (transposed) {
    p = { N, C: cout, H: 2 * H, W: 2 * W, K: Cx, OH: H, OW: W, ...geom, transposed, relu: opts.relu ?? false };
  } else {
    const OH = Math.floor((H - 2) / 2) + 1;
    const OW = Math.floor((W - 2) / 2) + 1;
    if (OH < 1 || OW < 1) throw new RangeError(`${op}: the input ${H}×${W} is smaller than the 4×4 kernel with padding 1`);
    p = { N, C: Cx, H, W, K: cout, OH, OW, ...geom, transposed, relu: opts.relu ?? false };
  }
  const y = Tensor.uninit(transposed ? [N, cout, 2 * H, 2 * W] : [N, cout, p.OH, p.OW]);
  if (y.size > 0) kernels().conv2dEval(p, x.data, w.data, packedFilters(w, p), opts.scale ?? null, opts.shift ?? null, y.data);
  return y;
}
