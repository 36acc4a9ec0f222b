// The trainable networks of reverse distillation (RD4AD, Deng & Li, CVPR 2022), as
// hq-deng/RD4AD builds them (`resnet.py` BN_layer, `de_resnet.py` de_wide_resnet50_2 /
// de_resnet18), with its state-dict names so that its checkpoints load:
//
// OCBE (`BN_layer`; the `bn` entry of a checkpoint): multi-scale feature fusion of the
// teacher's layer1..layer3 maps E1, E2, E3 (e = block expansion: 4 for wide_resnet50_2, 1 for
// resnet18)
//   f1 = relu(bn2(conv2(relu(bn1(conv1(E1))))))   conv1 3×3/2 64e→128e, conv2 3×3/2 128e→256e
//   f2 = relu(bn3(conv3(E2)))                     conv3 3×3/2 128e→256e
//   bn_layer(concat(f1, f2, E3))                  one-class embedding: torchvision blocks of
//                                                 planes 512, the first stride 2 with a 1×1/2
//                                                 conv + BN shortcut from 3·256e channels
// bn_layer is 3 Bottlenecks for wide_resnet50_2 (bottleneck width 512·128/64 = 1024 in the
// official code; anomalib's OCBE omits width_per_group, width 512: the `width: 'anomalib'`
// choice) and 2 BasicBlocks for resnet18 (the same in both code bases). conv4 (1×1 1024e→512e)
// and bn4 are built, saved and handed to the optimiser but never used (the official code has
// them; they take no gradient).
//
// Decoder (`de_resnet.py`; the `decoder` entry): a ResNet run backwards from the embedding,
// stages layer1..layer3 of planes 256, 128, 64 (block counts 3, 4, 6 with Bottlenecks of
// width_per_group 128 for wide_resnet50_2; 2, 2, 2 BasicBlocks for resnet18). The first
// block of each stage doubles the resolution: its 3×3 conv (Bottleneck conv2, BasicBlock
// conv1) is a bias-free ConvTranspose 2×2/2 and its shortcut `upsample` is ConvTranspose
// 2×2/2 + BN. The outputs are returned shallow → deep, [layer3, layer2, layer1], to be
// matched with the teacher's [E1, E2, E3].
//
// Initialisation, as the official code: Conv2d weights Kaiming-normal (fan_out, ReLU gain),
// BN weight 1 and bias 0; ConvTranspose2d keeps PyTorch's default initialisation (the
// official init loop tests isinstance(m, nn.Conv2d), which ConvTranspose2d is not).
// Parameter counts (wide_resnet50_2): OCBE 67,277,824 official / 39,222,272 anomalib, both
// with conv4/bn4 (8,392,704); decoder 24,917,504.
import { concat, relu, type Generator, type Tensor } from '../engine/index.js';
import { kaimingNormal } from '../nn/init.js';
import { Conv2d, ConvTranspose2d } from '../nn/layers/conv.js';
import { BatchNorm2d } from '../nn/layers/norm.js';
import { Sequential } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import { BasicBlock, Bottleneck, bnRelu, NO_INIT } from './backbones/resnet.js';

export type RdBackbone = 'wide_resnet50_2' | 'resnet18';

/** The teacher layers whose maps OCBE fuses and the decoder reconstructs. */
export const RD_LAYERS = ['layer1', 'layer2', 'layer3'] as const;

interface RdArch {
  block: 'basic' | 'bottleneck';
  expansion: number;
  /** Decoder blocks per stage (layer1, layer2, layer3). */
  decoderBlocks: [number, number, number];
  /** OCE blocks. */
  oceBlocks: number;
  /** width_per_group of the decoder and (official) of the OCE blocks. */
  widthPerGroup: number;
}

const ARCHS: Record<RdBackbone, RdArch> = {
  wide_resnet50_2: { block: 'bottleneck', expansion: 4, decoderBlocks: [3, 4, 6], oceBlocks: 3, widthPerGroup: 128 },
  resnet18: { block: 'basic', expansion: 1, decoderBlocks: [2, 2, 2], oceBlocks: 2, widthPerGroup: 64 },
};

function archOf(where: string, arch: RdBackbone): RdArch {
  const a = (ARCHS as Partial<Record<string, RdArch>>)[arch];
  if (!a) throw new RangeError(`${where}: backbone must be one of ${Object.keys(ARCHS).join(', ')}, got ${JSON.stringify(arch)}`);
  return a;
}

/** Channels of the teacher maps [E1, E2, E3] (and of the decoder outputs) for `arch`. */
export function rdChannels(arch: RdBackbone): [number, number, number] {
  const e = archOf('rdChannels', arch).expansion;
  return [64 * e, 128 * e, 256 * e];
}

/** Channels of the embedding (OCBE output, decoder input): 512·expansion at 1/32 of the image. */
export function rdEmbeddingChannels(arch: RdBackbone): number {
  return 512 * archOf('rdEmbeddingChannels', arch).expansion;
}

const conv3x3 = (i: number, o: number, stride = 1): Conv2d => new Conv2d(i, o, 3, { stride, padding: 1, bias: false, ...NO_INIT });
const conv1x1 = (i: number, o: number, stride = 1): Conv2d => new Conv2d(i, o, 1, { stride, bias: false, ...NO_INIT });
const deconv2x2 = (i: number, o: number, g: Generator): ConvTranspose2d => new ConvTranspose2d(i, o, 2, { stride: 2, bias: false, generator: g });

/** The official init loop: Kaiming-normal fan_out on every Conv2d in module order (BN is already 1/0). */
function kaimingConvs(net: Module, g: Generator): void {
  for (const [, m] of net.namedModules()) {
    if (m instanceof Conv2d) kaimingNormal(m.weight, { mode: 'fan_out', nonlinearity: 'relu', generator: g });
  }
}

export interface OCBEOptions {
  /** Bottleneck width of the wide_resnet50_2 OCE blocks: 'official' 1024 (default), 'anomalib' 512. No effect for resnet18. */
  width?: 'official' | 'anomalib';
  generator: Generator;
  /** false: skip the Kaiming draws (convs stay zero) for values loaded next; default true. */
  init?: boolean;
}

/** Multi-scale feature fusion + one-class embedding (the official `BN_layer`). */
export class OCBE extends Module {
  readonly bn_layer: Sequential;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  /** Built (checkpoint compatibility) but unused, as in the official code. */
  readonly conv4: Conv2d;
  readonly bn4: BatchNorm2d;

  constructor(
    readonly arch: RdBackbone,
    opts: OCBEOptions,
  ) {
    super();
    const a = archOf('OCBE', arch);
    const width = opts.width ?? 'official';
    if (width !== 'official' && width !== 'anomalib') throw new RangeError(`OCBE: width must be 'official' or 'anomalib', got ${JSON.stringify(width)}`);
    const e = a.expansion;
    const wpg = width === 'official' ? a.widthPerGroup : 64;
    // Registered in the official order (bn_layer is made before conv1), which is the state-dict order.
    const planes = 512;
    const inplanes = 3 * 256 * e;
    const seq = new Sequential();
    const downsample = new Sequential(conv1x1(inplanes, planes * e, 2), new BatchNorm2d(planes * e));
    for (let i = 0; i < a.oceBlocks; i++) {
      const inC = i === 0 ? inplanes : planes * e;
      const s = i === 0 ? 2 : 1;
      const ds = i === 0 ? downsample : null;
      seq.append(a.block === 'basic' ? new BasicBlock(inC, planes, s, ds, NO_INIT) : new Bottleneck(inC, planes, s, ds, wpg, NO_INIT));
    }
    this.bn_layer = this.registerModule('bn_layer', seq);
    this.conv1 = this.registerModule('conv1', conv3x3(64 * e, 128 * e, 2));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(128 * e));
    this.conv2 = this.registerModule('conv2', conv3x3(128 * e, 256 * e, 2));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(256 * e));
    this.conv3 = this.registerModule('conv3', conv3x3(128 * e, 256 * e, 2));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(256 * e));
    this.conv4 = this.registerModule('conv4', conv1x1(1024 * e, 512 * e));
    this.bn4 = this.registerModule('bn4', new BatchNorm2d(512 * e));
    if (opts.init !== false) kaimingConvs(this, opts.generator);
  }

  /** [E1, E2, E3] → the embedding [B, 512e, S/32, S/32]. */
  forward(feats: readonly [Tensor, Tensor, Tensor]): Tensor {
    if (!Array.isArray(feats) || feats.length !== 3) throw new TypeError('OCBE.forward: expects the three teacher maps [E1, E2, E3]');
    const [e1, e2, e3] = feats;
    const f1 = bnRelu(this.bn2, this.conv2.forward(bnRelu(this.bn1, this.conv1.forward(e1))));
    const f2 = bnRelu(this.bn3, this.conv3.forward(e2));
    return this.bn_layer.forward(concat([f1, f2, e3], 1));
  }
}

/** de_resnet's Bottleneck: the 3×3 conv is a ConvTranspose 2×2/2 when the block upsamples. */
export class DecoderBottleneck extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d | ConvTranspose2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly upsample: Sequential | null;

  constructor(inplanes: number, planes: number, stride: 1 | 2, upsample: Sequential | null, widthPerGroup: number, g: Generator) {
    super();
    const width = Math.trunc(planes * (widthPerGroup / 64));
    this.conv1 = this.registerModule('conv1', conv1x1(inplanes, width));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.conv2 = this.registerModule('conv2', stride === 2 ? deconv2x2(width, width, g) : conv3x3(width, width));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(width));
    this.conv3 = this.registerModule('conv3', conv1x1(width, planes * 4));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(planes * 4));
    this.upsample = this.registerModule('upsample', upsample);
  }

  forward(x: Tensor): Tensor {
    let out = bnRelu(this.bn1, this.conv1.forward(x));
    out = bnRelu(this.bn2, this.conv2.forward(out));
    out = this.bn3.forward(this.conv3.forward(out));
    const identity = this.upsample ? this.upsample.forward(x) : x;
    return relu(out.add(identity));
  }
}

/** de_resnet's BasicBlock: conv1 is a ConvTranspose 2×2/2 when the block upsamples. */
export class DecoderBasicBlock extends Module {
  readonly conv1: Conv2d | ConvTranspose2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly upsample: Sequential | null;

  constructor(inplanes: number, planes: number, stride: 1 | 2, upsample: Sequential | null, g: Generator) {
    super();
    this.conv1 = this.registerModule('conv1', stride === 2 ? deconv2x2(inplanes, planes, g) : conv3x3(inplanes, planes));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', conv3x3(planes, planes));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.upsample = this.registerModule('upsample', upsample);
  }

  forward(x: Tensor): Tensor {
    let out = bnRelu(this.bn1, this.conv1.forward(x));
    out = this.bn2.forward(this.conv2.forward(out));
    const identity = this.upsample ? this.upsample.forward(x) : x;
    return relu(out.add(identity));
  }
}

export interface ReverseDecoderOptions {
  generator: Generator;
  /** false: skip the Conv2d Kaiming draws (they stay zero) for values loaded next; ConvTranspose2d still draws its default init. Default true. */
  init?: boolean;
}

/** The student decoder (de_wide_resnet50_2 / de_resnet18). */
export class ReverseDecoder extends Module {
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;

  constructor(
    readonly arch: RdBackbone,
    opts: ReverseDecoderOptions,
  ) {
    super();
    const a = archOf('ReverseDecoder', arch);
    const g = opts.generator;
    const e = a.expansion;
    let inplanes = 512 * e;
    // ConvTranspose2d draws its default init as it is built (PyTorch order); the Conv2d
    // Kaiming draws follow, over the finished module tree.
    const makeLayer = (planes: number, blocks: number): Sequential => {
      const seq = new Sequential();
      const upsample = new Sequential(deconv2x2(inplanes, planes * e, g), new BatchNorm2d(planes * e));
      for (let i = 0; i < blocks; i++) {
        const inC = i === 0 ? inplanes : planes * e;
        const s = i === 0 ? 2 : 1;
        const up = i === 0 ? upsample : null;
        seq.append(a.block === 'basic' ? new DecoderBasicBlock(inC, planes, s, up, g) : new DecoderBottleneck(inC, planes, s, up, a.widthPerGroup, g));
      }
      inplanes = planes * e;
      return seq;
    };
    this.layer1 = this.registerModule('layer1', makeLayer(256, a.decoderBlocks[0]));
    this.layer2 = this.registerModule('layer2', makeLayer(128, a.decoderBlocks[1]));
    this.layer3 = this.registerModule('layer3', makeLayer(64, a.decoderBlocks[2]));
    if (opts.init !== false) kaimingConvs(this, g);
  }

  /** Embedding → [D1, D2, D3] shaped as the teacher's [E1, E2, E3] (i.e. [layer3, layer2, layer1] outputs). */
  forward(z: Tensor): [Tensor, Tensor, Tensor] {
    const a = this.layer1.forward(z);
    const b = this.layer2.forward(a);
    const c = this.layer3.forward(b);
    return [c, b, a];
  }
}
