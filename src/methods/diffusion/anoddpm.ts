// AnoDDPM (Wyatt et al., CVPRW 2022; diffusion spec §2): a DDPM on normal images whose test
// images are noised part of the way (to level λ − 1) and denoised back; what the model cannot
// reproduce is anomalous. Map (x − x̂)² per pixel (mean over channels), image score its mean.
//
// Training step (reference p_loss, batch of B images):
//   t_i ~ U{0 … min(sampleDistance, T) − 1} (trainStart) or U{0 … T − 1}, drawn first;
//   n = noise field of each image at its level (Gaussian, or simplex: the target is the field);
//   x_t = q-sample; loss(ε̂ = U-Net(x_t, t), n) ('l2' | 'l1' | 'hybrid');
//   backward, global gradient-norm clip (1.0), AdamW step, then the EMA of the weights.
// Every draw comes from the run's training stream (checkpointed), the EMA lives in the
// network's state (ema-model.ts), so a resumed run equals an uninterrupted one.
//
// Test: the EMA weights; the scored images of a batch are denoised together (one U-Net call
// per level for all of them) under noGrad; draws from the score stream (restarted by every
// score() call, so scores repeat).
import { Tensor, type Generator } from '../../engine/index.js';
import { AnoDDPMUNet } from '../../models/diffusion/anoddpm-unet.js';
import { clipGradNorm } from '../../nn/optim/clip-grad.js';
import { AdamW } from '../../nn/optim/adamw.js';
import { registerMethod } from '../catalogue.js';
import { ReconstructionMethod, type BatchScore, type ScoreContext } from '../training/base.js';
import type { AnyOptimizer, StepContext, StepResult } from '../training/trainer.js';
import { squaredErrorMap } from '../reconstruction/ae-family.js';
import type { MethodInfo, MethodOptions } from '../types.js';
import { ANODDPM_OPTIONS } from './anoddpm-options.js';
import { DenoiserWithEMA } from './ema-model.js';
import { diffusionLoss, type DiffusionLoss } from './losses.js';
import { drawAtLevels, gaussianNoise, simplexNoise, type NoiseSource } from './noise.js';
import { qSample } from './process.js';
import { partialDiffusion, type SamplingStats } from './sampling.js';
import { cosineSchedule, linearSchedule, type NoiseSchedule } from './schedule.js';

export { ANODDPM_OPTIONS } from './anoddpm-options.js';

const info: MethodInfo = {
  name: 'anoddpm',
  title: 'AnoDDPM',
  family: 'image-reconstruction',
  description: 'Denoising diffusion model (simplex or Gaussian noise) on normal images; test images are noised to λ − 1 and denoised in λ steps; map (x − x̂)², score its mean.',
  defaultSize: 256,
  pixelMaps: true,
  options: ANODDPM_OPTIONS,
};

/** A comma-separated list of positive numbers ('' → undefined: the network's default). */
function numberList(v: unknown, option: string): number[] | undefined {
  const s = String(v ?? '').trim();
  if (s === '') return undefined;
  const out = s.split(',').map((p) => Number(p.trim()));
  if (out.some((n) => !(n > 0) || !Number.isFinite(n))) throw new Error(`anoddpm: option "${option}" must be comma-separated positive numbers (e.g. "1,2,2"), got "${s}"`);
  return out;
}

type Net = DenoiserWithEMA<AnoDDPMUNet>;

export class AnoDDPMMethod extends ReconstructionMethod<Net> {
  /** U-Net calls, seconds and images/s of the last score() call's denoising. */
  lastSampling: SamplingStats = { unetCalls: 0, seconds: 0, imagesPerSecond: 0 };
  private scheduleCache: { key: string; s: NoiseSchedule } | null = null;

  /** The noise schedule of the current options (AnoDDPM: float64, σ² = β_t). */
  schedule(): NoiseSchedule {
    const o = this.options;
    const key = `${o.schedule}:${o.T}`;
    if (this.scheduleCache?.key !== key) {
      const T = o.T as number;
      const s =
        o.schedule === 'cosine'
          ? cosineSchedule(T, { variance: 'fixed-large', precision: 'float64' })
          : linearSchedule(T, { scaleWithT: true, variance: 'fixed-large', precision: 'float64' });
      this.scheduleCache = { key, s };
    }
    return this.scheduleCache.s;
  }

  /** The noise of training and sampling, drawing from `g`. */
  noiseSource(g: Generator): NoiseSource {
    const o = this.options;
    if (o.noise === 'gaussian') return gaussianNoise(g);
    return simplexNoise(g, {
      octaves: o.simplexOctaves as number,
      persistence: o.simplexPersistence as number,
      frequency: o.simplexFrequency as number,
      perImage: o.simplexShared !== true,
    });
  }

  protected buildNetwork(generator: Generator): Net {
    const o = this.options;
    const T = o.T as number;
    if ((o.level as number) > T) throw new Error(`anoddpm: option "level" (λ = ${o.level}) must be at most T = ${T}: test images are noised to level λ − 1`);
    this.scoreBatchSize = o.scoreBatchSize as number;
    const unet = new AnoDDPMUNet({
      size: o.size as number,
      channels: o.channels as number,
      baseChannels: o.baseChannels as number,
      channelMults: numberList(o.channelMults, 'channelMults'),
      numResBlocks: o.numResBlocks as number,
      attentionResolutions: numberList(o.attentionResolutions, 'attentionResolutions'),
      heads: o.heads as number,
      headChannels: o.headChannels as number,
      dropout: o.dropout as number,
      evalHeads: o.anoddpmEvalHeads1 === true ? 1 : undefined,
      generator,
    });
    return new DenoiserWithEMA(unet, o.emaDecay as number);
  }

  protected override createOptimizers(net: Net): Record<string, AnyOptimizer> {
    const o = this.options;
    return { adamw: new AdamW(net.parameters(), { lr: o.lr as number, betas: [0.9, 0.999], eps: 1e-8, weightDecay: o.weightDecay as number }) };
  }

  protected override trainStep(net: Net, x: Tensor, ctx: StepContext, optimizers: Record<string, AnyOptimizer>): StepResult {
    const o = this.options;
    const s = this.schedule();
    const b = x.shape[0];
    const top = o.trainStart === true ? Math.min(o.sampleDistance as number, s.T) : s.T;
    const t = new Int32Array(b);
    for (let i = 0; i < b; i++) t[i] = ctx.generator.int(top);
    const noise = drawAtLevels(this.noiseSource(ctx.generator), [...x.shape], t);
    const xt = qSample(x, noise, t, s);
    const opt = optimizers.adamw;
    opt.zeroGrad();
    const eps = net.forward(xt, Float32Array.from(t));
    const loss = diffusionLoss(o.loss as DiffusionLoss, eps, noise, { s, x0: x, xt, t });
    loss.backward();
    if ((o.gradClip as number) > 0) clipGradNorm(net.parameters(), o.gradClip as number);
    opt.step();
    net.updateAverages();
    return { loss: loss.item() };
  }

  /**
   * Reconstructions x̂ of images x [B, C, S, S] by partial diffusion at any λ (noise to λ − 1,
   * λ U-Net calls) with the EMA weights, draws from `generator`: the λ sweeps of the
   * reference's detection scripts, outside score().
   */
  reconstruct(x: Tensor, lambda: number, generator: Generator): { x: Tensor; stats: SamplingStats } {
    const net = this.network();
    this.scoreMode(net);
    return net.withAveraged(() => partialDiffusion(net.model, x, this.schedule(), lambda - 1, this.noiseSource(generator)));
  }

  protected scoreBatch(net: Net, x: Tensor, wantReconstructions: boolean, ctx: ScoreContext): BatchScore {
    const level = (this.options.level as number) - 1;
    const { x: xHat, stats } = net.withAveraged(() => partialDiffusion(net.model, x, this.schedule(), level, this.noiseSource(ctx.generator)));
    const prev = ctx.start === 0 ? { unetCalls: 0, seconds: 0, images: 0 } : { ...this.lastSampling, images: this.lastSampling.imagesPerSecond * this.lastSampling.seconds };
    const seconds = prev.seconds + stats.seconds;
    const images = prev.images + x.shape[0];
    this.lastSampling = { unetCalls: prev.unetCalls + stats.unetCalls, seconds, imagesPerSecond: seconds > 0 ? images / seconds : 0 };
    const maps = squaredErrorMap(x, xHat);
    return wantReconstructions ? { maps, reconstructions: xHat } : { maps };
  }
}

registerMethod({ info, create: (o: MethodOptions) => new AnoDDPMMethod(info, o) });
