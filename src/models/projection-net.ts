// ProjectionNet of MedIAnomaly's two-stage SSL methods (methods.md §4.6; reference:
// caiyu6666/MedIAnomaly ssl/two_stage/model.py, from Runinho/pytorch-cutpaste):
//
//   resnet18  torchvision ResNet18 (3-channel input), fc = Identity → 512-d embedding after
//             the global average pool
//   head      for each width in [512]·headLayers + [128]: Linear – BatchNorm1d – ReLU
//             (default headLayers = 1: Linear(512→512) BN ReLU Linear(512→128) BN ReLU)
//   out       Linear(128 → K), K = 2 (normal, AnatPaste) or 3 (3-way)
//
// forward(x) returns both the embedding (used by the one-class stage) and the logits (the
// training loss, the secondary classifier score). State-dict names are the reference
// module's: `resnet18.conv1.weight`, `resnet18.layer1.0.bn1.running_mean`, `head.0.weight`,
// `head.1.running_var`, `head.3.weight`, `out.bias`, ... so a reference `model.tch`
// converted to safetensors loads as is.
//
// Initialisation (every draw from the given Generator, in PyTorch's module order): the
// ResNet as torchvision does it (convs Kaiming-normal fan_out/ReLU, BN weight 1 bias 0),
// then each Linear with PyTorch's default U(±1/√fan_in) for weight and bias, BN1d 1/0.
import type { Generator, Tensor } from '../engine/index.js';
import { Linear } from '../nn/layers/linear.js';
import { BatchNorm1d } from '../nn/layers/norm.js';
import { ReLU } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/container.js';
import { Module } from '../nn/module.js';
import { NO_INIT, ResNetFeatures, torchvisionInit } from './backbones/index.js';

export interface ProjectionNetOptions {
  /** Classes K: 2 (original vs CutPaste / AnatPaste) or 3 (3-way). */
  numClasses: number;
  /** Hidden 512-wide head layers before the 128-wide one (the reference's head_layer; default 1). */
  headLayers?: number;
  /** Source of every initial value (required: runs are seeded). */
  generator: Generator;
}

export const EMBEDDING_DIM = 512;

export class ProjectionNet extends Module {
  readonly resnet18: ResNetFeatures;
  readonly head: Sequential;
  readonly out: Linear;
  readonly numClasses: number;
  readonly headWidths: readonly number[];

  constructor(opts: ProjectionNetOptions) {
    super();
    const k = opts?.numClasses;
    if (!Number.isInteger(k) || k < 2) throw new RangeError(`ProjectionNet: numClasses must be an integer ≥ 2, got ${k}`);
    const hl = opts.headLayers ?? 1;
    if (!Number.isInteger(hl) || hl < 0 || hl > 16) throw new RangeError(`ProjectionNet: headLayers must be an integer in [0, 16], got ${hl}`);
    const g = opts.generator;
    if (!g) throw new TypeError('ProjectionNet: a generator is required (every initial value is a seeded draw)');
    this.numClasses = k;
    this.resnet18 = this.registerModule('resnet18', new ResNetFeatures('resnet18', NO_INIT));
    torchvisionInit(this.resnet18, g);
    this.headWidths = [...Array<number>(hl).fill(512), 128];
    this.head = new Sequential();
    let last = EMBEDDING_DIM;
    for (const w of this.headWidths) {
      this.head.append(new Linear(last, w, { generator: g }));
      this.head.append(new BatchNorm1d(w));
      this.head.append(new ReLU());
      last = w;
    }
    this.registerModule('head', this.head);
    this.out = this.registerModule('out', new Linear(last, k, { generator: g }));
  }

  /** The 512-d embedding [N, 512] of x [N, 3, H, W] (the backbone's global-average-pooled output). */
  embed(x: Tensor): Tensor {
    return this.resnet18.forward(x);
  }

  /** Logits [N, K] of embeddings [N, 512]. */
  classify(embeds: Tensor): Tensor {
    return this.out.forward(this.head.forward(embeds));
  }

  forward(x: Tensor): { embeds: Tensor; logits: Tensor } {
    const embeds = this.embed(x);
    return { embeds, logits: this.classify(embeds) };
  }
}
