// FAE, the Feature Autoencoder (Meissen et al. 2022, "Unsupervised anomaly localization with
// structural feature-autoencoders"; official code FeliMe/feature-autoencoder). A convolutional
// autoencoder reconstructs the multi-scale feature maps of a frozen ImageNet ResNet
// (src/models/fae-net.ts); the reconstruction error, measured by SSIM on the features, is the
// anomaly map.
//
// Per batch of images x in [-1, 1] (the official (x − 0.5)·2 of [0, 1] images):
// 1. f = the extractor's features of x (no gradient): layer0, layer1, layer2 resized to S/4
//    and concatenated (256 channels at 32 × 32 for resnet18 at 128 px);
// 2. loss = mean of −SSIM(AE(f), f) (5 × 5 window, fae-ssim.ts), or of (AE(f) − f)² with
//    loss=mse; one Adam step (lr 2e-4, betas 0.9/0.999, no schedule) on the autoencoder.
// Scoring: map = channel mean of the element-wise loss, upsampled to S × S (bilinear,
// align_corners true); image score = mean of the values above the 0.9 quantile of the
// foreground (fae-score.ts), or with imageScore=mean the mean of the map before upsampling.
//
// The backbone batch-norm quirk: the official training calls model.train() every step, and the
// ResNet is a sub-module, so its batch norm runs in training mode — batch statistics, running
// statistics updated (momentum 0.1, unbiased variance) — although its weights are frozen and
// its forward takes no gradient. At test (model.eval()) the features use running statistics
// that now follow the training images, not ImageNet. backboneBatchNorm=train (the default)
// does the same; the running statistics are saved with the method (`extractor.backbone.*` in
// model.safetensors). backboneBatchNorm=eval keeps ImageNet's statistics throughout. (The
// official Extractor also runs one N(0, 1) batch through the backbone in training mode when it
// is built, to count channels; that one update is forgotten after a few dozen steps and is not
// reproduced.)
//
// Defaults are the official code's (fae/configs/base_config.py: 128 px, batch 32, lr 2e-4,
// dropout 0.1, hidden [100, 150, 200, 300], layers layer0..layer2, SSIM loss), which trains
// 10,000 steps. The library counts epochs: at the default batch of 32, 10,000 steps are
// faeEpochs(N) = ⌈10000 / ⌈N/32⌉⌉ epochs of N training images; the default of 100 epochs is
// 10,000 steps for 3,200 images. The official code keeps the last model (no selection on the
// test set); FAE-AUCp saves a checkpoint every 100 steps for selection on test AUC, which the
// library does not do. FAE-AUCp's settings: normalisation=imagenet, imageScore=mean, lr 5e-4,
// batchSize 64 (and RGB loading).
import { mean, noGrad, type Generator, type Tensor, interpolate } from '../../engine/index.js';
import { toBackboneInput, type BackboneModule } from '../../models/backbones/index.js';
import { backboneStatsMirror, extractFeatures, FAE_LAYERS, FaeNetwork, featureChannels, type FaeLayer, type FeatureAutoencoder } from '../../models/fae-net.js';
import type { Split } from '../../data/types.js';
import { registerMethod } from '../catalogue.js';
import type { BatchScore } from '../training/base.js';
import { numberOption, stringOption, withDefaults } from '../training/options.js';
import type { StepContext } from '../training/trainer.js';
import { GEOMETRY_OPTIONS, TRAINING_OPTIONS } from '../reconstruction/options.js';
import type { FitOptions, FitResult, MethodInfo, MethodOptions } from '../types.js';
import { backboneOption, FeatureNetworkMethod, normalisationOption, WEIGHTS_OPTION } from './base.js';
import { faeLossMap, type FaeLoss } from './fae-ssim.js';
import { foregroundTopScores, meanScores } from './fae-score.js';

/** The official training length in optimiser steps. */
export const FAE_OFFICIAL_STEPS = 10_000;

/** Epochs that make `steps` optimiser steps (official 10,000) on `trainImages` images at `batchSize` (official 32). */
export function faeEpochs(trainImages: number, batchSize = 32, steps = FAE_OFFICIAL_STEPS): number {
  if (!(trainImages >= 1 && batchSize >= 1)) throw new RangeError(`faeEpochs: trainImages and batchSize must be ≥ 1, got ${trainImages} and ${batchSize}`);
  return Math.ceil(steps / Math.ceil(trainImages / batchSize));
}

const describe = <O extends { name: string; description: string }>(o: O, d: Record<string, string>): O => (o.name in d ? { ...o, description: d[o.name] } : o);

export const FAE_OPTIONS = [
  ...withDefaults(TRAINING_OPTIONS, { epochs: 100, batchSize: 32, lr: 2e-4 }).map((o) =>
    describe(o, {
      epochs: 'training epochs; the official code trains 10,000 steps of batch 32 = faeEpochs(N) = ⌈10000 / ⌈N/32⌉⌉ epochs for N training images (100 = 10,000 steps on 3,200 images); the last epoch is used',
      batchSize: 'training batch size (official 32; FAE-AUCp 64)',
      lr: 'Adam learning rate (betas 0.9, 0.999; no schedule; official 2e-4, FAE-AUCp 5e-4)',
    }),
  ),
  ...withDefaults(GEOMETRY_OPTIONS, { size: 128 }).map((o) =>
    describe(o, {
      size: 'input side S (a multiple of 4·2^k for k autoencoder widths, 64 for the official four: the features are S/4 and each layer halves them; official 128); the dataset must be loaded at this size',
      channels: 'input channels (1 grey, repeated to 3 for the backbone; 3 RGB)',
    }),
  ),
  backboneOption(['resnet18', 'wide_resnet50_2'] as const, 'ImageNet backbone whose feature maps are reconstructed (official resnet18; wide_resnet50_2 also works)'),
  WEIGHTS_OPTION,
  normalisationOption('half', "backbone input: 'half' = the [-1, 1] values as they are (the official (x − 0.5)·2); 'imagenet' = ImageNet mean/std of [0, 1] images (FAE-AUCp)"),
  stringOption('layers', 'layer0,layer1,layer2', 'comma-separated backbone stages resized to S/4 and concatenated, from layer0 (= conv1, bn1, relu, maxpool), layer1 … layer4 (official layer0,layer1,layer2)'),
  stringOption('hidden', '100,150,200,300', 'comma-separated autoencoder widths; the decoder mirrors them (official 100,150,200,300)'),
  numberOption('dropout', 0.1, 'channel dropout (Dropout2d) after every strided autoencoder layer (official 0.1; 0: none)', { min: 0, max: 0.99 }),
  stringOption('loss', 'ssim', "element-wise loss between reconstructed and extracted features: 'ssim' = −SSIM, 5 × 5 window (FAE-SSIM, official default); 'mse' = squared error (FAE-MSE)", ['ssim', 'mse'] as const),
  stringOption('imageScore', 'top10', "image score: 'top10' = mean of the map values above its 0.9 quantile inside the foreground (input > −1; official); 'mean' = mean of the S/4 map (FAE-AUCp)", ['top10', 'mean'] as const),
  stringOption('backboneBatchNorm', 'train', "backbone batch norm during training: 'train' = batch statistics, running statistics updated and used at test (official; saved with the method); 'eval' = ImageNet statistics throughout", ['train', 'eval'] as const),
];

export interface FaeSettings {
  layers: FaeLayer[];
  hidden: number[];
  dropout: number;
  loss: FaeLoss;
  imageScore: 'top10' | 'mean';
  backboneBatchNorm: 'train' | 'eval';
  normalisation: 'half' | 'imagenet';
}

function parseList(option: string, value: string): string[] {
  const parts = value.split(',').map((s) => s.trim());
  if (!value.trim() || parts.some((p) => !p)) throw new RangeError(`fae: option "${option}" must be a comma-separated list, got "${value}"`);
  return parts;
}

/** The typed settings of resolved options; throws an error naming the option for a bad list. */
export function faeSettings(o: MethodOptions): FaeSettings {
  const layers = parseList('layers', o.layers as string);
  const unknown = layers.filter((l) => !(FAE_LAYERS as readonly string[]).includes(l));
  if (unknown.length) throw new RangeError(`fae: option "layers" names unknown stage(s) ${unknown.join(', ')}; choose from ${FAE_LAYERS.join(', ')}`);
  if (new Set(layers).size !== layers.length) throw new RangeError(`fae: option "layers" repeats a stage: "${o.layers}"`);
  const hidden = parseList('hidden', o.hidden as string).map(Number);
  if (hidden.some((h) => !Number.isInteger(h) || h < 1)) throw new RangeError(`fae: option "hidden" must list positive integers, got "${o.hidden}"`);
  return {
    // Concatenated in forward order, as the official extractor's dict.
    layers: (layers as FaeLayer[]).sort((a, b) => FAE_LAYERS.indexOf(a) - FAE_LAYERS.indexOf(b)),
    hidden,
    dropout: o.dropout as number,
    loss: o.loss as FaeLoss,
    imageScore: o.imageScore as 'top10' | 'mean',
    backboneBatchNorm: o.backboneBatchNorm as 'train' | 'eval',
    normalisation: o.normalisation as 'half' | 'imagenet',
  };
}

/**
 * The features of images x [B, C, S, S] in [-1, 1], without gradient, with the backbone's
 * batch norm in training mode when `train` (running statistics updated) and in eval mode
 * otherwise.
 */
export function faeFeatures(backbone: BackboneModule, x: Tensor, s: Pick<FaeSettings, 'layers' | 'normalisation'>, train: boolean): Tensor {
  backbone.train(train);
  return noGrad(() => extractFeatures(backbone, toBackboneInput(x, { normalisation: s.normalisation, channelPolicy: 'replicate' }), s.layers));
}

/** One training step's loss: the mean element-wise loss between AE(f) and f; dropout draws from `generator`. */
export function faeTrainingLoss(backbone: BackboneModule, ae: FeatureAutoencoder, x: Tensor, s: FaeSettings, generator?: Generator): Tensor {
  const feats = faeFeatures(backbone, x, s, s.backboneBatchNorm === 'train');
  return faeLossMap(s.loss, ae.forward(feats, generator), feats).mean();
}

/**
 * Maps [B, S, S] (channel mean of the loss, upsampled with align_corners) and image scores of
 * x, in eval mode; `small` is the map before upsampling ([B, 1, S/4, S/4]).
 */
export function faeScoreBatch(backbone: BackboneModule, ae: FeatureAutoencoder, x: Tensor, s: FaeSettings): { maps: Tensor; scores: Float32Array; small: Tensor } {
  const [b, c, size] = x.shape;
  const feats = faeFeatures(backbone, x, s, false);
  const small = mean(faeLossMap(s.loss, ae.forward(feats), feats), 1, true);
  const maps = interpolate(small, { size: [size, size], mode: 'bilinear', alignCorners: true }).reshape([b, size, size]);
  const scores = s.imageScore === 'mean' ? meanScores(small.data, b) : foregroundTopScores(maps.data, x.data, b, c, size);
  return { maps, scores, small };
}

const info: MethodInfo = {
  name: 'fae',
  title: 'FAE',
  family: 'feature-reconstruction',
  description:
    'Feature autoencoder: a conv AE reconstructs frozen ResNet features (layer0–layer2 resized to S/4, concatenated) under an SSIM loss; ' +
    'map = channel mean of −SSIM upsampled, score = mean of the top 10 % of the foreground map. The backbone batch norm runs in training mode while training (official quirk).',
  defaultSize: 128,
  pixelMaps: true,
  options: FAE_OPTIONS,
};

export class FaeMethod extends FeatureNetworkMethod<FaeNetwork> {
  get settings(): FaeSettings {
    return faeSettings(this.options);
  }

  /** The settings, once the size is checked against the autoencoder's depth. */
  private checkedSettings(): FaeSettings {
    const s = this.settings;
    const size = this.options.size as number;
    const denom = 4 * 2 ** s.hidden.length;
    if (size % denom) {
      throw new RangeError(`fae: option "size" must be a multiple of ${denom} (features at S/4, halved by each of the ${s.hidden.length} autoencoder layers of "hidden"), got ${size}`);
    }
    return s;
  }

  protected buildNetwork(generator: Generator): FaeNetwork {
    const s = this.checkedSettings();
    const channels = featureChannels(this.backbone(), s.layers);
    return new FaeNetwork({ channels, hidden: s.hidden, dropout: s.dropout, generator }, backboneStatsMirror(this.backbone(), s.layers));
  }

  /** Checks the options without building the network (no backbone exists yet, and 10 M initial draws are slow). */
  override validate(): void {
    this.validateFeatureOptions();
    this.checkedSettings();
  }

  override async fit(train: Split, opts: FitOptions = {}): Promise<FitResult> {
    // Batch norm in training cannot normalise one value per channel: at the autoencoder's
    // narrowest point (S/64 per side with four widths) a batch of one image has one (PyTorch
    // stops there too).
    const s = this.settings;
    const bottom = (this.options.size as number) / 4 / 2 ** s.hidden.length;
    const b = this.options.batchSize as number;
    const last = train?.length ? train.length % b || b : b;
    if (bottom === 1 && (b === 1 || last === 1)) {
      throw new Error(
        `fae: at size ${this.options.size} the autoencoder's narrowest layer is 1 × 1, so batch norm needs batches of at least 2 images; ` +
          `${train.length} training images at batchSize ${b} leave a batch of 1; choose another batchSize`,
      );
    }
    return super.fit(train, opts);
  }

  protected override loss(net: FaeNetwork, x: Tensor, ctx: StepContext): Tensor {
    return faeTrainingLoss(this.backbone(), net.ae, x, this.settings, ctx.generator);
  }

  protected override scoreMode(net: FaeNetwork): void {
    net.eval();
    this.backbone().eval();
  }

  protected scoreBatch(net: FaeNetwork, x: Tensor): BatchScore {
    const { maps, scores } = faeScoreBatch(this.backbone(), net.ae, x, this.settings);
    return { maps, scores };
  }
}

registerMethod({ info, create: (o: MethodOptions) => new FaeMethod(info, o) });
