// The one-class stage of MedIAnomaly's two-stage methods (methods.md §6.3; reference:
// caiyu6666/MedIAnomaly ssl/two_stage/eval.py, density.py), one implementation shared by
// resnet18-in (frozen ImageNet ResNet18) and the two-stage SSL methods (cutpaste-2stage,
// anatpaste: the trained ProjectionNet's backbone):
//
// 1. embeddings e of the normal training images (the 512-d global-average-pooled output);
// 2. L2 normalisation e ← e / max(‖e‖₂, 1e-12) (torch.nn.functional.normalize);
// 3. mean μ (arithmetic) and precision P = scikit-learn LedoitWolf().fit(e).precision_, in
//    float64 (src/stats/ledoit-wolf.ts), stored as float32 as the reference's torch tensors;
// 4. score √((e − μ)ᵀ P (e − μ)) (the reference's float32 einsum; src/stats/mahalanobis.ts).
import type { RawTensor } from '../../nn/safetensors.js';
import { ledoitWolf, mahalanobis } from '../../stats/index.js';
import { takeTensor } from './base.js';

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

/** The fitted Gaussian: mean [p], precision [p, p] (float32), Ledoit–Wolf shrinkage (null when loaded without it). */
export interface FittedGaussian {
  mean: Float32Array;
  precision: Float32Array;
  shrinkage: number | null;
}

/**
 * Collects the (unnormalised) embeddings of the training images batch by batch, fits the
 * Ledoit–Wolf Gaussian of their L2-normalised versions, and scores embeddings by
 * Mahalanobis distance. `who` names the method in errors.
 */
export class GaussianEmbedding {
  private train: Float32Array | null = null;
  private count = 0;
  private capacity = 0;
  private dim = 0;
  private fitted: FittedGaussian | null = null;

  constructor(readonly who: string) {}

  /** Starts a fit over `images` training embeddings (all kept in memory: n × p × 4 bytes, 20 MB for 10,000 × 512). */
  begin(images: number): void {
    if (!Number.isInteger(images) || images < 2) throw new RangeError(`${this.who}: the Ledoit–Wolf fit needs at least 2 training images, got ${images}`);
    this.train = null;
    this.count = 0;
    this.capacity = images;
    this.dim = 0;
    this.fitted = null;
  }

  /** Adds n embeddings [n, p] (raw backbone outputs: normalised here) for images start … start + n − 1. */
  add(embeds: Float32Array, n: number, p: number, start: number): void {
    if (this.capacity === 0) throw new Error(`${this.who}: GaussianEmbedding.add before begin()`);
    const e = l2NormaliseRows(embeds, n, p);
    if (!this.train) {
      this.dim = p;
      this.train = new Float32Array(this.capacity * p);
    }
    if (p !== this.dim || start < 0 || (start + n) * p > this.train.length) throw new Error(`${this.who}: a batch of embeddings does not fit the training set`);
    this.train.set(e, start * p);
    this.count = Math.max(this.count, start + n);
  }

  /** Fits μ and the Ledoit–Wolf precision; drops the stored embeddings. */
  finish(message?: (text: string) => void): FittedGaussian {
    if (!this.train) throw new Error(`${this.who}: no training embeddings were accumulated`);
    const n = this.count;
    const p = this.dim;
    message?.(`Ledoit–Wolf fit: ${n} embeddings × ${p}`);
    const lw = ledoitWolf(this.train.subarray(0, n * p), n, p);
    this.train = null;
    this.capacity = 0;
    this.fitted = { mean: Float32Array.from(lw.location), precision: Float32Array.from(lw.precision), shrinkage: lw.shrinkage };
    return this.fitted;
  }

  get isFitted(): boolean {
    return this.fitted !== null;
  }

  get gaussian(): FittedGaussian {
    if (!this.fitted) throw new Error(`${this.who}: the method is not fitted; call fit() or load() first`);
    return this.fitted;
  }

  /** Mahalanobis distances of n raw embeddings [n, p] (L2-normalised first). */
  score(embeds: Float32Array, n: number, p: number): Float32Array {
    const { mean, precision } = this.gaussian;
    if (p !== mean.length) throw new Error(`${this.who}: embeddings have ${p} features but the method was fitted on ${mean.length}`);
    return mahalanobis(l2NormaliseRows(embeds, n, p), n, mean, precision);
  }

  /** The fitted tensors by name: mean [p] F32, precision [p, p] F32, shrinkage [1] F64 when known. */
  state(): Record<string, RawTensor> {
    const { mean, precision, shrinkage } = this.gaussian;
    const p = mean.length;
    return {
      mean: { dtype: 'F32', shape: [p], data: mean },
      precision: { dtype: 'F32', shape: [p, p], data: precision },
      ...(shrinkage === null ? {} : { shrinkage: { dtype: 'F64', shape: [1], data: Float64Array.of(shrinkage) } }),
    };
  }

  /** Restores what state() returned; throws naming a missing or misshapen tensor. */
  restore(tensors: Map<string, RawTensor>): void {
    const mean = takeTensor(tensors, 'mean', 'F32');
    if (mean.shape.length !== 1) throw new Error(`model.safetensors: tensor "mean" must be [p], got [${mean.shape.join(', ')}]`);
    const p = mean.shape[0];
    const precision = takeTensor(tensors, 'precision', 'F32', [p, p]);
    this.dim = p;
    this.fitted = {
      mean: mean.data as Float32Array,
      precision: precision.data as Float32Array,
      shrinkage: tensors.has('shrinkage') ? (takeTensor(tensors, 'shrinkage', 'F64', [1]).data as Float64Array)[0] : null,
    };
  }

  /** Sets a fitted Gaussian directly (e.g. restored from a network's buffers). */
  set(g: FittedGaussian): void {
    if (g.precision.length !== g.mean.length * g.mean.length) throw new Error(`${this.who}: precision must be [p, p] for a mean of ${g.mean.length}`);
    this.dim = g.mean.length;
    this.fitted = g;
  }
}
