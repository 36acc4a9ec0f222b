// RD++'s multi-projection layer (Tien et al., CVPR 2023; tientrandinh/Revisiting-Reverse-
// Distillation `utils/utils_train.py` ProjLayer / MultiProjectionLayer), with its state-dict
// names (`proj_a.proj.0.weight`, ...) so that the official checkpoints' `proj` entry loads.
//
// One ProjLayer per teacher level (proj_a, proj_b, proj_c on E1, E2, E3 of c = 64e, 128e,
// 256e channels, e the block expansion): four times [Conv 3×3, padding 1, with bias →
// InstanceNorm2d (no affine, no running statistics, eps 1e-5) → LeakyReLU(0.01)], channels
// c → c/2 → c/4 → c/2 → c. The output has the input's shape. InstanceNorm without affine is
// GroupNorm with one group per channel (no parameters, so the state-dict indices of the
// convolutions stay 0, 3, 6, 9). Convolutions keep PyTorch's default initialisation (the
// official code does not re-initialise them).
//
// Parameters: wide_resnet50_2 (c = 256, 512, 1024) 737,856 + 2,950,272 + 11,798,784 =
// 15,486,912; resnet18 (c = 64, 128, 256) 46,224 + 184,608 + 737,856 = 968,688.
import type { Generator, Tensor } from '../engine/index.js';
import { LeakyReLU } from '../nn/layers/activation.js';
import { Sequential } from '../nn/layers/container.js';
import { Conv2d } from '../nn/layers/conv.js';
import { GroupNorm } from '../nn/layers/norm.js';
import { Module } from '../nn/module.js';

/** InstanceNorm2d(c) as PyTorch defaults it: per sample and channel over H·W, no affine, eps 1e-5. */
function instanceNorm(c: number): GroupNorm {
  return new GroupNorm(c, c, { affine: false, eps: 1e-5 });
}

/** One level's projection: c → c/2 → c/4 → c/2 → c, each Conv 3×3 + InstanceNorm + LeakyReLU. */
export class ProjLayer extends Module {
  readonly proj: Sequential;

  constructor(
    readonly channels: number,
    generator: Generator,
  ) {
    super();
    if (!Number.isInteger(channels) || channels < 4 || channels % 4 !== 0) {
      throw new RangeError(`ProjLayer: channels must be a positive multiple of 4, got ${channels}`);
    }
    const widths = [channels, channels / 2, channels / 4, channels / 2, channels];
    const seq = new Sequential();
    for (let i = 0; i < 4; i++) {
      seq.append(new Conv2d(widths[i], widths[i + 1], 3, { padding: 1, generator }));
      seq.append(instanceNorm(widths[i + 1]));
      seq.append(new LeakyReLU(0.01));
    }
    this.proj = this.registerModule('proj', seq);
  }

  forward(x: Tensor): Tensor {
    return this.proj.forward(x);
  }
}

/** proj_a, proj_b, proj_c: one ProjLayer per teacher map [E1, E2, E3]. */
export class MultiProjectionLayer extends Module {
  readonly proj_a: ProjLayer;
  readonly proj_b: ProjLayer;
  readonly proj_c: ProjLayer;

  /** `channels`: the three teacher maps' channels (256, 512, 1024 for wide_resnet50_2). */
  constructor(channels: readonly [number, number, number], generator: Generator) {
    super();
    if (!Array.isArray(channels) || channels.length !== 3) throw new TypeError('MultiProjectionLayer: channels must be the three levels’ channel counts');
    this.proj_a = this.registerModule('proj_a', new ProjLayer(channels[0], generator));
    this.proj_b = this.registerModule('proj_b', new ProjLayer(channels[1], generator));
    this.proj_c = this.registerModule('proj_c', new ProjLayer(channels[2], generator));
  }

  /** Projects [E1, E2, E3] level by level. */
  forward(feats: readonly [Tensor, Tensor, Tensor]): [Tensor, Tensor, Tensor] {
    if (!Array.isArray(feats) || feats.length !== 3) throw new TypeError('MultiProjectionLayer.forward: expects the three teacher maps [E1, E2, E3]');
    return [this.proj_a.forward(feats[0]), this.proj_b.forward(feats[1]), this.proj_c.forward(feats[2])];
  }
}
