// DRAEM (Zavrtanik et al., ICCV 2021, "DRAEM – A discriminatively trained reconstruction
// embedding for surface anomaly detection"; official code VitjanZ/DRAEM). The MedIAnomaly
// reference code does not have it; the defaults are the official code's (train_DRAEM.py,
// data_loader.py, test_DRAEM.py), with anomalib's as a second source.
//
// Training, per batch of normal images x (mapped from [-1, 1] to DRAEM's [0, 1]):
// 1. each image is rotated by U(−90°, 90°) with probability 0.3 (the official do_aug_orig),
//    then given a synthetic anomaly by anomalies.draem (Perlin mask, augmented texture or
//    training image, β blend; none with probability ½) → I_a and its mask M;
// 2. x̂ = R(I_a) (reconstructive sub-network), logits = D(cat(x̂, I_a)) (discriminative);
// 3. loss = ‖x̂ − x‖² (mean) + (1 − SSIM(x̂, x)) + focal(softmax(logits), M) (γ 2);
// 4. one Adam step (lr 1e-4, betas 0.9/0.999) over both networks; the rate is multiplied by
//    0.2 at epochs 0.8·E and 0.9·E (PyTorch MultiStepLR with the official float milestones:
//    a milestone that is not a whole number is never reached, as in PyTorch).
// Scoring: p = softmax(D(cat(R(x), x)))[anomalous] is the pixel map; the image score is the
// maximum of p average-pooled 21 × 21, stride 1, zero padding 10 counted (test_DRAEM.py);
// `scoreSmoothing` 1 scores the raw maximum.
//
// The official setting (700 epochs, batch 8, 256 px, widths 128 and 64: 97.4 M parameters)
// is a GPU budget. DRAEM_CPU (docs/methods.md) is the reduced setting for CPUs.
import { existsSync, statSync } from 'node:fs';
import { avgPool2d, slice, softmax, Tensor, type Generator } from '../../engine/index.js';
import { draem, loadTextures, rotateImage } from '../../anomalies/draem.js';
import type { PixelImage } from '../../anomalies/image.js';
import type { Split } from '../../data/types.js';
import { DraemModel } from '../../models/draem-nets.js';
import { registerMethod } from '../catalogue.js';
import { ReconstructionMethod, type BatchScore } from '../training/base.js';
import { checkGeometry } from '../training/images.js';
import { integerOption, numberOption, stringOption, withDefaults } from '../training/options.js';
import { readConfig, writeConfig, type SavedConfig } from '../training/saved.js';
import type { AnyOptimizer, StepContext, StepResult } from '../training/trainer.js';
import { GEOMETRY_OPTIONS, TRAINING_OPTIONS } from '../reconstruction/options.js';
import type { FitOptions, FitResult, MethodInfo, MethodOptions } from '../types.js';
import { draemSsimLoss, focalLoss } from './draem-loss.js';

export const DRAEM_OPTIONS = [
  ...withDefaults(TRAINING_OPTIONS, { epochs: 700, batchSize: 8, lr: 1e-4 }).map((o) =>
    o.name === 'lr' ? { ...o, description: 'Adam learning rate (betas 0.9, 0.999); ×0.2 at 0.8 and 0.9 of the epochs (MultiStepLR)' } : o.name === 'epochs' ? { ...o, description: 'training epochs (official 700); the last epoch is used' } : o,
  ),
  ...withDefaults(GEOMETRY_OPTIONS, { size: 256 }).map((o) => (o.name === 'size' ? { ...o, description: 'input side S (a multiple of 32; official 256); the dataset must be loaded at this size' } : o)),
  integerOption('reconstructiveWidth', 128, 'base width of the reconstructive sub-network (official 128)', { min: 1 }),
  integerOption('discriminativeWidth', 64, 'base width of the discriminative sub-network (official 64)', { min: 1 }),
  stringOption('textures', '', 'folder of anomaly-source textures (the official code uses DTD\'s images/); empty: the training images themselves'),
  integerOption('perlinMaxScale', 6, 'Perlin scales are 2^a × 2^b with a, b uniform in {0, …, perlinMaxScale − 1} (official 6)', { min: 1, max: 12 }),
  numberOption('maskThreshold', 0.5, 'the anomaly mask is Perlin noise > maskThreshold (official 0.5)', { min: -1, max: 1 }),
  numberOption('betaMax', 0.8, 'blend factor β ~ U(0, betaMax) of the image inside the mask (official 0.8)', { min: 0, max: 1 }),
  numberOption('noAnomalyProbability', 0.5, 'probability that a training image gets no anomaly (official 0.5)', { min: 0, max: 1 }),
  numberOption('rotateProbability', 0.3, 'probability of rotating a training image by U(−90°, 90°) before the anomaly (official 0.3)', { min: 0, max: 1 }),
  integerOption('scoreSmoothing', 21, 'image score = max of the anomaly map average-pooled k × k, stride 1 (official 21; 1: the raw maximum)', { min: 1 }),
];

/** The reduced setting for CPUs (docs/methods.md): 64 px, widths 16 and 8, 100 epochs, batch 8. */
export const DRAEM_CPU = { size: 64, reconstructiveWidth: 16, discriminativeWidth: 8, epochs: 100, batchSize: 8 } as const;

const info: MethodInfo = {
  name: 'draem',
  title: 'DRAEM',
  family: 'self-supervised',
  description:
    'Reconstructive + discriminative U-Nets trained on Perlin-noise synthetic anomalies (L2 + SSIM + focal); map = anomaly probability, score = max of its 21×21 mean. ' +
    'Official setting 256 px, widths 128/64, 700 epochs (GPU budget); reduced CPU setting: size 64, reconstructiveWidth 16, discriminativeWidth 8, epochs 100.',
  defaultSize: 256,
  pixelMaps: true,
  options: DRAEM_OPTIONS,
};

export interface DraemSavedConfig extends SavedConfig {
  draem?: { anomalySource: 'training-images' | 'textures'; textures: string | null; sourceImages: number };
}

/** The learning-rate factor in (0-based) epoch e: 0.2 per reached milestone (MultiStepLR, float milestones). */
export function draemLrFactor(epochs: number, e: number): number {
  let f = 1;
  for (const m of [epochs * 0.8, epochs * 0.9]) if (Number.isInteger(m) && e >= m) f *= 0.2;
  return f;
}

/** [C, S, S] in [-1, 1] → a float PixelImage (H × W × C) on DRAEM's 0–1 scale. */
function toPixels(x: Float32Array, off: number, c: number, s: number): PixelImage {
  const plane = s * s;
  const d = new Float32Array(plane * c);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < plane; i++) d[i * c + ch] = (x[off + ch * plane + i]! + 1) / 2;
  return { width: s, height: s, channels: c as 1 | 3, data: d };
}

/** A PixelImage (H × W × C) into [C, S, S] at `off` of `out`. */
function fromPixels(img: PixelImage, out: Float32Array, off: number): void {
  const { channels: c, width, height, data } = img;
  const plane = width * height;
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < plane; i++) out[off + ch * plane + i] = data[i * c + ch]!;
}

export class DraemMethod extends ReconstructionMethod<DraemModel> {
  // 256 px at full width holds ~0.5 GB of activations per image: score a few at a time.
  protected override scoreBatchSize = 8;
  private sources: PixelImage[] | null = null;
  private sourceInfo: DraemSavedConfig['draem'] | null = null;

  /** Where the training anomalies came from (recorded in config.json as `draem`); null before fit/load. */
  get anomalySource(): DraemSavedConfig['draem'] | null {
    return this.sourceInfo;
  }

  protected buildNetwork(generator: Generator): DraemModel {
    const o = this.options;
    const size = o.size as number;
    const c = o.channels as number;
    if (size % 32 || size < 32) throw new RangeError(`draem: option "size" must be a multiple of 32 and at least 32 (five 2×2 poolings in the discriminative network), got ${size}`);
    if (c !== 1 && c !== 3) throw new RangeError(`draem: option "channels" must be 1 or 3 (the anomaly generator works on grey and RGB images), got ${c}`);
    return new DraemModel({ channels: c, reconstructiveWidth: o.reconstructiveWidth as number, discriminativeWidth: o.discriminativeWidth as number, generator });
  }

  override validate(): void {
    super.validate();
    const t = this.options.textures as string;
    if (t && !(existsSync(t) && statSync(t).isDirectory())) throw new Error(`draem: the texture folder ${t} does not exist or is not a folder; give a folder of texture images (option "textures") or leave it empty to use the training images`);
  }

  override async fit(train: Split, opts: FitOptions = {}): Promise<FitResult> {
    if (!train || typeof train.images !== 'function') throw new TypeError('draem.fit: train must be a Split');
    checkGeometry(this.info.name, `split ${train.dataset}/${train.name}`, train, this.geometry);
    const say = (text: string): void => (opts.onMessage ? opts.onMessage(text) : void process.stderr.write(`draem: ${text}\n`));
    const folder = this.options.textures as string;
    const { channels: c, size: s } = this.geometry;
    if (folder) {
      this.sources = await loadTextures(folder, { size: s });
      const mb = (this.sources.length * s * s * 3) / 1e6;
      say(`anomaly source: ${this.sources.length} textures from ${folder} (resized to ${s}×${s}, ${mb.toFixed(1)} MB)`);
      this.sourceInfo = { anomalySource: 'textures', textures: folder, sourceImages: this.sources.length };
    } else {
      const images = await train.images();
      const per = c * s * s;
      this.sources = Array.from({ length: train.length }, (_, i) => toPixels(images, i * per, c, s));
      say(`anomaly source: the ${train.length} training images themselves (no texture folder given; the official code uses DTD textures: option "textures")`);
      this.sourceInfo = { anomalySource: 'training-images', textures: null, sourceImages: train.length };
    }
    try {
      return await super.fit(train, opts);
    } finally {
      this.sources = null;
    }
  }

  /** Clean (possibly rotated) images, their anomalous versions and masks, on the 0–1 scale. */
  synthesize(x: Tensor, rng: Generator): { clean: Tensor; augmented: Tensor; mask: Float32Array } {
    const [b, c, s] = x.shape;
    const o = this.options;
    const per = c * s * s;
    const clean = new Float32Array(b * per);
    const augmented = new Float32Array(b * per);
    const mask = new Float32Array(b * s * s);
    const source = this.sources ?? 'self';
    for (let i = 0; i < b; i++) {
      let img = toPixels(x.data, i * per, c, s);
      // do_aug_orig: torch.rand(1) > 0.7, then Affine(rotate=(−90, 90)).
      if (rng.uniform() < (o.rotateProbability as number)) img = rotateImage(img, -90 + 180 * rng.uniform());
      const a = draem(img, rng, {
        source,
        maxScale: o.perlinMaxScale as number,
        threshold: o.maskThreshold as number,
        betaMax: o.betaMax as number,
        noAnomalyProbability: o.noAnomalyProbability as number,
      });
      fromPixels(img, clean, i * per);
      fromPixels(a.image, augmented, i * per);
      mask.set(a.label, i * s * s);
    }
    return { clean: Tensor.fromData(clean, x.shape), augmented: Tensor.fromData(augmented, x.shape), mask };
  }

  protected override trainStep(net: DraemModel, x: Tensor, ctx: StepContext, optimizers: Record<string, AnyOptimizer>): StepResult {
    const opt = optimizers.adam!;
    const factor = draemLrFactor(this.options.epochs as number, ctx.epoch - 1);
    for (const g of opt.paramGroups) g.lr = (this.options.lr as number) * factor;
    const { clean, augmented, mask } = this.synthesize(x, ctx.generator);
    opt.zeroGrad();
    const { reconstruction, logits } = net.forward(augmented);
    const l2 = reconstruction.sub(clean).square().mean();
    const ssim = draemSsimLoss(reconstruction, clean);
    const focal = focalLoss(softmax(logits, 1), mask);
    const loss = l2.add(ssim).add(focal);
    loss.backward();
    opt.step();
    return { loss: loss.item(), terms: { l2: l2.item(), ssim: ssim.item(), focal: focal.item() } };
  }

  protected scoreBatch(net: DraemModel, x: Tensor, wantReconstructions: boolean): BatchScore {
    const [b, , s] = x.shape;
    const { reconstruction, logits } = net.forward(x.add(1).mul(0.5), { detachReconstruction: true });
    const p = slice(softmax(logits, 1), 1, 1, 2); // [B, 1, S, S]
    const k = this.options.scoreSmoothing as number;
    const smooth = k > 1 ? avgPool2d(p, { kernelSize: k, stride: 1, padding: Math.floor(k / 2) }) : p;
    const scores = new Float32Array(b);
    const per = smooth.shape[2] * smooth.shape[3];
    for (let i = 0; i < b; i++) {
      let m = -Infinity;
      for (let j = i * per; j < (i + 1) * per; j++) if (smooth.data[j]! > m) m = smooth.data[j]!;
      scores[i] = m;
    }
    const maps = p.reshape([b, s, s]);
    return wantReconstructions ? { maps, scores, reconstructions: reconstruction.mul(2).sub(1) } : { maps, scores };
  }

  override async save(dir: string): Promise<void> {
    await super.save(dir);
    if (!this.sourceInfo) return;
    const cfg = readConfig(dir) as DraemSavedConfig;
    const { sha256: _old, ...rest } = cfg;
    writeConfig(dir, { ...rest, draem: this.sourceInfo } as DraemSavedConfig);
  }

  override async load(dir: string): Promise<void> {
    await super.load(dir);
    this.sourceInfo = (readConfig(dir) as DraemSavedConfig).draem ?? null;
  }
}

registerMethod({ info, create: (o: MethodOptions) => new DraemMethod(info, o) });
