// SSIM as the reference's AE-SSIM loss computes it (methods.md §5.3): inputs mapped from
// [-1, 1] to [0, 1] and clamped; an 11-tap Gaussian window (σ 1.5, sum 1) applied as two
// separable 1-D convolutions per channel (depthwise conv2d, so it is differentiable);
// "valid" windows by default (54 × 54 from 64 × 64); K1 0.01, K2 0.03, data range 1; no
// Bessel correction.
import { clamp, concat, conv2d, slice, Tensor } from '../../engine/index.js';

const TAPS = 11;
const SIGMA = 1.5;
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

/** The normalised 1-D Gaussian window (11 taps, σ 1.5). */
export function gaussianWindow(taps = TAPS, sigma = SIGMA): Float32Array {
  const w = new Float64Array(taps);
  const mid = (taps - 1) / 2;
  let s = 0;
  for (let i = 0; i < taps; i++) s += w[i] = Math.exp(-((i - mid) ** 2) / (2 * sigma * sigma));
  return Float32Array.from(w, (v) => v / s);
}

/** Depthwise separable Gaussian blur of x [B, K, H, W]; `padding` 0 = valid, 5 = same size (zero padded). */
function blur(x: Tensor, padding: number): Tensor {
  const k = x.shape[1];
  const g = gaussianWindow();
  const wh = new Float32Array(k * TAPS);
  for (let c = 0; c < k; c++) wh.set(g, c * TAPS);
  const horizontal = Tensor.fromData(wh, [k, 1, 1, TAPS]);
  const vertical = Tensor.fromData(wh.slice(), [k, 1, TAPS, 1]);
  const h = conv2d(x, horizontal, undefined, { groups: k, padding: [0, padding] });
  return conv2d(h, vertical, undefined, { groups: k, padding: [padding, 0] });
}

/**
 * SSIM map of x and y ([B, C, H, W] in [-1, 1] space). `valid` true: [B, C, H − 10, W − 10]
 * (the reference); false: [B, C, H, W] with zero padding.
 */
export function ssimMap(x: Tensor, y: Tensor, valid = true): Tensor {
  if (x.ndim !== 4 || x.shape.join() !== y.shape.join()) throw new Error(`ssimMap: x and y must have the same [B, C, H, W] shape, got [${x.shape}] and [${y.shape}]`);
  const [, c, h, w] = x.shape;
  if (valid && (h < TAPS || w < TAPS)) throw new Error(`ssimMap: images must be at least ${TAPS}×${TAPS} for valid windows, got ${h}×${w}`);
  const a = clamp(x.add(1).mul(0.5), 0, 1);
  const b = clamp(y.add(1).mul(0.5), 0, 1);
  // One depthwise pass over the five channel groups [a, b, a², b², ab].
  const stats = blur(concat([a, b, a.square(), b.square(), a.mul(b)], 1), valid ? 0 : (TAPS - 1) / 2);
  const part = (i: number) => slice(stats, 1, i * c, (i + 1) * c);
  const mx = part(0);
  const my = part(1);
  const mx2 = mx.square();
  const my2 = my.square();
  const mxy = mx.mul(my);
  const sx = part(2).sub(mx2);
  const sy = part(3).sub(my2);
  const sxy = part(4).sub(mxy);
  const num = mxy.mul(2).add(C1).mul(sxy.mul(2).add(C2));
  const den = mx2.add(my2).add(C1).mul(sx.add(sy).add(C2));
  return num.div(den);
}
