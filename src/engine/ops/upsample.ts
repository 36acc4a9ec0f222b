// Resampling of [N, C, H, W] images (F.interpolate): bilinear and nearest, with PyTorch's
// source-coordinate rules (align_corners, and 1/scale_factor when a factor is given).
import { kernels } from '../../backend/registry.js';
import type { Upsample2dParams } from '../../backend/types.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { checkFlag, fmt, pair } from '../shape-util.js';
import { checkTensor } from './elementwise.js';

export interface InterpolateOptions {
  size?: number | [number, number];
  scaleFactor?: number | [number, number];
  mode: 'bilinear' | 'nearest';
  alignCorners?: boolean;
}

function scalePair(v: unknown, op: string): [number, number] {
  const arr = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(arr) || arr.length !== 2 || arr.some((s) => typeof s !== 'number' || !Number.isFinite(s) || s <= 0)) {
    throw new RangeError(`${op}: scaleFactor must be a positive number or [h, w] pair, got ${JSON.stringify(v)}`);
  }
  return [arr[0], arr[1]];
}

export function interpolate(x: Tensor, opts: InterpolateOptions): Tensor {
  const op = 'interpolate';
  checkTensor(x, op, 'input');
  if (x.ndim !== 4) throw new RangeError(`${op}: input must be [N, C, H, W], got ${fmt(x.shape)}`);
  const mode = opts?.mode;
  if (mode !== 'bilinear' && mode !== 'nearest') throw new TypeError(`${op}: mode must be 'bilinear' or 'nearest', got ${String(mode)}`);
  const alignCorners = checkFlag(opts.alignCorners, op, 'alignCorners', false);
  if (mode === 'nearest' && opts.alignCorners !== undefined && opts.alignCorners !== false) {
    throw new TypeError(`${op}: alignCorners applies to 'bilinear' only`);
  }
  if ((opts.size === undefined) === (opts.scaleFactor === undefined)) throw new TypeError(`${op}: give exactly one of size and scaleFactor`);
  const [N, C, H, W] = x.shape;
  let OH: number;
  let OW: number;
  let scaleH: number;
  let scaleW: number;
  if (opts.size !== undefined) {
    [OH, OW] = pair(opts.size, op, 'size', 1);
    scaleH = H / OH;
    scaleW = W / OW;
  } else {
    const [fh, fw] = scalePair(opts.scaleFactor, op);
    OH = Math.floor(H * fh);
    OW = Math.floor(W * fw);
    if (OH < 1 || OW < 1) throw new RangeError(`${op}: scaleFactor (${fh}, ${fw}) shrinks ${H}×${W} to nothing`);
    scaleH = 1 / fh;
    scaleW = 1 / fw;
  }
  const p: Upsample2dParams = { N, C, H, W, OH, OW, alignCorners, scaleH, scaleW };
  const y = Tensor.uninit([N, C, OH, OW]); // the kernels write every element (y is empty when x is)
  const k = kernels();
  if (y.size > 0 && x.size > 0) (mode === 'bilinear' ? k.upsampleBilinear2d : k.upsampleNearest2d)(p, x.data, y.data);
  return record(y, op, [x], (g) => {
    const dx = Tensor.empty(x.shape);
    const kb = kernels();
    if (y.size > 0 && x.size > 0) (mode === 'bilinear' ? kb.upsampleBilinear2dBackward : kb.upsampleNearest2dBackward)(p, g.data, dx.data);
    return [dx];
  });
}
