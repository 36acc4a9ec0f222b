// The DAE U-Net of MedIAnomaly (methods.md §4.4): five levels of ConvBlocks joined by 2×2
// average pooling on the way down and 2×2 stride-2 transposed convolutions plus skip
// concatenation on the way up, then a 1×1 head. A ConvBlock is twice [reflection pad 1,
// weight-standardised 3×3 conv, Swish, GroupNorm(g(c))]: normalisation after the activation.
//
// Module and parameter names follow the reference's UNet (down_path.0.block.1.weight,
// up_path.0.up.weight, up_path.0.conv_block.block.3.bias, last.weight), so its checkpoints
// load unchanged; the parameter-free pads and activations keep their Sequential indices.
import { avgPool2d, concat, conv2d, pad, slice, type Tensor } from '../engine/index.js';
import { resolveGenerator, type RandomSource } from '../nn/init.js';
import { Conv2d, ConvTranspose2d, type Conv2dOptions } from '../nn/layers/conv.js';
import { GroupNorm } from '../nn/layers/norm.js';
import { Swish } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import type { Generator } from '../engine/index.js';

/** The reference's GroupNorm group count: the middle element (index ⌊count/2⌋) of c's sorted divisors. */
export function groupsFor(channels: number): number {
  if (!Number.isInteger(channels) || channels < 1) throw new Error(`groupsFor: channels must be a positive integer, got ${channels}`);
  const divisors: number[] = [];
  for (let i = 1; i * i <= channels; i++) {
    if (channels % i) continue;
    divisors.push(i);
    if (i !== channels / i) divisors.push(channels / i);
  }
  divisors.sort((a, b) => a - b);
  return divisors[Math.floor(divisors.length / 2)];
}

/** nn.ReflectionPad2d: mirror padding of the last two dims (no parameters). */
export class ReflectionPad2d extends Module {
  constructor(readonly padding: number) {
    super();
  }
  forward(x: Tensor): Tensor {
    const p = this.padding;
    return pad(x, [p, p, p, p], 'reflect');
  }
  protected override extraRepr(): string {
    return `${this.padding}`;
  }
}

/** Weight standardisation's denominator offset (the reference adds it to the std). */
const WS_EPS = 1e-5;

/**
 * (W − mean) / (std + 1e-5) per output filter, mean and unbiased std over (in, kh, kw), as
 * differentiable ops on the weight, so the gradient reaches the raw weight through the
 * standardisation exactly as in the reference.
 */
export function standardizeWeight(w: Tensor): Tensor {
  const out = w.shape[0];
  const n = w.size / out;
  if (n < 2) throw new Error(`standardizeWeight: each filter needs at least 2 values for an unbiased std, got ${n}`);
  const flat = w.reshape([out, n]);
  const centred = flat.sub(flat.mean(1, true));
  const std = centred.square().sum(1, true).div(n - 1).sqrt();
  return centred.div(std.add(WS_EPS)).reshape(w.shape);
}

/** Conv2d whose weight is standardised at every forward (the reference's WNConv2d). */
export class WSConv2d extends Conv2d {
  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: Conv2dOptions = {}) {
    super(inChannels, outChannels, kernelSize, opts);
    if (this.paddingMode !== 'zeros') throw new Error('WSConv2d: pad the input with ReflectionPad2d instead of paddingMode');
  }

  override forward(x: Tensor): Tensor {
    return conv2d(x, standardizeWeight(this.weight), this.bias ?? undefined, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}

type Src = { generator: Generator };

/** [pad, WSConv 3×3, Swish, GroupNorm] × 2 under `block` (indices 0–7 as in the reference). */
export class UNetConvBlock extends Module {
  readonly block: Sequential;

  constructor(inC: number, outC: number, src: Src) {
    super();
    this.block = this.registerModule(
      'block',
      new Sequential(
        new ReflectionPad2d(1),
        new WSConv2d(inC, outC, 3, src),
        new Swish(),
        new GroupNorm(groupsFor(outC), outC),
        new ReflectionPad2d(1),
        new WSConv2d(outC, outC, 3, src),
        new Swish(),
        new GroupNorm(groupsFor(outC), outC),
      ),
    );
  }

  forward(x: Tensor): Tensor {
    return this.block.forward(x);
  }
}

/** Centre crop of [N, C, H, W] to h × w (the reference's center_crop). */
function centreCrop(x: Tensor, h: number, w: number): Tensor {
  const dy = Math.floor((x.shape[2] - h) / 2);
  const dx = Math.floor((x.shape[3] - w) / 2);
  if (dy === 0 && dx === 0 && x.shape[2] === h && x.shape[3] === w) return x;
  return slice(slice(x, 2, dy, dy + h), 3, dx, dx + w);
}

/** ConvT 2×2 stride 2 (in → out, with bias), concat [up, cropped skip], ConvBlock(in → out). */
export class UNetUpBlock extends Module {
  readonly up: ConvTranspose2d;
  readonly convBlock: UNetConvBlock;

  constructor(inC: number, outC: number, src: Src) {
    super();
    this.up = this.registerModule('up', new ConvTranspose2d(inC, outC, 2, { stride: 2, ...src }));
    this.convBlock = this.registerModule('conv_block', new UNetConvBlock(inC, outC, src));
  }

  forward(x: Tensor, skip: Tensor): Tensor {
    const up = this.up.forward(x);
    return this.convBlock.forward(concat([up, centreCrop(skip, up.shape[2], up.shape[3])], 1));
  }
}

export interface UNetOptions extends RandomSource {
  /** Input (and output) channels. */
  inChannels?: number;
  /** Filters of the first level (2^wf in the reference; 64). Level i has width·2^i. */
  width?: number;
  /** Number of levels (5). */
  depth?: number;
}

export interface UNetConfig {
  inChannels: number;
  width: number;
  depth: number;
}

export class UNet extends Module {
  readonly config: UNetConfig;
  readonly downPath: Sequential;
  readonly upPath: Sequential;
  readonly last: Conv2d;

  constructor(opts: UNetOptions = {}) {
    super();
    const c: UNetConfig = { inChannels: opts.inChannels ?? 1, width: opts.width ?? 64, depth: opts.depth ?? 5 };
    for (const [k, v] of Object.entries(c)) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`UNet: ${k} must be a positive integer, got ${v}`);
    }
    if (c.depth < 2) throw new Error(`UNet: depth must be at least 2 (one pooling level), got ${c.depth}`);
    this.config = c;
    const src = { generator: resolveGenerator(opts) };
    const down = new Sequential();
    let prev = c.inChannels;
    for (let i = 0; i < c.depth; i++) {
      down.append(new UNetConvBlock(prev, c.width * 2 ** i, src));
      prev = c.width * 2 ** i;
    }
    this.downPath = this.registerModule('down_path', down);
    const up = new Sequential();
    for (let i = c.depth - 2; i >= 0; i--) {
      up.append(new UNetUpBlock(prev, c.width * 2 ** i, src));
      prev = c.width * 2 ** i;
    }
    this.upPath = this.registerModule('up_path', up);
    this.last = this.registerModule('last', new Conv2d(prev, c.inChannels, 1, src));
  }

  /** Input sides must halve exactly depth − 1 times; reflection padding needs at least 2 pixels at the bottom. */
  checkInput(x: Tensor): void {
    const { inChannels, depth } = this.config;
    const f = 2 ** (depth - 1);
    if (x.ndim !== 4 || x.shape[1] !== inChannels) throw new Error(`UNet: expected input [B, ${inChannels}, H, W], got [${x.shape.join(', ')}]`);
    const [h, w] = [x.shape[2], x.shape[3]];
    if (h % f || w % f || h / f < 2 || w / f < 2) {
      throw new Error(`UNet: height and width must be multiples of ${f} and at least ${2 * f} (depth ${depth}), got ${h} × ${w}`);
    }
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    const skips: Tensor[] = [];
    const levels = [...this.downPath] as UNetConvBlock[];
    levels.forEach((block, i) => {
      x = block.forward(x);
      skips.push(x);
      if (i !== levels.length - 1) x = avgPool2d(x, { kernelSize: 2 });
    });
    ([...this.upPath] as UNetUpBlock[]).forEach((block, i) => {
      x = block.forward(x, skips[skips.length - i - 2]);
    });
    return this.last.forward(x);
  }
}
