// AutoDDPM (Bercea et al., ICML-IMLH 2023; diffusion spec §3, reference ci-ber/autoDDPM):
// a DDPM on MONAI's diffusion U-Net (§3.1), trained to predict the noise (§3.3), that
// detects anomalies by mask → stitch → re-sample (§3.4):
//
// 1. x̂ = partial diffusion of x from level L_rec (200: 201 U-Net calls), clamped to [0, 1];
// 2. m_c = LPIPS-squeeze spatial map(x, x̂) ⊙ clip(|x − x̂| / P95, 0, 1) (autoddpm-mask.ts);
// 3. m = dilate3×3([m_c > τ]);
// 4. x_known = (1 − m) ⊙ x;
// 5. y = RePaint re-sampling of x̂ from level L_inp (50) with R (5) passes per level, the
//    known region re-noised from x_known (repaint.ts): L_inp·R = 250 U-Net calls;
// 6. map A = |x − clamp(y, 0, 1)| ⊙ m_c, image score its mean (the first public code: max).
//
// Data live in [0, 1] in this code (methods receive [−1, 1]; converted here), although x̂_0
// is still clamped to [−1, 1] inside every reverse step (§3.5.5). The schedule is linear
// 1e-4 → 0.02 in float32, variance "fixed small". Training: t ~ U{0 … T − 1} per image,
// n ~ N(0, I), loss MSE(ε̂, n); Adam lr 1e-4, batch 16; no EMA, no clipping (the
// reference's mixed precision is a GPU speed option only, not reproduced).
//
// The reference's defects are options with the spec's recommended defaults (§3.5):
// - a scalar τ is compared with every image (HEAD indexes it per image and crashes);
// - `lpipsRange`: '[-1,1]' gives LPIPS 2x − 1 (its documented convention, the code before
//   f74b894); 'head' gives 4x − 3 ∈ [−3, 1], HEAD's doubled normalisation;
// - `imageScore`: mean (HEAD) or max (the first public code, 97e59af).
// P95 = 0 is guarded (autoddpm-mask.ts). The second, unused LPIPS pass of the reference is
// not computed. Random draws at test come from the run's score stream: the coarse
// reconstruction's and the re-sampling's noise from one fork, the known region's from another.
import { abs, add, clamp, Generator, mseLoss, mul, randn, sub, Tensor } from '../../engine/index.js';
import { MonaiUNet } from '../../models/diffusion/monai-unet.js';
import { createLPIPSSqueeze, resolveLPIPSWeights, type LPIPSSqueeze } from '../../models/lpips.js';
import type { Split } from '../../data/types.js';
import { registerMethod } from '../catalogue.js';
import { integerOption, numberOption, stringOption, withDefaults, type TypedSpec } from '../training/options.js';
import { ReconstructionMethod, type BatchScore, type ScoreContext } from '../training/base.js';
import { readConfig, writeConfig, type SavedConfig } from '../training/saved.js';
import type { StepContext } from '../training/trainer.js';
import { GEOMETRY_OPTIONS, TRAINING_OPTIONS } from '../reconstruction/options.js';
import type { FitOptions, FitResult, MethodInfo, MethodOptions } from '../types.js';
import { autoddpmMask, stitch } from './autoddpm-mask.js';
import { gaussianNoise } from './noise.js';
import { qSample } from './process.js';
import { resampleCalls, resampleMasked } from './repaint.js';
import { partialDiffusion, type SamplingStats } from './sampling.js';
import { linearSchedule, type NoiseSchedule } from './schedule.js';

/** A string option whose default is null (a path, or the absence of one). */
function nullableStringOption<const N extends string>(name: N, description: string): TypedSpec<N, 'string', string | null> {
  return { name, type: 'string', default: null, description };
}

export const AUTODDPM_OPTIONS = [
  ...withDefaults(TRAINING_OPTIONS, { epochs: 3000, batchSize: 16, lr: 1e-4 }),
  ...withDefaults(GEOMETRY_OPTIONS, { size: 128 }),
  stringOption('unetChannels', '128,256,256', "U-Net channels per level (MONAI num_channels), comma-separated; each a multiple of 32 (GroupNorm's 32 groups)"),
  stringOption('unetAttention', 'false,true,true', 'self-attention per level (MONAI attention_levels), comma-separated true/false, one per level'),
  integerOption('resBlocks', 1, 'residual blocks per level (num_res_blocks)', { min: 1 }),
  integerOption('headChannels', 256, 'channels per attention head (num_head_channels; 256 → one head at every attention of the default net)', { min: 1 }),
  integerOption('timesteps', 1000, 'diffusion steps T of the linear schedule (β from 1e-4·1000/T to 0.02·1000/T; the reference: 1000)', { min: 21 }),
  integerOption('noiseLevelRecon', 200, 'L_rec: the coarse reconstruction noises to this level and denoises back (L_rec + 1 U-Net calls)', { min: 0 }),
  integerOption('noiseLevelInpaint', 50, 'L_inp: the re-sampling starts at this level (L_inp · resampleSteps U-Net calls)', { min: 0 }),
  integerOption('resampleSteps', 5, 'R: RePaint passes per level of the re-sampling', { min: 1 }),
  numberOption('maskingThreshold', 0.13, 'τ: the mask is [m_c > τ] for every image; −1 = each image its own 95th percentile of m_c, clipped to [0, 1]', { min: -1 }),
  stringOption('lpipsRange', '[-1,1]', "quirk lpipsRange: LPIPS sees 2x − 1 ('[-1,1]', its documented convention; the code before f74b894) or 4x − 3 ('head', the doubled normalisation at HEAD)", ['[-1,1]', 'head']),
  stringOption('imageScore', 'mean', 'quirk imageScoreMean: image score = mean of the map (HEAD) or its max (the first public code, 97e59af)', ['mean', 'max']),
  nullableStringOption(
    'weights',
    "LPIPS-squeeze weights (SqueezeNet 1.1 features + LPIPS v0.1 linear layers in one file): null = the cached file (`medianomaly weights fetch lpips_squeeze`), a .safetensors path made by `medianomaly weights import`, or 'random' (seeded; for tests, not for results)",
  ),
];

const info: MethodInfo = {
  name: 'autoddpm',
  title: 'AutoDDPM',
  family: 'image-reconstruction',
  description:
    'DDPM on the MONAI U-Net: coarse reconstruction from level 200, LPIPS × residual mask, RePaint re-sampling of the masked region from level 50 (R 5; 451 U-Net calls per image); map |x − x̃| ⊙ m_c, score its mean.',
  defaultSize: 128,
  pixelMaps: true,
  options: AUTODDPM_OPTIONS,
};

/** What config.json records beyond the common fields. */
interface AutoDDPMSavedConfig extends SavedConfig {
  lpips?: {
    /** The weights option as given (null: the cached file). */
    weights: string | null;
    /** SHA-256 of the LPIPS weights file (null: random weights). */
    weightsSha256: string | null;
  };
}

/** The resolved settings of the test-time pipeline. */
export interface AutoDDPMSettings {
  reconLevel: number;
  inpaintLevel: number;
  resample: number;
  threshold: number;
  lpipsRange: '[-1,1]' | 'head';
}

function parseList<T>(option: string, value: string, item: (s: string) => T | undefined, what: string): T[] {
  const parts = value.split(',').map((s) => s.trim());
  const out = parts.map(item);
  if (parts.length === 0 || out.some((v) => v === undefined)) {
    throw new RangeError(`autoddpm: option "${option}" must be a comma-separated list of ${what}, got "${value}"`);
  }
  return out as T[];
}

/** U-Net calls per scored image: L_rec + 1 for the reconstruction, L_inp · R for the re-sampling. */
export function autoddpmUNetCalls(s: Pick<AutoDDPMSettings, 'reconLevel' | 'inpaintLevel' | 'resample'>): number {
  return s.reconLevel + 1 + resampleCalls(s.inpaintLevel, s.resample);
}

/** LPIPS input from an image in [0, 1]: 2x − 1, or HEAD's 2(2x − 1) − 1 = 4x − 3. */
function lpipsInput(x: Tensor, range: AutoDDPMSettings['lpipsRange']): Tensor {
  const once = sub(mul(x, 2), 1);
  return range === 'head' ? sub(mul(once, 2), 1) : once;
}

export class AutoDDPMMethod extends ReconstructionMethod<MonaiUNet> {
  // 128 px through the default U-Net: about 10 MB of activations per image and level.
  protected override scoreBatchSize = 16;
  /** U-Net calls, seconds and images/s of the last score() call (reconstruction + re-sampling). */
  lastSampling: SamplingStats = { unetCalls: 0, seconds: 0, imagesPerSecond: 0 };
  private lpips: LPIPSSqueeze | null = null;
  private lpipsSha256: string | null = null;
  private scheduleMemo: NoiseSchedule | null = null;

  get settings(): AutoDDPMSettings {
    const o = this.options;
    return {
      reconLevel: o.noiseLevelRecon as number,
      inpaintLevel: o.noiseLevelInpaint as number,
      resample: o.resampleSteps as number,
      threshold: o.maskingThreshold as number,
      lpipsRange: o.lpipsRange === 'head' ? 'head' : '[-1,1]',
    };
  }

  /** The linear float32 "fixed small" schedule of the options' T. */
  get schedule(): NoiseSchedule {
    const T = this.options.timesteps as number;
    if (!this.scheduleMemo || this.scheduleMemo.T !== T) this.scheduleMemo = linearSchedule(T, { scaleWithT: true, variance: 'fixed-small', precision: 'float32' });
    return this.scheduleMemo;
  }

  protected buildNetwork(generator: Generator): MonaiUNet {
    const o = this.options;
    const size = o.size as number;
    const numChannels = parseList('unetChannels', o.unetChannels as string, (s) => (/^\d+$/.test(s) && Number(s) > 0 ? Number(s) : undefined), 'positive integers');
    const attentionLevels = parseList('unetAttention', o.unetAttention as string, (s) => (s === 'true' ? true : s === 'false' ? false : undefined), 'true/false');
    if (attentionLevels.length !== numChannels.length) {
      throw new RangeError(`autoddpm: option "unetAttention" has ${attentionLevels.length} entries but "unetChannels" has ${numChannels.length} levels; give one per level`);
    }
    const down = 2 ** (numChannels.length - 1);
    if (size % down) throw new RangeError(`autoddpm: option "size" must be a multiple of ${down} (${numChannels.length - 1} stride-2 downsamplings), got ${size}`);
    return new MonaiUNet({
      channels: o.channels as number,
      numChannels,
      attentionLevels,
      numResBlocks: o.resBlocks as number,
      headChannels: o.headChannels as number,
      generator,
    });
  }

  /** Option checks no network needs: levels within T, τ, the size LPIPS takes. */
  private checkSettings(): void {
    const T = this.options.timesteps as number;
    const s = this.settings;
    for (const [name, v] of [['noiseLevelRecon', s.reconLevel], ['noiseLevelInpaint', s.inpaintLevel]] as const) {
      if (v >= T) throw new RangeError(`autoddpm: option "${name}" must be below timesteps (${T}), got ${v}`);
    }
    if (s.threshold < 0 && s.threshold !== -1) {
      throw new RangeError(`autoddpm: option "maskingThreshold" must be ≥ 0 (one τ for every image) or −1 (each image's 95th percentile), got ${s.threshold}`);
    }
    // SqueezeNet's stride-2 conv and three ceil-mode max-pools leave nothing below 17 px.
    if ((this.options.size as number) < 17) throw new RangeError(`autoddpm: option "size" must be at least 17 (LPIPS-squeeze's SqueezeNet trunk), got ${this.options.size}`);
  }

  override validate(): void {
    this.checkSettings();
    super.validate();
    this.resolveLpipsFile();
  }

  /** The LPIPS weights file and its SHA-256 (null for random weights); throws when absent. */
  private resolveLpipsFile(): { path: string; sha256: string | null } {
    return resolveLPIPSWeights(this.options.weights as string | null);
  }

  /** The frozen LPIPS-squeeze of the weights option; checks its SHA-256 against `expectSha` when given. */
  private buildLpips(expectSha?: string | null): LPIPSSqueeze {
    const w = this.resolveLpipsFile();
    if (expectSha !== undefined && w.sha256 !== expectSha) {
      throw new Error(
        `autoddpm: the LPIPS weights resolved from weights=${JSON.stringify(this.options.weights)} (${w.path}) have SHA-256 ${w.sha256}, ` +
          `but the method was saved with ${expectSha}; its masks and scores would differ. Give the original weights file as the "weights" option`,
      );
    }
    // Random weights come from their own stream of the seed, so a loaded method draws the same.
    const lpips = createLPIPSSqueeze({ weights: w.path, generator: lpipsStream(this.options.seed as number) });
    lpips.eval();
    this.lpipsSha256 = w.sha256;
    return lpips;
  }

  override async fit(train: Split, opts: FitOptions = {}): Promise<FitResult> {
    this.checkSettings();
    this.lpips = this.buildLpips(); // a missing weights file fails before hours of training
    return super.fit(train, opts);
  }

  protected override loss(net: MonaiUNet, x: Tensor, ctx: StepContext): Tensor {
    const s = this.schedule;
    const b = x.shape[0];
    const t = new Int32Array(b);
    for (let i = 0; i < b; i++) t[i] = ctx.generator.int(s.T);
    const noise = randn(x.shape.slice(), { generator: ctx.generator });
    const xt = qSample(toUnit(x), noise, t, s);
    return mseLoss(net.forward(xt, Float32Array.from(t)), noise);
  }

  protected scoreBatch(net: MonaiUNet, x: Tensor, wantReconstructions: boolean, ctx: ScoreContext): BatchScore {
    if (!this.lpips) throw new Error('autoddpm: the method is not trained; call fit() or load() first');
    const t0 = performance.now();
    const r = autoddpmScore(net, this.lpips, this.schedule, toUnit(x), this.settings, ctx.generator);
    // Accumulated over the batches of one score() call (ctx.start = 0 begins a new one).
    const prev = ctx.start === 0 ? { unetCalls: 0, seconds: 0, images: 0 } : { ...this.lastSampling, images: this.lastSampling.imagesPerSecond * this.lastSampling.seconds };
    const seconds = prev.seconds + (performance.now() - t0) / 1000;
    const images = prev.images + x.shape[0];
    this.lastSampling = { unetCalls: prev.unetCalls + r.unetCalls, seconds, imagesPerSecond: seconds > 0 ? images / seconds : 0 };
    const [b, c, h, w] = x.shape;
    const maps = Tensor.empty([b, h, w]);
    channelMean(r.map.data, maps.data, b, c, h * w);
    return wantReconstructions ? { maps, reconstructions: sub(mul(r.inpainted, 2), 1) } : { maps };
  }

  override async save(dir: string): Promise<void> {
    await super.save(dir);
    const cfg = readConfig(dir) as AutoDDPMSavedConfig;
    const { sha256: _old, ...rest } = cfg;
    writeConfig(dir, { ...rest, lpips: { weights: this.options.weights as string | null, weightsSha256: this.lpipsSha256 } } as AutoDDPMSavedConfig);
  }

  override async load(dir: string): Promise<void> {
    await super.load(dir);
    const cfg = readConfig(dir) as AutoDDPMSavedConfig;
    try {
      this.lpips = this.buildLpips(cfg.lpips ? cfg.lpips.weightsSha256 : undefined);
    } catch (e) {
      this.net = null; // a network without its LPIPS cannot score
      this.lpips = null;
      throw e;
    }
  }
}

/** Everything one scored batch produces (images in [0, 1]). */
export interface AutoDDPMBatch {
  /** Coarse reconstruction x̂ (clamped). */
  reconstruction: Tensor;
  /** LPIPS spatial map s [B, 1, H, W]. */
  lpips: Tensor;
  /** Continuous mask m_c and dilated binary mask m, [B, C, H, W]. */
  combined: Tensor;
  mask: Tensor;
  /** Stitched display image x_known + m ⊙ x̂. */
  stitched: Tensor;
  /** Re-sampled image clamp(y, 0, 1). */
  inpainted: Tensor;
  /** A = |x − clamp(y)| ⊙ m_c, [B, C, H, W]. */
  map: Tensor;
  /** U-Net calls for the batch. */
  unetCalls: number;
}

/** Steps 1–6 for a batch x [B, C, H, W] in [0, 1]; runs under the caller's noGrad. */
export function autoddpmScore(net: MonaiUNet, lpips: LPIPSSqueeze, s: NoiseSchedule, x: Tensor, o: AutoDDPMSettings, generator: Generator): AutoDDPMBatch {
  const [b, c, h, w] = x.shape;
  const noise = gaussianNoise(generator.fork());
  const knownNoise = gaussianNoise(generator.fork());
  const coarse = partialDiffusion(net, x, s, o.reconLevel, noise);
  const xHat = clamp(coarse.x, 0, 1);
  const map = lpips.spatialMap(lpipsInput(x, o.lpipsRange), lpipsInput(xHat, o.lpipsRange));
  if (map.shape.join() !== [b, 1, h, w].join()) throw new Error(`autoddpm: the LPIPS map is [${map.shape.join(', ')}], expected [${[b, 1, h, w].join(', ')}]`);
  const m = autoddpmMask(x.data, xHat.data, map.data, { batch: b, channels: c, height: h, width: w }, o.threshold);
  const { known, stitched } = stitch(x.data, xHat.data, m.mask);
  const re = resampleMasked(net, xHat, Tensor.fromData(known, x.shape), m.mask, s, { level: o.inpaintLevel, resample: o.resample, noise, knownNoise });
  const inpainted = clamp(re.y, 0, 1);
  const combined = Tensor.fromData(m.combined, x.shape);
  return {
    reconstruction: xHat,
    lpips: map,
    combined,
    mask: Tensor.fromData(m.mask, x.shape),
    stitched: Tensor.fromData(stitched, x.shape),
    inpainted,
    map: mul(abs(sub(x, inpainted)), combined),
    unetCalls: coarse.stats.unetCalls + re.stats.unetCalls,
  };
}

/** [−1, 1] → [0, 1]: the reference's data range. */
function toUnit(x: Tensor): Tensor {
  return mul(add(x, 1), 0.5);
}

function channelMean(src: Float32Array, dst: Float32Array, b: number, c: number, plane: number): void {
  for (let i = 0; i < b; i++) {
    for (let k = 0; k < plane; k++) {
      let acc = 0;
      for (let ch = 0; ch < c; ch++) acc += src[(i * c + ch) * plane + k];
      dst[i * plane + k] = c === 1 ? acc : acc / c;
    }
  }
}

/** The LPIPS random-initialisation stream of a seed: a fourth fork of the run's root after init, train and score. */
function lpipsStream(seed: number): Generator {
  const root = new Generator(seed);
  for (let i = 0; i < 3; i++) root.fork();
  return root.fork();
}

registerMethod({ info, create: (o: MethodOptions) => new AutoDDPMMethod(info, o) });
