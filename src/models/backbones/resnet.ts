// torchvision's ResNet18 and Wide ResNet-50-2 as feature extractors, with torchvision's layer
// structure and state-dict names (`conv1.weight`, `bn1.running_mean`, `layer1.0.conv1.weight`,
// `layer2.0.downsample.0.weight`, `bn1.num_batches_tracked`, ...). The classifier `fc` is not
// built: features end at the global average pool (see index.ts for how a file's `fc.*` is
// treated).
//
// torchvision.models.resnet: conv1 7×7/2 (pad 3, no bias) → bn1 → relu → maxpool 3×3/2 (pad 1)
// → layer1..layer4 (_make_layer; the first block of a layer has stride 1, 2, 2, 2 and a 1×1
// conv + BN downsample when the stride or width changes) → avgpool (adaptive, 1×1).
// BasicBlock (expansion 1): conv3×3(stride) bn relu conv3×3 bn (+identity) relu.
// Bottleneck (expansion 4): conv1×1 bn relu conv3×3(stride) bn relu conv1×1 bn (+identity) relu,
// inner width = planes·(width_per_group/64) (×2 for the wide variant).
import { add, adaptiveAvgPool2d, isGradEnabled, relu, type Tensor } from '../../engine/index.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { BatchNorm2d } from '../../nn/layers/norm.js';
import { MaxPool2d } from '../../nn/layers/pooling.js';
import { Sequential } from '../../nn/layers/container.js';
import { Module } from '../../nn/module.js';
import { BackboneModule, type BackboneLayer } from './base.js';

/** bn(x) then ReLU: one fused kernel in eval mode, in place over x (a fresh conv output) when no graph is recorded. */
export function bnRelu(bn: BatchNorm2d, x: Tensor, freshInput = true): Tensor {
  if (bn.fusableWithRelu) return bn.forwardRelu(x, freshInput && !isGradEnabled());
  return relu(bn.forward(x));
}

/** Convs are built without PyTorch's default initialisation: backbones.create loads or initialises every value. */
export const NO_INIT = { init: false } as const;
type NoInit = typeof NO_INIT;

export interface ResNetArch {
  block: 'basic' | 'bottleneck';
  layers: [number, number, number, number];
  /** torchvision's width_per_group (64; 128 for the wide variants). */
  widthPerGroup: number;
}

export const RESNET_ARCHS = {
  resnet18: { block: 'basic', layers: [2, 2, 2, 2], widthPerGroup: 64 },
  wide_resnet50_2: { block: 'bottleneck', layers: [3, 4, 6, 3], widthPerGroup: 128 },
} as const satisfies Record<string, ResNetArch>;

export type ResNetName = keyof typeof RESNET_ARCHS;

export const expansionOf = (block: ResNetArch['block']): number => (block === 'basic' ? 1 : 4);

/** The named outputs of a torchvision ResNet, in forward order. */
export function resnetLayers(arch: ResNetArch): BackboneLayer[] {
  const e = expansionOf(arch.block);
  return [
    { name: 'conv1', channels: 64, stride: 2 },
    { name: 'bn1', channels: 64, stride: 2 },
    { name: 'relu', channels: 64, stride: 2 },
    { name: 'maxpool', channels: 64, stride: 4 },
    { name: 'layer1', channels: 64 * e, stride: 4 },
    { name: 'layer2', channels: 128 * e, stride: 8 },
    { name: 'layer3', channels: 256 * e, stride: 16 },
    { name: 'layer4', channels: 512 * e, stride: 32 },
    { name: 'avgpool', channels: 512 * e, stride: 0 },
  ];
}

export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inplanes: number, planes: number, stride: number, downsample: Sequential | null, src: NoInit) {
    super();
    this.conv1 = this.registerModule('conv1', new Conv2d(inplanes, planes, 3, { stride, padding: 1, bias: false, ...src }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false, ...src }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.downsample = this.registerModule('downsample', downsample);
  }

  forward(x: Tensor): Tensor {
    let out = bnRelu(this.bn1, this.conv1.forward(x));
    out = this.bn2.forward(this.conv2.forward(out));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return relu(add(out, identity));
  }
}

export class Bottleneck extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly downsample: Sequential | null;

  constructor(inplanes: number, planes: number, stride: number, downsample: Sequential | null, widthPerGroup: number, src: NoInit) {
    super();
    const width = Math.trunc(planes * (widthPerGroup / 64));
    this.conv1 = this.registerModule('conv1', new Conv2d(inplanes, width, 1, { bias: false, ...src }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.conv2 = this.registerModule('conv2', new Conv2d(width, width, 3, { stride, padding: 1, bias: false, ...src }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(width));
    this.conv3 = this.registerModule('conv3', new Conv2d(width, planes * 4, 1, { bias: false, ...src }));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(planes * 4));
    this.downsample = this.registerModule('downsample', downsample);
  }

  forward(x: Tensor): Tensor {
    let out = bnRelu(this.bn1, this.conv1.forward(x));
    out = bnRelu(this.bn2, this.conv2.forward(out));
    out = this.bn3.forward(this.conv3.forward(out));
    const identity = this.downsample ? this.downsample.forward(x) : x;
    return relu(add(out, identity));
  }
}

/** torchvision's ResNet without `fc`. */
export class ResNetFeatures extends BackboneModule {
  readonly arch: ResNetArch;
  readonly layers: readonly BackboneLayer[];
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly maxpool: MaxPool2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;

  constructor(
    readonly name: ResNetName,
    src: NoInit = NO_INIT,
  ) {
    super();
    const arch: ResNetArch = RESNET_ARCHS[name];
    this.arch = arch;
    this.layers = resnetLayers(arch);
    const exp = expansionOf(arch.block);
    this.conv1 = this.registerModule('conv1', new Conv2d(3, 64, 7, { stride: 2, padding: 3, bias: false, ...src }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(64));
    this.maxpool = this.registerModule('maxpool', new MaxPool2d(3, { stride: 2, padding: 1 }));
    let inplanes = 64;
    const makeLayer = (planes: number, blocks: number, stride: number): Sequential => {
      const seq = new Sequential();
      let downsample: Sequential | null = null;
      if (stride !== 1 || inplanes !== planes * exp) {
        downsample = new Sequential(new Conv2d(inplanes, planes * exp, 1, { stride, bias: false, ...src }), new BatchNorm2d(planes * exp));
      }
      for (let i = 0; i < blocks; i++) {
        const s = i === 0 ? stride : 1;
        const ds = i === 0 ? downsample : null;
        seq.append(arch.block === 'basic' ? new BasicBlock(inplanes, planes, s, ds, src) : new Bottleneck(inplanes, planes, s, ds, arch.widthPerGroup, src));
        inplanes = planes * exp;
      }
      return seq;
    };
    this.layer1 = this.registerModule('layer1', makeLayer(64, arch.layers[0], 1));
    this.layer2 = this.registerModule('layer2', makeLayer(128, arch.layers[1], 2));
    this.layer3 = this.registerModule('layer3', makeLayer(256, arch.layers[2], 2));
    this.layer4 = this.registerModule('layer4', makeLayer(512, arch.layers[3], 2));
  }

  /**
   * Runs the stages in order in the current mode and grad mode, keeping the outputs named in
   * `want` and stopping after `last`. Names: conv1 bn1 relu maxpool layer1..layer4 avgpool
   * (avgpool → [N, C]).
   */
  protected runStages(x: Tensor, want: ReadonlySet<string>, last: string): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    const done = (name: string, t: Tensor): boolean => {
      if (want.has(name)) out[name] = t;
      return name === last;
    };
    let h = this.conv1.forward(x);
    if (done('conv1', h)) return out;
    if (want.has('bn1')) {
      h = this.bn1.forward(h);
      if (done('bn1', h)) return out;
      h = relu(h);
    } else {
      // conv1's output is fresh unless it was asked for.
      h = bnRelu(this.bn1, h, !want.has('conv1'));
    }
    if (done('relu', h)) return out;
    h = this.maxpool.forward(h);
    if (done('maxpool', h)) return out;
    for (const name of ['layer1', 'layer2', 'layer3', 'layer4'] as const) {
      h = this[name].forward(h);
      if (done(name, h)) return out;
    }
    const pooled = adaptiveAvgPool2d(h, 1);
    done('avgpool', pooled.reshape([pooled.shape[0], pooled.shape[1]]));
    return out;
  }

  forward(x: Tensor): Tensor {
    return this.runStages(x, new Set(['avgpool']), 'avgpool').avgpool;
  }
}
