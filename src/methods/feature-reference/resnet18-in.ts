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
import { noGrad, Tensor } from '../../engine/index.js';
import type { Backbone } from '../../models/backbones/index.js';
import { toBackboneInput } from '../../models/backbones/preprocess.js';
import type { RawTensor } from '../../nn/safetensors.js';
import { ledoitWolf, mahalanobis } from '../../stats/index.js';
import { registerMethod } from '../catalogue.js';
import { booleanOption } from '../training/options.js';
import type { MethodInfo } from '../types.js';
import { FeatureReferenceMethod, featureOptions, takeTensor, type BatchScore, type FeatureBatch, type FeatureSpec, type FinishContext, type FitPlan } from './base.js';

export const RESNET18_IN_OPTIONS = [
  booleanOption('resnetInHalfNorm', true, 'quirk: Normalize(0.5, 0.5) input as the reference evaluation script (true), or the ImageNet mean/std (false)'),
];

// The family's `normalisation` option is replaced by the quirk (one switch, the reference's name).
export const RESNET18_IN_METHOD_OPTIONS = [
  ...featureOptions({ backbone: 'resnet18', size: 224, batchSize: 32 }).filter((o): o is Exclude<FeatureSpec, { name: 'normalisation' }> => o.name !== 'normalisation'),
  ...RESNET18_IN_OPTIONS,
];

/** e ← e / max(‖e‖, 1e-12) for each of the n rows of x [n, p] (norm summed in float64). */
export function l2NormaliseRows(x: Float32Array, n: number, p: number): Float32Array {
  const out = new Float32Array(n * p);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < p; k++) s += x[i * p + k] * x[i * p + k];
    const norm = Math.max(Math.sqrt(s), 1e-12);
    for (let k = 0; k < p; k++) out[i * p + k] = x[i * p + k] / norm;
  }
  return out;
}

export class Resnet18In extends FeatureReferenceMethod {
  private train: Float32Array | null = null;
  private trainCount = 0;
  private images = 0;
  private dim = 0;
  private mean: Float32Array | null = null;
  private precision: Float32Array | null = null;
  private shrinkage: number | null = null;

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
    if (plan.images < 2) throw new RangeError(`${this.info.name}: the Ledoit–Wolf fit needs at least 2 training images, got ${plan.images}`);
    this.train = null;
    this.trainCount = 0;
    this.images = plan.images;
    this.mean = this.precision = null;
    this.shrinkage = null;
  }

  private embed(features: Record<string, Tensor>): { e: Float32Array; n: number; p: number } {
    const f = features.avgpool;
    const [n, p] = f.shape;
    return { e: l2NormaliseRows(f.data, n, p), n, p };
  }

  protected accumulate(features: Record<string, Tensor>, batch: FeatureBatch): void {
    const { e, n, p } = this.embed(features);
    if (!this.train) {
      this.dim = p;
      // All training embeddings (n × 512 × 4 bytes: 20 MB for 10,000 images) for the two-pass fit.
      this.train = new Float32Array(this.images * p);
    }
    if (p !== this.dim || (batch.start + n) * p > this.train.length) throw new Error(`${this.info.name}: a batch of embeddings does not fit the training set`);
    this.train.set(e, batch.start * p);
    this.trainCount = batch.start + n;
  }

  protected finishFit(ctx: FinishContext): void {
    if (!this.train) throw new Error(`${this.info.name}: no training features were accumulated`);
    const n = this.trainCount;
    const p = this.dim;
    ctx.message(`Ledoit–Wolf fit: ${n} embeddings × ${p}`);
    const lw = ledoitWolf(this.train.subarray(0, n * p), n, p);
    this.train = null;
    this.mean = Float32Array.from(lw.location);
    this.precision = Float32Array.from(lw.precision);
    this.shrinkage = lw.shrinkage;
  }

  /** The fitted Gaussian: mean [p], precision [p, p] (float32), Ledoit–Wolf shrinkage (null after load). */
  get gaussian(): { mean: Float32Array; precision: Float32Array; shrinkage: number | null } {
    if (!this.mean || !this.precision) throw new Error(`${this.info.name}: the method is not fitted; call fit() or load() first`);
    return { mean: this.mean, precision: this.precision, shrinkage: this.shrinkage };
  }

  protected scoreFeatures(features: Record<string, Tensor>): BatchScore {
    const { mean, precision } = this.gaussian;
    const { e, n, p } = this.embed(features);
    if (p !== mean.length) throw new Error(`${this.info.name}: embeddings have ${p} features but the method was fitted on ${mean.length}`);
    return { scores: mahalanobis(e, n, mean, precision) };
  }

  protected fittedState(): Record<string, RawTensor> {
    const { mean, precision } = this.gaussian;
    const p = mean.length;
    return {
      mean: { dtype: 'F32', shape: [p], data: mean },
      precision: { dtype: 'F32', shape: [p, p], data: precision },
      ...(this.shrinkage === null ? {} : { shrinkage: { dtype: 'F64', shape: [1], data: Float64Array.of(this.shrinkage) } }),
    };
  }

  protected restoreState(tensors: Map<string, RawTensor>): void {
    const mean = takeTensor(tensors, 'mean', 'F32');
    if (mean.shape.length !== 1) throw new Error(`model.safetensors: tensor "mean" must be [p], got [${mean.shape.join(', ')}]`);
    const p = mean.shape[0];
    const precision = takeTensor(tensors, 'precision', 'F32', [p, p]);
    this.dim = p;
    this.mean = mean.data as Float32Array;
    this.precision = precision.data as Float32Array;
    this.shrinkage = tensors.has('shrinkage') ? (takeTensor(tensors, 'shrinkage', 'F64', [1]).data as Float64Array)[0] : null;
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
  options: RESNET18_IN_METHOD_OPTIONS,
};

registerMethod({ info: RESNET18_IN_INFO, create: (o) => new Resnet18In(RESNET18_IN_INFO, o) });
