// The networks of FAE, the Feature Autoencoder (Meissen et al. 2022; official code
// FeliMe/feature-autoencoder, fae/models/models.py and fae/models/feature_extractor.py):
//
// - the feature extractor: ResNet stages `layer0` (= conv1, bn1, relu, maxpool), `layer1`,
//   `layer2` of a frozen ImageNet backbone, each resized to S/4 × S/4 by bilinear
//   interpolation with align_corners = True and concatenated along channels (resnet18 at
//   128 px: 64 + 64 + 128 = 256 channels at 32 × 32);
// - the convolutional autoencoder on those maps: bias-free convolutions, BatchNorm2d,
//   LeakyReLU (slope 0.01) and Dropout2d after every strided layer, hidden widths
//   [100, 150, 200, 300]; encoder 5 × 5 stride-2 convolutions (padding 2) and a final 5 × 5
//   stride-1 one; decoder 6 × 6 stride-2 transposed convolutions (padding 2) back to the
//   feature channels and a final 1 × 1 convolution. With 256 channels it has 10,285,048
//   parameters; PyTorch's default initialisation.
//
// State names are the official checkpoint's: `ae.enc.encoder_layer_0.encoder_conv_0.weight`,
// `ae.dec.decoder_layer_4.decoder_tconv_4.weight`, `ae.dec.decoder_conv_final.weight`, ...
// The official training runs the backbone's batch norm in training mode (its running
// statistics follow the training images), so the network also holds those statistics:
// `extractor.backbone.layer0.1.running_mean` (torchvision's bn1, inside the official
// `layer0` Sequential), `extractor.backbone.layer1.0.bn1.running_var`, ... — the same tensors
// the backbone reads, so saving and loading the network saves and restores them. Only the
// stages the extractor runs are mirrored; the backbone's weights stay in its own file.
import { concat, interpolate, leakyRelu, type Generator, type Tensor } from '../engine/index.js';
import { Conv2d, ConvTranspose2d } from '../nn/layers/conv.js';
import { Dropout2d } from '../nn/layers/misc.js';
import { BatchNorm2d } from '../nn/layers/norm.js';
import { Module, type StoredDtype } from '../nn/module.js';
import type { BackboneModule } from './backbones/index.js';

/** The backbone stages FAE can read, in forward order (layer0 ends with the max pool). */
export const FAE_LAYERS = ['layer0', 'layer1', 'layer2', 'layer3', 'layer4'] as const;
export type FaeLayer = (typeof FAE_LAYERS)[number];

/** The backbone's own name of a stage's output. */
export const backboneStage = (l: FaeLayer): string => (l === 'layer0' ? 'maxpool' : l);

export interface FeatureAutoencoderOptions {
  /** Feature channels (input and output). */
  channels: number;
  /** Encoder widths; the decoder mirrors them (official [100, 150, 200, 300]). */
  hidden: readonly number[];
  /** Channel dropout after every strided layer (official 0.1; 0 builds no dropout layer, as the official code). */
  dropout: number;
  /** Every initial weight is drawn from this stream; dropout falls back to it when forward gets none. */
  generator: Generator;
}

/** Conv (bias-free) → BatchNorm2d → LeakyReLU(0.01) → Dropout2d, with the official names `<kind>_<i>`. */
class AELayer extends Module {
  readonly conv: Conv2d | ConvTranspose2d;
  readonly norm: BatchNorm2d;
  readonly drop: Dropout2d | null;

  constructor(kind: 'encoder' | 'decoder', i: number, inC: number, outC: number, dropout: number, generator: Generator) {
    super();
    this.conv =
      kind === 'encoder'
        ? this.registerModule(`encoder_conv_${i}`, new Conv2d(inC, outC, 5, { stride: 2, padding: 2, bias: false, generator }))
        : this.registerModule(`decoder_tconv_${i}`, new ConvTranspose2d(inC, outC, 6, { stride: 2, padding: 2, bias: false, generator }));
    this.norm = this.registerModule(`${kind}_norm_${i}`, new BatchNorm2d(outC));
    this.drop = dropout > 0 ? this.registerModule(`${kind}_dropout_${i}`, new Dropout2d(dropout, { generator })) : null;
  }

  forward(x: Tensor, generator?: Generator): Tensor {
    const h = leakyRelu(this.norm.forward(this.conv.forward(x)), 0.01);
    return this.drop ? this.drop.forward(h, generator) : h;
  }
}

class FeatureEncoder extends Module {
  readonly layers: AELayer[] = [];
  readonly final: Conv2d;

  constructor(o: FeatureAutoencoderOptions) {
    super();
    let c = o.channels;
    o.hidden.forEach((h, i) => {
      this.layers.push(this.registerModule(`encoder_layer_${i}`, new AELayer('encoder', i, c, h, o.dropout, o.generator)));
      c = h;
    });
    this.final = this.registerModule('encoder_conv_final', new Conv2d(c, c, 5, { padding: 2, bias: false, generator: o.generator }));
  }

  forward(x: Tensor, generator?: Generator): Tensor {
    for (const l of this.layers) x = l.forward(x, generator);
    return this.final.forward(x);
  }
}

class FeatureDecoder extends Module {
  readonly layers: AELayer[] = [];
  readonly final: Conv2d;

  constructor(o: FeatureAutoencoderOptions) {
    super();
    const dims = [o.channels, ...o.hidden];
    for (let i = dims.length - 1; i > 0; i--) {
      this.layers.push(this.registerModule(`decoder_layer_${i}`, new AELayer('decoder', i, dims[i], dims[i - 1], o.dropout, o.generator)));
    }
    this.final = this.registerModule('decoder_conv_final', new Conv2d(o.channels, o.channels, 1, { bias: false, generator: o.generator }));
  }

  forward(x: Tensor, generator?: Generator): Tensor {
    for (const l of this.layers) x = l.forward(x, generator);
    return this.final.forward(x);
  }
}

/** The official FeatureAutoencoder: `enc` then `dec`. */
export class FeatureAutoencoder extends Module {
  readonly enc: FeatureEncoder;
  readonly dec: FeatureDecoder;

  constructor(readonly opts: FeatureAutoencoderOptions) {
    super();
    const { channels, hidden, dropout } = opts;
    if (!Number.isInteger(channels) || channels < 1) throw new RangeError(`FeatureAutoencoder: channels must be a positive integer, got ${channels}`);
    if (!hidden.length || hidden.some((h) => !Number.isInteger(h) || h < 1)) throw new RangeError(`FeatureAutoencoder: hidden widths must be positive integers, got [${hidden.join(', ')}]`);
    if (!(dropout >= 0 && dropout < 1)) throw new RangeError(`FeatureAutoencoder: dropout must lie in [0, 1), got ${dropout}`);
    this.enc = this.registerModule('enc', new FeatureEncoder(opts));
    this.dec = this.registerModule('dec', new FeatureDecoder(opts));
  }

  /** Reconstruction of feature maps [B, C, h, w] (h, w multiples of 2^hidden.length); dropout draws from `generator` when given. */
  forward(x: Tensor, generator?: Generator): Tensor {
    return this.dec.forward(this.enc.forward(x, generator), generator);
  }
}

/** Plain modules that hold other modules' buffers under chosen dotted names (saved, never run). */
class BufferMirror extends Module {
  private readonly kids = new Map<string, BufferMirror>();

  /** Registers `tensor` (the live tensor, not a copy) under the dotted `path`. */
  add(path: string, tensor: Tensor, dtype: StoredDtype): void {
    const parts = path.split('.');
    let node: BufferMirror = this;
    for (const p of parts.slice(0, -1)) {
      let next = node.kids.get(p);
      if (!next) {
        next = node.registerModule(p, new BufferMirror());
        node.kids.set(p, next);
      }
      node = next;
    }
    node.registerBuffer(parts[parts.length - 1], tensor, { dtype });
  }

  forward(): never {
    throw new Error('BufferMirror holds state only');
  }
}

/**
 * The batch-norm running statistics of the backbone stages that `layers` runs, under the
 * official names (`backbone.layer0.1.*` for torchvision's bn1, `backbone.layer1.0.bn1.*`, ...).
 */
export function backboneStatsMirror(backbone: BackboneModule, layers: readonly FaeLayer[]): Module {
  const deepest = Math.max(...layers.map((l) => FAE_LAYERS.indexOf(l)));
  const stages = new Set(FAE_LAYERS.slice(1, deepest + 1) as readonly string[]);
  const mirror = new BufferMirror();
  for (const e of backbone.stateEntries()) {
    if (e.kind !== 'buffer') continue;
    const top = e.name.slice(0, e.name.indexOf('.'));
    if (top === 'bn1') mirror.add(`backbone.layer0.1${e.name.slice(3)}`, e.tensor, e.dtype);
    else if (stages.has(top)) mirror.add(`backbone.${e.name}`, e.tensor, e.dtype);
  }
  return mirror;
}

/** What the FAE method trains and saves: the autoencoder `ae`, and `extractor` (the backbone's running statistics) when given. */
export class FaeNetwork extends Module {
  readonly ae: FeatureAutoencoder;
  readonly extractor: Module | null;

  constructor(opts: FeatureAutoencoderOptions, extractorState: Module | null) {
    super();
    this.ae = this.registerModule('ae', new FeatureAutoencoder(opts));
    this.extractor = this.registerModule('extractor', extractorState);
  }

  forward(x: Tensor, generator?: Generator): Tensor {
    return this.ae.forward(x, generator);
  }
}

/**
 * The official feature extractor on backbone input [B, 3, S, S] (already scaled), in the
 * backbone's current mode and the current grad mode: the stages of `layers` resized to
 * side/4 (bilinear, align_corners true) and concatenated along channels.
 */
export function extractFeatures(backbone: BackboneModule, input: Tensor, layers: readonly FaeLayer[]): Tensor {
  const side = input.shape[2] / 4;
  const maps = backbone.run(input, layers.map(backboneStage));
  const parts = layers.map((l) => {
    const m = maps[backboneStage(l)];
    // Same size: align_corners = True resamples to the identical values; skip the copy.
    return m.shape[2] === side && m.shape[3] === side ? m : interpolate(m, { size: [side, side], mode: 'bilinear', alignCorners: true });
  });
  return parts.length === 1 ? parts[0] : concat(parts, 1);
}

/** Channels of the concatenated features for a backbone's layer list. */
export function featureChannels(backbone: { layers: readonly { name: string; channels: number }[] }, layers: readonly FaeLayer[]): number {
  return layers.reduce((c, l) => c + backbone.layers.find((b) => b.name === backboneStage(l))!.channels, 0);
}
