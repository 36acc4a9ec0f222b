// Noise schedules of the two diffusion codes (diffusion spec §1, §2.3, §3.2). Timesteps are
// indexed from 0: β_0 … β_{T−1}, α_t = 1 − β_t, ᾱ_t = ∏_{s≤t} α_s, ᾱ_{−1} = 1.
//
// Two precisions, because the codes differ and the numbers they reach differ with them:
// - 'float64' (AnoDDPM, guided-diffusion): every array in float64; a coefficient is gathered
//   per step and cast to float32 (`extract(...).float()`), so `at()` rounds to float32.
// - 'float32' (AutoDDPM, MONAI/diffusers): β from torch.linspace in float32, α = 1 − β in
//   float32, ᾱ = torch.cumprod, whose CPU kernel multiplies in double and rounds each output
//   to float32. The derived coefficients are formed in double from those values and rounded.
//
// Reverse-step variance σ_t²: 'fixed-large' = β_t (guided-diffusion's model_var =
// [β̃_1, β_1, …, β_{T−1}]: at t = 0 it is β̃_1, which only the t = 0 likelihood term of the
// hybrid loss reads, the step itself adds no noise at t = 0); 'fixed-small' = β̃_t clamped at
// ≥ 1e-20 (diffusers' "fixed_small").

export type ScheduleVariance = 'fixed-large' | 'fixed-small';
export type SchedulePrecision = 'float64' | 'float32';

export interface NoiseSchedule {
  readonly T: number;
  readonly betas: Float64Array;
  readonly alphasCumprod: Float64Array;
  readonly alphasCumprodPrev: Float64Array;
  /** σ_t² of the reverse step: 'fixed-large' = β_t (AnoDDPM), 'fixed-small' = β̃_t clamped ≥ 1e-20 (AutoDDPM) */
  readonly variance: ScheduleVariance;
  /** 'float64' (AnoDDPM: computed in float64, gathered per step as float32) or 'float32' (AutoDDPM) */
  readonly precision: SchedulePrecision;
  /** Name for reports ('linear' | 'cosine'). */
  readonly name: string;
}

/** The per-step coefficients of §1, one entry per t (float64; read them through `at`). */
export interface ScheduleCoefficients {
  sqrtAlphasCumprod: Float64Array;
  sqrtOneMinusAlphasCumprod: Float64Array;
  /** √(1/ᾱ_t) and √(1/ᾱ_t − 1): x̂_0 = a·x_t − b·ε̂. */
  sqrtRecipAlphasCumprod: Float64Array;
  sqrtRecipm1AlphasCumprod: Float64Array;
  /** β̃_t = β_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t). */
  posteriorVariance: Float64Array;
  /** log β̃ with β̃_0 replaced by β̃_1 (β̃_0 = 0). */
  posteriorLogVarianceClipped: Float64Array;
  /** μ = c1·x̂_0 + c2·x_t. */
  posteriorMeanCoef1: Float64Array;
  posteriorMeanCoef2: Float64Array;
  /** σ_t² of the reverse step and its log (see the file comment for t = 0). */
  modelVariance: Float64Array;
  modelLogVariance: Float64Array;
  /** σ_t: the standard deviation the step noise z is scaled by. */
  sigma: Float64Array;
}

function checkT(T: number, who: string): void {
  if (!Number.isInteger(T) || T < 2 || T > 100000) throw new RangeError(`${who}: T (the number of diffusion steps) must be an integer in [2, 100000], got ${String(T)}`);
}

function checkVariance(v: unknown, who: string): ScheduleVariance {
  if (v !== 'fixed-large' && v !== 'fixed-small') throw new RangeError(`${who}: variance must be 'fixed-large' (AnoDDPM) or 'fixed-small' (AutoDDPM), got ${String(v)}`);
  return v;
}

function checkPrecision(p: unknown, who: string): SchedulePrecision {
  if (p !== 'float64' && p !== 'float32') throw new RangeError(`${who}: precision must be 'float64' or 'float32', got ${String(p)}`);
  return p;
}

function build(name: string, betas: Float64Array, variance: ScheduleVariance, precision: SchedulePrecision): NoiseSchedule {
  const T = betas.length;
  const ac = new Float64Array(T);
  if (precision === 'float64') {
    let acc = 1;
    for (let t = 0; t < T; t++) ac[t] = acc *= 1 - betas[t];
  } else {
    // torch.cumprod on CPU: a double accumulator over float32 α, each output rounded.
    let acc = 1;
    for (let t = 0; t < T; t++) {
      acc *= Math.fround(1 - betas[t]);
      ac[t] = Math.fround(acc);
    }
  }
  const prev = new Float64Array(T);
  prev[0] = 1;
  prev.set(ac.subarray(0, T - 1), 1);
  return Object.freeze({ T, betas, alphasCumprod: ac, alphasCumprodPrev: prev, variance, precision, name });
}

/**
 * torch.linspace in float32 as PyTorch 1.13's CPU kernel (AVX2 build) computes it: values
 * before the halfway index from the start (start + step·i), after it from the end
 * (end − step·(n − 1 − i)); the vectorised loop takes blocks of 8 from each block's first
 * value (base + k·step, base from a fused multiply-add), two blocks per turn while 16 values
 * remain, the tail one by one (checked bit for bit against torch 1.13 for n = 1000, 100, 37).
 */
function torchLinspace32(start: number, end: number, out: Float64Array): void {
  const f = Math.fround;
  const n = out.length;
  const s = f(start);
  const e = f(end);
  const step = f(f(e - s) / (n - 1));
  const half = Math.floor(n / 2);
  const one = (i: number) => (i < half ? f(s + f(step * i)) : f(e - f(step * (n - i - 1))));
  // The block's first value is contracted into one fused multiply-add by the compiler.
  const fused = (i: number) => (i < half ? f(s + step * i) : f(e - step * (n - i - 1)));
  const block = (i: number) => {
    const base = fused(i);
    for (let k = 0; k < 8; k++) out[i + k] = f(base + f(k * step));
  };
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    block(i);
    block(i + 8);
  }
  for (; i < n; i++) out[i] = one(i);
}

/**
 * Linear β from 1e-4·k to 0.02·k over T steps. AnoDDPM scales with k = 1000/T so that other T
 * keep the same total noise (`scaleWithT: true`); AutoDDPM uses k = 1 (T = 1000 there).
 */
export function linearSchedule(T: number, o: { scaleWithT: boolean; variance: ScheduleVariance; precision: SchedulePrecision }): NoiseSchedule {
  const who = 'linearSchedule';
  checkT(T, who);
  const variance = checkVariance(o?.variance, who);
  const precision = checkPrecision(o?.precision, who);
  const k = o.scaleWithT ? 1000 / T : 1;
  const start = k * 0.0001;
  const end = k * 0.02;
  if (end >= 1) throw new RangeError(`${who}: with scaleWithT, T = ${T} gives β_{T−1} = ${end} ≥ 1; use T ≥ 21`);
  const betas = new Float64Array(T);
  if (precision === 'float64') {
    // numpy.linspace: start + i·step, the last value exactly `end`.
    const step = (end - start) / (T - 1);
    for (let i = 0; i < T; i++) betas[i] = i * step + start;
    betas[T - 1] = end;
  } else {
    torchLinspace32(start, end, betas);
  }
  return build('linear', betas, variance, precision);
}

/** Cosine β_i = min(1 − f((i+1)/T)/f(i/T), 0.999), f(u) = cos²((u + 0.008)/1.008 · π/2) (guided-diffusion, float64). */
export function cosineSchedule(T: number, o: { variance: ScheduleVariance; precision: SchedulePrecision }): NoiseSchedule {
  const who = 'cosineSchedule';
  checkT(T, who);
  const variance = checkVariance(o?.variance, who);
  const precision = checkPrecision(o?.precision, who);
  const f = (u: number) => Math.cos(((u + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
  const betas = new Float64Array(T);
  for (let i = 0; i < T; i++) {
    const b = Math.min(1 - f((i + 1) / T) / f(i / T), 0.999);
    betas[i] = precision === 'float32' ? Math.fround(b) : b;
  }
  return build('cosine', betas, variance, precision);
}

const cache = new WeakMap<NoiseSchedule, ScheduleCoefficients>();

/** The coefficients of §1 for every t (computed once per schedule). */
export function coefficients(s: NoiseSchedule): ScheduleCoefficients {
  const hit = cache.get(s);
  if (hit) return hit;
  const { T, betas, alphasCumprod: ac, alphasCumprodPrev: prev } = s;
  const mk = () => new Float64Array(T);
  const c: ScheduleCoefficients = {
    sqrtAlphasCumprod: mk(),
    sqrtOneMinusAlphasCumprod: mk(),
    sqrtRecipAlphasCumprod: mk(),
    sqrtRecipm1AlphasCumprod: mk(),
    posteriorVariance: mk(),
    posteriorLogVarianceClipped: mk(),
    posteriorMeanCoef1: mk(),
    posteriorMeanCoef2: mk(),
    modelVariance: mk(),
    modelLogVariance: mk(),
    sigma: mk(),
  };
  for (let t = 0; t < T; t++) {
    const a = s.precision === 'float32' ? Math.fround(1 - betas[t]) : 1 - betas[t];
    c.sqrtAlphasCumprod[t] = Math.sqrt(ac[t]);
    c.sqrtOneMinusAlphasCumprod[t] = Math.sqrt(1 - ac[t]);
    c.sqrtRecipAlphasCumprod[t] = Math.sqrt(1 / ac[t]);
    c.sqrtRecipm1AlphasCumprod[t] = Math.sqrt(1 / ac[t] - 1);
    c.posteriorVariance[t] = (betas[t] * (1 - prev[t])) / (1 - ac[t]);
    c.posteriorMeanCoef1[t] = (betas[t] * Math.sqrt(prev[t])) / (1 - ac[t]);
    c.posteriorMeanCoef2[t] = ((1 - prev[t]) * Math.sqrt(a)) / (1 - ac[t]);
  }
  for (let t = 0; t < T; t++) {
    c.posteriorLogVarianceClipped[t] = Math.log(t === 0 ? c.posteriorVariance[1] : c.posteriorVariance[t]);
    if (s.variance === 'fixed-large') {
      c.modelVariance[t] = t === 0 ? c.posteriorVariance[1] : betas[t];
      c.modelLogVariance[t] = Math.log(c.modelVariance[t]);
      c.sigma[t] = Math.exp(0.5 * c.modelLogVariance[t]);
    } else {
      c.modelVariance[t] = Math.max(c.posteriorVariance[t], 1e-20);
      c.modelLogVariance[t] = c.posteriorLogVarianceClipped[t];
      c.sigma[t] = Math.sqrt(c.modelVariance[t]);
    }
  }
  cache.set(s, c);
  return c;
}

/** A coefficient at step t as the code uses it: float64 gathered to float32 (both precisions end in float32 tensors). */
export function at(arr: Float64Array, t: number): number {
  return Math.fround(arr[t]);
}

/** Throws unless t is a step of the schedule. */
export function checkLevel(s: NoiseSchedule, t: number, who: string, what = 't'): void {
  if (!Number.isInteger(t) || t < 0 || t >= s.T) throw new RangeError(`${who}: ${what} must be an integer step in [0, ${s.T - 1}] (T = ${s.T}), got ${String(t)}`);
}
