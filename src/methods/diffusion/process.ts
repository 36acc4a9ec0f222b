// The DDPM forward and reverse steps (diffusion spec §1), element-wise on float32 tensors
// with the step's coefficients gathered as float32 (schedule.ts `at`). No autograd: these run
// on data (q-sample of the training input) or under noGrad (sampling); the losses that need
// gradients live in losses.ts.
//
//   q-sample:   x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · n
//   x̂_0:        clamp(√(1/ᾱ_t) · x_t − √(1/ᾱ_t − 1) · ε̂, −1, 1)
//   reverse:    μ = c1 · x̂_0 + c2 · x_t;  x_{t−1} = μ + σ_t · z (t > 0),  μ (t = 0)
import { Tensor } from '../../engine/index.js';
import { at, checkLevel, coefficients, type NoiseSchedule } from './schedule.js';

function sameShape(a: Tensor, b: Tensor, who: string, an: string, bn: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`${who}: ${an} [${a.shape.join(', ')}] and ${bn} [${b.shape.join(', ')}] must have the same shape`);
  }
}

/** Noises every image of x0 [B, …] to its own level t[b] with the given noise field. */
export function qSample(x0: Tensor, noise: Tensor, t: Int32Array, s: NoiseSchedule): Tensor {
  const who = 'qSample';
  sameShape(x0, noise, who, 'x0', 'noise');
  const b = x0.shape[0];
  if (!(t instanceof Int32Array) || t.length !== b) throw new RangeError(`${who}: t must be an Int32Array of one level per image (${b}), got ${t?.length}`);
  const c = coefficients(s);
  const per = x0.size / b;
  const out = Tensor.empty(x0.shape);
  const o = out.data;
  const xd = x0.data;
  const nd = noise.data;
  for (let i = 0; i < b; i++) {
    checkLevel(s, t[i], who, `t[${i}]`);
    const ka = at(c.sqrtAlphasCumprod, t[i]);
    const kb = at(c.sqrtOneMinusAlphasCumprod, t[i]);
    for (let j = i * per; j < (i + 1) * per; j++) o[j] = Math.fround(ka * xd[j]) + Math.fround(kb * nd[j]);
  }
  return out;
}

/** x̂_0 of every image at level t, clamped to [−1, 1], written into `out` (may alias nothing else). */
export function predictX0Into(s: NoiseSchedule, epsHat: Float32Array, t: number, x: Float32Array, out: Float32Array): void {
  const c = coefficients(s);
  const a = at(c.sqrtRecipAlphasCumprod, t);
  const b = at(c.sqrtRecipm1AlphasCumprod, t);
  for (let j = 0; j < x.length; j++) {
    const v = Math.fround(Math.fround(a * x[j]) - Math.fround(b * epsHat[j]));
    out[j] = v < -1 ? -1 : v > 1 ? 1 : v;
  }
}

/** x̂_0 from the predicted noise at level t, clamped to [−1, 1] (both codes clamp). */
export function predictX0(s: NoiseSchedule, epsHat: Tensor, t: number, x: Tensor): Tensor {
  checkLevel(s, t, 'predictX0');
  sameShape(epsHat, x, 'predictX0', 'epsHat', 'x');
  const out = Tensor.empty(x.shape);
  predictX0Into(s, epsHat.data, t, x.data, out.data);
  return out;
}

/**
 * One reverse step in place: x ← μ(x̂_0(ε̂), x) + σ_t · z (z ignored at t = 0). `x` may be the
 * buffer the step reads (each element is read before it is written).
 */
export function reverseStepInto(s: NoiseSchedule, epsHat: Float32Array, t: number, x: Float32Array, z: Float32Array | null, out: Float32Array): void {
  const c = coefficients(s);
  const a = at(c.sqrtRecipAlphasCumprod, t);
  const b = at(c.sqrtRecipm1AlphasCumprod, t);
  const c1 = at(c.posteriorMeanCoef1, t);
  const c2 = at(c.posteriorMeanCoef2, t);
  const sigma = at(c.sigma, t);
  const noisy = t > 0;
  if (noisy && !z) throw new Error(`reverseStep: the step at t = ${t} > 0 needs a noise field z`);
  for (let j = 0; j < x.length; j++) {
    const xt = x[j];
    let x0 = Math.fround(Math.fround(a * xt) - Math.fround(b * epsHat[j]));
    x0 = x0 < -1 ? -1 : x0 > 1 ? 1 : x0;
    const mu = Math.fround(Math.fround(c1 * x0) + Math.fround(c2 * xt));
    out[j] = noisy ? mu + Math.fround(sigma * z![j]) : mu;
  }
}

/** One reverse step for every image at the same level t: returns x_{t−1}; z used only when t > 0. */
export function reverseStep(s: NoiseSchedule, epsHat: Tensor, t: number, x: Tensor, z: Tensor | null): Tensor {
  const who = 'reverseStep';
  checkLevel(s, t, who);
  sameShape(epsHat, x, who, 'epsHat', 'x');
  if (t > 0) {
    if (!z) throw new Error(`${who}: the step at t = ${t} > 0 needs a noise field z (only t = 0 adds none)`);
    sameShape(z, x, who, 'z', 'x');
  }
  const out = Tensor.empty(x.shape);
  reverseStepInto(s, epsHat.data, t, x.data, t > 0 ? z!.data : null, out.data);
  return out;
}
