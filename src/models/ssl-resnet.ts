// The one-stage SSL network (methods.md §4.5): the ResNet18 encoder–decoder of the
// reference's ssl/one_stage/model/resnet.py (`resnet18_enc_dec`, built with pool = true,
// preact = false, 1 input channel, 1 class, final activation sigmoid), with that module's
// state-dict names:
//
//   conv1 (7×7/2, p3, no bias) · bn1 · relu · maxpool (3×3/2, p1)
//   layer1..layer4     torchvision BasicBlocks [2, 2, 2, 2] (`layerK.i.conv1`, `.bn1`, `.conv2`,
//                      `.bn2`, `layerK.0.downsample.0` / `.1` on the strided blocks)
//   nin                Sequential(Conv1×1 512→256, ReLU, Conv1×1 256→128, ReLU): `nin.0`, `nin.2`
//   uplayer1..3        one TransposeBasicBlock each, 128→64→32→16, stride 2: `uplayerK.0.conv1`
//                      (ConvT 3×3/2, p1, output_padding 1), `.bn1`, `.conv2` (Conv 3×3), `.bn2`,
//                      `.upsample.0` (ConvT 1×1/2, output_padding 1) and `.upsample.1` (BN)
//   upsample           bilinear ×2, align_corners = true (nn.UpsamplingBilinear2d; no parameters)
//   convtranspose1     ConvT 7×7/2, p3, output_padding 1, 16 → 1, no bias
//   final_activation   sigmoid
//
// Every conv is bias-free. The output side is 32·⌈input/32⌉-ish: it equals the input side
// exactly when the side is a multiple of 32 (224 = 7·32), which `SslResNet` requires.
//
// Initialisation as the reference: every Conv2d Kaiming-normal (fan_out, ReLU gain), applied
// after construction in module order; ConvTranspose2d keeps PyTorch's default init (it is not
// a Conv2d subclass), drawn at construction in PyTorch's construction order (a block's
// `upsample` shortcut is built before the block); BN weight 1, bias 0. No zero-init of
// residual branches.
import { add, interpolate, relu, sigmoid, type Generator, type Tensor } from '../engine/index.js';
import { kaimingNormal } from '../nn/init.js';
import { Conv2d, ConvTranspose2d } from '../nn/layers/conv.js';
import { BatchNorm2d } from '../nn/layers/norm.js';
import { MaxPool2d } from '../nn/layers/pooling.js';
import { ReLU } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import { BasicBlock, bnRelu } from './backbones/resnet.js';

const NO_INIT = { init: false } as const;

/** The reference's TransposeBasicBlock (preact = false), one per up stage. */
export class TransposeBasicBlock extends Module {
  readonly conv1: ConvTranspose2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly upsample: Sequential;

  constructor(inplanes: number, planes: number, generator: Generator) {
    super();
    // PyTorch builds the shortcut in _make_layer before the block: its default-init draws come first.
    const shortcut = new Sequential(new ConvTranspose2d(inplanes, planes, 1, { stride: 2, outputPadding: 1, bias: false, generator }), new BatchNorm2d(planes));
    this.conv1 = this.registerModule('conv1', new ConvTranspose2d(inplanes, planes, 3, { stride: 2, padding: 1, outputPadding: 1, bias: false, generator }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(planes));
    this.conv2 = this.registerModule('conv2', new Conv2d(planes, planes, 3, { padding: 1, bias: false, ...NO_INIT }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(planes));
    this.upsample = this.registerModule('upsample', shortcut);
  }

  forward(x: Tensor): Tensor {
    let out = bnRelu(this.bn1, this.conv1.forward(x));
    out = this.bn2.forward(this.conv2.forward(out));
    return relu(add(out, this.upsample.forward(x)));
  }
}

export interface SslResNetOptions {
  /** Input channels (1 in the reference). */
  inChannels?: number;
  /** Output channels (1 in the reference). */
  numClasses?: number;
  /** Every initial weight is drawn from this generator. */
  generator: Generator;
}

/** ResNetEncDec([2, 2, 2, 2], [1, 1, 1]): forward(x) = sigmoid(logits(x)), [N, 1, S, S] for S a multiple of 32. */
export class SslResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly maxpool: MaxPool2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly layer4: Sequential;
  readonly nin: Sequential;
  readonly uplayer1: Sequential;
  readonly uplayer2: Sequential;
  readonly uplayer3: Sequential;
  readonly convtranspose1: ConvTranspose2d;
  readonly inChannels: number;

  constructor(opts: SslResNetOptions) {
    super();
    const generator = opts.generator;
    const inC = opts.inChannels ?? 1;
    const classes = opts.numClasses ?? 1;
    for (const [n, v] of [['inChannels', inC], ['numClasses', classes]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`SslResNet: ${n} must be a positive integer, got ${v}`);
    }
    this.inChannels = inC;
    this.conv1 = this.registerModule('conv1', new Conv2d(inC, 64, 7, { stride: 2, padding: 3, bias: false, ...NO_INIT }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(64));
    this.maxpool = this.registerModule('maxpool', new MaxPool2d(3, { stride: 2, padding: 1 }));
    let inplanes = 64;
    const makeLayer = (planes: number, stride: number): Sequential => {
      const ds = stride !== 1 || inplanes !== planes ? new Sequential(new Conv2d(inplanes, planes, 1, { stride, bias: false, ...NO_INIT }), new BatchNorm2d(planes)) : null;
      const seq = new Sequential(new BasicBlock(inplanes, planes, stride, ds, NO_INIT), new BasicBlock(planes, planes, 1, null, NO_INIT));
      inplanes = planes;
      return seq;
    };
    this.layer1 = this.registerModule('layer1', makeLayer(64, 1));
    this.layer2 = this.registerModule('layer2', makeLayer(128, 2));
    this.layer3 = this.registerModule('layer3', makeLayer(256, 2));
    this.layer4 = this.registerModule('layer4', makeLayer(512, 2));
    this.nin = this.registerModule(
      'nin',
      new Sequential(new Conv2d(512, 256, 1, { bias: false, ...NO_INIT }), new ReLU(), new Conv2d(256, 128, 1, { bias: false, ...NO_INIT }), new ReLU()),
    );
    this.uplayer1 = this.registerModule('uplayer1', new Sequential(new TransposeBasicBlock(128, 64, generator)));
    this.uplayer2 = this.registerModule('uplayer2', new Sequential(new TransposeBasicBlock(64, 32, generator)));
    this.uplayer3 = this.registerModule('uplayer3', new Sequential(new TransposeBasicBlock(32, 16, generator)));
    this.convtranspose1 = this.registerModule('convtranspose1', new ConvTranspose2d(16, classes, 7, { stride: 2, padding: 3, outputPadding: 1, bias: false, generator }));
    // `for m in self.modules(): if isinstance(m, nn.Conv2d): kaiming_normal_(fan_out, relu)`; BN is 1/0 already.
    for (const m of this.modules()) {
      if (m instanceof Conv2d) kaimingNormal(m.weight, { mode: 'fan_out', nonlinearity: 'relu', generator });
    }
  }

  /** The pre-sigmoid output [N, classes, S, S]. */
  logits(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new Error(`SslResNet: expected an input [N, ${this.inChannels}, S, S], got shape [${x.shape.join(', ')}]`);
    }
    const [, , h, w] = x.shape;
    if (h % 32 || w % 32 || h < 32 || w < 32) {
      throw new Error(`SslResNet: the input side must be a positive multiple of 32 (the decoder doubles a 1/32 map five times), got ${h}×${w}`);
    }
    let t = bnRelu(this.bn1, this.conv1.forward(x));
    t = this.maxpool.forward(t);
    t = this.layer4.forward(this.layer3.forward(this.layer2.forward(this.layer1.forward(t))));
    t = this.nin.forward(t);
    t = this.uplayer3.forward(this.uplayer2.forward(this.uplayer1.forward(t)));
    t = interpolate(t, { scaleFactor: 2, mode: 'bilinear', alignCorners: true });
    return this.convtranspose1.forward(t);
  }

  forward(x: Tensor): Tensor {
    return sigmoid(this.logits(x));
  }
}
