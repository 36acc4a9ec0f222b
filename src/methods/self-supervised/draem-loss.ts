// DRAEM's losses as its official code computes them (VitjanZ/DRAEM, loss.py), composed from
// differentiable engine ops:
//
// - focalLoss: FocalLoss() on softmax probabilities p [N, K, H, W] and a class map t
//   [N, 1, H, W] (t truncated to an integer, as `.long()` does): the one-hot target is
//   clamped to [s/(K − 1), 1 − s] with s = 1e-5, p_t = Σ_k onehot_k·p_k + s and
//   loss = mean over pixels of −α·(1 − p_t)^γ·log p_t, γ = 2, α = 1.
// - draemSsimLoss: 1 − SSIM with an 11-tap Gaussian window (σ 1.5, normalised) applied with
//   zero padding 5 (outputs the input's size, border windows included), constants
//   C1 = (0.01·L)², C2 = (0.03·L)² where the range L comes from the first argument (the
//   reconstruction): max 255 if its maximum exceeds 128 else 1, min −1 if its minimum is
//   below −0.5 else 0, L = max − min; the mean over every element. No clamping of the inputs
//   (the AE-SSIM loss of src/methods/reconstruction/ssim.ts clamps and uses valid windows).
import { concat, conv2d, log, pow, slice, sum, Tensor } from '../../engine/index.js';
import { gaussianWindow } from '../reconstruction/ssim.js';

export const FOCAL_GAMMA = 2;
export const FOCAL_SMOOTH = 1e-5;
export const DRAEM_SSIM_WINDOW = 11;

/** The official FocalLoss on probabilities `p` [N, K, H, W] and a class map `target` [N, 1, H, W] (or [N, H, W]). */
export function focalLoss(p: Tensor, target: Tensor | Float32Array, opts: { gamma?: number; smooth?: number } = {}): Tensor {
  const gamma = opts.gamma ?? FOCAL_GAMMA;
  const s = opts.smooth ?? FOCAL_SMOOTH;
  if (p.ndim !== 4) throw new Error(`focalLoss: probabilities must be [N, K, H, W], got [${p.shape.join(', ')}]`);
  const [n, k, h, w] = p.shape;
  if (k < 2) throw new Error(`focalLoss: need at least 2 classes, got ${k}`);
  const t = target instanceof Tensor ? target.data : target;
  if (t.length !== n * h * w) throw new Error(`focalLoss: the target must hold N·H·W = ${n * h * w} values (one class per pixel), got ${t.length}`);
  const lo = s / (k - 1);
  const hi = 1 - s;
  // The clamped one-hot weights, [N, K, H, W], as a constant.
  const oh = new Float32Array(n * k * h * w);
  const plane = h * w;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < plane; j++) {
      const cls = Math.trunc(t[i * plane + j]!);
      if (!(cls >= 0 && cls < k)) throw new RangeError(`focalLoss: target value ${t[i * plane + j]} at image ${i}, pixel ${j} is not a class in [0, ${k})`);
      for (let c = 0; c < k; c++) oh[(i * k + c) * plane + j] = c === cls ? hi : lo;
    }
  }
  const pt = sum(p.mul(Tensor.fromData(oh, p.shape)), 1).add(s);
  const oneMinus = pt.neg().add(1);
  const weight = gamma === 2 ? oneMinus.square() : pow(oneMinus, gamma);
  return weight.mul(log(pt)).mean().neg();
}

/** Depthwise separable Gaussian blur of x [B, K, H, W] with zero padding (same size out). */
function blurSame(x: Tensor): Tensor {
  const k = x.shape[1];
  const taps = DRAEM_SSIM_WINDOW;
  const g = gaussianWindow(taps, 1.5);
  const wh = new Float32Array(k * taps);
  for (let c = 0; c < k; c++) wh.set(g, c * taps);
  const p = (taps - 1) / 2;
  const hPass = conv2d(x, Tensor.fromData(wh, [k, 1, 1, taps]), undefined, { groups: k, padding: [0, p] });
  return conv2d(hPass, Tensor.fromData(wh.slice(), [k, 1, taps, 1]), undefined, { groups: k, padding: [p, 0] });
}

/** The value range L the official ssim() infers from its first argument. */
export function draemSsimRange(x: Float32Array): number {
  let mx = -Infinity;
  let mn = Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i]! > mx) mx = x[i]!;
    if (x[i]! < mn) mn = x[i]!;
  }
  return (mx > 128 ? 255 : 1) - (mn < -0.5 ? -1 : 0);
}

/** 1 − mean SSIM of `rec` and `target` ([B, C, H, W]) as the official SSIM() loss. */
export function draemSsimLoss(rec: Tensor, target: Tensor): Tensor {
  if (rec.ndim !== 4 || rec.shape.join() !== target.shape.join()) {
    throw new Error(`draemSsimLoss: both images must have the same [B, C, H, W] shape, got [${rec.shape}] and [${target.shape}]`);
  }
  const c = rec.shape[1];
  const L = draemSsimRange(rec.data);
  const c1 = (0.01 * L) ** 2;
  const c2 = (0.03 * L) ** 2;
  const stats = blurSame(concat([rec, target, rec.square(), target.square(), rec.mul(target)], 1));
  const part = (i: number) => slice(stats, 1, i * c, (i + 1) * c);
  const m1 = part(0);
  const m2 = part(1);
  const m1s = m1.square();
  const m2s = m2.square();
  const m12 = m1.mul(m2);
  const s1 = part(2).sub(m1s);
  const s2 = part(3).sub(m2s);
  const s12 = part(4).sub(m12);
  const map = m12.mul(2).add(c1).mul(s12.mul(2).add(c2)).div(m1s.add(m2s).add(c1).mul(s1.add(s2).add(c2)));
  return map.mean().neg().add(1);
}
