// ReContrast — domain-specific anomaly detection via contrastive reconstruction (Guo et al.,
// NeurIPS 2023), as guojiajeremy/ReContrast trains and evaluates it (`recontrast_mvtec.py`,
// `utils.py`; the medical scripts `recontrast_{oct,aptos,isic}.py` differ only in batch size,
// iterations, encoder batch-norm mode and image score).
//
// Networks (recontrast-net.ts): a trainable copy of the pretrained encoder (wide_resnet50_2 by
// default; resnet18 also), the frozen pretrained encoder (eval, no gradient), RD4AD's OCBE
// and reverse decoder with two sets of 1×1 output heads. Both encoders' maps go through OCBE
// and the decoder as one batch of 2B; the decoder fed by each encoder reconstructs the
// other's maps.
//
// Loss (hard-mining.ts): ½·HM(f, q) + ½·HM(e, q'), HM the global cosine distance summed over
// layer1..layer3 whose gradient is removed at every position easier than μ + α·σ of the
// level's pixel cosine distances; α rises from −3 to 1 over the first 10 % of the run's
// iterations, counted from 0 over the whole run (epoch e, step s: it = (e − 1)·steps per epoch
// + s, so a resumed run continues the schedule).
//
// Optimisation: AdamW (betas 0.9, 0.999; weight decay 1e-5) with lr 2e-3 for OCBE + decoder
// (`lr`) and 1e-5 for the trainable encoder (`encoderLr`); batch 16, 256 px, ImageNet
// normalisation. The trainable encoder's batch norm runs in train mode (batch statistics,
// running statistics updated) by default; `encoderBn: 'eval'` keeps its running statistics,
// as the official MVTec script does for six classes and the OCT2017 script for all images.
//
// Length: the official scripts count iterations (MVTec and ISIC2018 2000, OCT2017 and APTOS
// 1000 at batch 32) and stop inside the last epoch. The trainer here runs whole epochs, so the
// length is `epochs`; recontrastEpochs(n, batchSize, iterations) gives the official epoch
// count for a training set of n images (the last epoch then runs to its end: at most
// ⌈n / batchSize⌉ − 1 iterations more than the official run, all at α = 1). The default, 8
// epochs, is 2000 iterations at batch 16 on a training set of about 4,000 images (RSNA,
// VinDr-CXR); on Brain Tumor (1,000) the official count is 32 epochs, on ISIC2018 (6,705) 5.
//
// Map: the six pixel cosine distance maps (f_k, q_k) and (e_k, q'_k), each upsampled to the
// image (bilinear, align_corners = True), summed, smoothed by SciPy's gaussian_filter (σ 4);
// image score = the map's maximum (MVTec, OCT2017, APTOS) or its mean (`imageScore: 'mean'`,
// the ISIC2018 script).
//
// Not here: the "stable" variant (`recontrast_*_stable.py`: PartialNorm in the encoder,
// optimiser resets, top-1 % score). The official scripts evaluate on the test set every 250
// iterations and print both the last evaluation and the best one by image AUROC; the "best"
// numbers select a checkpoint on the test set. This method keeps the last epoch (no selection);
// published ReContrast numbers that quote the best evaluation depend on that selection.
import { noGrad, Tensor, type Generator } from '../../engine/index.js';
import type { Split } from '../../data/types.js';
import { AdamW } from '../../nn/optim/adamw.js';
import { RD_LAYERS, type RdBackbone } from '../../models/reverse-distillation.js';
import { registerMethod } from '../catalogue.js';
import { GEOMETRY_OPTIONS, TRAINING_OPTIONS } from '../reconstruction/options.js';
import { numberOption, stringOption, withDefaults } from '../training/options.js';
import type { AnyOptimizer, StepContext, StepResult } from '../training/trainer.js';
import type { BatchScore } from '../training/base.js';
import type { FitOptions, FitResult, MethodInfo } from '../types.js';
import { backboneOption, FeatureNetworkMethod, normalisationOption, WEIGHTS_OPTION } from './base.js';
import { globalCosineHardMining, hardMiningAlpha, ALPHA_WARMUP, type HardMiningLoss } from './hard-mining.js';
import { rdAnomalyMaps } from './rd-maps.js';
import { ReContrastNet, type Maps3, type ReContrastPairs } from './recontrast-net.js';

/** The official scripts' training length in iterations (MVTec AD, ISIC2018). */
export const RECONTRAST_ITERATIONS = 2000;

/** The epochs the official loop runs for `iterations` at `batchSize` on n training images: ⌈iterations / ⌈n / batchSize⌉⌉. */
export function recontrastEpochs(n: number, batchSize = 16, iterations = RECONTRAST_ITERATIONS): number {
  if (!(Number.isInteger(n) && n > 0 && Number.isInteger(batchSize) && batchSize > 0 && iterations > 0)) {
    throw new RangeError(`recontrastEpochs: n, batchSize and iterations must be positive integers, got ${n}, ${batchSize}, ${iterations}`);
  }
  return Math.ceil(iterations / Math.ceil(n / batchSize));
}

export const RECONTRAST_OPTIONS = [
  backboneOption(['wide_resnet50_2', 'resnet18'] as const, 'encoder backbone, trained copy and frozen copy: wide_resnet50_2 (official) or resnet18 (BasicBlock OCBE and decoder)'),
  WEIGHTS_OPTION,
  normalisationOption('imagenet'),
  numberOption('encoderLr', 1e-5, 'AdamW learning rate of the trainable encoder', { min: 0 }),
  numberOption('weightDecay', 1e-5, 'AdamW (decoupled) weight decay of both parameter groups', { min: 0 }),
  stringOption(
    'encoderBn',
    'train',
    "batch norm of the trainable encoder during training: 'train' (batch statistics; official default) or 'eval' (running statistics; the official MVTec script for toothbrush, leather, grid, tile, wood, screw and the OCT2017 script)",
    ['train', 'eval'],
  ),
  numberOption('alphaWarmup', ALPHA_WARMUP, 'fraction of the run over which the hard-mining α rises from −3 to 1 (official 0.1)', { min: 1e-6, max: 1 }),
  stringOption('imageScore', 'max', "image score from the map: 'max' (MVTec, OCT2017, APTOS scripts) or 'mean' (ISIC2018 script)", ['max', 'mean']),
  numberOption('sigma', 4, 'σ of the Gaussian map smoothing (SciPy gaussian_filter borders; 0: none)', { min: 0 }),
];

export const RECONTRAST_METHOD_OPTIONS = [
  ...withDefaults(TRAINING_OPTIONS, { epochs: 8, batchSize: 16, lr: 2e-3 }).map((s) =>
    s.name === 'lr'
      ? { ...s, description: 'AdamW learning rate of OCBE and decoder (betas 0.9, 0.999; no schedule)' }
      : s.name === 'epochs'
        ? { ...s, description: 'training epochs; the official runs are 2000 iterations at batch 16: recontrastEpochs(training images) gives the epochs (8 ≈ 4,000 images)' }
        : s,
  ),
  ...withDefaults(GEOMETRY_OPTIONS, { size: 256 }),
  ...RECONTRAST_OPTIONS,
];

/** The embedding is at 1/32 of the image; the decoder meets the encoder's shapes only at multiples of it. */
const STRIDE = 32;

/** The loss of one forward, ½·HM(f, q) + ½·HM(e, q'), with its two halves (their values and what the hard mining kept). */
export function recontrastLoss(pairs: ReContrastPairs, alpha: number): { loss: Tensor; frozen: HardMiningLoss; trained: HardMiningLoss } {
  const frozen = globalCosineHardMining(pairs.frozen, alpha);
  const trained = globalCosineHardMining(pairs.trained, alpha);
  return { loss: frozen.loss.mul(0.5).add(trained.loss.mul(0.5)), frozen, trained };
}

/** Per image, the S×S map from the six pairs: upsampled (align_corners), summed, Gaussian-smoothed (σ; 0 = none). */
export function recontrastMaps(pairs: ReContrastPairs, size: number, sigma: number): Float32Array[] {
  return rdAnomalyMaps([...pairs.frozen, ...pairs.trained], size, { combine: 'add', blur: sigma > 0 ? 'scipy' : 'none', sigma });
}

export class ReContrast extends FeatureNetworkMethod<ReContrastNet> {
  protected override scoreBatchSize = 16;
  /** Iterations per epoch and in the whole run, for the α schedule; set by fit. */
  private schedule: { stepsPerEpoch: number; total: number } | null = null;

  /** The option checks, without building the network (the base's would build it, and no backbone exists yet). */
  override validate(): void {
    const s = this.options.size as number;
    if (s % STRIDE) throw new RangeError(`${this.info.name}: option "size" must be a multiple of ${STRIDE} (the one-class embedding is at 1/${STRIDE} of the image), got ${s}`);
    this.validateFeatureOptions();
  }

  protected buildNetwork(generator: Generator): ReContrastNet {
    const net = new ReContrastNet(this.options.backbone as RdBackbone, generator, this.drawsInitialisation);
    // The trainable encoder starts as the pretrained one; load() overwrites every value instead.
    if (this.drawsInitialisation) net.encoder.copyFrom(this.backbone());
    return net;
  }


  protected override createOptimizers(net: ReContrastNet): Record<string, AnyOptimizer> {
    const common = { betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: this.options.weightDecay as number };
    return {
      // The official optimiser lists decoder then OCBE parameters (OCBE's unused conv4/bn4 take no gradient, hence no decay).
      decoder: new AdamW([...net.decoder.parameters(), ...net.bottleneck.parameters()], { ...common, lr: this.options.lr as number }),
      encoder: new AdamW(net.encoder.parameters(), { ...common, lr: this.options.encoderLr as number }),
    };
  }

  override async fit(train: Split, opts: FitOptions = {}): Promise<FitResult> {
    const stepsPerEpoch = Math.ceil(train.length / (this.options.batchSize as number));
    this.schedule = { stepsPerEpoch, total: stepsPerEpoch * (this.options.epochs as number) };
    return super.fit(train, opts);
  }

  /** The frozen backbone's [f1, f2, f3] of backbone input x (eval, no gradient). */
  private frozenMaps(x: Tensor): Maps3 {
    const f = this.backbone().features(x, RD_LAYERS);
    return [f.layer1, f.layer2, f.layer3];
  }

  /** The six (teacher, student) pairs of images in [-1, 1], in the network's current modes. */
  pairs(net: ReContrastNet, images: Tensor): ReContrastPairs {
    const x = this.backboneInput(images);
    return net.forward(x, this.frozenMaps(x));
  }

  protected override trainStep(net: ReContrastNet, images: Tensor, ctx: StepContext, optimizers: Record<string, AnyOptimizer>): StepResult {
    if (!this.schedule) throw new Error(`${this.info.name}: trainStep outside fit`);
    net.trainModes(this.options.encoderBn === 'train');
    const it = (ctx.epoch - 1) * this.schedule.stepsPerEpoch + ctx.step;
    const alpha = hardMiningAlpha(it, this.schedule.total, this.options.alphaWarmup as number);
    for (const o of Object.values(optimizers)) o.zeroGrad();
    const out = recontrastLoss(this.pairs(net, images), alpha);
    out.loss.backward();
    for (const o of Object.values(optimizers)) o.step();
    const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
    const kept = sum(out.frozen.kept) + sum(out.trained.kept);
    const positions = sum(out.frozen.positions) + sum(out.trained.positions);
    // frozen: HM(f, q); trained: HM(e, q'); kept: the fraction of positions that passed a gradient.
    return { loss: out.loss.item(), terms: { frozen: out.frozen.loss.item(), trained: out.trained.loss.item(), kept: kept / positions } };
  }

  protected scoreBatch(net: ReContrastNet, images: Tensor): BatchScore {
    const size = images.shape[2];
    const maps = noGrad(() => recontrastMaps(this.pairs(net, images), size, this.options.sigma as number));
    const packed = new Float32Array(maps.length * size * size);
    maps.forEach((m, i) => packed.set(m, i * size * size));
    // The image score (max or mean by the imageScore option) is reduced from the maps by the base.
    return { maps: Tensor.fromData(packed, [maps.length, size, size]) };
  }
}

export const RECONTRAST_INFO: MethodInfo = {
  name: 'recontrast',
  title: 'ReContrast',
  family: 'feature-reconstruction',
  description:
    'Reverse distillation with a trained copy of the ImageNet encoder beside the frozen one (wide_resnet50_2 layer1..3): OCBE and a two-headed reverse decoder reconstruct each encoder from the other; ' +
    'loss = global cosine distance with hard mining (AdamW, encoder lr 1e-5); map = six pixel cosine distances upsampled, summed and blurred (σ 4), score = its max (or mean)',
  defaultSize: 256,
  pixelMaps: true,
  options: RECONTRAST_METHOD_OPTIONS,
};

registerMethod({ info: RECONTRAST_INFO, create: (o) => new ReContrast(RECONTRAST_INFO, o) });
