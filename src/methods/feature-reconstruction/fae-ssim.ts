// FAE's element-wise losses between reconstructed and extracted feature maps
// (FeliMe/feature-autoencoder, fae/utils/pytorch_ssim.py with window_size 5, and MSE):
//
// - SSIM: a 5 × 5 Gaussian window (σ 1.5: the outer product of the normalised 1-D kernel)
//   applied per channel with zero padding 2, so the map keeps the feature size; μ, σ² and σxy
//   from the window; C1 = 0.01², C2 = 0.03² as for [0, 1] images, although features are not
//   in [0, 1] (the official constants, kept). The map is returned negated (−SSIM, not
//   1 − SSIM), so two identical inputs give −1 everywhere.
// - MSE: the squared error, element-wise.
// The training loss is the mean of the map over every element; the anomaly map is its mean
// over channels.
import { concat, conv2d, slice, Tensor } from '../../engine/index.js';
import { gaussianWindow } from '../reconstruction/ssim.js';

export const FAE_SSIM_TAPS = 5;
export const FAE_SSIM_SIGMA = 1.5;
const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;

/** Depthwise 5 × 5 Gaussian blur with zero padding 2, as two separable passes (the same sums as the 2-D window). */
function blur(x: Tensor): Tensor {
  const k = x.shape[1];
  const g = gaussianWindow(FAE_SSIM_TAPS, FAE_SSIM_SIGMA);
  const w = new Float32Array(k * FAE_SSIM_TAPS);
  for (let c = 0; c < k; c++) w.set(g, c * FAE_SSIM_TAPS);
  const pad = (FAE_SSIM_TAPS - 1) / 2;
  const h = conv2d(x, Tensor.fromData(w, [k, 1, 1, FAE_SSIM_TAPS]), undefined, { groups: k, padding: [0, pad] });
  return conv2d(h, Tensor.fromData(w.slice(), [k, 1, FAE_SSIM_TAPS, 1]), undefined, { groups: k, padding: [pad, 0] });
}

function checkPair(op: string, a: Tensor, b: Tensor): void {
  if (a.ndim !== 4 || a.shape.join() !== b.shape.join()) throw new Error(`${op}: both inputs must have the same [B, C, H, W] shape, got [${a.shape}] and [${b.shape}]`);
}

/** −SSIM per element of feature maps a, b [B, C, H, W] (symmetric in a and b); differentiable in both. */
export function negativeSsimMap(a: Tensor, b: Tensor): Tensor {
  checkPair('negativeSsimMap', a, b);
  const c = a.shape[1];
  // One depthwise pass over the five channel groups [a, b, a², b², ab].
  const stats = blur(concat([a, b, a.square(), b.square(), a.mul(b)], 1));
  const part = (i: number) => slice(stats, 1, i * c, (i + 1) * c);
  const ma = part(0);
  const mb = part(1);
  const ma2 = ma.square();
  const mb2 = mb.square();
  const mab = ma.mul(mb);
  const sa = part(2).sub(ma2);
  const sb = part(3).sub(mb2);
  const sab = part(4).sub(mab);
  const num = mab.mul(2).add(C1).mul(sab.mul(2).add(C2));
  const den = ma2.add(mb2).add(C1).mul(sa.add(sb).add(C2));
  return num.div(den).neg();
}

/** (a − b)² per element. */
export function squaredErrorMap(a: Tensor, b: Tensor): Tensor {
  checkPair('squaredErrorMap', a, b);
  return a.sub(b).square();
}

export type FaeLoss = 'ssim' | 'mse';

/** The element-wise loss map of the `loss` option ([B, C, H, W]). */
export function faeLossMap(loss: FaeLoss, rec: Tensor, feats: Tensor): Tensor {
  return loss === 'ssim' ? negativeSsimMap(rec, feats) : squaredErrorMap(rec, feats);
}
