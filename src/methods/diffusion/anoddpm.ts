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
//
// network monai is the ci-ber/autoDDPM port of AnoDDPM (spec §3.8) on the MONAI U-Net: images
// mapped to [0, 1], the float32 linear scheduler (β unscaled, σ² = β̃_t), t over all T levels,
// Adam without clipping or EMA, one simplex field per batch at z 1000, test images noised to
// level L = `level` (L + 1 U-Net calls), x̂ clamped to [0, 1], map |x − x̂| in [0, 1] units.
import { clamp, noGrad, Tensor, type Generator } from '../../engine/index.js';
import { AnoDDPMUNet } from '../../models/diffusion/anoddpm-unet.js';
import { MonaiUNet } from '../../models/diffusion/monai-unet.js';
import { clipGradNorm } from '../../nn/optim/clip-grad.js';
import { AdamW } from '../../nn/optim/adamw.js';
import { registerMethod } from '../catalogue.js';
import { ReconstructionMethod, type BatchScore, type ScoreContext } from '../training/base.js';
import type { AnyOptimizer, StepContext, StepResult } from '../training/trainer.js';
import { absoluteErrorMap, squaredErrorMap } from '../reconstruction/ae-family.js';
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
  // Blank entries are skipped: the CLI reads `--opt x=16` as a number, `--opt x=16,` stays a list.
  const out = s
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map(Number);
  if (out.some((n) => !(n > 0) || !Number.isFinite(n))) throw new Error(`anoddpm: option "${option}" must be comma-separated positive numbers (e.g. "1,2,2"), got "${s}"`);
  return out;
}

/** A comma-separated list of true/false. */
function booleanList(v: unknown, option: string): boolean[] {
  const s = String(v ?? '').trim();
  const out = s.split(',').map((p) => p.trim());
  if (s === '' || out.some((p) => p !== 'true' && p !== 'false')) throw new Error(`anoddpm: option "${option}" must be comma-separated true/false (e.g. "false,true,true"), got "${s}"`);
  return out.map((p) => p === 'true');
}

/** The reference's U-Net with its EMA, or (network monai) the port's MONAI U-Net alone. */
type Net = DenoiserWithEMA<AnoDDPMUNet> | MonaiUNet;

/** The map of a batch: mean over channels of (x − x̂)² or |x − x̂|. */
function errorMap(x: Tensor, xHat: Tensor, absolute: boolean): Tensor {
  return absolute ? absoluteErrorMap(x, xHat) : squaredErrorMap(x, xHat);
}

/** [−1, 1] → [0, 1] (the port's data range) and back. */
const to01 = (x: Tensor) => x.add(1).mul(0.5);
const from01 = (x: Tensor) => x.mul(2).sub(1);

export class AnoDDPMMethod extends ReconstructionMethod<Net> {
  /** U-Net calls, seconds and images/s of the last score() call's denoising. */
  lastSampling: SamplingStats = { unetCalls: 0, seconds: 0, imagesPerSecond: 0 };
  private scheduleCache: { key: string; s: NoiseSchedule } | null = null;

  /** True for network monai: the ci-ber/autoDDPM port (spec §3.8). */
  get port(): boolean {
    return this.options.network === 'monai';
  }

  /** The noise schedule of the current options (reference: float64, σ² = β_t; port: float32, σ² = β̃_t, β unscaled). */
  schedule(): NoiseSchedule {
    const o = this.options;
    const key = `${o.schedule}:${o.timesteps}:${o.network}`;
    if (this.scheduleCache?.key !== key) {
      const T = o.timesteps as number;
      const port = this.port;
      const variance = port ? 'fixed-small' : 'fixed-large';
      const precision = port ? 'float32' : 'float64';
      const s = o.schedule === 'cosine' ? cosineSchedule(T, { variance, precision }) : linearSchedule(T, { scaleWithT: !port, variance, precision });
      this.scheduleCache = { key, s };
    }
    return this.scheduleCache.s;
  }

  /** The noise of training and sampling, drawing from `g`. */
  noiseSource(g: Generator): NoiseSource {
    const o = this.options;
    if (o.noise === 'gaussian') return gaussianNoise(g);
    const simplex = simplexNoise(g, {
      octaves: o.simplexOctaves as number,
      persistence: o.simplexPersistence as number,
      frequency: o.simplexFrequency as number,
      perImage: !this.port && o.simplexShared !== true,
    });
    // The port draws one field for the batch with its z coordinate fixed at 1000.
    return this.port ? { kind: 'simplex', draw: (shape) => simplex.draw(shape, 1000) } : simplex;
  }

  /** The first denoised level: λ − 1 (reference) or L (port). */
  private startLevel(level: number): number {
    return this.port ? level : level - 1;
  }

  protected buildNetwork(generator: Generator): Net {
    const o = this.options;
    const T = o.timesteps as number;
    const level = o.level as number;
    if (this.port && level > T - 1) throw new Error(`anoddpm: with network monai, option "level" (L = ${level}) must be at most timesteps − 1 = ${T - 1}: test images are noised to level L`);
    if (!this.port && level > T) throw new Error(`anoddpm: option "level" (λ = ${level}) must be at most timesteps = ${T}: test images are noised to level λ − 1`);
    this.scoreBatchSize = o.scoreBatchSize as number;
    if (this.port) {
      return new MonaiUNet({
        channels: o.channels as number,
        numChannels: numberList(o.monaiChannels, 'monaiChannels'),
        attentionLevels: booleanList(o.monaiAttentionLevels, 'monaiAttentionLevels'),
        numResBlocks: o.monaiResBlocks as number,
        headChannels: o.monaiHeadChannels as number,
        generator,
      });
    }
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
    // The port's Adam is AdamW with no weight decay.
    const weightDecay = this.port ? 0 : (o.weightDecay as number);
    return { adamw: new AdamW(net.parameters(), { lr: o.lr as number, betas: [0.9, 0.999], eps: 1e-8, weightDecay }) };
  }

  protected override trainStep(net: Net, x: Tensor, ctx: StepContext, optimizers: Record<string, AnyOptimizer>): StepResult {
    const o = this.options;
    const s = this.schedule();
    const port = this.port;
    const x0 = port ? to01(x) : x;
    const b = x.shape[0];
    const top = !port && o.trainStart === true ? Math.min(o.sampleDistance as number, s.T) : s.T;
    const t = new Int32Array(b);
    for (let i = 0; i < b; i++) t[i] = ctx.generator.int(top);
    const source = this.noiseSource(ctx.generator);
    const shape = [...x.shape];
    const noise = port ? source.draw(shape, t[0]) : drawAtLevels(source, shape, t);
    const xt = qSample(x0, noise, t, s);
    const opt = optimizers.adamw;
    opt.zeroGrad();
    const eps = net.forward(xt, Float32Array.from(t));
    const loss = diffusionLoss(o.loss as DiffusionLoss, eps, noise, { s, x0, xt, t });
    loss.backward();
    if (!port && (o.gradClip as number) > 0) clipGradNorm(net.parameters(), o.gradClip as number);
    opt.step();
    if (net instanceof DenoiserWithEMA) net.updateAverages();
    return { loss: loss.item() };
  }

  /** x̂ in [−1, 1] of x [B, C, S, S] in [−1, 1] from the given first level (EMA weights where there are). */
  private denoise(net: Net, x: Tensor, start: number, generator: Generator): { x: Tensor; stats: SamplingStats } {
    const s = this.schedule();
    const noise = this.noiseSource(generator);
    if (net instanceof DenoiserWithEMA) return net.withAveraged(() => partialDiffusion(net.model, x, s, start, noise));
    const r = partialDiffusion(net, to01(x), s, start, noise);
    return { x: from01(clamp(r.x, 0, 1)), stats: r.stats };
  }

  /**
   * Reconstructions x̂ of images x [B, C, S, S] by partial diffusion at any λ (reference: noise
   * to λ − 1, λ U-Net calls; port: λ is L) with the EMA weights, draws from `generator`: the λ
   * sweeps of the reference's detection scripts, outside score().
   */
  reconstruct(x: Tensor, lambda: number, generator: Generator): { x: Tensor; stats: SamplingStats } {
    const net = this.network();
    this.scoreMode(net);
    return noGrad(() => this.denoise(net, x, this.startLevel(lambda), generator));
  }

  protected scoreBatch(net: Net, x: Tensor, wantReconstructions: boolean, ctx: ScoreContext): BatchScore {
    const { x: xHat, stats } = this.denoise(net, x, this.startLevel(this.options.level as number), ctx.generator);
    const prev = ctx.start === 0 ? { unetCalls: 0, seconds: 0, images: 0 } : { ...this.lastSampling, images: this.lastSampling.imagesPerSecond * this.lastSampling.seconds };
    const seconds = prev.seconds + stats.seconds;
    const images = prev.images + x.shape[0];
    this.lastSampling = { unetCalls: prev.unetCalls + stats.unetCalls, seconds, imagesPerSecond: seconds > 0 ? images / seconds : 0 };
    // The port's map is |x − x̂| in its [0, 1] units: half the [−1, 1] difference.
    const maps = this.port ? errorMap(x, xHat, true).mul(0.5) : errorMap(x, xHat, false);
    return wantReconstructions ? { maps, reconstructions: xHat } : { maps };
  }
}

registerMethod({ info, create: (o: MethodOptions) => new AnoDDPMMethod(info, o) });
