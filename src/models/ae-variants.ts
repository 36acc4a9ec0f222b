// Variants of the unified AE (methods.md §4.2) that change its bottleneck: AE-Spatial
// (1×1 convolutions on the fm × fm grid instead of the MLPs) and MemAE (a memory between z
// and the decoder MLP). AE-U and the VAE only change widths and are UnifiedAE options.
//
// State-dict names follow UnifiedAE's (enc.*, enc_mlp.*, dec_mlp.*, dec.*) so that every
// AE-family checkpoint reads the same way; MemAE adds memory.weight (25 × ls).
import { abs, clamp, div, linear, mul, relu, softmax, sub, sum, Tensor } from '../engine/index.js';
import { resolveGenerator, type RandomSource } from '../nn/init.js';
import * as init from '../nn/init.js';
import { BatchNorm2d } from '../nn/layers/norm.js';
import { Conv2d, ConvTranspose2d } from '../nn/layers/conv.js';
import { ReLU } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import { UnifiedAE, type UnifiedAEOptions } from './unified-ae.js';

function positiveInt(where: string, name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${where}: ${name} must be a positive integer, got ${v}`);
  return v;
}

export interface SpatialAEOptions extends RandomSource {
  inChannels?: number;
  size?: number;
  /** Channels of z on the fm × fm grid. */
  latent?: number;
  /** Channels of the 1×1 hidden layer. */
  hidden?: number;
  width?: number;
  expansion?: number;
  depth?: number;
}

/**
 * AE-Spatial: the unified AE's convolutional encoder and decoder around a bias-free 1×1
 * convolution bottleneck, Conv1×1(4w·e → h)–BN2d–ReLU–Conv1×1(h → ls) and back, so z is
 * [B, ls, s/16, s/16]. 382,016 parameters at the reference setting.
 */
export class SpatialAE extends Module {
  readonly config: Required<Omit<SpatialAEOptions, keyof RandomSource>>;
  readonly fm: number;
  readonly enc: Sequential;
  readonly encMlp: Sequential;
  readonly decMlp: Sequential;
  readonly dec: Sequential;

  constructor(opts: SpatialAEOptions = {}) {
    super();
    const w = 'SpatialAE';
    const c = {
      inChannels: positiveInt(w, 'inChannels', opts.inChannels ?? 1),
      size: positiveInt(w, 'size', opts.size ?? 64),
      latent: positiveInt(w, 'latent', opts.latent ?? 16),
      hidden: positiveInt(w, 'hidden', opts.hidden ?? 1024),
      width: positiveInt(w, 'width', opts.width ?? 16),
      expansion: positiveInt(w, 'expansion', opts.expansion ?? 1),
      depth: positiveInt(w, 'depth', opts.depth ?? 1),
    };
    if (c.size % 16) throw new Error(`SpatialAE: size must be a multiple of 16 (four stride-2 blocks), got ${c.size}`);
    this.config = c;
    this.fm = c.size / 16;
    const src = { generator: resolveGenerator(opts) };
    const base = c.width * c.expansion;
    const widths = [base, 2 * base, 4 * base, 4 * base];
    const conv3 = (ch: number) => [new Conv2d(ch, ch, 3, { padding: 1, bias: false, ...src }), new BatchNorm2d(ch), new ReLU()];
    const conv1 = (i: number, o: number) => new Conv2d(i, o, 1, { bias: false, ...src });

    // Same layer order (hence names and initialisation order) as UnifiedAE: enc, enc_mlp, dec_mlp, dec.
    const enc = new Sequential();
    let cin = c.inChannels;
    for (const cout of widths) {
      enc.append(new Conv2d(cin, cout, 4, { stride: 2, padding: 1, bias: false, ...src })).append(new BatchNorm2d(cout)).append(new ReLU());
      for (let i = 1; i < c.depth; i++) for (const l of conv3(cout)) enc.append(l);
      cin = cout;
    }
    this.enc = this.registerModule('enc', enc);
    this.encMlp = this.registerModule('enc_mlp', new Sequential(conv1(widths[3], c.hidden), new BatchNorm2d(c.hidden), new ReLU(), conv1(c.hidden, c.latent)));
    this.decMlp = this.registerModule('dec_mlp', new Sequential(conv1(c.latent, c.hidden), new BatchNorm2d(c.hidden), new ReLU(), conv1(c.hidden, widths[3])));
    const dec = new Sequential();
    const decWidths = [widths[3], widths[2], widths[1], widths[0], c.inChannels];
    for (let b = 0; b < 4; b++) {
      for (let i = 1; i < c.depth; i++) for (const l of conv3(decWidths[b])) dec.append(l);
      dec.append(new ConvTranspose2d(decWidths[b], decWidths[b + 1], 4, { stride: 2, padding: 1, bias: false, ...src }));
      if (b < 3) dec.append(new BatchNorm2d(decWidths[b + 1])).append(new ReLU());
    }
    this.dec = this.registerModule('dec', dec);
  }

  /** x [B, C, s, s] → z [B, ls, fm, fm]. */
  encode(x: Tensor): Tensor {
    const { inChannels, size } = this.config;
    if (x.ndim !== 4 || x.shape[1] !== inChannels || x.shape[2] !== size || x.shape[3] !== size) {
      throw new Error(`SpatialAE: expected input [B, ${inChannels}, ${size}, ${size}], got [${x.shape.join(', ')}]`);
    }
    return this.encMlp.forward(this.enc.forward(x));
  }

  decode(z: Tensor): Tensor {
    return this.dec.forward(this.decMlp.forward(z));
  }

  forward(x: Tensor): Tensor {
    return this.decode(this.encode(x));
  }

  protected override extraRepr(): string {
    return JSON.stringify(this.config);
  }
}

/**
 * MemAE's memory (Gong et al.; methods.md §5.10): `slots` items of size ls, initialised
 * U(±1/√ls). Addressing: w = softmax over slots of z·Mᵀ; hard shrinkage
 * ŵ = ReLU(w − λ)·w / (|w − λ| + 1e-12); ŵ / max(‖ŵ‖₁, 1e-12); read ẑ = ŵ·M.
 */
export class MemoryUnit extends Module {
  readonly weight: Tensor;

  constructor(
    readonly slots: number,
    readonly features: number,
    readonly shrinkThreshold = 0.0025,
    src: RandomSource = {},
  ) {
    super();
    positiveInt('MemoryUnit', 'slots', slots);
    positiveInt('MemoryUnit', 'features', features);
    const bound = 1 / Math.sqrt(features);
    this.weight = this.registerParameter('weight', init.uniform(Tensor.empty([slots, features]), -bound, bound, src));
  }

  /** z [B, ls] → { output ẑ [B, ls], attention ŵ [B, slots] }. */
  forward(z: Tensor): { output: Tensor; attention: Tensor } {
    let att = softmax(linear(z, this.weight), 1);
    if (this.shrinkThreshold > 0) {
      const shifted = sub(att, this.shrinkThreshold);
      att = div(mul(relu(shifted), att), abs(shifted).add(1e-12));
      // F.normalize(p=1): divide by max(‖ŵ‖₁, eps); ŵ ≥ 0 so the L1 norm is the plain sum.
      att = div(att, clamp(sum(att, 1, true), 1e-12));
    }
    return { output: att.matmul(this.weight), attention: att };
  }

  protected override extraRepr(): string {
    return `slots=${this.slots}, features=${this.features}, shrinkThreshold=${this.shrinkThreshold}`;
  }
}

export interface MemAEOptions extends UnifiedAEOptions {
  /** Memory slots (25). */
  slots?: number;
  /** Hard-shrinkage threshold λ (0.0025). */
  shrinkThreshold?: number;
}

/** The unified AE with a memory between z and the decoder MLP (2,351,584 parameters at the reference setting). */
export class MemAE extends UnifiedAE {
  readonly memory: MemoryUnit;

  constructor(opts: MemAEOptions = {}) {
    const src = { generator: resolveGenerator(opts) };
    super({ ...opts, seed: undefined, generator: src.generator });
    this.memory = this.registerModule('memory', new MemoryUnit(opts.slots ?? 25, this.config.latent, opts.shrinkThreshold ?? 0.0025, src));
  }

  /** x → { reconstruction, z, attention }. */
  run(x: Tensor): { reconstruction: Tensor; z: Tensor; attention: Tensor } {
    const z = this.encode(x);
    const m = this.memory.forward(z);
    return { reconstruction: this.decode(m.output), z, attention: m.attention };
  }

  override forward(x: Tensor): Tensor {
    return this.run(x).reconstruction;
  }
}
