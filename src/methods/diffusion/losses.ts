// Training losses of AnoDDPM (diffusion spec §2.3, guided-diffusion formulas):
// - 'l2': per-image mean over C, H, W of (ε̂ − n)², then the batch mean (the default);
// - 'l1': the same with |ε̂ − n|;
// - 'hybrid': l2 + the variational bound term of each image in bits: for t > 0 the KL between
//   the true posterior N(μ̃(x_0, x_t), β̃_t) and the model's N(μ_θ, σ_t²); for t = 0 the
//   negative discretised-Gaussian log-likelihood of x_0 under N(μ_θ, σ_0²) (bins of half-width
//   1/255, the tanh CDF approximation, edge bins below −0.999 and above 0.999, probabilities
//   clamped ≥ 1e-12); both averaged over C, H, W and divided by ln 2.
// μ_θ = c1 · clamp(x̂_0(ε̂), −1, 1) + c2 · x_t, as the reference computes it (the clamp passes no
// gradient outside [−1, 1]); the gradient flows into ε̂ through μ_θ only, since the variances
// are fixed. The term is one autograd op with its gradient written out (in float64).
import { abs, record, square, sub, Tensor } from '../../engine/index.js';
import { at, checkLevel, coefficients, type NoiseSchedule } from './schedule.js';

export type DiffusionLoss = 'l2' | 'l1' | 'hybrid';

export interface DiffusionLossContext {
  s: NoiseSchedule;
  x0: Tensor;
  xt: Tensor;
  t: Int32Array;
}

const K_CDF = Math.sqrt(2 / Math.PI);
const LN2 = Math.log(2);
const BIN = 1 / 255;

/** 0.5·(1 + tanh(√(2/π)(x + 0.044715 x³))) and its derivative. */
function approxCdf(x: number): { p: number; dp: number } {
  const u = K_CDF * (x + 0.044715 * x * x * x);
  const th = Math.tanh(u);
  return { p: 0.5 * (1 + th), dp: 0.5 * (1 - th * th) * K_CDF * (1 + 3 * 0.044715 * x * x) };
}

/**
 * Per-image VLB terms in bits [B] and, when `grad` is given, d(term_i)/dε̂ written into it
 * (so that d(Σ_i w_i term_i)/dε̂ = w_i · grad).
 */
export function vlbTerms(s: NoiseSchedule, epsHat: Float32Array, ctx: DiffusionLossContext, grad?: Float64Array): Float64Array {
  const c = coefficients(s);
  const { x0, xt, t } = ctx;
  const b = t.length;
  const per = x0.size / b;
  const out = new Float64Array(b);
  const xd = x0.data;
  const xtd = xt.data;
  for (let i = 0; i < b; i++) {
    const ti = t[i];
    const a = at(c.sqrtRecipAlphasCumprod, ti);
    const bb = at(c.sqrtRecipm1AlphasCumprod, ti);
    const c1 = at(c.posteriorMeanCoef1, ti);
    const c2 = at(c.posteriorMeanCoef2, ti);
    const trueLogVar = at(c.posteriorLogVarianceClipped, ti);
    const modelLogVar = at(c.modelLogVariance, ti);
    let acc = 0;
    const scale = 1 / (per * LN2);
    for (let j = i * per; j < (i + 1) * per; j++) {
      const raw = a * xtd[j] - bb * epsHat[j];
      const inside = raw >= -1 && raw <= 1;
      const x0hat = raw < -1 ? -1 : raw > 1 ? 1 : raw;
      const mu = c1 * x0hat + c2 * xtd[j];
      // d mu / d eps
      const dmu = inside ? -c1 * bb : 0;
      let term: number;
      let dterm: number; // d term / d mu
      if (ti > 0) {
        const trueMean = c1 * xd[j] + c2 * xtd[j];
        const diff = trueMean - mu;
        term = 0.5 * (-1 + modelLogVar - trueLogVar + Math.exp(trueLogVar - modelLogVar) + diff * diff * Math.exp(-modelLogVar));
        dterm = -diff * Math.exp(-modelLogVar);
      } else {
        const inv = Math.exp(-0.5 * modelLogVar);
        const centered = xd[j] - mu;
        const plus = approxCdf(inv * (centered + BIN));
        const minus = approxCdf(inv * (centered - BIN));
        // log-probability lp and d lp / d centered; the NLL is −lp and d centered / d mu = −1.
        let lp: number;
        let dlp: number;
        if (xd[j] < -0.999) {
          const v = plus.p;
          lp = Math.log(Math.max(v, 1e-12));
          dlp = v >= 1e-12 ? (plus.dp * inv) / v : 0;
        } else if (xd[j] > 0.999) {
          const v = 1 - minus.p;
          lp = Math.log(Math.max(v, 1e-12));
          dlp = v >= 1e-12 ? (-minus.dp * inv) / v : 0;
        } else {
          const v = plus.p - minus.p;
          lp = Math.log(Math.max(v, 1e-12));
          dlp = v >= 1e-12 ? ((plus.dp - minus.dp) * inv) / v : 0;
        }
        term = -lp;
        dterm = dlp; // d(−lp)/dmu = −dlp · (−1)
      }
      acc += term;
      if (grad) grad[j] = dterm * dmu * scale;
    }
    out[i] = acc * scale;
  }
  return out;
}

/** The VLB term of each image [B] as an autograd op of ε̂. */
export function vlbLoss(epsHat: Tensor, ctx: DiffusionLossContext): Tensor {
  const b = ctx.t.length;
  const grad = new Float64Array(epsHat.size);
  const terms = vlbTerms(ctx.s, epsHat.data, ctx, grad);
  const out = Tensor.fromData(Float32Array.from(terms), [b]);
  return record(out, 'diffusionVlb', [epsHat], (g) => {
    const per = epsHat.size / b;
    const dx = Tensor.empty(epsHat.shape);
    const d = dx.data;
    const gd = g.data;
    for (let i = 0; i < b; i++) for (let j = i * per; j < (i + 1) * per; j++) d[j] = gd[i] * grad[j];
    return [dx];
  });
}

function check(epsHat: Tensor, noise: Tensor, ctx: DiffusionLossContext, who: string): void {
  const same = (a: Tensor, b: Tensor) => a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (!same(epsHat, noise)) throw new RangeError(`${who}: epsHat [${epsHat.shape.join(', ')}] and noise [${noise.shape.join(', ')}] must have the same shape`);
  if (!same(epsHat, ctx.x0) || !same(epsHat, ctx.xt)) throw new RangeError(`${who}: x0 and xt must have epsHat's shape [${epsHat.shape.join(', ')}]`);
  if (!(ctx.t instanceof Int32Array) || ctx.t.length !== epsHat.shape[0]) throw new RangeError(`${who}: t must be an Int32Array with one level per image (${epsHat.shape[0]})`);
  for (let i = 0; i < ctx.t.length; i++) checkLevel(ctx.s, ctx.t[i], who, `t[${i}]`);
}

/** The training loss of a batch (a scalar): see the file comment for each kind. */
export function diffusionLoss(kind: DiffusionLoss, epsHat: Tensor, noise: Tensor, ctx: DiffusionLossContext): Tensor {
  const who = 'diffusionLoss';
  check(epsHat, noise, ctx, who);
  switch (kind) {
    case 'l2':
      return square(sub(epsHat, noise)).mean();
    case 'l1':
      return abs(sub(epsHat, noise)).mean();
    case 'hybrid':
      // Every image has C·H·W values, so the batch mean of per-image means is the global mean.
      return square(sub(epsHat, noise)).mean().add(vlbLoss(epsHat, ctx).mean());
    default:
      throw new RangeError(`${who}: kind must be 'l2', 'l1' or 'hybrid', got ${String(kind)}`);
  }
}
