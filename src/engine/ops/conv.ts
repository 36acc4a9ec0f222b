// 2-D convolution and transposed convolution (PyTorch semantics and weight layouts).
// conv2d runs the conv2d kernel and differentiates with conv2dBackwardInput/Weight;
// convTranspose2d is conv2d's input-gradient run forwards, so the same three kernels
// serve it with the roles swapped.
import { kernels } from '../../backend/registry.js';
import type { Conv2dParams } from '../../backend/types.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { MAX_ELEMENTS, fmt, pair } from '../shape-util.js';
import { checkTensor } from './elementwise.js';
import { binaryRaw, sumDimsRaw } from './strided.js';

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
}

export interface ConvTranspose2dOptions extends Conv2dOptions {
  outputPadding?: number | [number, number];
}

function checkGroups(groups: unknown, op: string): number {
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1) throw new RangeError(`${op}: groups must be a positive integer, got ${String(groups)}`);
  return groups;
}

function check4d(t: Tensor, op: string, arg: string, layout: string): void {
  checkTensor(t, op, arg);
  if (t.ndim !== 4) throw new RangeError(`${op}: ${arg} must be 4-D ${layout}, got shape ${fmt(t.shape)}`);
}

function checkBias(b: Tensor | null | undefined, channels: number, op: string): void {
  if (!b) return;
  checkTensor(b, op, 'bias');
  if (b.ndim !== 1 || b.shape[0] !== channels) throw new RangeError(`${op}: bias must have shape [${channels}], got ${fmt(b.shape)}`);
}

/**
 * The zero-padded input N·C·(H+2·ph)·(W+2·pw) must fit a tensor (MAX_ELEMENTS): padding is
 * defined as if materialised (PyTorch's zero padding, which the native kernels build), so
 * a padding far beyond the input is rejected on every backend instead of computed on one.
 */
function checkPadded(p: Conv2dParams, op: string): void {
  const padded = p.N * p.C * (p.H + 2 * p.ph) * (p.W + 2 * p.pw);
  if (padded > MAX_ELEMENTS) {
    throw new RangeError(`${op}: padding (${p.ph}, ${p.pw}) makes the padded input ${p.N}×${p.C}×${p.H + 2 * p.ph}×${p.W + 2 * p.pw} larger than 2^31 − 1 elements; reduce padding`);
  }
}

/** Per-channel bias gradient: Σ over N and the spatial dims of dy [N, K, OH, OW]. */
function biasGrad(g: Tensor): Tensor {
  return Tensor.fromData(sumDimsRaw(g, [0, 2, 3]).data, [g.shape[1]]);
}

/** Gradients of y = conv2d(x, w) (+ bias) for geometry p. */
function convGrads(p: Conv2dParams, x: Tensor, w: Tensor, g: Tensor, needX: boolean, needW: boolean): [Tensor | null, Tensor | null] {
  let dx: Tensor | null = null;
  let dw: Tensor | null = null;
  if (needX) {
    dx = Tensor.uninit(x.shape); // the conv kernels overwrite every output element
    kernels().conv2dBackwardInput(p, g.data, w.data, dx.data);
  }
  if (needW) {
    dw = Tensor.uninit(w.shape);
    kernels().conv2dBackwardWeight(p, x.data, g.data, dw.data);
  }
  return [dx, dw];
}

/** Cross-correlation of x [N, C, H, W] with w [K, C/groups, kh, kw], plus bias [K]. */
export function conv2d(x: Tensor, w: Tensor, b?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  check4d(x, op, 'input', '[N, C, H, W]');
  check4d(w, op, 'weight', '[K, C/groups, kh, kw]');
  const [sh, sw] = pair(opts.stride ?? 1, op, 'stride', 1);
  const [ph, pw] = pair(opts.padding ?? 0, op, 'padding', 0);
  const [dh, dw] = pair(opts.dilation ?? 1, op, 'dilation', 1);
  const groups = checkGroups(opts.groups ?? 1, op);
  const [N, C, H, W] = x.shape;
  const [K, Cg, kh, kw] = w.shape;
  if (K % groups !== 0) throw new RangeError(`${op}: weight has ${K} output channels, not divisible by groups=${groups}`);
  if (Cg * groups !== C) {
    throw new RangeError(`${op}: weight has ${Cg} input channels per group but input has ${C} channels` + (groups > 1 ? ` (groups=${groups} needs ${C / groups} per group)` : ''));
  }
  checkBias(b, K, op);
  const OH = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  if (OH < 1 || OW < 1) {
    throw new RangeError(`${op}: the input ${H}×${W} (padded ${H + 2 * ph}×${W + 2 * pw}) is smaller than the dilated kernel ${dh * (kh - 1) + 1}×${dw * (kw - 1) + 1}`);
  }
  const p: Conv2dParams = { N, C, H, W, K, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, groups };
  checkPadded(p, op);
  const y = Tensor.uninit([N, K, OH, OW]);
  if (y.size > 0) kernels().conv2d(p, x.data, w.data, b ? b.data : null, y.data);
  const inputs = b ? [x, w, b] : [x, w];
  return record(y, op, inputs, (g, needs) => {
    const [gx, gw] = convGrads(p, x, w, g, needs[0], needs[1]);
    return [gx, gw, b && needs[2] ? biasGrad(g) : null];
  });
}

/**
 * Transposed convolution of x [N, Cin, H, W] with w [Cin, Cout/groups, kh, kw] (PyTorch's
 * layout): OH = (H − 1)·sh − 2·ph + dh·(kh − 1) + outputPadding + 1.
 */
export function convTranspose2d(x: Tensor, w: Tensor, b?: Tensor | null, opts: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  check4d(x, op, 'input', '[N, Cin, H, W]');
  check4d(w, op, 'weight', '[Cin, Cout/groups, kh, kw]');
  const [sh, sw] = pair(opts.stride ?? 1, op, 'stride', 1);
  const [ph, pw] = pair(opts.padding ?? 0, op, 'padding', 0);
  const [dh, dw] = pair(opts.dilation ?? 1, op, 'dilation', 1);
  const [oph, opw] = pair(opts.outputPadding ?? 0, op, 'outputPadding', 0);
  const groups = checkGroups(opts.groups ?? 1, op);
  if ((oph >= sh && oph >= dh) || (opw >= sw && opw >= dw)) {
    throw new RangeError(`${op}: outputPadding (${oph}, ${opw}) must be smaller than either stride (${sh}, ${sw}) or dilation (${dh}, ${dw})`);
  }
  const [N, Cin, H, W] = x.shape;
  const [Kw, Coutg, kh, kw] = w.shape;
  if (Kw !== Cin) throw new RangeError(`${op}: weight has ${Kw} input channels but input has ${Cin} channels`);
  if (Cin % groups !== 0) throw new RangeError(`${op}: input has ${Cin} channels, not divisible by groups=${groups}`);
  const Cout = Coutg * groups;
  checkBias(b, Cout, op);
  const OH = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1;
  const OW = (W - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1;
  if (OH < 1 || OW < 1) throw new RangeError(`${op}: the output size ${OH}×${OW} is not positive; reduce padding`);
  // The conv whose input-gradient this is: input [N, Cout, OH, OW] → output [N, Cin, H, W].
  const p: Conv2dParams = { N, C: Cout, H: OH, W: OW, K: Cin, OH: H, OW: W, kh, kw, sh, sw, ph, pw, dh, dw, groups };
  checkPadded(p, op);
  let y = Tensor.uninit([N, Cout, OH, OW]);
  if (y.size > 0) kernels().conv2dBackwardInput(p, x.data, w.data, y.data);
  if (b) y = binaryRaw('add', y, Tensor.fromData(b.data, [Cout, 1, 1]), y.shape);
  const inputs = b ? [x, w, b] : [x, w];
  return record(y, op, inputs, (g, needs) => {
    let dx: Tensor | null = null;
    let dwt: Tensor | null = null;
    if (needs[0]) {
      dx = Tensor.uninit(x.shape);
      kernels().conv2d(p, g.data, w.data, null, dx.data); // the forward conv of g
    }
    if (needs[1]) {
      dwt = Tensor.uninit(w.shape);
      kernels().conv2dBackwardWeight(p, g.data, x.data, dwt.data); // "input" g, "output gradient" x
    }
    return [dx, dwt, b && needs[2] ? biasGrad(g) : null];
  });
}
