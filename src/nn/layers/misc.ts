// Shape and regularisation layers without parameters.
import { dropout, dropout2d, flatten, interpolate, type Generator, type Tensor } from '../../engine/index.js';
import { resolveGenerator, type RandomSource } from '../init.js';
import { Module } from '../module.js';
import type { Pair } from './conv.js';

export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens dims startDim..endDim (default: all but the batch dim, as PyTorch). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}

/** Zeroes each value with probability p in training and scales the rest by 1/(1−p); identity in eval. */
export class Dropout extends Module {
  private readonly generator: Generator;
  constructor(
    readonly p = 0.5,
    src: RandomSource = {},
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p must lie in [0, 1], got ${p}`);
    this.generator = resolveGenerator(src);
  }
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.generator);
  }
  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/**
 * Zeroes whole channels (each [H, W] map of each sample) with probability p in training and
 * scales the rest by 1/(1−p); identity in eval (PyTorch's Dropout2d). The draws come from
 * the generator passed to forward when one is (a training loop's own stream, so that a
 * resumed run repeats them), else from the layer's own.
 */
export class Dropout2d extends Module {
  private readonly generator: Generator;
  constructor(
    readonly p = 0.5,
    src: RandomSource = {},
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout2d: p must lie in [0, 1], got ${p}`);
    this.generator = resolveGenerator(src);
  }
  forward(x: Tensor, generator?: Generator): Tensor {
    return dropout2d(x, this.p, this.training, generator ?? this.generator);
  }
  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}

export interface UpsampleOptions {
  size?: Pair;
  scaleFactor?: number | [number, number];
  mode?: 'nearest' | 'bilinear';
  alignCorners?: boolean;
}

export class Upsample extends Module {
  readonly mode: 'nearest' | 'bilinear';
  constructor(readonly opts: UpsampleOptions) {
    super();
    if ((opts.size === undefined) === (opts.scaleFactor === undefined)) throw new Error('Upsample: give exactly one of size and scaleFactor');
    this.mode = opts.mode ?? 'nearest';
    if (this.mode === 'nearest' && opts.alignCorners !== undefined) throw new Error("Upsample: alignCorners only applies to mode 'bilinear'");
  }
  forward(x: Tensor): Tensor {
    return interpolate(x, { size: this.opts.size, scaleFactor: this.opts.scaleFactor, mode: this.mode, alignCorners: this.opts.alignCorners ?? false });
  }
  protected override extraRepr(): string {
    return JSON.stringify({ ...this.opts, mode: this.mode });
  }
}
