// The MedIAnomaly unified autoencoder (methods.md §4.1): four strided 4×4 conv blocks, an MLP
// bottleneck (Linear–BN1d–ReLU–Linear each way) and a mirrored transposed-conv decoder whose
// last layer has no BN and no activation (the output is linear: quirk aeLinearOutput).
//
// Parameter names match PyTorch's module in scripts/torch_ae_step.py (enc.*,
// enc_mlp.*, dec_mlp.*, dec.*), so its state dicts load unchanged. With depth > 1 the extra
// 3×3 layers continue the same flat numbering inside `enc` / `dec`.
//
// The four stages run through forwardLayers (nn/layers/eval-fusion.ts): in eval mode under
// noGrad each 4×4 block with its BN and ReLU is one conv2dEval call and each MLP linear with
// its BN1d and ReLU one linearEval call (within a float32 bound of the layers one by one);
// with a graph, or in train mode, the layers run as usual.
import type { Tensor } from '../engine/index.js';
import { resolveGenerator, type RandomSource } from '../nn/init.js';
import { BatchNorm1d, BatchNorm2d } from '../nn/layers/norm.js';
import { Conv2d, ConvTranspose2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { ReLU } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/container.js';
import { forwardLayers } from '../nn/layers/eval-fusion.js';
import { Module } from '../nn/module.js';

export interface UnifiedAEOptions extends RandomSource {
  /** Input image channels (1; 3 for Camelyon16). */
  inChannels?: number;
  /** Input side s; must be a multiple of 16 (the bottleneck grid is s/16). */
  size?: number;
  /** Latent size ls (decoder MLP input). */
  latent?: number;
  /** Hidden width h of both MLPs. */
  hidden?: number;
  /** Base width w: block widths are w·e, 2w·e, 4w·e, 4w·e. */
  width?: number;
  /** Expansion e. */
  expansion?: number;
  /** Layers per block (d − 1 extra 3×3 conv layers per block when d > 1). */
  depth?: number;
  /** Output channels of the last layer (2·inChannels for AE-U). Default inChannels. */
  outChannels?: number;
  /** Width of the encoder MLP's output (2·latent for the VAE). Default latent. */
  encoderOutputs?: number;
}

export interface UnifiedAEConfig {
  inChannels: number;
  size: number;
  latent: number;
  hidden: number;
  width: number;
  expansion: number;
  depth: number;
  outChannels: number;
  encoderOutputs: number;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`UnifiedAE: ${name} must be a positive integer, got ${v}`);
  return v;
}

export class UnifiedAE extends Module {
  readonly config: UnifiedAEConfig;
  /** Side of the bottleneck feature map (s/16). */
  readonly fm: number;
  /** Channels of the bottleneck feature map (4w·e). */
  readonly fmChannels: number;
  readonly enc: Sequential;
  readonly encMlp: Sequential;
  readonly decMlp: Sequential;
  readonly dec: Sequential;

  constructor(opts: UnifiedAEOptions = {}) {
    super();
    const inChannels = positiveInt('inChannels', opts.inChannels ?? 1);
    const c: UnifiedAEConfig = {
      inChannels,
      size: positiveInt('size', opts.size ?? 64),
      latent: positiveInt('latent', opts.latent ?? 16),
      hidden: positiveInt('hidden', opts.hidden ?? 1024),
      width: positiveInt('width', opts.width ?? 16),
      expansion: positiveInt('expansion', opts.expansion ?? 1),
      depth: positiveInt('depth', opts.depth ?? 1),
      outChannels: positiveInt('outChannels', opts.outChannels ?? inChannels),
      encoderOutputs: positiveInt('encoderOutputs', opts.encoderOutputs ?? opts.latent ?? 16),
    };
    if (c.size % 16) throw new Error(`UnifiedAE: size must be a multiple of 16 (four stride-2 blocks), got ${c.size}`);
    this.config = c;
    this.fm = c.size / 16;
    const g = resolveGenerator(opts);
    const src = { generator: g };
    const w = c.width * c.expansion;
    const widths = [w, 2 * w, 4 * w, 4 * w];
    this.fmChannels = widths[3];
    const flat = this.fmChannels * this.fm * this.fm;

    // Encoder: per block a strided conv, then depth−1 3×3 convs at the block's output width.
    const enc = new Sequential();
    let cin = c.inChannels;
    for (const cout of widths) {
      enc.append(new Conv2d(cin, cout, 4, { stride: 2, padding: 1, bias: false, ...src })).append(new BatchNorm2d(cout)).append(new ReLU());
      for (let i = 1; i < c.depth; i++) {
        enc.append(new Conv2d(cout, cout, 3, { padding: 1, bias: false, ...src })).append(new BatchNorm2d(cout)).append(new ReLU());
      }
      cin = cout;
    }
    this.enc = this.registerModule('enc', enc);
    this.encMlp = this.registerModule(
      'enc_mlp',
      new Sequential(new Linear(flat, c.hidden, src), new BatchNorm1d(c.hidden), new ReLU(), new Linear(c.hidden, c.encoderOutputs, src)),
    );
    this.decMlp = this.registerModule(
      'dec_mlp',
      new Sequential(new Linear(c.latent, c.hidden, src), new BatchNorm1d(c.hidden), new ReLU(), new Linear(c.hidden, flat, src)),
    );

    // Decoder: per block depth−1 3×3 convs at the block's input width, then the transposed
    // conv; the last block keeps its extra layers' BN/ReLU but ends linear.
    const dec = new Sequential();
    const decWidths = [widths[3], widths[2], widths[1], widths[0], c.outChannels];
    for (let b = 0; b < 4; b++) {
      const bin = decWidths[b];
      const bout = decWidths[b + 1];
      for (let i = 1; i < c.depth; i++) {
        dec.append(new Conv2d(bin, bin, 3, { padding: 1, bias: false, ...src })).append(new BatchNorm2d(bin)).append(new ReLU());
      }
      dec.append(new ConvTranspose2d(bin, bout, 4, { stride: 2, padding: 1, bias: false, ...src }));
      if (b < 3) dec.append(new BatchNorm2d(bout)).append(new ReLU());
    }
    this.dec = this.registerModule('dec', dec);
  }

  /** x [B, inChannels, s, s] → the encoder MLP's output [B, encoderOutputs] (z for the plain AE). */
  encode(x: Tensor): Tensor {
    const { inChannels, size } = this.config;
    if (x.ndim !== 4 || x.shape[1] !== inChannels || x.shape[2] !== size || x.shape[3] !== size) {
      throw new Error(`UnifiedAE: expected input [B, ${inChannels}, ${size}, ${size}], got [${x.shape.join(', ')}]`);
    }
    return forwardLayers([...this.encMlp], forwardLayers([...this.enc], x).flatten(1));
  }

  /** z [B, latent] → reconstruction [B, outChannels, s, s]. */
  decode(z: Tensor): Tensor {
    if (z.ndim !== 2 || z.shape[1] !== this.config.latent) {
      throw new Error(`UnifiedAE.decode: expected z [B, ${this.config.latent}], got [${z.shape.join(', ')}]`);
    }
    return forwardLayers([...this.dec], forwardLayers([...this.decMlp], z).reshape([-1, this.fmChannels, this.fm, this.fm]));
  }

  forward(x: Tensor): Tensor {
    return this.decode(this.encode(x));
  }

  protected override extraRepr(): string {
    return JSON.stringify(this.config);
  }
}
