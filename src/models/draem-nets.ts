// DRAEM's two networks (Zavrtanik et al., ICCV 2021; official code VitjanZ/DRAEM,
// model_unet.py), with the official modules' layer structure and parameter names:
//
// - ReconstructiveSubNetwork (base width 128): an encoder of five double-conv blocks
//   [Conv 3×3 pad 1, BatchNorm, ReLU] × 2 joined by 2×2 max pooling (widths w, 2w, 4w, 8w, 8w),
//   and a decoder of four [bilinear ×2 upsampling (align_corners true), Conv 3×3, BN, ReLU]
//   steps each followed by a double-conv block, then a 3×3 conv to the output channels. No skip
//   connections, no output activation.
// - DiscriminativeSubNetwork (base width 64): a U-Net whose encoder has six double-conv blocks
//   (w, 2w, 4w, 8w, 8w, 8w; five poolings) and whose decoder upsamples, concatenates the
//   encoder block of the same size and runs a double-conv block, five times, then a 3×3 conv
//   to 2 channels (logits of normal / anomalous).
//
// Parameter names are the official ones (encoder.block1.0.weight, decoder.up1.1.weight,
// decoder.fin_out.0.weight, encoder_segment.block6.3.weight, decoder_segment.db_b.0.weight,
// ...): the parameter-free upsampling and pooling layers keep their Sequential indices. DraemModel
// joins the two under anomalib's names `reconstructive_subnetwork.` and
// `discriminative_subnetwork.` (the official code saves them as two files with exactly these
// names after the prefix).
//
// Initialisation is the official train_DRAEM.py's weights_init: every conv weight N(0, 0.02),
// every batch-norm weight N(1, 0.02) and bias 0; conv biases keep PyTorch's default
// U(±1/√fan_in). All draws come from the given generator; `init: false` makes none (for
// weights loaded right after: the full-width pair has 97.4 M parameters, ~14 s of draws).
import { concat, type Generator, type Tensor } from '../engine/index.js';
import { resolveGenerator, normal, uniform, fans, type RandomSource } from '../nn/init.js';
import { ReLU } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/container.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Upsample } from '../nn/layers/misc.js';
import { BatchNorm2d } from '../nn/layers/norm.js';
import { MaxPool2d } from '../nn/layers/pooling.js';
import { Module } from '../nn/module.js';

/** Where initial values come from: a generator, or null for zeros (weights loaded afterwards; no draws). */
type Init = Generator | null;

/** A 3×3 padding-1 conv with the official weights_init (weight N(0, 0.02), bias PyTorch default). */
function conv3(inC: number, outC: number, g: Init): Conv2d {
  const c = new Conv2d(inC, outC, 3, { padding: 1, init: false });
  if (!g) return c;
  normal(c.weight, 0, 0.02, { generator: g });
  const bound = 1 / Math.sqrt(fans(c.weight.shape).fanIn);
  uniform(c.bias!, -bound, bound, { generator: g });
  return c;
}

/** BatchNorm2d with the official weights_init (weight N(1, 0.02), bias 0). */
function bn(c: number, g: Init): BatchNorm2d {
  const b = new BatchNorm2d(c);
  if (g) normal(b.weight!, 1, 0.02, { generator: g });
  return b;
}

/** [Conv 3×3, BN, ReLU, Conv 3×3, BN, ReLU] (indices 0–5). */
function doubleConv(inC: number, midC: number, outC: number, g: Init): Sequential {
  return new Sequential(conv3(inC, midC, g), bn(midC, g), new ReLU(), conv3(midC, outC, g), bn(outC, g), new ReLU());
}

/** [Upsample ×2 bilinear align_corners, Conv 3×3, BN, ReLU] (the conv at index 1). */
function upConv(inC: number, outC: number, g: Init): Sequential {
  return new Sequential(new Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: true }), conv3(inC, outC, g), bn(outC, g), new ReLU());
}

const pool = (): Sequential => new Sequential(new MaxPool2d(2));

function checkWidth(name: string, v: number, what: string): void {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: ${what} must be a positive integer, got ${v}`);
}

function checkInput(name: string, x: Tensor, channels: number, multiple: number): void {
  if (x.ndim !== 4 || x.shape[1] !== channels) throw new Error(`${name}: expected input [B, ${channels}, H, W], got [${x.shape.join(', ')}]`);
  const [h, w] = [x.shape[2], x.shape[3]];
  if (h % multiple || w % multiple || h < multiple || w < multiple) {
    throw new Error(`${name}: height and width must be positive multiples of ${multiple}, got ${h} × ${w}`);
  }
}

export class EncoderReconstructive extends Module {
  readonly block1: Sequential;
  readonly mp1: Sequential;
  readonly block2: Sequential;
  readonly mp2: Sequential;
  readonly block3: Sequential;
  readonly mp3: Sequential;
  readonly block4: Sequential;
  readonly mp4: Sequential;
  readonly block5: Sequential;

  constructor(inChannels: number, w: number, g: Init) {
    super();
    this.block1 = this.registerModule('block1', doubleConv(inChannels, w, w, g));
    this.mp1 = this.registerModule('mp1', pool());
    this.block2 = this.registerModule('block2', doubleConv(w, 2 * w, 2 * w, g));
    this.mp2 = this.registerModule('mp2', pool());
    this.block3 = this.registerModule('block3', doubleConv(2 * w, 4 * w, 4 * w, g));
    this.mp3 = this.registerModule('mp3', pool());
    this.block4 = this.registerModule('block4', doubleConv(4 * w, 8 * w, 8 * w, g));
    this.mp4 = this.registerModule('mp4', pool());
    this.block5 = this.registerModule('block5', doubleConv(8 * w, 8 * w, 8 * w, g));
  }

  forward(x: Tensor): Tensor {
    const b1 = this.block1.forward(x);
    const b2 = this.block2.forward(this.mp1.forward(b1));
    const b3 = this.block3.forward(this.mp2.forward(b2));
    const b4 = this.block4.forward(this.mp3.forward(b3));
    return this.block5.forward(this.mp4.forward(b4));
  }
}

export class DecoderReconstructive extends Module {
  readonly up1: Sequential;
  readonly db1: Sequential;
  readonly up2: Sequential;
  readonly db2: Sequential;
  readonly up3: Sequential;
  readonly db3: Sequential;
  readonly up4: Sequential;
  readonly db4: Sequential;
  readonly finOut: Sequential;

  constructor(w: number, outChannels: number, g: Init) {
    super();
    this.up1 = this.registerModule('up1', upConv(8 * w, 8 * w, g));
    this.db1 = this.registerModule('db1', doubleConv(8 * w, 8 * w, 4 * w, g));
    this.up2 = this.registerModule('up2', upConv(4 * w, 4 * w, g));
    this.db2 = this.registerModule('db2', doubleConv(4 * w, 4 * w, 2 * w, g));
    this.up3 = this.registerModule('up3', upConv(2 * w, 2 * w, g));
    this.db3 = this.registerModule('db3', doubleConv(2 * w, 2 * w, w, g));
    this.up4 = this.registerModule('up4', upConv(w, w, g));
    this.db4 = this.registerModule('db4', doubleConv(w, w, w, g));
    this.finOut = this.registerModule('fin_out', new Sequential(conv3(w, outChannels, g)));
  }

  forward(b5: Tensor): Tensor {
    const db1 = this.db1.forward(this.up1.forward(b5));
    const db2 = this.db2.forward(this.up2.forward(db1));
    const db3 = this.db3.forward(this.up3.forward(db2));
    const db4 = this.db4.forward(this.up4.forward(db3));
    return this.finOut.forward(db4);
  }
}

/** Shared by the constructors: `init: false` leaves every weight at zero (BN weight 1) and makes no draws. */
export interface InitOption {
  init?: boolean;
}

const initFrom = (opts: RandomSource & InitOption): Init => (opts.init === false ? null : resolveGenerator(opts));

export interface ReconstructiveOptions extends RandomSource, InitOption {
  inChannels?: number;
  outChannels?: number;
  /** base_width (128 in the official code). */
  width?: number;
}

/** The reconstructive sub-network: x (augmented) → its anomaly-free reconstruction. Sides: multiples of 16. */
export class ReconstructiveSubNetwork extends Module {
  readonly inChannels: number;
  readonly width: number;
  readonly encoder: EncoderReconstructive;
  readonly decoder: DecoderReconstructive;

  constructor(opts: ReconstructiveOptions = {}) {
    super();
    const inC = opts.inChannels ?? 3;
    const outC = opts.outChannels ?? 3;
    const w = opts.width ?? 128;
    checkWidth('ReconstructiveSubNetwork', inC, 'inChannels');
    checkWidth('ReconstructiveSubNetwork', outC, 'outChannels');
    checkWidth('ReconstructiveSubNetwork', w, 'width');
    this.inChannels = inC;
    this.width = w;
    const g = initFrom(opts);
    this.encoder = this.registerModule('encoder', new EncoderReconstructive(inC, w, g));
    this.decoder = this.registerModule('decoder', new DecoderReconstructive(w, outC, g));
  }

  forward(x: Tensor): Tensor {
    checkInput('ReconstructiveSubNetwork', x, this.inChannels, 16);
    return this.decoder.forward(this.encoder.forward(x));
  }
}

export class EncoderDiscriminative extends Module {
  readonly blocks: Sequential[] = [];
  readonly pools: Sequential[] = [];

  constructor(inChannels: number, w: number, g: Init) {
    super();
    const widths = [w, 2 * w, 4 * w, 8 * w, 8 * w, 8 * w];
    let prev = inChannels;
    widths.forEach((c, i) => {
      this.blocks.push(this.registerModule(`block${i + 1}`, doubleConv(prev, c, c, g)));
      if (i < 5) this.pools.push(this.registerModule(`mp${i + 1}`, pool()));
      prev = c;
    });
  }

  /** [b1, …, b6]: the six block outputs, from full size to 1/32. */
  forward(x: Tensor): Tensor[] {
    const out: Tensor[] = [];
    for (let i = 0; i < 6; i++) {
      x = this.blocks[i].forward(i ? this.pools[i - 1].forward(x) : x);
      out.push(x);
    }
    return out;
  }
}

export class DecoderDiscriminative extends Module {
  readonly upB: Sequential;
  readonly dbB: Sequential;
  readonly up: Sequential[] = [];
  readonly db: Sequential[] = [];
  readonly finOut: Sequential;

  constructor(w: number, outChannels: number, g: Init) {
    super();
    this.upB = this.registerModule('up_b', upConv(8 * w, 8 * w, g));
    this.dbB = this.registerModule('db_b', doubleConv(16 * w, 8 * w, 8 * w, g));
    // up_i: prev → out_i; db_i: out_i + skip_i → out_i.
    const steps: [number, number, number][] = [
      [8 * w, 4 * w, 8 * w],
      [4 * w, 2 * w, 4 * w],
      [2 * w, w, 2 * w],
      [w, w, w],
    ];
    steps.forEach(([inC, outC, skipC], i) => {
      this.up.push(this.registerModule(`up${i + 1}`, upConv(inC, outC, g)));
      this.db.push(this.registerModule(`db${i + 1}`, doubleConv(outC + skipC, outC, outC, g)));
    });
    this.finOut = this.registerModule('fin_out', new Sequential(conv3(w, outChannels, g)));
  }

  forward(b: Tensor[]): Tensor {
    const [b1, b2, b3, b4, b5, b6] = b;
    let x = this.dbB.forward(concat([this.upB.forward(b6), b5], 1));
    const skips = [b4, b3, b2, b1];
    for (let i = 0; i < 4; i++) x = this.db[i].forward(concat([this.up[i].forward(x), skips[i]], 1));
    return this.finOut.forward(x);
  }
}

export interface DiscriminativeOptions extends RandomSource, InitOption {
  inChannels?: number;
  outChannels?: number;
  /** base_channels (64 in the official code). */
  width?: number;
}

/** The discriminative sub-network: [x̂, x] → 2-channel logits (normal, anomalous). Sides: multiples of 32. */
export class DiscriminativeSubNetwork extends Module {
  readonly inChannels: number;
  readonly width: number;
  readonly encoderSegment: EncoderDiscriminative;
  readonly decoderSegment: DecoderDiscriminative;

  constructor(opts: DiscriminativeOptions = {}) {
    super();
    const inC = opts.inChannels ?? 6;
    const outC = opts.outChannels ?? 2;
    const w = opts.width ?? 64;
    checkWidth('DiscriminativeSubNetwork', inC, 'inChannels');
    checkWidth('DiscriminativeSubNetwork', outC, 'outChannels');
    checkWidth('DiscriminativeSubNetwork', w, 'width');
    this.inChannels = inC;
    this.width = w;
    const g = initFrom(opts);
    this.encoderSegment = this.registerModule('encoder_segment', new EncoderDiscriminative(inC, w, g));
    this.decoderSegment = this.registerModule('decoder_segment', new DecoderDiscriminative(w, outC, g));
  }

  forward(x: Tensor): Tensor {
    checkInput('DiscriminativeSubNetwork', x, this.inChannels, 32);
    return this.decoderSegment.forward(this.encoderSegment.forward(x));
  }
}

export interface DraemModelOptions extends RandomSource, InitOption {
  /** Image channels C: the reconstructive net maps C → C, the discriminative one 2C → 2. */
  channels?: number;
  /** Reconstructive base width (official 128). */
  reconstructiveWidth?: number;
  /** Discriminative base width (official 64). */
  discriminativeWidth?: number;
}

/**
 * Both sub-networks under one module (anomalib's DraemModel names), built in the official
 * order: the reconstructive network first, then the discriminative one. Sides: multiples of 32.
 */
export class DraemModel extends Module {
  readonly channels: number;
  readonly reconstructive: ReconstructiveSubNetwork;
  readonly discriminative: DiscriminativeSubNetwork;

  constructor(opts: DraemModelOptions = {}) {
    super();
    const c = opts.channels ?? 3;
    checkWidth('DraemModel', c, 'channels');
    this.channels = c;
    const init = opts.init === false ? { init: false } : { generator: resolveGenerator(opts) };
    this.reconstructive = this.registerModule(
      'reconstructive_subnetwork',
      new ReconstructiveSubNetwork({ inChannels: c, outChannels: c, width: opts.reconstructiveWidth ?? 128, ...init }),
    );
    this.discriminative = this.registerModule(
      'discriminative_subnetwork',
      new DiscriminativeSubNetwork({ inChannels: 2 * c, outChannels: 2, width: opts.discriminativeWidth ?? 64, ...init }),
    );
  }

  /** x in [0, 1] → { reconstruction x̂, logits [B, 2, H, W] of the discriminative net on cat(x̂, x) }. */
  forward(x: Tensor, opts: { detachReconstruction?: boolean } = {}): { reconstruction: Tensor; logits: Tensor } {
    checkInput('DraemModel', x, this.channels, 32);
    const reconstruction = this.reconstructive.forward(x);
    const rec = opts.detachReconstruction ? reconstruction.detach() : reconstruction;
    const logits = this.discriminative.forward(concat([rec, x], 1));
    return { reconstruction, logits };
  }
}
