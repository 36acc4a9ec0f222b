// Test-time partial diffusion (diffusion spec §2.5, §3.2): noise the clean images to a level,
// then denoise them back step by step. This is where a diffusion method spends its time
// (hundreds of U-Net calls per image), so:
// - every image of the batch goes through each U-Net call together (all share the level t);
// - nothing is recorded for autograd (noGrad);
// - the state x lives in one buffer, updated in place by each reverse step, and the timestep
//   array is made once; only the U-Net's own activations and the step noise are fresh.
import { noGrad, Tensor } from '../../engine/index.js';
import type { Denoiser } from '../../models/diffusion/denoiser.js';
import type { NoiseSource } from './noise.js';
import { qSample, reverseStepInto } from './process.js';
import { checkLevel, type NoiseSchedule } from './schedule.js';

export interface SamplingStats {
  unetCalls: number;
  seconds: number;
  imagesPerSecond: number;
}

/** q-sample x0 to `level` with noise.draw, then denoise t = level … 0 (level + 1 U-Net calls). */
export function partialDiffusion(
  net: Denoiser,
  x0: Tensor,
  s: NoiseSchedule,
  level: number,
  noise: NoiseSource,
  onStep?: (t: number) => void,
): { x: Tensor; stats: SamplingStats } {
  const who = 'partialDiffusion';
  checkLevel(s, level, who, 'level');
  if (x0.ndim !== 4) throw new RangeError(`${who}: x0 must be [B, C, H, W], got [${x0.shape.join(', ')}]`);
  const shape = [...x0.shape];
  const b = shape[0];
  const t0 = performance.now();
  let calls = 0;
  const x = noGrad(() => {
    const levels = new Int32Array(b).fill(level);
    const start = qSample(x0, noise.draw(shape, level), levels, s);
    const buf = start.data;
    const state = Tensor.fromData(buf, shape);
    const tt = new Float32Array(b);
    for (let t = level; t >= 0; t--) {
      tt.fill(t);
      const eps = net.forward(state, tt);
      calls++;
      if (eps.size !== state.size) throw new Error(`${who}: the network returned [${eps.shape.join(', ')}] for an input [${shape.join(', ')}]`);
      const z = t > 0 ? noise.draw(shape, t).data : null;
      reverseStepInto(s, eps.data, t, buf, z, buf);
      onStep?.(t);
    }
    return state;
  });
  const seconds = (performance.now() - t0) / 1000;
  return { x, stats: { unetCalls: calls, seconds, imagesPerSecond: seconds > 0 ? b / seconds : Infinity } };
}
