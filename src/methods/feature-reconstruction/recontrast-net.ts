// ReContrast's networks (guojiajeremy/ReContrast `models/recontrast.py`, `models/resnet.py`,
// `models/de_resnet.py`), with the official module names (encoder, bottleneck, decoder;
// the decoder's heads out1..out3):
//
// - encoder: a trainable copy of the pretrained backbone's stem and layer1..layer3 (layer4 and
//   fc dropped, as the official code sets them to None), initialised from the frozen backbone;
// - the frozen backbone itself (eval, no gradient) lives outside this module: it is the
//   method's backbone, rebuilt from its weights file, so it is not saved twice;
// - bottleneck: RD4AD's OCBE (official width 1024 for wide_resnet50_2);
// - decoder: RD4AD's reverse decoder plus two sets of 1×1 output convolutions with bias
//   (`output_conv=2`): head h maps the decoder's three outputs through out1[h] (the
//   shallowest, 64e channels), out2[h] and out3[h] (256e). Kaiming-normal (fan_out) weights,
//   PyTorch's default bias init, as the official init loop leaves them.
//
// Forward (`ReContrast.forward`): the trainable encoder's maps e_k and the frozen ones f_k are
// concatenated along the batch, so that OCBE and the decoder run once on 2B images and their
// batch norms see both halves in training; head 0 reads the first half (from e), head 1 the
// second (from f). The pairs (teacher, student) are (f_k, q_k) and (e_k, q'_k): the decoder
// fed by one encoder must reproduce the other encoder's maps. The official decoder applies
// both heads to all 2B images and then halves them; a 1×1 convolution is per image, so
// applying each head to its own half gives the same numbers at half the cost.
import { concat, slice, type Generator, type Tensor } from '../../engine/index.js';
import { kaimingNormal } from '../../nn/init.js';
import { Sequential } from '../../nn/layers/container.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { Module } from '../../nn/module.js';
import type { BackboneModule } from '../../models/backbones/index.js';
import { NO_INIT, ResNetFeatures } from '../../models/backbones/resnet.js';
import { OCBE, RD_LAYERS, rdChannels, ReverseDecoder, type RdBackbone } from '../../models/reverse-distillation.js';

export type Maps3 = [Tensor, Tensor, Tensor];

/** The stem and layer1..layer3 of a torchvision ResNet, trainable, with torchvision's names. */
export class TrainableEncoder extends Module {
  /** The full network whose forward runs the registered parts (its layer4 is never reached, nor saved). */
  private readonly body: ResNetFeatures;

  constructor(readonly arch: RdBackbone) {
    super();
    const body = new ResNetFeatures(arch, NO_INIT);
    this.body = body;
    this.registerModule('conv1', body.conv1);
    this.registerModule('bn1', body.bn1);
    this.registerModule('layer1', body.layer1);
    this.registerModule('layer2', body.layer2);
    this.registerModule('layer3', body.layer3);
  }

  /** Copies the matching state (weights and running statistics) of a pretrained backbone of the same architecture. */
  copyFrom(backbone: BackboneModule): void {
    if (backbone.name !== this.arch) throw new Error(`TrainableEncoder: the backbone is ${backbone.name}, this encoder ${this.arch}`);
    const mine = new Set(this.stateEntries().map((e) => e.name));
    this.loadStateDict(new Map([...backbone.stateDict()].filter(([k]) => mine.has(k))));
  }

  /** [E1, E2, E3] in the current mode (train-mode batch norm when training) and grad mode. */
  forward(x: Tensor): Maps3 {
    const o = this.body.run(x, RD_LAYERS);
    return [o.layer1, o.layer2, o.layer3];
  }
}

/** RD4AD's decoder with ReContrast's two sets of 1×1 output heads (out1..out3, each holding heads 0 and 1). */
export class ReContrastDecoder extends ReverseDecoder {
  readonly out1: Sequential;
  readonly out2: Sequential;
  readonly out3: Sequential;

  /** `init` false: no draws for the heads and the decoder's Conv2d (values loaded next). */
  constructor(arch: RdBackbone, opts: { generator: Generator; heads?: number; init?: boolean }) {
    super(arch, { generator: opts.generator, init: opts.init });
    const g = opts.generator;
    const init = opts.init !== false;
    const heads = opts.heads ?? 2;
    const outs = [new Sequential(), new Sequential(), new Sequential()];
    const channels = rdChannels(arch);
    for (let h = 0; h < heads; h++) {
      outs.forEach((seq, k) => seq.append(new Conv2d(channels[k], channels[k], 1, { bias: true, generator: g, init })));
    }
    this.out1 = this.registerModule('out1', outs[0]);
    this.out2 = this.registerModule('out2', outs[1]);
    this.out3 = this.registerModule('out3', outs[2]);
    if (!init) return;
    for (const seq of outs) {
      for (let h = 0; h < heads; h++) kaimingNormal((seq.at(h) as Conv2d).weight, { mode: 'fan_out', nonlinearity: 'relu', generator: g });
    }
  }

  /** Head h applied to the decoder's three outputs [D1, D2, D3]. */
  head(h: number, d: readonly Tensor[]): Maps3 {
    return [this.out1, this.out2, this.out3].map((seq, k) => (seq.at(h) as Conv2d).forward(d[k])) as Maps3;
  }
}

/** The (teacher, student) pairs of one forward: decoder-from-e vs f, decoder-from-f vs e. */
export interface ReContrastPairs {
  /** (f_k, q_k): the frozen maps and head 0 of the half fed by the trainable encoder. */
  frozen: [Tensor, Tensor][];
  /** (e_k, q'_k): the trainable encoder's maps and head 1 of the half fed by the frozen encoder. */
  trained: [Tensor, Tensor][];
}

export class ReContrastNet extends Module {
  readonly encoder: TrainableEncoder;
  readonly bottleneck: OCBE;
  readonly decoder: ReContrastDecoder;

  /** `init` false: skip the draws of OCBE, decoder and heads, for values loaded next (the encoder is copied or loaded anyway). */
  constructor(readonly arch: RdBackbone, generator: Generator, init = true) {
    super();
    this.encoder = this.registerModule('encoder', new TrainableEncoder(arch));
    // The official script builds encoder + OCBE (resnet.py), then the decoder.
    this.bottleneck = this.registerModule('bottleneck', new OCBE(arch, { width: 'official', generator, init }));
    this.decoder = this.registerModule('decoder', new ReContrastDecoder(arch, { generator, init }));
  }

  /** Training modes: OCBE and decoder train; the encoder's batch norm in train mode or (encoderBnTrain false) eval. */
  trainModes(encoderBnTrain: boolean): void {
    this.train();
    if (!encoderBnTrain) this.encoder.eval();
  }

  /** x: backbone input [B, 3, S, S]; frozen: the frozen backbone's [f1, f2, f3] of the same x. */
  forward(x: Tensor, frozen: Maps3): ReContrastPairs {
    const B = x.shape[0];
    const e = this.encoder.forward(x);
    const z = this.bottleneck.forward([0, 1, 2].map((k) => concat([e[k], frozen[k]], 0)) as Maps3);
    const d = this.decoder.forward(z);
    const q = this.decoder.head(0, d.map((t) => slice(t, 0, 0, B)));
    const q2 = this.decoder.head(1, d.map((t) => slice(t, 0, B, 2 * B)));
    return {
      frozen: frozen.map((f, k) => [f, q[k]]),
      trained: e.map((t, k) => [t, q2[k]]),
    };
  }
}
