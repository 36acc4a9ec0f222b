// Max, average and adaptive average pooling with their backwards, PyTorch semantics.
import type { AdaptivePool2dParams, F32, I32, Pool2dParams } from '../types.js';

/**
 * Max pooling with padding (as −∞) and dilation. argmax stores, per output cell, the
 * winning input position as a flat index h·W + w within its (n, c) plane (PyTorch's
 * convention). A NaN wins, like PyTorch; ties keep the first position in scan order.
 */
export function maxPool2d(p: Pool2dParams, x: F32, y: F32, argmax: I32): void {
  const { N, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw } = p;
  for (let nc = 0; nc < N * C; nc++) {
    const xPlane = nc * H * W;
    const yPlane = nc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - ph;
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * sw - pw;
        let best = -Infinity;
        let at = -1;
        for (let i = 0; i < kh; i++) {
          const h = h0 + i * dh;
          if (h < 0 || h >= H) continue;
          for (let j = 0; j < kw; j++) {
            const w = w0 + j * dw;
            if (w < 0 || w >= W) continue;
            const v = x[xPlane + h * W + w];
            if (at < 0 || v > best || (v !== v && best === best)) {
              best = v;
              at = h * W + w;
            }
          }
        }
        // The engine never produces a window that misses the input entirely.
        y[yPlane + oh * OW + ow] = best;
        argmax[yPlane + oh * OW + ow] = at;
      }
    }
  }
}

export function maxPool2dBackward(p: Pool2dParams, dy: F32, argmax: I32, dx: F32): void {
  const { N, C, H, W, OH, OW } = p;
  const acc = new Float64Array(H * W);
  for (let nc = 0; nc < N * C; nc++) {
    acc.fill(0);
    const yPlane = nc * OH * OW;
    for (let o = 0; o < OH * OW; o++) {
      const at = argmax[yPlane + o];
      if (at >= 0) acc[at] += dy[yPlane + o];
    }
    dx.set(acc, nc * H * W);
  }
}

/**
 * One average-pool window, as PyTorch defines it: the window may reach into the
 * padding (counted when countIncludePad) but never past it, and the summed region
 * is its intersection with the image.
 */
interface AvgWindow {
  h0: number;
  h1: number;
  w0: number;
  w1: number;
  divisor: number;
}

function avgWindow(p: Pool2dParams, oh: number, ow: number): AvgWindow {
  const { H, W, kh, kw, sh, sw, ph, pw, countIncludePad, divisorOverride } = p;
  let h0 = oh * sh - ph;
  let w0 = ow * sw - pw;
  let h1 = Math.min(h0 + kh, H + ph);
  let w1 = Math.min(w0 + kw, W + pw);
  const padded = (h1 - h0) * (w1 - w0);
  h0 = Math.max(h0, 0);
  w0 = Math.max(w0, 0);
  h1 = Math.min(h1, H);
  w1 = Math.min(w1, W);
  const inside = Math.max(0, h1 - h0) * Math.max(0, w1 - w0);
  const divisor = divisorOverride ? divisorOverride : countIncludePad ? padded : inside;
  return { h0, h1, w0, w1, divisor };
}

export function avgPool2d(p: Pool2dParams, x: F32, y: F32): void {
  const { N, C, H, W, OH, OW } = p;
  const windows: AvgWindow[] = [];
  for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) windows.push(avgWindow(p, oh, ow));
  for (let nc = 0; nc < N * C; nc++) {
    const xPlane = nc * H * W;
    const yPlane = nc * OH * OW;
    for (let o = 0; o < OH * OW; o++) {
      const { h0, h1, w0, w1, divisor } = windows[o];
      let s = 0;
      for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += x[xPlane + h * W + w];
      // An empty window (possible only with ceil mode) averages to 0, as in PyTorch.
      y[yPlane + o] = h1 > h0 && w1 > w0 ? s / divisor : 0;
    }
  }
}

export function avgPool2dBackward(p: Pool2dParams, dy: F32, dx: F32): void {
  const { N, C, H, W, OH, OW } = p;
  const windows: AvgWindow[] = [];
  for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) windows.push(avgWindow(p, oh, ow));
  const acc = new Float64Array(H * W);
  for (let nc = 0; nc < N * C; nc++) {
    acc.fill(0);
    const yPlane = nc * OH * OW;
    for (let o = 0; o < OH * OW; o++) {
      const { h0, h1, w0, w1, divisor } = windows[o];
      const g = dy[yPlane + o] / divisor;
      for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) acc[h * W + w] += g;
    }
    dx.set(acc, nc * H * W);
  }
}

/** Adaptive window of output cell i over an input axis of `size`: [⌊i·size/out⌋, ⌈(i+1)·size/out⌉). */
function adaptiveStart(i: number, size: number, out: number): number {
  return Math.floor((i * size) / out);
}
function adaptiveEnd(i: number, size: number, out: number): number {
  return Math.ceil(((i + 1) * size) / out);
}

export function adaptiveAvgPool2d(p: AdaptivePool2dParams, x: F32, y: F32): void {
  const { N, C, H, W, OH, OW } = p;
  for (let nc = 0; nc < N * C; nc++) {
    const xPlane = nc * H * W;
    const yPlane = nc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = adaptiveStart(oh, H, OH);
      const h1 = adaptiveEnd(oh, H, OH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = adaptiveStart(ow, W, OW);
        const w1 = adaptiveEnd(ow, W, OW);
        let s = 0;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += x[xPlane + h * W + w];
        y[yPlane + oh * OW + ow] = s / ((h1 - h0) * (w1 - w0));
      }
    }
  }
}

export function adaptiveAvgPool2dBackward(p: AdaptivePool2dParams, dy: F32, dx: F32): void {
  const { N, C, H, W, OH, OW } = p;
  const acc = new Float64Array(H * W);
  for (let nc = 0; nc < N * C; nc++) {
    acc.fill(0);
    const yPlane = nc * OH * OW;
    for (let oh = 0; oh < OH; oh++) {
      const h0 = adaptiveStart(oh, H, OH);
      const h1 = adaptiveEnd(oh, H, OH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = adaptiveStart(ow, W, OW);
        const w1 = adaptiveEnd(ow, W, OW);
        const g = dy[yPlane + oh * OW + ow] / ((h1 - h0) * (w1 - w0));
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) acc[h * W + w] += g;
      }
    }
    dx.set(acc, nc * H * W);
  }
}
