// The building blocks of the MONAI-style DiffusionModelUNet that AutoDDPM builds (diffusion
// spec §3.1; ci-ber/autoDDPM net_utils/diffusion_unet.py, MONAI Generative adapted from
// diffusers): the ResnetBlock with timestep injection, the self-attention block with three
// Linear q/k/v layers, the stride-2 conv downsampler, the nearest ×2 + conv upsampler, and the
// down / middle / up containers with the skip bookkeeping of the reference's forward.
//
// Child names are the reference's attribute names, so parameter names and shapes equal its
// state dict's. MONAI's Convolution(conv_only=True) is an nn.Sequential holding one child
// "conv", hence MonaiConv below and names like conv1.conv.weight.
import { concat, scaledDotProductAttention, silu, interpolate, type Tensor } from '../../engine/index.js';
import type { Generator } from '../../engine/index.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { Linear } from '../../nn/layers/linear.js';
import { GroupNorm } from '../../nn/layers/norm.js';
import { groupNormSiluOf } from '../../nn/layers/norm-silu.js';
import { Sequential } from '../../nn/layers/container.js';
import { Module } from '../../nn/module.js';

/** What every block needs to build its layers. */
export interface BlockContext {
  generator: Generator;
  normGroups: number;
  normEps: number;
}

/**
 * MONAI's Convolution(conv_only=True): a Conv2d under the child name "conv". zeroInit: weight
 * and bias start at 0 (the reference's zero_module; no random draws are made for them).
 */
export class MonaiConv extends Module {
  readonly conv: Conv2d;

  constructor(inC: number, outC: number, kernel: 1 | 3, g: Generator, opts: { stride?: number; zeroInit?: boolean } = {}) {
    super();
    const padding = kernel === 3 ? 1 : 0;
    this.conv = this.registerModule('conv', new Conv2d(inC, outC, kernel, { stride: opts.stride ?? 1, padding, generator: g, init: !opts.zeroInit }));
  }

  forward(x: Tensor): Tensor {
    return this.conv.forward(x);
  }
}

function norm(channels: number, c: BlockContext): GroupNorm {
  if (channels % c.normGroups !== 0) {
    throw new Error(`MONAI U-Net: GroupNorm(${c.normGroups}) needs a channel count that is a multiple of ${c.normGroups}, got ${channels} (choose numChannels accordingly)`);
  }
  return new GroupNorm(c.normGroups, channels, { eps: c.normEps });
}

/**
 * GN → SiLU → conv1 (3×3) → + time_emb_proj(SiLU(emb)) broadcast over H, W → GN → SiLU →
 * conv2 (3×3, zero-init); the input joins through a 1×1 skip_connection conv when the widths
 * differ (identity otherwise). No dropout.
 */
export class ResnetBlock extends Module {
  readonly norm1: GroupNorm;
  readonly conv1: MonaiConv;
  readonly timeEmbProj: Linear;
  readonly norm2: GroupNorm;
  readonly conv2: MonaiConv;
  readonly skipConnection: MonaiConv | null;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    tembChannels: number,
    c: BlockContext,
  ) {
    super();
    const g = c.generator;
    this.norm1 = this.registerModule('norm1', norm(inChannels, c));
    this.conv1 = this.registerModule('conv1', new MonaiConv(inChannels, outChannels, 3, g));
    this.timeEmbProj = this.registerModule('time_emb_proj', new Linear(tembChannels, outChannels, { generator: g }));
    this.norm2 = this.registerModule('norm2', norm(outChannels, c));
    this.conv2 = this.registerModule('conv2', new MonaiConv(outChannels, outChannels, 3, g, { zeroInit: true }));
    this.skipConnection = inChannels === outChannels ? null : this.registerModule('skip_connection', new MonaiConv(inChannels, outChannels, 1, g));
  }

  /** x [B, in, H, W], emb [B, temb] → [B, out, H, W]. */
  forward(x: Tensor, emb: Tensor): Tensor {
    let h = this.conv1.forward(groupNormSiluOf(this.norm1, x));
    const temb = this.timeEmbProj.forward(silu(emb));
    h = h.add(temb.reshape([temb.shape[0], this.outChannels, 1, 1]));
    h = this.conv2.forward(groupNormSiluOf(this.norm2, h));
    return (this.skipConnection ? this.skipConnection.forward(x) : x).add(h);
  }
}

/**
 * Self-attention over the H·W positions: GN → tokens [B, L, c] → q, k, v = three Linear(c, c)
 * → heads by splitting the channel axis ([B, L, h, d] → [B·h, L, d]) → softmax(q kᵀ/√d) v →
 * heads merged back → [B, c, H, W] → + residual. h = ⌊c / headChannels⌋ (the reference's
 * num_channels // num_head_channels).
 *
 * proj_attn is built, and counted, as in the reference, which never applies it in forward
 * (its copy of MONAI's block drops the output projection): its parameters are dead and get no
 * gradient, but they stay so that state dicts load both ways unchanged.
 */
export class AttentionBlock extends Module {
  readonly heads: number;
  readonly norm: GroupNorm;
  readonly toQ: Linear;
  readonly toK: Linear;
  readonly toV: Linear;
  readonly projAttn: Linear;

  constructor(
    readonly channels: number,
    headChannels: number,
    c: BlockContext,
  ) {
    super();
    const heads = Math.floor(channels / headChannels);
    if (heads < 1 || channels % heads !== 0) {
      throw new Error(
        `MONAI U-Net: an attention block of ${channels} channels with headChannels ${headChannels} gives ${heads} heads; ` +
          `headChannels must be at most ${channels} and ⌊channels / headChannels⌋ must divide ${channels}`,
      );
    }
    this.heads = heads;
    const g = c.generator;
    this.norm = this.registerModule('norm', norm(channels, c));
    this.toQ = this.registerModule('to_q', new Linear(channels, channels, { generator: g }));
    this.toK = this.registerModule('to_k', new Linear(channels, channels, { generator: g }));
    this.toV = this.registerModule('to_v', new Linear(channels, channels, { generator: g }));
    this.projAttn = this.registerModule('proj_attn', new Linear(channels, channels, { generator: g }));
  }

  /** [B, L, c] → [B·h, L, d] (reshape_heads_to_batch_dim). */
  private split(x: Tensor): Tensor {
    const [b, l, c] = x.shape;
    const h = this.heads;
    if (h === 1) return x;
    return x.reshape([b, l, h, c / h]).permute([0, 2, 1, 3]).reshape([b * h, l, c / h]);
  }

  /** [B·h, L, d] → [B, L, c] (reshape_batch_dim_to_heads). */
  private merge(x: Tensor): Tensor {
    const [bh, l, d] = x.shape;
    const h = this.heads;
    if (h === 1) return x;
    return x.reshape([bh / h, h, l, d]).permute([0, 2, 1, 3]).reshape([bh / h, l, d * h]);
  }

  forward(x: Tensor): Tensor {
    const [b, c, hh, ww] = x.shape;
    const tokens = this.norm.forward(x).reshape([b, c, hh * ww]).transpose(1, 2);
    const q = this.split(this.toQ.forward(tokens));
    const k = this.split(this.toK.forward(tokens));
    const v = this.split(this.toV.forward(tokens));
    const a = this.merge(scaledDotProductAttention(q, k, v, 1 / Math.sqrt(c / this.heads)));
    return a.transpose(1, 2).reshape([b, c, hh, ww]).add(x);
  }
}

/** Conv3×3 stride 2 pad 1 (c → c) under the name "op". */
export class Downsample extends Module {
  readonly op: MonaiConv;

  constructor(channels: number, g: Generator) {
    super();
    this.op = this.registerModule('op', new MonaiConv(channels, channels, 3, g, { stride: 2 }));
  }

  forward(x: Tensor): Tensor {
    return this.op.forward(x);
  }
}

/** Nearest ×2, then Conv3×3 pad 1 (c → c) under the name "conv". */
export class Upsample extends Module {
  readonly conv: MonaiConv;

  constructor(channels: number, g: Generator) {
    super();
    this.conv = this.registerModule('conv', new MonaiConv(channels, channels, 3, g));
  }

  forward(x: Tensor): Tensor {
    return this.conv.forward(interpolate(x, { mode: 'nearest', scaleFactor: 2 }));
  }
}

/**
 * DownBlock / AttnDownBlock: numResBlocks × [ResnetBlock (+ AttentionBlock)], then the
 * downsampler unless this is the last level. Every resnet (or attention) output and the
 * downsampler's output are skips for the up path. The reference's AttnDownBlock registers
 * its attentions before its resnets, which orders its state dict; so does this one.
 */
export class DownBlock extends Module {
  readonly resnets: Sequential;
  readonly attentions: Sequential | null;
  readonly downsampler: Downsample | null;

  constructor(inC: number, outC: number, tembC: number, o: { numResBlocks: number; attention: boolean; headChannels: number; downsample: boolean }, c: BlockContext) {
    super();
    const resnets = new Sequential();
    const attentions = new Sequential();
    for (let i = 0; i < o.numResBlocks; i++) {
      resnets.append(new ResnetBlock(i === 0 ? inC : outC, outC, tembC, c));
      if (o.attention) attentions.append(new AttentionBlock(outC, o.headChannels, c));
    }
    this.attentions = o.attention ? this.registerModule('attentions', attentions) : null;
    this.resnets = this.registerModule('resnets', resnets);
    this.downsampler = o.downsample ? this.registerModule('downsampler', new Downsample(outC, c.generator)) : null;
  }

  /** Runs the block; its skips are appended to `skips` in push order. */
  forward(x: Tensor, emb: Tensor, skips: Tensor[]): Tensor {
    const resnets = [...this.resnets] as ResnetBlock[];
    const attentions = this.attentions ? ([...this.attentions] as AttentionBlock[]) : null;
    resnets.forEach((rb, i) => {
      x = rb.forward(x, emb);
      if (attentions) x = attentions[i].forward(x);
      skips.push(x);
    });
    if (this.downsampler) {
      x = this.downsampler.forward(x);
      skips.push(x);
    }
    return x;
  }
}

/** AttnMidBlock: ResnetBlock, AttentionBlock, ResnetBlock at the bottom width. */
export class MidBlock extends Module {
  readonly resnet1: ResnetBlock;
  readonly attention: AttentionBlock;
  readonly resnet2: ResnetBlock;

  constructor(channels: number, tembC: number, headChannels: number, c: BlockContext) {
    super();
    this.resnet1 = this.registerModule('resnet_1', new ResnetBlock(channels, channels, tembC, c));
    this.attention = this.registerModule('attention', new AttentionBlock(channels, headChannels, c));
    this.resnet2 = this.registerModule('resnet_2', new ResnetBlock(channels, channels, tembC, c));
  }

  forward(x: Tensor, emb: Tensor): Tensor {
    return this.resnet2.forward(this.attention.forward(this.resnet1.forward(x, emb)), emb);
  }
}

/**
 * UpBlock / AttnUpBlock with n resnets (the reference passes num_res_blocks + 1): resnet i
 * takes [x, skip] concatenated on channels, its input width (i = 0 ? prevOut : out) +
 * (i = n − 1 ? skipIn : out), skipIn being the next-shallower level's width; then the attention
 * (if any) and the upsampler unless this is the last level. Registration order resnets,
 * attentions, upsampler as the reference.
 */
export class UpBlock extends Module {
  readonly resnets: Sequential;
  readonly attentions: Sequential | null;
  readonly upsampler: Upsample | null;

  constructor(
    skipInC: number,
    prevOutC: number,
    outC: number,
    tembC: number,
    o: { numResBlocks: number; attention: boolean; headChannels: number; upsample: boolean },
    c: BlockContext,
  ) {
    super();
    const resnets = new Sequential();
    const attentions = new Sequential();
    for (let i = 0; i < o.numResBlocks; i++) {
      const resSkip = i === o.numResBlocks - 1 ? skipInC : outC;
      const resIn = i === 0 ? prevOutC : outC;
      resnets.append(new ResnetBlock(resIn + resSkip, outC, tembC, c));
      if (o.attention) attentions.append(new AttentionBlock(outC, o.headChannels, c));
    }
    this.resnets = this.registerModule('resnets', resnets);
    this.attentions = o.attention ? this.registerModule('attentions', attentions) : null;
    this.upsampler = o.upsample ? this.registerModule('upsampler', new Upsample(outC, c.generator)) : null;
  }

  get numResnets(): number {
    return this.resnets.length;
  }

  /** Consumes this block's skips from the end of `skips` (the reference pops its share, last first). */
  forward(x: Tensor, emb: Tensor, skips: Tensor[]): Tensor {
    const resnets = [...this.resnets] as ResnetBlock[];
    const attentions = this.attentions ? ([...this.attentions] as AttentionBlock[]) : null;
    resnets.forEach((rb, i) => {
      const skip = skips.pop();
      if (!skip) throw new Error('MONAI U-Net: the up path ran out of skips (internal bookkeeping error)');
      x = rb.forward(concat([x, skip], 1), emb);
      if (attentions) x = attentions[i].forward(x);
    });
    return this.upsampler ? this.upsampler.forward(x) : x;
  }
}
