// FastFlow (Yu et al. 2021; no official code): anomalib's `models/image/fastflow` (derived from
// gathierry/FastFlow, which anomalib names). A frozen ImageNet backbone's layer1–layer3 maps,
// each through a trained LayerNorm over [C, H, W] and a 2-D normalizing flow of 8 coupling
// blocks (clamp 2.0, hard channel permutation, convolutional subnets; src/models/flow-heads.ts).
//
//   loss  = Σ_levels mean_b [ ½·Σ_{C,H,W} z² − log|det J| ]   (no constant, no per-dimension scaling)
//   map   = mean_levels upsample(−exp(−½·mean_C z²))        (bilinear, align_corners false)
//   score = max of the map
// Adam lr 1e-3, weight decay 1e-5 (PyTorch's L2 form: added to the gradient), batch 32, 256 px.
// The LayerNorm's affine parameters train with the flow, although its Jacobian is not part of
// the likelihood (as in both code bases).
//
// Subnets: anomalib alternates 3×3 and 1×1 kernels (conv3x3Only false, default);
// gathierry's resnet18 config uses 3×3 throughout (conv3x3Only true). Parameter counts at
// 256 px, resnet18: flows 2,593,024 (alternating) or 4,657,408 (3×3 only), LayerNorms 917,504.
//
// Not reproduced: the ViT backbones (cait_m48_448, deit_base_distilled_patch16_384) — only the
// CNN path (resnet18, wide_resnet50_2); timm's weights (anomalib loads resnet18.a1_in1k and
// wide_resnet50_2.racm_in1k, this library torchvision's). anomalib trains up to 500 epochs with
// early stopping on the test set's pixel AUROC, gathierry evaluates every 10 epochs and reports
// the best: both select on the test set. Here the last of `epochs` epochs is the result.
import { add, mul, sum, type Generator, type Tensor } from '../../engine/index.js';
import { backbones, type BackboneName } from '../../models/backbones/index.js';
import { FastFlowHeads } from '../../models/flow-heads.js';
import { Adam } from '../../nn/optim/adam.js';
import { registerMethod } from '../catalogue.js';
import { backboneOption, FeatureNetworkMethod, normalisationOption, WEIGHTS_OPTION } from '../feature-reconstruction/base.js';
import type { BatchScore } from '../training/base.js';
import { booleanOption, integerOption, numberOption, stringOption } from '../training/options.js';
import type { AnyOptimizer, LossOutput, StepContext } from '../training/trainer.js';
import type { MethodInfo, MethodOptions, ScoreOptions, ScoreResult, ImageBatch } from '../types.js';
import type { Split } from '../../data/types.js';
import { fastflowMap } from './flow-maps.js';

/** The backbone levels FastFlow reads (timm features_only out_indices [1, 2, 3]). */
export const FASTFLOW_LAYERS = ['layer1', 'layer2', 'layer3'] as const;

export const FASTFLOW_OPTIONS = [
  integerOption('epochs', 500, 'training epochs (anomalib max_epochs, gathierry num_epochs; both stop or pick on the test set, which is not done here); the last epoch is used', { min: 1 }),
  integerOption('batchSize', 32, 'training batch size (the last partial batch is kept)', { min: 1 }),
  numberOption('lr', 1e-3, 'Adam learning rate (betas 0.9, 0.999)', { min: 0 }),
  numberOption('weightDecay', 1e-5, "Adam weight decay, PyTorch's L2 form (added to the gradient)", { min: 0 }),
  integerOption('seed', 0, 'seed of every random draw: initialisation, permutations, shuffling', { min: 0, max: 4294967295 }),
  integerOption('size', 256, 'input side S (a multiple of 16: layer3 has stride 16); the LayerNorms are built for this size', { min: 32 }),
  integerOption('channels', 1, 'input channels (1 or 3; grey is repeated to RGB for the backbone)', { min: 1 }),
  backboneOption(['resnet18', 'wide_resnet50_2'] as const),
  WEIGHTS_OPTION,
  normalisationOption('imagenet'),
  integerOption('flowSteps', 8, 'coupling blocks per level', { min: 1 }),
  numberOption('clamp', 2.0, 'affine clamping α of the coupling blocks', { min: 1e-6 }),
  stringOption('clampForm', 'tanh', "soft clamp: 'tanh' = α·tanh(s) (anomalib, FrEIA pinned by gathierry) or 'tanh-scaled' = α·tanh(s/α) (FrEIA from August 2023)", ['tanh', 'tanh-scaled']),
  booleanOption('conv3x3Only', false, 'every subnet 3×3 (gathierry\'s resnet18 config); false: 3×3 and 1×1 alternate (anomalib\'s default for every backbone)'),
  numberOption('hiddenRatio', 1.0, 'hidden channels of a subnet = ⌊C1·hiddenRatio⌋', { min: 1e-6 }),
  integerOption('scoreBatchSize', 32, 'images per forward pass at test', { min: 1 }),
];

export class FastFlow extends FeatureNetworkMethod<FastFlowHeads> {

  private levels(): { channels: number; height: number; width: number }[] {
    const size = this.options.size as number;
    const table = backbones.layers(this.options.backbone as BackboneName);
    return FASTFLOW_LAYERS.map((name) => {
      const l = table.find((t) => t.name === name)!;
      return { channels: l.channels, height: size / l.stride, width: size / l.stride };
    });
  }

  override validate(): void {
    const size = this.options.size as number;
    if (size % 16 !== 0) throw new RangeError(`fastflow: option "size" must be a multiple of 16 (layer3 has stride 16; the LayerNorms are built for its grid), got ${size}`);
    super.validate();
  }

  protected buildNetwork(generator: Generator): FastFlowHeads {
    const size = this.options.size as number;
    if (size % 16 !== 0) throw new RangeError(`fastflow: option "size" must be a multiple of 16, got ${size}`);
    return new FastFlowHeads({
      levels: this.levels(),
      flowSteps: this.options.flowSteps as number,
      clamp: this.options.clamp as number,
      clampForm: this.options.clampForm as 'tanh' | 'tanh-scaled',
      conv3x3Only: this.options.conv3x3Only as boolean,
      hiddenRatio: this.options.hiddenRatio as number,
      generator,
      init: this.drawsInitialisation,
    });
  }


  protected override createOptimizers(net: FastFlowHeads): Record<string, AnyOptimizer> {
    return { adam: new Adam(net.parameters(), { lr: this.options.lr as number, betas: [0.9, 0.999], eps: 1e-8, weightDecay: this.options.weightDecay as number }) };
  }

  /** The frozen backbone's layer1–3 maps of images in [-1, 1] (eval, no grad). */
  private features(x: Tensor): Tensor[] {
    const f = this.backbone().features(this.backboneInput(x), FASTFLOW_LAYERS);
    return FASTFLOW_LAYERS.map((l) => f[l]);
  }

  protected override loss(net: FastFlowHeads, x: Tensor, _ctx: StepContext): LossOutput {
    const { z, logdet } = net.forward(this.features(x));
    return fastflowLoss(z, logdet);
  }

  override score(input: Split | ImageBatch, opts?: ScoreOptions): Promise<ScoreResult> {
    this.scoreBatchSize = this.options.scoreBatchSize as number;
    return super.score(input, opts);
  }

  protected scoreBatch(net: FastFlowHeads, x: Tensor): BatchScore {
    const { z } = net.forward(this.features(x));
    const maps = fastflowMap(z, this.options.size as number);
    const [b] = maps.shape;
    const per = maps.size / b;
    const scores = new Float32Array(b);
    const d = maps.data;
    for (let i = 0; i < b; i++) {
      let m = -Infinity;
      for (let j = i * per; j < (i + 1) * per; j++) if (d[j] > m) m = d[j];
      scores[i] = m;
    }
    return { maps, scores };
  }
}

/** Σ_levels mean_b [½·Σ_{C,H,W} z² − log|det J|], with each level's term reported. */
export function fastflowLoss(z: readonly Tensor[], logdet: readonly Tensor[]): LossOutput {
  const per = z.map((zl, i) => sum(mul(zl, zl), [1, 2, 3]).mul(0.5).sub(logdet[i]).mean());
  const loss = per.reduce((a, b) => add(a, b));
  return { loss, terms: Object.fromEntries(per.map((t, i) => [FASTFLOW_LAYERS[i], t])) };
}

export const FASTFLOW_INFO: MethodInfo = {
  name: 'fastflow',
  title: 'FastFlow',
  family: 'feature-reference',
  description:
    'Frozen ImageNet backbone (resnet18 layer1–3), per level a trained LayerNorm and a 2-D normalizing flow of 8 coupling blocks with 3×3/1×1 convolutional subnets; ' +
    'map = mean over levels of −exp(−½·mean_C z²) upsampled, image score = max of the map',
  defaultSize: 256,
  pixelMaps: true,
  options: FASTFLOW_OPTIONS,
};

registerMethod({ info: FASTFLOW_INFO, create: (o: MethodOptions) => new FastFlow(FASTFLOW_INFO, o) });
