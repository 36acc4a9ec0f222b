// BatchNorm1d / BatchNorm2d, GroupNorm and LayerNorm with PyTorch's parameters, buffers and semantics.
import { add, batchNorm, batchNormRelu, groupNorm, mul, ones, Tensor, zeros } from '../../engine/index.js';
import { Module } from '../module.js';

export interface BatchNormOptions {
  eps?: number;
  /** Running-average factor; null = cumulative average (1 / batches seen), as PyTorch. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

export abstract class BatchNormBase extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor | null;
  readonly runningVar: Tensor | null;
  /** Stored as int64 in a state dict file, like PyTorch; a float32 scalar here. */
  readonly numBatchesTracked: Tensor | null;
  readonly eps: number;
  readonly momentum: number | null;

  protected abstract readonly allowedRanks: number[];

  constructor(
    readonly numFeatures: number,
    opts: BatchNormOptions = {},
  ) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new Error(`${new.target.name}: numFeatures must be a positive integer, got ${numFeatures}`);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    const affine = opts.affine ?? true;
    const track = opts.trackRunningStats ?? true;
    this.weight = this.registerParameter('weight', affine ? ones([numFeatures]) : null);
    this.bias = this.registerParameter('bias', affine ? zeros([numFeatures]) : null);
    this.runningMean = this.registerBuffer('running_mean', track ? zeros([numFeatures]) : null);
    this.runningVar = this.registerBuffer('running_var', track ? ones([numFeatures]) : null);
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', track ? zeros([]) : null, { dtype: 'int64' });
  }

  /** Back to the initial state: running mean 0, variance 1, no batches seen, weight 1, bias 0. */
  resetRunningStats(): void {
    this.runningMean?.data.fill(0);
    this.runningVar?.data.fill(1);
    this.numBatchesTracked?.data.fill(0);
  }

  /** Eval mode with running statistics: the only state in which BN + ReLU can be fused. */
  get fusableWithRelu(): boolean {
    return !this.training && this.runningMean !== null;
  }

  /**
   * relu(this.forward(x)) in eval mode as one kernel (see batchNormRelu); `inPlace` writes
   * over x, for a fresh layer output that nothing else reads.
   */
  forwardRelu(x: Tensor, inPlace = false): Tensor {
    if (!this.fusableWithRelu) throw new Error(`${this.constructor.name}.forwardRelu: only in eval mode with running statistics`);
    this.checkInput(x);
    return batchNormRelu(x, this.runningMean!, this.runningVar!, this.weight, this.bias, { eps: this.eps, inPlace });
  }

  private checkInput(x: Tensor): void {
    if (!this.allowedRanks.includes(x.ndim)) {
      throw new Error(`${this.constructor.name}: expected a ${this.allowedRanks.join('-D or ')}-D input, got shape [${x.shape.join(', ')}]`);
    }
    if (x.shape[1] !== this.numFeatures) {
      throw new Error(`${this.constructor.name}: input has ${x.shape[1]} channels (dim 1) but the layer was built for ${this.numFeatures}`);
    }
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    // PyTorch: batch statistics in training, and also in eval when no running stats are kept.
    const useBatchStats = this.training || !this.runningMean;
    let momentum = this.momentum ?? 0;
    if (this.training && this.numBatchesTracked) {
      const n = this.numBatchesTracked.data;
      n[0] += 1;
      if (this.momentum === null) momentum = 1 / n[0];
    }
    // Running stats are null exactly when they are not tracked; batchNorm then skips the update.
    return batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, { training: useBatchStats, momentum, eps: this.eps });
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${!!this.weight}, trackRunningStats=${!!this.runningMean}`;
  }
}

/** Normalises [N, C] or [N, C, L] per channel. */
export class BatchNorm1d extends BatchNormBase {
  protected readonly allowedRanks = [2, 3];
}

/** Normalises [N, C, H, W] per channel. */
export class BatchNorm2d extends BatchNormBase {
  protected readonly allowedRanks = [4];
}

export class GroupNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    opts: { eps?: number; affine?: boolean } = {},
  ) {
    super();
    if (!Number.isInteger(numGroups) || numGroups < 1 || !Number.isInteger(numChannels) || numChannels % numGroups) {
      throw new Error(`GroupNorm: numChannels (${numChannels}) must be a multiple of numGroups (${numGroups})`);
    }
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.affine ?? true;
    this.weight = this.registerParameter('weight', affine ? ones([numChannels]) : null);
    this.bias = this.registerParameter('bias', affine ? zeros([numChannels]) : null);
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new Error(`GroupNorm: expected [N, ${this.numChannels}, ...], got shape [${x.shape.join(', ')}]`);
    }
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }

  protected override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${!!this.weight}`;
  }
}

/**
 * nn.LayerNorm over the trailing dims `normalizedShape` (biased variance, eps 1e-5 by default),
 * with elementwise weight and bias. `inputVjp` is its input gradient as a differentiable
 * expression, for double backward (the WGAN-GP penalty of f-AnoGAN).
 */
export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  private readonly dims: number[];

  constructor(
    readonly normalizedShape: number[],
    readonly eps = 1e-5,
  ) {
    super();
    if (!normalizedShape.length || normalizedShape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new Error(`LayerNorm: normalizedShape must be positive integers, got [${normalizedShape.join(', ')}]`);
    }
    if (!(eps > 0)) throw new RangeError(`LayerNorm: eps must be positive, got ${eps}`);
    this.weight = this.registerParameter('weight', ones(normalizedShape));
    this.bias = this.registerParameter('bias', Tensor.empty(normalizedShape));
    this.dims = normalizedShape.map((_, i) => i - normalizedShape.length);
  }

  /** y and the two saved quantities the backward needs: x̂ = (x − μ)/σ and 1/σ. */
  normalize(x: Tensor): { y: Tensor; xHat: Tensor; rstd: Tensor } {
    const k = this.normalizedShape.length;
    const tail = x.shape.slice(-k);
    if (x.ndim <= k || tail.some((d, i) => d !== this.normalizedShape[i])) {
      throw new Error(`LayerNorm: input [${x.shape.join(', ')}] does not end in [${this.normalizedShape.join(', ')}]`);
    }
    const centred = x.sub(x.mean(this.dims, true));
    const rstd = centred.square().mean(this.dims, true).add(this.eps).pow(-0.5);
    const xHat = mul(centred, rstd);
    return { y: add(mul(xHat, this.weight), this.bias), xHat, rstd };
  }

  forward(x: Tensor): Tensor {
    return this.normalize(x).y;
  }

  /** ∂L/∂x from g = ∂L/∂y: (1/σ)·(ĝ − mean ĝ − x̂·mean(ĝ ⊙ x̂)) with ĝ = g ⊙ weight; differentiable. */
  inputVjp(g: Tensor, saved: { xHat: Tensor; rstd: Tensor }): Tensor {
    const gw = mul(g, this.weight);
    const m1 = gw.mean(this.dims, true);
    const m2 = mul(gw, saved.xHat).mean(this.dims, true);
    return mul(gw.sub(m1).sub(mul(saved.xHat, m2)), saved.rstd);
  }
}
