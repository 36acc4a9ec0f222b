// AutoDDPM's re-sampling loop (diffusion spec §3.4 step 5; ci-ber/autoDDPM
// `get_autoDDPM_anomaly`), a RePaint-style inpainting of the masked region:
//
//   y = q-sample(x̂, n, L)                       (from the coarse reconstruction, not the stitch)
//   for t = L … 0, u = 0 … R − 1:
//     k  = q-sample(x_known, fresh n, t − 1)     if t > 0, else x_known
//     y' = reverse step(U-Net(y, t), t, y)       if t > 0 (at t = 0, y' = y)
//     y  = where(m = 1, y', k)
//     y  = √(1 − β_{t−1})·y + √β_{t−1}·n        if t > 0 and u < R − 1 (re-noise one level)
//
// Quirks kept (spec §3.5.4): the re-noising uses β_{t−1}, one index below the forward step
// from t − 1 to t; the loop never runs the t = 0 reverse step, so y ends as the t = 1 step's
// x_0 sample (L·R U-Net calls). At t = 0 the R passes only repeat the same `where`, done once.
//
// Batched: every image of the batch is at the same level t, one U-Net call per (t, u). Runs
// under noGrad; y and k live in two buffers reused across steps. Random draws: `noise` gives
// the start, every reverse-step z and every re-noise field, `knownNoise` the known region's
// fields, each source in a fixed order — with m = 1 everywhere the known region never shows,
// and the loop is exactly a plain re-sampling of x̂ from level L by `noise` alone.
import { noGrad, Tensor } from '../../engine/index.js';
import type { Denoiser } from '../../models/diffusion/denoiser.js';
import type { NoiseSource } from './noise.js';
import { qSample, reverseStepInto } from './process.js';
import { at, checkLevel, coefficients, type NoiseSchedule } from './schedule.js';
import type { SamplingStats } from './sampling.js';

export interface ResampleOptions {
  /** Start level L (L_inp: 50 in the reference). */
  level: number;
  /** Passes R per level (5 in the reference). */
  resample: number;
  /** Start noise, reverse-step z and re-noise fields. */
  noise: NoiseSource;
  /** Noise of the known region's q-samples. */
  knownNoise: NoiseSource;
  /** Called after each U-Net call. */
  onStep?: (t: number, u: number) => void;
}

/** U-Net calls of the loop for one batch: L · R. */
export function resampleCalls(level: number, resample: number): number {
  return level * resample;
}

/** q-sample of x0 at level t into `out` (the same float32 arithmetic as process.ts qSample). */
function qSampleInto(out: Float32Array, x0: Float32Array, n: Float32Array, s: NoiseSchedule, t: number): void {
  const c = coefficients(s);
  const a = at(c.sqrtAlphasCumprod, t);
  const b = at(c.sqrtOneMinusAlphasCumprod, t);
  for (let k = 0; k < out.length; k++) out[k] = Math.fround(a * x0[k]) + Math.fround(b * n[k]);
}

/**
 * Step 5 for a batch: x̂ and x_known [B, C, H, W] (data space, [0, 1] for AutoDDPM), `mask`
 * the dilated binary mask (0/1, same shape). Returns the re-sampled y (unclamped).
 */
export function resampleMasked(net: Denoiser, xHat: Tensor, known: Tensor, mask: Float32Array, s: NoiseSchedule, o: ResampleOptions): { y: Tensor; stats: SamplingStats } {
  const op = 'resampleMasked';
  const shape = xHat.shape;
  if (shape.length !== 4) throw new RangeError(`${op}: x̂ must be [B, C, H, W], got [${shape.join(', ')}]`);
  if (known.shape.join() !== shape.join()) throw new RangeError(`${op}: x_known [${known.shape.join(', ')}] must have the shape of x̂ [${shape.join(', ')}]`);
  if (!(mask instanceof Float32Array) || mask.length !== xHat.size) throw new RangeError(`${op}: the mask must be a Float32Array of ${xHat.size} values (the shape of x̂)`);
  checkLevel(s, o.level, op, 'the inpainting level L');
  if (!Number.isInteger(o.resample) || o.resample < 1) throw new RangeError(`${op}: the resample count R must be an integer ≥ 1, got ${o.resample}`);
  const b = shape[0];
  const t0 = performance.now();
  let calls = 0;
  const y = noGrad(() => {
    const kd = known.data;
    const tArr = new Float32Array(b);
    const kBuf = new Float32Array(xHat.size);
    const start = qSample(xHat, o.noise.draw(shape.slice(), o.level), new Int32Array(b).fill(o.level), s);
    const yT = Tensor.fromData(start.data, shape);
    const yBuf = yT.data;
    for (let t = o.level; t >= 0; t--) {
      if (t === 0) {
        for (let k = 0; k < yBuf.length; k++) if (mask[k] !== 1) yBuf[k] = kd[k];
        break;
      }
      const beta = Math.fround(s.betas[t - 1]);
      const keep = Math.fround(Math.sqrt(Math.fround(1 - beta)));
      const add = Math.fround(Math.sqrt(beta));
      tArr.fill(t);
      for (let u = 0; u < o.resample; u++) {
        qSampleInto(kBuf, kd, o.knownNoise.draw(shape.slice(), t - 1).data, s, t - 1);
        const eps = net.forward(yT, tArr);
        calls++;
        if (eps.size !== yT.size) throw new Error(`${op}: the network returned [${eps.shape.join(', ')}] for an input [${shape.join(', ')}]`);
        reverseStepInto(s, eps.data, t, yBuf, o.noise.draw(shape.slice(), t).data, yBuf);
        o.onStep?.(t, u);
        for (let k = 0; k < yBuf.length; k++) if (mask[k] !== 1) yBuf[k] = kBuf[k];
        if (u < o.resample - 1) {
          const n = o.noise.draw(shape.slice(), t - 1).data;
          for (let k = 0; k < yBuf.length; k++) yBuf[k] = Math.fround(Math.fround(keep * yBuf[k]) + Math.fround(add * n[k]));
        }
      }
    }
    return yT;
  });
  const seconds = (performance.now() - t0) / 1000;
  return { y, stats: { unetCalls: calls, seconds, imagesPerSecond: seconds > 0 ? b / seconds : Infinity } };
}
