// AE-Perceptual (AE-PL, methods.md §5.4, §4.7): the unified AE trained with the relative
// perceptual L1 loss of Tuluptceva et al. on VGG19 relu4_2 features (ImageNet weights,
// frozen, eval mode):
//
//   f(v)  = relu4_2 of VGG19 on ImageNet-normalised 0.5·v + 0.5 (grey repeated to 3 channels)
//   f̃(v) = (f(v) − μ) / d      per channel; d = var (quirk perceptualDivideByVar, default) or √var
//   E     = |f̃(x) − f̃(x̂)| / a,  a = mean over (C, H, W) of |f̃(x)| per sample, no gradient
//   loss  = mean of E;  map = E upsampled ×8 (bilinear, align_corners false), mean over channels;
//   score = mean of the map.
//
// Gradients flow through the frozen VGG into x̂ (the VGG's parameters take none). μ and var are
// per-channel statistics of relu4_2. The reference loads them from a file computed on ImageNet
// (vgg19_ILSVRC2012_object_detection_mean_var.pt, absent from its repository); here they come
// from the `featureStats` option (a .safetensors with `r42.mean` and `r42.var`, 512 values each)
// or, when it is null, are computed from the training images before training: the mean and the
// population variance of each channel over every image and position. The fit says which
// (onMessage or stderr) and the saved config.json records it. The statistics are saved with the
// network (buffers r42_mean, r42_var), so a saved method needs only the VGG weights again.
import { existsSync } from 'node:fs';
import { abs, div, interpolate, mean, noGrad, sub, Tensor, type Generator } from '../../engine/index.js';
import { backbones, toBackboneInput, type Backbone } from '../../models/backbones/index.js';
import { UnifiedAE, type UnifiedAEOptions } from '../../models/unified-ae.js';
import { readSafetensors, toFloat32 } from '../../nn/safetensors-format.js';
import { resolveWeights } from '../../weights/index.js';
import type { Split } from '../../data/types.js';
import { registerMethod } from '../catalogue.js';
import { booleanOption, type TypedSpec } from '../training/options.js';
import { checkGeometry } from '../training/images.js';
import { readConfig, writeConfig, type SavedConfig } from '../training/saved.js';
import type { FitOptions, FitResult, MethodOptions } from '../types.js';
import { aeInfo, AEFamilyMethod, unifiedAEOptions } from './ae-family.js';

/** The VGG19 layer the loss uses, its channels and its stride. */
export const PERCEPTUAL_LAYER = 'relu4_2';
export const PERCEPTUAL_CHANNELS = 512;
export const PERCEPTUAL_STRIDE = 8;
/** Variances below this are raised to it: a channel that never fires on the training images would divide by zero. */
export const PERCEPTUAL_VAR_FLOOR = 1e-6;

/** Per-channel statistics of relu4_2. */
export interface FeatureStats {
  mean: Float32Array;
  var: Float32Array;
}

/** The unified AE with the relu4_2 statistics as buffers (saved with the weights). */
export class PerceptualAE extends UnifiedAE {
  readonly r42Mean: Tensor;
  readonly r42Var: Tensor;

  constructor(opts: UnifiedAEOptions) {
    super(opts);
    this.r42Mean = this.registerBuffer('r42_mean', Tensor.empty([PERCEPTUAL_CHANNELS]));
    this.r42Var = this.registerBuffer('r42_var', Tensor.fromData(new Float32Array(PERCEPTUAL_CHANNELS).fill(1), [PERCEPTUAL_CHANNELS]));
  }
}

/** relu4_2 of images in [-1, 1] (1 or 3 channels), in the current grad mode. */
export function perceptualFeatures(vgg: Backbone, v: Tensor): Tensor {
  return vgg.forwardFeatures(toBackboneInput(v, { normalisation: 'imagenet', channelPolicy: 'replicate' }), [PERCEPTUAL_LAYER])[PERCEPTUAL_LAYER];
}

/**
 * E = |f̃(x) − f̃(x̂)| / a ([B, 512, S/8, S/8]); f̃(x) and a carry no gradient, f̃(x̂) does
 * when x̂ does. `mean` and `divisor` are [512] (divisor: var or √var).
 */
export function relativePerceptualError(vgg: Backbone, x: Tensor, xhat: Tensor, mu: Tensor, divisor: Tensor): Tensor {
  const m = mu.reshape([1, PERCEPTUAL_CHANNELS, 1, 1]);
  const d = divisor.reshape([1, PERCEPTUAL_CHANNELS, 1, 1]);
  const fx = noGrad(() => div(sub(perceptualFeatures(vgg, x), m), d));
  const a = noGrad(() => mean(abs(fx), [1, 2, 3], true));
  const fr = div(sub(perceptualFeatures(vgg, xhat), m), d);
  return div(abs(sub(fx, fr)), a);
}

/** The [B, S, S] pixel map of E: bilinear ×8 (align_corners false), mean over channels. */
export function perceptualMap(e: Tensor): Tensor {
  return mean(interpolate(e, { scaleFactor: PERCEPTUAL_STRIDE, mode: 'bilinear', alignCorners: false }), 1);
}

/** var or √var (quirk perceptualDivideByVar), with variances floored at PERCEPTUAL_VAR_FLOOR. */
export function perceptualDivisor(variance: Float32Array, divideByVar: boolean): Tensor {
  const d = new Float32Array(variance.length);
  for (let i = 0; i < d.length; i++) {
    const v = Math.max(variance[i], PERCEPTUAL_VAR_FLOOR);
    d[i] = divideByVar ? v : Math.sqrt(v);
  }
  return Tensor.fromData(d, [d.length]);
}

function checkStats(where: string, s: FeatureStats): FeatureStats {
  for (const [k, v] of [['mean', s.mean], ['var', s.var]] as const) {
    if (v.length !== PERCEPTUAL_CHANNELS) throw new Error(`${where}: r42.${k} holds ${v.length} values; relu4_2 has ${PERCEPTUAL_CHANNELS} channels`);
    const bad = v.findIndex((x) => !Number.isFinite(x) || (k === 'var' && x < 0));
    if (bad >= 0) throw new Error(`${where}: r42.${k}[${bad}] is ${v[bad]}; ${k === 'var' ? 'variances must be finite and ≥ 0' : 'means must be finite'}`);
  }
  return s;
}

/** Reads relu4_2 statistics from a .safetensors file holding `r42.mean` and `r42.var` (512 values each, any shape). */
export function readFeatureStats(path: string): FeatureStats {
  const where = `ae-perceptual: featureStats ${path}`;
  if (!existsSync(path)) throw new Error(`${where} does not exist (a .safetensors file with r42.mean and r42.var, 512 values each; or leave featureStats null to compute them from the training images)`);
  const { tensors } = readSafetensors(path);
  const get = (k: string): Float32Array => {
    const t = tensors.get(k);
    if (!t) throw new Error(`${where} has no tensor "${k}" (it holds ${[...tensors.keys()].join(', ') || 'none'}); it needs r42.mean and r42.var, 512 values each`);
    return Float32Array.from(toFloat32(t));
  };
  return checkStats(where, { mean: get('r42.mean'), var: get('r42.var') });
}

/** Per-channel mean and population variance of relu4_2 over every image and position (float64 sums). */
export function computeFeatureStats(vgg: Backbone, images: Float32Array, shape: { n: number; channels: number; size: number }, batchSize: number): FeatureStats {
  const { n, channels: c, size: s } = shape;
  if (n < 1) throw new Error('ae-perceptual: no training images to compute the relu4_2 statistics from');
  const per = c * s * s;
  const sum = new Float64Array(PERCEPTUAL_CHANNELS);
  const sumSq = new Float64Array(PERCEPTUAL_CHANNELS);
  let count = 0;
  for (let start = 0; start < n; start += batchSize) {
    const b = Math.min(batchSize, n - start);
    const x = Tensor.fromData(images.slice(start * per, (start + b) * per), [b, c, s, s]);
    const f = vgg.features(toBackboneInput(x, { normalisation: 'imagenet', channelPolicy: 'replicate' }), [PERCEPTUAL_LAYER])[PERCEPTUAL_LAYER];
    const hw = f.shape[2] * f.shape[3];
    const d = f.data;
    for (let i = 0; i < b; i++) {
      for (let ch = 0; ch < PERCEPTUAL_CHANNELS; ch++) {
        const o = (i * PERCEPTUAL_CHANNELS + ch) * hw;
        let s1 = 0;
        let s2 = 0;
        for (let j = 0; j < hw; j++) {
          const v = d[o + j];
          s1 += v;
          s2 += v * v;
        }
        sum[ch] += s1;
        sumSq[ch] += s2;
      }
    }
    count += b * hw;
  }
  const meanOut = new Float32Array(PERCEPTUAL_CHANNELS);
  const varOut = new Float32Array(PERCEPTUAL_CHANNELS);
  for (let ch = 0; ch < PERCEPTUAL_CHANNELS; ch++) {
    const m = sum[ch] / count;
    meanOut[ch] = m;
    varOut[ch] = Math.max(0, sumSq[ch] / count - m * m);
  }
  return { mean: meanOut, var: varOut };
}

/** A string option whose default is null (a path, or the absence of one). */
function nullableStringOption<const N extends string>(name: N, description: string): TypedSpec<N, 'string', string | null> {
  return { name, type: 'string', default: null, description };
}

/** Options ae-perceptual adds to the unified AE's. */
export const AE_PERCEPTUAL_OPTIONS = [
  booleanOption('perceptualDivideByVar', true, 'quirk perceptualDivideByVar: normalise relu4_2 features by the variance (reference); false: by the standard deviation'),
  nullableStringOption(
    'weights',
    "VGG19 weights: null = the cached torchvision ImageNet file (`medianomaly weights fetch vgg19`), a .safetensors path with torchvision names, or 'random' (seeded torchvision initialisation; for tests, not for results)",
  ),
  nullableStringOption(
    'featureStats',
    'relu4_2 statistics: a .safetensors file with r42.mean and r42.var (512 values each); null = computed from the training images before training (the reference ImageNet file is not distributed)',
  ),
];

/** What config.json records beyond the common fields. */
interface PerceptualSavedConfig extends SavedConfig {
  perceptual?: {
    layer: string;
    /** 'training-data' or the featureStats file the statistics came from. */
    featureStats: string;
    /** The weights option as given (null: the cached torchvision file). */
    weights: string | null;
    /** SHA-256 of the VGG19 weights file (null: random weights). */
    weightsSha256: string | null;
  };
}

export class AEPerceptual extends AEFamilyMethod<PerceptualAE> {
  private vgg: Backbone | null = null;
  private weightsSha256: string | null = null;
  /** Where the statistics of the current network came from. */
  private statsSource: string | null = null;
  /** Statistics for the network fit is about to build. */
  private pendingStats: FeatureStats | null = null;

  protected buildNetwork(generator: Generator): PerceptualAE {
    const net = new PerceptualAE(unifiedAEOptions(this.options, generator));
    if (this.pendingStats) {
      net.r42Mean.data.set(this.pendingStats.mean);
      net.r42Var.data.set(this.pendingStats.var);
    }
    return net;
  }

  override validate(): void {
    super.validate();
    const c = this.options.channels as number;
    if (c !== 1 && c !== 3) throw new RangeError(`ae-perceptual: option "channels" must be 1 or 3 (VGG19 takes RGB; grey is repeated), got ${c}`);
    if ((this.options.size as number) % PERCEPTUAL_STRIDE) throw new RangeError(`ae-perceptual: option "size" must be a multiple of ${PERCEPTUAL_STRIDE}`);
    resolveWeights('vgg19', this.options.weights as string | null);
    const stats = this.options.featureStats as string | null;
    if (stats !== null) readFeatureStats(stats);
  }

  /** The frozen VGG19 from the weights option; checks the SHA-256 against `expectSha` when given. */
  private buildVgg(expectSha?: string | null): Backbone {
    const spec = this.options.weights as string | null;
    const w = resolveWeights('vgg19', spec);
    if (expectSha !== undefined && w.sha256 !== expectSha) {
      throw new Error(
        `ae-perceptual: the VGG19 weights resolved from weights=${JSON.stringify(spec)} (${w.path}) have SHA-256 ${w.sha256}, ` +
          `but the method was trained with ${expectSha}; its scores would differ. Give the original weights file as the "weights" option`,
      );
    }
    const vgg = backbones.create('vgg19', { weights: w.path, seed: this.options.seed as number });
    this.weightsSha256 = w.sha256;
    return vgg;
  }

  private perceptual(): Backbone {
    if (!this.vgg) throw new Error('ae-perceptual: the method is not trained; call fit() or load() first');
    return this.vgg;
  }

  override async fit(train: Split, opts: FitOptions = {}): Promise<FitResult> {
    if (!train || typeof train.images !== 'function') throw new TypeError('ae-perceptual.fit: train must be a Split');
    checkGeometry(this.info.name, `split ${train.dataset}/${train.name}`, train, this.geometry);
    const say = (text: string): void => (opts.onMessage ? opts.onMessage(text) : void process.stderr.write(`ae-perceptual: ${text}\n`));
    const file = this.options.featureStats as string | null;
    const fromFile = file !== null ? readFeatureStats(file) : null;
    const vgg = this.buildVgg();
    let stats: FeatureStats;
    if (fromFile) {
      stats = fromFile;
      say(`relu4_2 feature statistics from ${file}`);
    } else {
      stats = computeFeatureStats(vgg, await train.images(), { n: train.length, channels: train.channels, size: train.size }, this.options.batchSize as number);
      const floored = stats.var.filter((v) => v < PERCEPTUAL_VAR_FLOOR).length;
      say(
        `relu4_2 feature statistics computed from the ${train.length} training images (the reference's ImageNet statistics file is not distributed; ` +
          `give featureStats=FILE to use one)` +
          (floored ? `; ${floored} channel(s) never vary on them and are divided by ${PERCEPTUAL_VAR_FLOOR}` : ''),
      );
    }
    this.vgg = vgg;
    this.pendingStats = stats;
    this.statsSource = file ?? 'training-data';
    try {
      return await super.fit(train, opts);
    } finally {
      this.pendingStats = null;
    }
  }

  private error(net: PerceptualAE, x: Tensor, xhat: Tensor): Tensor {
    const divisor = perceptualDivisor(net.r42Var.data, this.options.perceptualDivideByVar !== false);
    return relativePerceptualError(this.perceptual(), x, xhat, net.r42Mean, divisor);
  }

  protected override loss(net: PerceptualAE, x: Tensor): Tensor {
    return this.error(net, x, this.output(net.forward(x))).mean();
  }

  protected scoreBatch(net: PerceptualAE, x: Tensor, wantReconstructions: boolean) {
    const xhat = this.output(net.forward(x));
    const maps = perceptualMap(this.error(net, x, xhat));
    return wantReconstructions ? { maps, reconstructions: xhat } : { maps };
  }

  override async save(dir: string): Promise<void> {
    await super.save(dir);
    const cfg = readConfig(dir) as PerceptualSavedConfig;
    const { sha256: _old, ...rest } = cfg;
    const perceptual = { layer: PERCEPTUAL_LAYER, featureStats: this.statsSource ?? 'training-data', weights: this.options.weights as string | null, weightsSha256: this.weightsSha256 };
    writeConfig(dir, { ...rest, perceptual } as PerceptualSavedConfig);
  }

  override async load(dir: string): Promise<void> {
    await super.load(dir);
    const cfg = readConfig(dir) as PerceptualSavedConfig;
    try {
      this.vgg = this.buildVgg(cfg.perceptual ? cfg.perceptual.weightsSha256 : undefined);
    } catch (e) {
      this.net = null; // not half loaded: a network without its VGG cannot score
      this.vgg = null;
      throw e;
    }
    this.statsSource = cfg.perceptual?.featureStats ?? null;
  }
}

const info = aeInfo(
  'ae-perceptual',
  'AE-Perceptual',
  'Autoencoder trained with the relative perceptual L1 loss on VGG19 relu4_2 features (ImageNet weights, frozen); map the feature error upsampled ×8, score its mean.',
  AE_PERCEPTUAL_OPTIONS,
);
registerMethod({ info, create: (o: MethodOptions) => new AEPerceptual(info, o) });
