// The GANomaly networks of MedIAnomaly (methods.md §4.3): a generator made of an encoder,
// a decoder and a second encoder (x → z → x̂ → ẑ), and a discriminator that shares the
// encoder's convolutional trunk and returns a probability and its penultimate features.
// The conv blocks are the unified AE's (E1–E4, D1–D4); the MLPs have no BN1d.
//
// Module and parameter names follow the reference code's modules (netg.encoder1.en_block1.
// model.0.weight, netd.classifier.0.bias, ...), so the reference's checkpoints load unchanged.
import type { Generator, Tensor } from '../engine/index.js';
import * as init from '../nn/init.js';
import { resolveGenerator, type RandomSource } from '../nn/init.js';
import { BatchNorm2d } from '../nn/layers/norm.js';
import { Conv2d, ConvTranspose2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { ReLU, Sigmoid } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';

export interface GanomalyNetOptions extends RandomSource {
  /** Input channels (1; 3 for Camelyon16). */
  inChannels?: number;
  /** Input side; a multiple of 16. */
  size?: number;
  /** Base width w (block widths w, 2w, 4w, 4w times the expansion). */
  width?: number;
  expansion?: number;
  /** Hidden width of the MLPs. */
  hidden?: number;
  /** Latent size ls. */
  latent?: number;
  /** Layers per conv block (extra 3×3 layers when > 1). */
  depth?: number;
}

export interface GanomalyNetConfig {
  inChannels: number;
  size: number;
  width: number;
  expansion: number;
  hidden: number;
  latent: number;
  depth: number;
}

export function ganomalyConfig(opts: GanomalyNetOptions = {}): GanomalyNetConfig {
  const c: GanomalyNetConfig = {
    inChannels: opts.inChannels ?? 1,
    size: opts.size ?? 64,
    width: opts.width ?? 16,
    expansion: opts.expansion ?? 1,
    hidden: opts.hidden ?? 1024,
    latent: opts.latent ?? 16,
    depth: opts.depth ?? 1,
  };
  for (const [k, v] of Object.entries(c)) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`GANomaly: ${k} must be a positive integer, got ${v}`);
  }
  if (c.size % 16) throw new Error(`GANomaly: size must be a multiple of 16 (four stride-2 blocks), got ${c.size}`);
  return c;
}

type Src = { generator: Generator };

/**
 * The reference BasicBlock: a strided 4×4 conv (down) or transposed conv (up), BN2d, ReLU;
 * depth − 1 extra [3×3 conv, BN2d, ReLU] after it (down, at the output width) or before it
 * (up, at the input width); `last` drops the final BN and ReLU.
 */
export class BasicBlock extends Module {
  readonly model: Sequential;

  constructor(inC: number, outC: number, depth: number, kind: 'down' | 'up', last: boolean, src: Src) {
    super();
    const layers: Module[] = [];
    const extra = (c: number) => [new Conv2d(c, c, 3, { padding: 1, bias: false, ...src }), new BatchNorm2d(c), new ReLU()];
    if (kind === 'down') {
      layers.push(new Conv2d(inC, outC, 4, { stride: 2, padding: 1, bias: false, ...src }), new BatchNorm2d(outC), new ReLU());
      for (let i = 1; i < depth; i++) layers.push(...extra(outC));
    } else {
      for (let i = 1; i < depth; i++) layers.push(...extra(inC));
      layers.push(new ConvTranspose2d(inC, outC, 4, { stride: 2, padding: 1, bias: false, ...src }), new BatchNorm2d(outC), new ReLU());
    }
    if (last) layers.splice(layers.length - 2, 2);
    this.model = this.registerModule('model', new Sequential(...layers));
  }

  forward(x: Tensor): Tensor {
    return this.model.forward(x);
  }
}

function widths(c: GanomalyNetConfig): number[] {
  const w = c.width * c.expansion;
  return [w, 2 * w, 4 * w, 4 * w];
}

/** The four strided conv blocks shared by the encoders and the discriminator. */
abstract class ConvTrunk extends Module {
  readonly blocks: BasicBlock[] = [];

  protected buildTrunk(c: GanomalyNetConfig, src: Src): number {
    let cin = c.inChannels;
    widths(c).forEach((cout, i) => {
      this.blocks.push(this.registerModule(`en_block${i + 1}`, new BasicBlock(cin, cout, c.depth, 'down', false, src)));
      cin = cout;
    });
    const fm = c.size / 16;
    return cin * fm * fm; // flattened size of the last block's output
  }

  protected trunk(x: Tensor, c: GanomalyNetConfig): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== c.inChannels || x.shape[2] !== c.size || x.shape[3] !== c.size) {
      throw new Error(`GANomaly: expected input [B, ${c.inChannels}, ${c.size}, ${c.size}], got [${x.shape.join(', ')}]`);
    }
    for (const b of this.blocks) x = b.forward(x);
    return x.flatten(1);
  }
}

/** E1–E4, flatten, Linear(64·fm² → h) – ReLU – Linear(h → ls). */
export class GanomalyEncoder extends ConvTrunk {
  readonly linearEnc: Sequential;

  constructor(
    readonly config: GanomalyNetConfig,
    src: Src,
  ) {
    super();
    const flat = this.buildTrunk(config, src);
    this.linearEnc = this.registerModule('linear_enc', new Sequential(new Linear(flat, config.hidden, src), new ReLU(), new Linear(config.hidden, config.latent, src)));
  }

  forward(x: Tensor): Tensor {
    return this.linearEnc.forward(this.trunk(x, this.config));
  }
}

/** Linear(ls → h) – ReLU – Linear(h → 64·fm²), reshape, D1–D4 (linear output). */
export class GanomalyDecoder extends Module {
  readonly linearDec: Sequential;
  readonly blocks: BasicBlock[] = [];
  private readonly fm: number;
  private readonly channels: number;

  constructor(
    readonly config: GanomalyNetConfig,
    src: Src,
  ) {
    super();
    const ws = widths(config);
    this.fm = config.size / 16;
    this.channels = ws[3];
    this.linearDec = this.registerModule(
      'linear_dec',
      new Sequential(new Linear(config.latent, config.hidden, src), new ReLU(), new Linear(config.hidden, this.channels * this.fm * this.fm, src)),
    );
    const chain = [ws[3], ws[2], ws[1], ws[0], config.inChannels];
    for (let b = 0; b < 4; b++) {
      this.blocks.push(this.registerModule(`de_block${b + 1}`, new BasicBlock(chain[b], chain[b + 1], config.depth, 'up', b === 3, src)));
    }
  }

  forward(z: Tensor): Tensor {
    let x = this.linearDec.forward(z).reshape([-1, this.channels, this.fm, this.fm]);
    for (const b of this.blocks) x = b.forward(x);
    return x;
  }
}

export interface GanomalyGeneratorOutput {
  xHat: Tensor;
  z: Tensor;
  zHat: Tensor;
}

/** G: z = Enc1(x); x̂ = Dec(z); ẑ = Enc2(x̂). */
export class GanomalyGenerator extends Module {
  readonly encoder1: GanomalyEncoder;
  readonly decoder: GanomalyDecoder;
  readonly encoder2: GanomalyEncoder;

  constructor(config: GanomalyNetConfig, src: Src) {
    super();
    this.encoder1 = this.registerModule('encoder1', new GanomalyEncoder(config, src));
    this.decoder = this.registerModule('decoder', new GanomalyDecoder(config, src));
    this.encoder2 = this.registerModule('encoder2', new GanomalyEncoder(config, src));
  }

  forward(x: Tensor): GanomalyGeneratorOutput {
    const z = this.encoder1.forward(x);
    const xHat = this.decoder.forward(z);
    return { xHat, z, zHat: this.encoder2.forward(xHat) };
  }
}

export interface DiscriminatorOutput {
  /** P(real) per sample, [B]. */
  pred: Tensor;
  /** Penultimate features [B, h]. */
  features: Tensor;
}

/** D: E1–E4, flatten, features = Linear(64·fm² → h) – ReLU, then Linear(h → 1) – Sigmoid. */
export class GanomalyDiscriminator extends ConvTrunk {
  readonly features: Sequential;
  readonly classifier: Sequential;

  constructor(
    readonly config: GanomalyNetConfig,
    src: Src,
  ) {
    super();
    const flat = this.buildTrunk(config, src);
    this.features = this.registerModule('features', new Sequential(new Linear(flat, config.hidden, src), new ReLU()));
    this.classifier = this.registerModule('classifier', new Sequential(new Linear(config.hidden, 1, src), new Sigmoid()));
  }

  forward(x: Tensor): DiscriminatorOutput {
    const features = this.features.forward(this.trunk(x, this.config));
    return { pred: this.classifier.forward(features).reshape([-1]), features };
  }

  /**
   * The reference's re-initialisation (weights_init applied to netd): every conv weight
   * ~ N(0, 0.02), every BN weight ~ N(1, 0.02) and bias 0; Linear layers are left alone.
   */
  reinitialize(generator: Generator): void {
    for (const m of this.modules()) {
      if (m instanceof Conv2d || m instanceof ConvTranspose2d) init.normal(m.weight, 0, 0.02, { generator });
      else if (m instanceof BatchNorm2d) {
        if (m.weight) init.normal(m.weight, 1, 0.02, { generator });
        if (m.bias) init.zeros(m.bias);
      }
    }
  }
}

/** The pair the method trains: netg and netd (names as in the reference's Ganomaly module). */
export class Ganomaly extends Module {
  readonly config: GanomalyNetConfig;
  readonly netg: GanomalyGenerator;
  readonly netd: GanomalyDiscriminator;

  constructor(opts: GanomalyNetOptions = {}) {
    super();
    this.config = ganomalyConfig(opts);
    const src = { generator: resolveGenerator(opts) };
    this.netg = this.registerModule('netg', new GanomalyGenerator(this.config, src));
    this.netd = this.registerModule('netd', new GanomalyDiscriminator(this.config, src));
  }

  forward(x: Tensor): GanomalyGeneratorOutput {
    return this.netg.forward(x);
  }
}
