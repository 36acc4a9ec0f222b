// Linear: y = x Wᵀ + b with W [out, in] (PyTorch layout) and PyTorch's default init.
import { linear, Tensor } from '../../engine/index.js';
import { defaultLayerInit, type RandomSource } from '../init.js';
import { Module } from '../module.js';

export class Linear extends Module {
  readonly weight: Tensor; // [out, in]
  readonly bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: RandomSource & {
      bias?: boolean;
      /**
       * false: skip PyTorch's default initialisation and leave weight and bias at zero, for a
       * layer whose values the caller loads from a file (no draws are made). Default true.
       */
      init?: boolean;
    } = {},
  ) {
    super();
    for (const [n, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Linear: ${n} must be a positive integer, got ${v}`);
    }
    this.weight = this.registerParameter('weight', Tensor.empty([outFeatures, inFeatures]));
    this.bias = this.registerParameter('bias', opts.bias === false ? null : Tensor.empty([outFeatures]));
    if (opts.init !== false) defaultLayerInit(this.weight, this.bias, opts);
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias ?? undefined);
  }

  protected override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}${this.bias ? '' : ', bias=false'}`;
  }
}
