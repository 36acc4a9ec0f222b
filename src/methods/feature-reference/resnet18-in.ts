// ResNet18-ImageNet Gaussian baseline (feature-reference spec §4, methods.md §6.4): the
// one-class stage of MedIAnomaly's two-stage methods applied to an ImageNet ResNet18 without
// any training (reference: caiyu6666/MedIAnomaly ssl/two_stage/eval.py, density.py).
//
// 1. Input 224 × 224, grey replicated to RGB, Normalize(0.5, 0.5) — the [-1, 1] values
//    themselves — not the ImageNet mean/std (quirk `resnetInHalfNorm`, default true; the
//    ImageNet normalisation is commented out in the reference's evaluation script).
// 2. Embedding: the 512-d global-average-pooled feature of the frozen backbone (fc removed).
// 3. L2 normalisation: e ← e / max(‖e‖, 1e-12) (F.normalize).
// 4. Fit on the normal training embeddings: mean μ and precision P = pinvh(Ledoit–Wolf
//    covariance), in float64 (scikit-learn LedoitWolf; src/stats/ledoit-wolf.ts).
// 5. Image score: Mahalanobis distance √((e − μ)ᵀ P (e − μ)) (the reference's float32 einsum:
//    μ and P are stored and applied in float32). No pixel map.
// Steps 3–5 are the shared one-class stage (gaussian-embedding.ts), which the two-stage SSL
// methods (cutpaste-2stage, anatpaste) run on their trained ProjectionNet's backbone.
import { noGrad, Tensor } from '../../engine/index.js';
import type { Backbone } from '../../models/backbones/index.js';
import { toBackboneInput } from '../../models/backbones/preprocess.js';
import type { RawTensor } from '../../nn/safetensors.js';
import { registerMethod } from '../catalogue.js';
import { booleanOption } from '../training/options.js';
import type { MethodInfo } from '../types.js';
import { GaussianEmbedding, type FittedGaussian } from './gaussian-embedding.js';
import { FeatureReferenceMethod, featureOptions, type BatchScore, type FeatureBatch, type FeatureSpec, type FinishContext, type FitPlan } from './base.js';

export { l2NormaliseRows } from './gaussian-embedding.js';

export const RESNET18_IN_OPTIONS = [
  booleanOption('resnetInHalfNorm', true, 'quirk: Normalize(0.5, 0.5) input as the reference evaluation script (true), or the ImageNet mean/std (false)'),
];

// The family's `normalisation` option is replaced by the quirk (one switch, the reference's name).
export const RESNET18_IN_METHOD_OPTIONS = [
  ...featureOptions({ backbone: 'resnet18', size: 224, batchSize: 32 }).filter((o): o is Exclude<FeatureSpec, { name: 'normalisation' }> => o.name !== 'normalisation'),
  ...RESNET18_IN_OPTIONS,
];

export class Resnet18In extends FeatureReferenceMethod {
  private readonly oneClass = new GaussianEmbedding(this.info.name);

  protected featureLayers(): readonly string[] {
    return ['avgpool'];
  }

  protected override checkOptions(): void {
    if (this.backboneName === 'vgg19') throw new RangeError(`${this.info.name}: option "backbone" must be a ResNet (resnet18 or wide_resnet50_2): the embedding is the global-average-pooled feature`);
  }

  /** The backbone input: the quirk picks 'half' (Normalize(0.5, 0.5)) or 'imagenet'. */
  protected override extract(net: Backbone, x: Tensor): Record<string, Tensor> {
    const normalisation = this.options.resnetInHalfNorm ? 'half' : 'imagenet';
    return noGrad(() => net.features(toBackboneInput(x, { normalisation, channelPolicy: 'replicate' }), this.featureLayers()));
  }

  protected beginFit(plan: FitPlan): void {
    this.oneClass.begin(plan.images);
  }

  protected accumulate(features: Record<string, Tensor>, batch: FeatureBatch): void {
    const f = features.avgpool;
    this.oneClass.add(f.data, f.shape[0], f.shape[1], batch.start);
  }

  protected finishFit(ctx: FinishContext): void {
    this.oneClass.finish(ctx.message);
  }

  /** The fitted Gaussian: mean [p], precision [p, p] (float32), Ledoit–Wolf shrinkage (null after load). */
  get gaussian(): FittedGaussian {
    return this.oneClass.gaussian;
  }

  protected scoreFeatures(features: Record<string, Tensor>): BatchScore {
    const f = features.avgpool;
    return { scores: this.oneClass.score(f.data, f.shape[0], f.shape[1]) };
  }

  protected fittedState(): Record<string, RawTensor> {
    return this.oneClass.state();
  }

  protected restoreState(tensors: Map<string, RawTensor>): void {
    this.oneClass.restore(tensors);
  }

  protected override fittedSummary(): Record<string, unknown> {
    const g = this.gaussian;
    return { dim: g.mean.length, shrinkage: g.shrinkage ?? undefined, normalisation: this.options.resnetInHalfNorm ? 'half' : 'imagenet' };
  }
}

export const RESNET18_IN_INFO: MethodInfo = {
  name: 'resnet18-in',
  title: 'ResNet18-ImageNet Gaussian',
  family: 'feature-reference',
  description:
    'Frozen ImageNet resnet18, no training: L2-normalised 512-d average-pooled embeddings, a Ledoit–Wolf Gaussian of the normal training embeddings; ' +
    'image score = Mahalanobis distance (MedIAnomaly two-stage one-class stage on ImageNet features). No pixel map',
  defaultSize: 224,
  pixelMaps: false,
  loadChannels: 3,
  options: RESNET18_IN_METHOD_OPTIONS,
};

registerMethod({ info: RESNET18_IN_INFO, create: (o) => new Resnet18In(RESNET18_IN_INFO, o) });
