// Padding of the last two dims: constant, reflect and replicate (F.pad with 4 entries).
import { kernels } from '../../backend/registry.js';
import type { Pad2dParams } from '../../backend/types.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { MAX_GEOMETRY, checkSize, fmt, prod } from '../shape-util.js';
import { checkTensor } from './elementwise.js';

export type PadMode = 'constant' | 'reflect' | 'replicate';

/** pads = [left, right, top, bottom], like F.pad on the last two dims. */
export function pad(x: Tensor, pads: [number, number, number, number] | number[], mode: PadMode = 'constant', value = 0): Tensor {
  const op = 'pad';
  checkTensor(x, op, 'input');
  if (x.ndim < 2) throw new RangeError(`${op}: input needs at least 2 dims (…, H, W), got ${fmt(x.shape)}`);
  if (!Array.isArray(pads) || pads.length !== 4) throw new TypeError(`${op}: pads must be [left, right, top, bottom], got ${JSON.stringify(pads)}`);
  const [left, right, top, bottom] = pads.map((v, i) => {
    // Padding is window geometry: the same 2^20 limit as conv and pooling.
    if (checkSize(v, op, `pads[${i}]`) > MAX_GEOMETRY) throw new RangeError(`${op}: pads[${i}] must be at most 2^20, got ${v}`);
    return v as number;
  });
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'replicate') throw new TypeError(`${op}: mode must be 'constant', 'reflect' or 'replicate', got ${String(mode)}`);
  if (typeof value !== 'number') throw new TypeError(`${op}: value must be a number, got ${typeof value}`);
  const H = x.shape[x.ndim - 2];
  const W = x.shape[x.ndim - 1];
  if (mode === 'reflect' && (top >= H || bottom >= H || left >= W || right >= W)) {
    throw new RangeError(`${op}: reflect padding (${left}, ${right}, ${top}, ${bottom}) must be smaller than the input size ${H}×${W}`);
  }
  if (mode !== 'constant' && (H === 0 || W === 0) && left + right + top + bottom > 0) {
    throw new RangeError(`${op}: ${mode} padding needs a non-empty ${H}×${W} input`);
  }
  const NC = prod(x.shape.slice(0, -2));
  const p: Pad2dParams = { NC, H, W, top, bottom, left, right, mode, value };
  const y = Tensor.empty([...x.shape.slice(0, -2), H + top + bottom, W + left + right]);
  if (y.size > 0) kernels().pad2d(p, x.data, y.data);
  return record(y, op, [x], (g) => {
    const dx = Tensor.empty(x.shape);
    if (x.size > 0) kernels().pad2dBackward(p, g.data, dx.data);
    return [dx];
  });
}
