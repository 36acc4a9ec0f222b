// Max, average and adaptive average pooling over the last two dims of [N, C, H, W]
// (or unbatched [C, H, W]), with PyTorch's output-size rules.
import { kernels } from '../../backend/registry.js';
import type { Pool2dParams } from '../../backend/types.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { checkFlag, fmt, pair } from '../shape-util.js';
import { checkTensor } from './elementwise.js';

export interface MaxPool2dOptions {
  kernelSize: number | [number, number];
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  ceilMode?: boolean;
}

export interface AvgPool2dOptions {
  kernelSize: number | [number, number];
  stride?: number | [number, number];
  padding?: number | [number, number];
  ceilMode?: boolean;
  countIncludePad?: boolean;
  /** Divide every window by this instead of its size (0/undefined = none). */
  divisorOverride?: number;
}

/** [N, C, H, W] view of a 3-D or 4-D input, and the output shape maker. */
function planes(x: Tensor, op: string): { N: number; C: number; H: number; W: number; out: (OH: number, OW: number) => number[] } {
  checkTensor(x, op, 'input');
  if (x.ndim === 4) {
    const [N, C, H, W] = x.shape;
    return { N, C, H, W, out: (OH, OW) => [N, C, OH, OW] };
  }
  if (x.ndim === 3) {
    const [C, H, W] = x.shape;
    return { N: 1, C, H, W, out: (OH, OW) => [C, OH, OW] };
  }
  throw new RangeError(`${op}: input must be [N, C, H, W] or [C, H, W], got ${fmt(x.shape)}`);
}

/** PyTorch's pooling output size; with ceilMode the last window must start inside the input or left padding. */
function pooledSize(size: number, k: number, s: number, p: number, d: number, ceil: boolean): number {
  const span = size + 2 * p - d * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + p) out--;
  return out;
}

/** The first output position along one axis whose window has no tap inside [0, size), or −1. */
function windowInPadding(size: number, out: number, k: number, s: number, p: number, d: number): number {
  if (d === 1 && size > 0) return -1; // undilated: padding ≤ k/2 < k always leaves a tap inside
  for (let o = 0; o < out; o++) {
    const start = o * s - p;
    const first = start >= 0 ? 0 : Math.ceil(-start / d); // first tap at or after 0
    if (first >= k || start + first * d >= size) return o;
  }
  return -1;
}

function geometry(x: Tensor, op: string, o: MaxPool2dOptions & AvgPool2dOptions, withDilation: boolean): { p: Pool2dParams; outShape: number[] } {
  const g = planes(x, op);
  if (!o || o.kernelSize === undefined) throw new TypeError(`${op}: opts.kernelSize is required`);
  if (g.H < 1 || g.W < 1) throw new RangeError(`${op}: the input plane ${g.H}×${g.W} is empty`);
  const [kh, kw] = pair(o.kernelSize, op, 'kernelSize', 1);
  const [sh, sw] = pair(o.stride ?? [kh, kw], op, 'stride', 1);
  const [ph, pw] = pair(o.padding ?? 0, op, 'padding', 0);
  const [dh, dw] = withDilation ? pair(o.dilation ?? 1, op, 'dilation', 1) : [1, 1];
  if (ph > kh / 2 || pw > kw / 2) throw new RangeError(`${op}: padding (${ph}, ${pw}) must be at most half the kernel size (${kh}, ${kw})`);
  const ceilMode = checkFlag(o.ceilMode, op, 'ceilMode', false);
  const countIncludePad = checkFlag(o.countIncludePad, op, 'countIncludePad', true);
  const OH = pooledSize(g.H, kh, sh, ph, dh, ceilMode);
  const OW = pooledSize(g.W, kw, sw, pw, dw, ceilMode);
  if (OH < 1 || OW < 1) throw new RangeError(`${op}: the input ${g.H}×${g.W} is too small for kernel ${kh}×${kw} (output ${OH}×${OW})`);
  // PyTorch's padding ≤ kernel/2 ignores dilation, so a dilated window can still miss the
  // input; its max would be −∞ with no position to route a gradient to. Rejected here, on
  // every backend (PyTorch's own behaviour for it is undefined: an out-of-plane index).
  const missH = windowInPadding(g.H, OH, kh, sh, ph, dh);
  const missW = windowInPadding(g.W, OW, kw, sw, pw, dw);
  if (missH >= 0 || missW >= 0) {
    throw new RangeError(`${op}: with dilation (${dh}, ${dw}) and padding (${ph}, ${pw}) the window at output ${missH >= 0 ? `row ${missH}` : `column ${missW}`} lies wholly in the padding; reduce padding or dilation`);
  }
  const div = o.divisorOverride ?? 0;
  if (typeof div !== 'number' || !Number.isInteger(div) || div < 0) throw new RangeError(`${op}: divisorOverride must be a positive integer, got ${String(div)}`);
  const p: Pool2dParams = {
    N: g.N,
    C: g.C,
    H: g.H,
    W: g.W,
    OH,
    OW,
    kh,
    kw,
    sh,
    sw,
    ph,
    pw,
    dh,
    dw,
    ceilMode,
    countIncludePad,
    divisorOverride: div,
  };
  return { p, outShape: g.out(OH, OW) };
}

export function maxPool2d(x: Tensor, opts: MaxPool2dOptions): Tensor {
  const { p, outShape } = geometry(x, 'maxPool2d', opts, true);
  const y = Tensor.uninit(outShape); // the kernel writes every element
  const argmax = new Int32Array(y.size);
  if (y.size > 0) kernels().maxPool2d(p, x.data, y.data, argmax);
  return record(y, 'maxPool2d', [x], (g) => {
    const dx = Tensor.empty(x.shape);
    if (y.size > 0) kernels().maxPool2dBackward(p, g.data, argmax, dx.data);
    return [dx];
  });
}

export function avgPool2d(x: Tensor, opts: AvgPool2dOptions): Tensor {
  const { p, outShape } = geometry(x, 'avgPool2d', opts, false);
  const y = Tensor.uninit(outShape); // the kernel writes every element
  if (y.size > 0) kernels().avgPool2d(p, x.data, y.data);
  return record(y, 'avgPool2d', [x], (g) => {
    const dx = Tensor.empty(x.shape);
    if (y.size > 0) kernels().avgPool2dBackward(p, g.data, dx.data);
    return [dx];
  });
}

/** Averages into a fixed output grid; cell i spans [floor(i·H/OH), ceil((i+1)·H/OH)). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | [number, number]): Tensor {
  const op = 'adaptiveAvgPool2d';
  const g = planes(x, op);
  const [OH, OW] = pair(outputSize, op, 'outputSize', 1);
  if (g.H < 1 || g.W < 1) throw new RangeError(`${op}: the input plane ${g.H}×${g.W} is empty`);
  const p = { N: g.N, C: g.C, H: g.H, W: g.W, OH, OW };
  const y = Tensor.empty(g.out(OH, OW));
  if (y.size > 0) kernels().adaptiveAvgPool2d(p, x.data, y.data);
  return record(y, op, [x], (gr) => {
    const dx = Tensor.empty(x.shape);
    if (y.size > 0) kernels().adaptiveAvgPool2dBackward(p, gr.data, dx.data);
    return [dx];
  });
}
