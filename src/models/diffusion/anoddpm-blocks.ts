// The building blocks of AnoDDPM's U-Net (diffusion spec §2.1; its UNet.py is a fork of
// openai/guided-diffusion): the timestep MLP, the ResBlock with timestep injection and
// BigGAN-style up/down sampling on both paths, the multi-head self-attention block with the
// "legacy" per-head [q | k | v] channel layout, and the containers that pass the timestep
// embedding along.
//
// Child names are the reference's attribute names (in_layers, embed_layers, out_layers,
// skip_connection, norm, to_qkv, proj_out) and its Sequential indices, so parameter names
// and shapes equal its state dict's; see anoddpm-unet.ts for the full naming.
import { avgPool2d, concat, conv2d, interpolate, permute, scaledDotProductAttention, silu, slice, sinusoidalTimestepEmbedding, Tensor } from '../../engine/index.js';
import { defaultLayerInit, type RandomSource } from '../../nn/init.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { Linear } from '../../nn/layers/linear.js';
import { GroupNorm } from '../../nn/layers/norm.js';
import { groupNormSiluOf } from '../../nn/layers/norm-silu.js';
import { SiLU } from '../../nn/layers/activation.js';
import { Dropout } from '../../nn/layers/misc.js';
import { Sequential } from '../../nn/layers/container.js';
import { Module } from '../../nn/module.js';

/** guided-diffusion's GroupNorm32: 32 groups, eps 1e-5, affine (our GroupNorm is float32 throughout). */
export function groupNorm32(channels: number): GroupNorm {
  if (!Number.isInteger(channels) || channels % 32 !== 0) {
    throw new Error(`AnoDDPM U-Net: GroupNorm32 needs a channel count that is a multiple of 32, got ${channels} (choose baseChannels and channelMults so that every width is)`);
  }
  return new GroupNorm(32, channels, { eps: 1e-5 });
}

/**
 * SiLU(GroupNorm32(x)): every norm of the net but the attention's is followed by SiLU, so this
 * is the one place to swap in a fused kernel.
 */
export function normSilu(norm: GroupNorm, x: Tensor): Tensor {
  return groupNormSiluOf(norm, x);
}

/** A block that takes the timestep embedding as a second input. */
export interface TimestepBlock {
  forward(x: Tensor, emb: Tensor): Tensor;
}

/**
 * nn.Conv1d with kernel size 1 (weight [out, in, 1], PyTorch's default init), applied to
 * [B, in, L] as a 1×1 Conv2d on [B, in, L, 1]. zeroInit: weight and bias start at 0
 * (guided-diffusion's zero_module).
 */
export class Conv1x1 extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    opts: RandomSource & { zeroInit?: boolean } = {},
  ) {
    super();
    this.weight = this.registerParameter('weight', Tensor.empty([outChannels, inChannels, 1]));
    this.bias = this.registerParameter('bias', Tensor.empty([outChannels]));
    if (opts.zeroInit) {
      this.weight.data.fill(0);
      this.bias.data.fill(0);
    } else defaultLayerInit(this.weight, this.bias, opts);
  }

  forward(x: Tensor): Tensor {
    const [b, c, l] = x.shape;
    const w = this.weight.reshape([this.outChannels, this.inChannels, 1, 1]);
    return conv2d(x.reshape([b, c, l, 1]), w, this.bias).reshape([b, this.outChannels, l]);
  }

  protected override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernel_size=1`;
  }
}

/** A zero-initialised 3×3 conv (pad 1): the last layer of each residual branch and of the net. */
export function zeroConv3x3(inC: number, outC: number): Conv2d {
  return new Conv2d(inC, outC, 3, { padding: 1, init: false });
}

/** The sinusoid of the raw timestep, [sin | cos] (spec §7.3); no parameters. */
export class PositionalEmbedding extends Module {
  constructor(readonly dim: number) {
    super();
  }
  forward(t: Float32Array): Tensor {
    return sinusoidalTimestepEmbedding(t, this.dim, 'sin-cos');
  }
}

/**
 * time_embedding: sinusoid(C) → Linear(C, 4C) → SiLU → Linear(4C, 4C), children "0" … "3"
 * as the reference's Sequential (so its Linears are time_embedding.1 and .3).
 */
export class TimestepMLP extends Module {
  readonly sinusoid: PositionalEmbedding;
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(baseChannels: number, src: RandomSource) {
    super();
    const dim = 4 * baseChannels;
    this.sinusoid = this.registerModule('0', new PositionalEmbedding(baseChannels));
    this.fc1 = this.registerModule('1', new Linear(baseChannels, dim, src));
    this.registerModule('2', new SiLU());
    this.fc2 = this.registerModule('3', new Linear(dim, dim, src));
  }

  forward(t: Float32Array): Tensor {
    return this.fc2.forward(silu(this.fc1.forward(this.sinusoid.forward(t))));
  }
}

export type Resample = 'none' | 'up' | 'down';

/** Nearest ×2 (up) or 2×2 average pooling (down); the same op runs on the branch and on the skip. */
function resample(x: Tensor, how: Resample): Tensor {
  if (how === 'up') return interpolate(x, { mode: 'nearest', scaleFactor: 2 });
  if (how === 'down') return avgPool2d(x, { kernelSize: 2, stride: 2 });
  return x;
}

export interface ResBlockSpec {
  inChannels: number;
  outChannels: number;
  resample: Resample;
}

/**
 * h = GN → SiLU → [resample] → Conv3×3(in → out); h += Linear(4C → out)(SiLU(e)) over H, W;
 * h = GN → SiLU → Dropout → Conv3×3(out → out, zero-init); out = skip([resampled] x) + h,
 * skip = identity or Conv1×1 when the widths differ. No scale-shift conditioning.
 */
export class ResBlock extends Module implements TimestepBlock {
  readonly inNorm: GroupNorm;
  readonly inConv: Conv2d;
  readonly embLinear: Linear;
  readonly outNorm: GroupNorm;
  readonly dropout: Dropout;
  readonly outConv: Conv2d;
  readonly skip: Conv2d | null;
  readonly resample: Resample;

  constructor(spec: ResBlockSpec, embDim: number, dropout: number, src: RandomSource) {
    super();
    const { inChannels: cin, outChannels: cout } = spec;
    this.resample = spec.resample;
    this.inNorm = groupNorm32(cin);
    this.inConv = new Conv2d(cin, cout, 3, { padding: 1, ...src });
    this.registerModule('in_layers', new Sequential(this.inNorm, new SiLU(), this.inConv));
    this.embLinear = new Linear(embDim, cout, src);
    this.registerModule('embed_layers', new Sequential(new SiLU(), this.embLinear));
    this.outNorm = groupNorm32(cout);
    this.dropout = new Dropout(dropout, src);
    this.outConv = zeroConv3x3(cout, cout);
    this.registerModule('out_layers', new Sequential(this.outNorm, new SiLU(), this.dropout, this.outConv));
    this.skip = cin === cout ? null : new Conv2d(cin, cout, 1, src);
    // The reference's skip_connection is nn.Identity when the widths agree: no entry.
    if (this.skip) this.registerModule('skip_connection', this.skip);
  }

  /** emb: the timestep embedding [B, 4C]. */
  forward(x: Tensor, emb: Tensor): Tensor {
    return this.forwardActivated(x, silu(emb));
  }

  /** The same with SiLU(e) already applied: the U-Net computes it once for all its blocks. */
  forwardActivated(x: Tensor, siluEmb: Tensor): Tensor {
    let h = this.inConv.forward(resample(normSilu(this.inNorm, x), this.resample));
    const skipIn = resample(x, this.resample);
    const e = this.embLinear.forward(siluEmb);
    h = h.add(e.reshape([e.shape[0], e.shape[1], 1, 1]));
    h = this.outConv.forward(this.dropout.forward(normSilu(this.outNorm, h)));
    return (this.skip ? this.skip.forward(skipIn) : skipIn).add(h);
  }
}

/**
 * Self-attention over the H·W positions with a residual: qkv = Conv1d(c → 3c)(GN(x)) is read
 * as (B·heads, 3d, L) and split into q, k, v of d = c/heads channels each (per-head [q|k|v],
 * guided-diffusion's legacy QKVAttention), softmax(q kᵀ/√d) v through the engine's attention
 * op, then proj_out = Conv1d(c → c, zero-init), out = x + proj_out(a).
 */
export class AttentionBlock extends Module implements TimestepBlock {
  readonly norm: GroupNorm;
  readonly toQkv: Conv1x1;
  readonly projOut: Conv1x1;
  /**
   * Heads used in eval mode. The reference's detection/evaluation scripts rebuild the U-Net
   * without its n_heads, so a net trained with several heads is evaluated with 1: same
   * parameters, another function (spec §2.2). Default: the training head count.
   */
  evalHeads: number;

  constructor(
    readonly channels: number,
    readonly heads: number,
    src: RandomSource,
  ) {
    super();
    checkHeads(channels, heads, 'heads');
    this.evalHeads = heads;
    this.norm = this.registerModule('norm', groupNorm32(channels));
    this.toQkv = this.registerModule('to_qkv', new Conv1x1(channels, 3 * channels, src));
    this.projOut = this.registerModule('proj_out', new Conv1x1(channels, channels, { zeroInit: true }));
  }

  /** The head count this call uses (training mode: `heads`; eval: `evalHeads`). */
  get activeHeads(): number {
    return this.training ? this.heads : this.evalHeads;
  }

  forward(x: Tensor, _emb?: Tensor): Tensor {
    const [b, c, ...spatial] = x.shape;
    const l = spatial.reduce((a, s) => a * s, 1);
    const heads = this.activeHeads;
    const d = c / heads;
    const flat = x.reshape([b, c, l]);
    const qkv = this.toQkv.forward(this.norm.forward(flat));
    // (B, heads·3d, L) → (3, B·heads, L, d): one copy puts q, k and v each in the [B·h, L, d]
    // layout of the attention op, as contiguous blocks of the first dim.
    const parts = permute(qkv.reshape([b * heads, 3, d, l]), [1, 0, 3, 2]);
    const part = (i: number) => slice(parts, 0, i, i + 1).reshape([b * heads, l, d]);
    const a = scaledDotProductAttention(part(0), part(1), part(2), 1 / Math.sqrt(d));
    const h = this.projOut.forward(permute(a, [0, 2, 1]).reshape([b, c, l]));
    return flat.add(h).reshape(x.shape);
  }

  protected override extraRepr(): string {
    return `${this.channels}, heads=${this.heads}${this.evalHeads !== this.heads ? `, evalHeads=${this.evalHeads}` : ''}`;
  }
}

export function checkHeads(channels: number, heads: number, what: string): void {
  if (!Number.isInteger(heads) || heads < 1 || channels % heads !== 0) {
    throw new Error(`AnoDDPM U-Net: ${what} must be a positive integer dividing every attention width; ${heads} does not divide ${channels}`);
  }
}

/**
 * guided-diffusion's TimestepEmbedSequential: children "0", "1", … applied in order, the
 * ResBlocks given SiLU(e) (see ResBlock.forwardActivated), everything else (attention, the
 * first conv) x alone.
 */
export class TimestepSequential extends Module {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }

  forward(x: Tensor, siluEmb: Tensor): Tensor {
    for (const m of this.layers) {
      x = m instanceof ResBlock ? m.forwardActivated(x, siluEmb) : m.forward(x);
    }
    return x;
  }
}

/** nn.ModuleList: children named by index, no forward of its own. */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];

  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.registerModule(String(i), m));
  }

  forward(): never {
    throw new Error('ModuleList has no forward; call its items');
  }
}

/** [h, skip] joined on the channel axis (the up path's input). */
export function joinSkip(h: Tensor, skip: Tensor): Tensor {
  return concat([h, skip], 1);
}
