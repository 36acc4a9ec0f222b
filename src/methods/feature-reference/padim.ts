// PaDiM (Defard et al. 2021; feature-reference spec §3): one multivariate Gaussian per
// position of the layer1 feature grid of a frozen ImageNet backbone; a test patch scores its
// Mahalanobis distance to the Gaussian of its position.
//
// | step      | rule (anomalib models/image/padim, the paper)                                    |
// |-----------|----------------------------------------------------------------------------------|
// | features  | layer1, layer2, layer3; layer2/3 nearest-upsampled to the layer1 grid, concatenated |
// |           | (resnet18 64 + 128 + 256 = 448 channels; wide_resnet50_2 256 + 512 + 1024 = 1792)  |
// | subset    | d random channels (100 for resnet18, 550 for wide_resnet50_2), drawn once from the  |
// |           | method's seeded generator (anomalib: unseeded `random.sample`) and saved with it   |
// | fit       | per position: mean and unbiased covariance (n − 1) + 0.01·I, inverted (float64)     |
// | patch     | √max(0, (x − μ)ᵀ Σ⁻¹ (x − μ))                                                        |
// | map       | bilinear (align_corners false) to the input size, Gaussian blur σ = 4 (anomalib's   |
// |           | 33-tap blur with mirror padding: 'torch')                                         |
// | image     | max of the map                                                                   |
//
// Unlike anomalib, which keeps every training embedding before fitting (images × d × positions
// × 4 bytes: 6–60 GB on the MedIAnomaly datasets with wide_resnet50_2), the fit streams float64
// sums per position (src/stats GaussianAccumulator): positions × d² × 8 bytes, whatever the
// number of images. anomalib ≥ 2 adds 1e-5·I before inverting; see GaussianAccumulator.finish.
import { totalmem } from 'node:os';
import { Generator, interpolate, Tensor } from '../../engine/index.js';
import { backbones } from '../../models/backbones/index.js';
import type { RawTensor } from '../../nn/safetensors.js';
import { GaussianAccumulator, mahalanobisMap } from '../../stats/index.js';
import { registerMethod } from '../catalogue.js';
import { integerOption, numberOption, stringOption } from '../training/options.js';
import type { MethodInfo } from '../types.js';
import { FeatureReferenceMethod, featureOptions, takeTensor, type BatchScore, type FeatureBatch, type FinishContext, type FitPlan } from './base.js';
import { scoreMaps, type BlurFlavour } from './maps.js';

const LAYERS = ['layer1', 'layer2', 'layer3'] as const;
/** d of the paper and anomalib per backbone. */
const DEFAULT_DIM: Record<string, number> = { resnet18: 100, wide_resnet50_2: 550 };

export const PADIM_OPTIONS = [
  integerOption('dim', null, 'd: channels of the random subset kept from the layer1–3 concatenation; null: 100 (resnet18) or 550 (wide_resnet50_2)', { min: 1 }),
  numberOption('regularisation', 0.01, 'ridge added to every covariance (ε·I; PaDiM 0.01)', { min: 0 }),
  stringOption('blur', 'torch', "Gaussian blur borders: 'torch' (anomalib: 33 taps, mirror reflect) or 'scipy' (half-sample reflect)", ['torch', 'scipy']),
  numberOption('sigma', 4, 'σ of the map blur (0: no blur)', { min: 0 }),
];

export const PADIM_METHOD_OPTIONS = [...featureOptions({ backbone: 'resnet18', batchSize: 16 }), ...PADIM_OPTIONS];

const GB = 1e9;
const fmtBytes = (b: number): string => (b >= GB ? `${(b / GB).toFixed(2)} GB` : `${(b / 1e6).toFixed(1)} MB`);

/** d distinct channel indices of [0, total), ascending: a partial Fisher–Yates shuffle from Generator(seed). */
export function padimChannels(total: number, d: number, seed: number): Int32Array {
  const all = Int32Array.from({ length: total }, (_, i) => i);
  const g = new Generator(seed);
  for (let i = 0; i < d; i++) {
    const j = i + g.int(total - i);
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  return all.slice(0, d).sort();
}

/**
 * The PaDiM embedding of one batch: the chosen channels of layer1..3 (layer2/3 nearest-
 * upsampled to the layer1 grid, as F.interpolate(mode='nearest')), as [B, P, d] (position-major,
 * channel last), P = h·w of layer1. `channels` index the concatenation, ascending.
 */
export function padimEmbedding(layers: Tensor[], channels: Int32Array): { x: Tensor; h: number; w: number } {
  const [B, , h, w] = layers[0].shape;
  const P = h * w;
  const d = channels.length;
  const out = Tensor.empty([B, P, d]);
  const o = out.data;
  let offset = 0; // first concatenated channel of the current layer
  let k = 0; // next entry of `channels`
  for (const layer of layers) {
    const [lb, C, lh, lw] = layer.shape;
    if (lb !== B) throw new Error('padimEmbedding: the layers disagree on the batch size');
    const first = k;
    while (k < d && channels[k] < offset + C) k++;
    const take = k - first;
    if (take > 0) {
      // The chosen channels of this layer, then (if needed) nearest-upsampled to h × w.
      const sel = Tensor.empty([B, take, lh, lw]);
      const src = layer.data;
      for (let b = 0; b < B; b++)
        for (let t = 0; t < take; t++) {
          const c = channels[first + t] - offset;
          sel.data.set(src.subarray((b * C + c) * lh * lw, (b * C + c + 1) * lh * lw), (b * take + t) * lh * lw);
        }
      const up = lh === h && lw === w ? sel : interpolate(sel, { size: [h, w], mode: 'nearest' });
      const u = up.data;
      for (let b = 0; b < B; b++)
        for (let t = 0; t < take; t++) {
          const from = (b * take + t) * P;
          const to = b * P * d + first + t;
          for (let p = 0; p < P; p++) o[to + p * d] = u[from + p];
        }
    }
    offset += C;
  }
  return { x: out, h, w };
}

export class Padim extends FeatureReferenceMethod {
  private acc: GaussianAccumulator | null = null;
  private images = 0;
  private messageFn: (text: string) => void = () => {};
  private channelIndex: Int32Array | null = null;
  private grid: [number, number] = [0, 0];
  private mean: Float32Array | null = null;
  private invCov: Float32Array | null = null;
  private meanT: Tensor | null = null;
  private invT: Tensor | null = null;

  protected featureLayers(): readonly string[] {
    return LAYERS;
  }

  /** Channels of the layer1..3 concatenation. */
  private totalChannels(): number {
    const table = new Map(backbones.layers(this.backboneName).map((l) => [l.name, l.channels]));
    return LAYERS.reduce((s, l) => s + (table.get(l) ?? 0), 0);
  }

  /** d: the option, or the backbone's default. */
  get dim(): number {
    return (this.options.dim as number | null) ?? DEFAULT_DIM[this.backboneName] ?? 100;
  }

  protected override checkOptions(): void {
    if (!(this.backboneName in DEFAULT_DIM)) {
      throw new RangeError(`${this.info.name}: option "backbone" must be resnet18 or wide_resnet50_2 (PaDiM reads layer1–layer3 of a ResNet), got ${this.backboneName}`);
    }
    const total = this.totalChannels();
    if (this.dim > total) throw new RangeError(`${this.info.name}: option "dim" (${this.dim}) exceeds the ${total} channels of ${this.backboneName} layer1–layer3`);
  }

  protected beginFit(plan: FitPlan): void {
    this.acc = null;
    this.mean = this.invCov = null;
    this.meanT = this.invT = null;
    this.images = plan.images;
    this.messageFn = plan.message;
    this.channelIndex = padimChannels(this.totalChannels(), this.dim, this.options.seed as number);
  }

  protected accumulate(features: Record<string, Tensor>, batch: FeatureBatch): void {
    const { x, h, w } = padimEmbedding(LAYERS.map((l) => features[l]), this.channelIndex!);
    if (!this.acc) {
      const P = h * w;
      const d = this.dim;
      const bytes = GaussianAccumulator.bytes(P, d);
      const peak = bytes.accumulating + bytes.fitted;
      this.messageFn(
        `Gaussian statistics: ${P} positions (${h}×${w}) × d ${d}: float64 sums ${fmtBytes(bytes.accumulating)} while fitting (whatever the ${this.images} images), ` +
          `inverse covariances ${fmtBytes(bytes.fitted)} (float32); peak ${fmtBytes(peak)}`,
      );
      if (peak > 0.8 * totalmem()) {
        throw new RangeError(
          `${this.info.name}: the Gaussian statistics need ${fmtBytes(peak)} at their peak, more than 80 % of this machine's ${fmtBytes(totalmem())}; use a smaller "dim" (now ${d}) or "size" (now ${this.options.size})`,
        );
      }
      this.acc = new GaussianAccumulator(P, d);
      this.grid = [h, w];
    }
    if (h !== this.grid[0] || w !== this.grid[1]) throw new Error(`${this.info.name}: the feature grid changed between batches`);
    this.acc.add(x);
  }

  protected async finishFit(ctx: FinishContext): Promise<void> {
    if (!this.acc) throw new Error(`${this.info.name}: no training features were accumulated`);
    const [h, w] = this.grid;
    ctx.message(`inverting ${h * w} covariances of ${this.dim}×${this.dim}`);
    await ctx.yield();
    const g = this.acc.finish(this.options.regularisation as number);
    this.acc = null;
    this.setState(g.mean, g.invCovariance);
  }

  private setState(mean: Float32Array, invCov: Float32Array): void {
    const [h, w] = this.grid;
    const P = h * w;
    const d = this.dim;
    this.mean = mean;
    this.invCov = invCov;
    this.meanT = Tensor.fromData(mean, [P, d]);
    this.invT = Tensor.fromData(invCov, [P, d, d]);
  }

  /** The fitted Gaussians: grid, channel subset, means [P, d] and inverse covariances [P, d, d]. */
  get gaussians(): { grid: [number, number]; channels: Int32Array; mean: Float32Array; invCovariance: Float32Array } {
    if (!this.mean || !this.invCov || !this.channelIndex) throw new Error(`${this.info.name}: the method is not fitted; call fit() or load() first`);
    return { grid: [...this.grid], channels: this.channelIndex, mean: this.mean, invCovariance: this.invCov };
  }

  protected scoreFeatures(features: Record<string, Tensor>, batch: FeatureBatch): BatchScore {
    const { channels } = this.gaussians;
    const { x, h, w } = padimEmbedding(LAYERS.map((l) => features[l]), channels);
    if (h !== this.grid[0] || w !== this.grid[1]) {
      throw new Error(`${this.info.name}: the feature grid is ${h}×${w} but the method was fitted on ${this.grid[0]}×${this.grid[1]}; score at the fitted size`);
    }
    const dist = mahalanobisMap(x, this.meanT!, this.invT!);
    const size = this.options.size as number;
    const maps = scoreMaps(dist.data, batch.count, h, w, size, { upsample: 'bilinear', blur: this.options.blur as BlurFlavour, sigma: this.options.sigma as number });
    return { maps: Tensor.fromData(maps, [batch.count, size, size]) };
  }

  protected fittedState(): Record<string, RawTensor> {
    const g = this.gaussians;
    const P = g.grid[0] * g.grid[1];
    const d = g.channels.length;
    return {
      channels: { dtype: 'I32', shape: [d], data: g.channels },
      grid: { dtype: 'I32', shape: [2], data: Int32Array.from(g.grid) },
      mean: { dtype: 'F32', shape: [P, d], data: g.mean },
      inv_covariance: { dtype: 'F32', shape: [P, d, d], data: g.invCovariance },
    };
  }

  protected restoreState(tensors: Map<string, RawTensor>): void {
    const d = this.dim;
    const channels = takeTensor(tensors, 'channels', 'I32', [d]).data as Int32Array;
    const total = this.totalChannels();
    for (let i = 0; i < d; i++) {
      if (!(channels[i] >= 0 && channels[i] < total) || (i > 0 && channels[i] <= channels[i - 1])) {
        throw new Error(`model.safetensors: tensor "channels" must hold ${d} ascending channel indices below ${total}`);
      }
    }
    const grid = takeTensor(tensors, 'grid', 'I32', [2]).data as Int32Array;
    if (!(grid[0] >= 1 && grid[1] >= 1)) throw new Error('model.safetensors: tensor "grid" must hold two positive sizes');
    const P = grid[0] * grid[1];
    const mean = takeTensor(tensors, 'mean', 'F32', [P, d]).data as Float32Array;
    const inv = takeTensor(tensors, 'inv_covariance', 'F32', [P, d, d]).data as Float32Array;
    this.channelIndex = channels;
    this.grid = [grid[0], grid[1]];
    this.setState(mean, inv);
  }

  protected override fittedSummary(): Record<string, unknown> {
    const g = this.gaussians;
    return { grid: g.grid, positions: g.grid[0] * g.grid[1], dim: g.channels.length, regularisation: this.options.regularisation };
  }
}

export const PADIM_INFO: MethodInfo = {
  name: 'padim',
  title: 'PaDiM',
  family: 'feature-reference',
  description:
    'Frozen ImageNet backbone (resnet18 layer1–3, or wide_resnet50_2), a random subset of d channels, one Gaussian per feature-grid position fitted by streaming statistics; ' +
    'patch score = Mahalanobis distance, map = score grid upsampled (bilinear) and blurred (σ 4), image score = max of the map',
  defaultSize: 224,
  pixelMaps: true,
  options: PADIM_METHOD_OPTIONS,
};

registerMethod({ info: PADIM_INFO, create: (o) => new Padim(PADIM_INFO, o) });
