// Padding of the last two dims: constant, reflect (mirror without repeating the
// edge, PyTorch's 'reflect') and replicate (repeat the edge). The backward folds
// each padded cell's gradient back onto the source pixel it was read from.
import type { F32, Pad2dParams } from '../types.js';

/** Source index of padded coordinate i (in [−before, size + after)), or −1 outside for constant mode. */
function sourceIndex(i: number, size: number, mode: Pad2dParams['mode']): number {
  if (i >= 0 && i < size) return i;
  switch (mode) {
    case 'constant':
      return -1;
    case 'replicate':
      return i < 0 ? 0 : size - 1;
    case 'reflect':
      // The engine guarantees pad < size, so one reflection lands inside.
      return i < 0 ? -i : 2 * (size - 1) - i;
  }
}

/** Source index per output row/column, computed once per call. */
function sourceTable(before: number, size: number, after: number, mode: Pad2dParams['mode']): Int32Array {
  const t = new Int32Array(before + size + after);
  for (let o = 0; o < t.length; o++) t[o] = sourceIndex(o - before, size, mode);
  return t;
}

export function pad2d(p: Pad2dParams, x: F32, y: F32): void {
  const { NC, H, W, top, bottom, left, right, mode, value } = p;
  const OH = H + top + bottom;
  const OW = W + left + right;
  const rows = sourceTable(top, H, bottom, mode);
  const cols = sourceTable(left, W, right, mode);
  for (let nc = 0; nc < NC; nc++) {
    const xPlane = nc * H * W;
    const yPlane = nc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const yRow = yPlane + oh * OW;
      const ih = rows[oh];
      if (ih < 0) {
        y.fill(value, yRow, yRow + OW);
        continue;
      }
      const xRow = xPlane + ih * W;
      for (let ow = 0; ow < OW; ow++) {
        const iw = cols[ow];
        y[yRow + ow] = iw < 0 ? value : x[xRow + iw];
      }
    }
  }
}

export function pad2dBackward(p: Pad2dParams, dy: F32, dx: F32): void {
  const { NC, H, W, top, bottom, left, right, mode } = p;
  const OH = H + top + bottom;
  const OW = W + left + right;
  const rows = sourceTable(top, H, bottom, mode);
  const cols = sourceTable(left, W, right, mode);
  const acc = new Float64Array(H * W);
  for (let nc = 0; nc < NC; nc++) {
    acc.fill(0);
    const yPlane = nc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const ih = rows[oh];
      if (ih < 0) continue;
      const yRow = yPlane + oh * OW;
      for (let ow = 0; ow < OW; ow++) {
        const iw = cols[ow];
        if (iw >= 0) acc[ih * W + iw] += dy[yRow + ow];
      }
    }
    dx.set(acc, nc * H * W);
  }
}
