// torchvision's SqueezeNet 1.1 feature stack (`features`, 13 modules) with torchvision's
// state-dict names (`features.0.weight`, `features.3.squeeze.weight`, `features.3.expand1x1.bias`,
// …). LPIPS-squeeze (src/models/lpips.ts) taps it after modules 1, 4, 7, 9, 10, 11 and 12.
// The classifier (dropout, final 1×1 conv, pooling) is not built: nothing here reads it.
//
// Layout (torchvision 0.14, `squeezenet1_1`): [0] Conv 3×3 3→64 stride 2, no padding, [1] ReLU,
// [2] MaxPool 3/2 ceil_mode, [3] Fire(64; 16, 64+64), [4] Fire(128; 16, 64+64), [5] MaxPool,
// [6] Fire(128; 32, 128+128), [7] Fire(256; 32, 128+128), [8] MaxPool, [9] Fire(256; 48, 192+192),
// [10] Fire(384; 48, 192+192), [11] Fire(384; 64, 256+256), [12] Fire(512; 64, 256+256).
// ceil_mode matters: a 31-pixel map pools to 15, not 14.
import { concat, relu, type Generator, type Tensor } from '../../engine/index.js';
import { kaimingUniform } from '../../nn/init.js';
import { ReLU } from '../../nn/layers/activation.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { Sequential } from '../../nn/layers/container.js';
import { MaxPool2d } from '../../nn/layers/pooling.js';
import { Module } from '../../nn/module.js';

/** One Fire module: squeeze 1×1 conv, then the 1×1 and 3×3 expand convs side by side (channels concatenated). */
export class Fire extends Module {
  readonly squeeze: Conv2d;
  readonly expand1x1: Conv2d;
  readonly expand3x3: Conv2d;

  constructor(
    readonly inplanes: number,
    readonly squeezePlanes: number,
    readonly expand1x1Planes: number,
    readonly expand3x3Planes: number,
  ) {
    super();
    // init: false — the values come from a file or from squeezenetInit (no draws wasted).
    this.squeeze = this.registerModule('squeeze', new Conv2d(inplanes, squeezePlanes, 1, { init: false }));
    this.expand1x1 = this.registerModule('expand1x1', new Conv2d(squeezePlanes, expand1x1Planes, 1, { init: false }));
    this.expand3x3 = this.registerModule('expand3x3', new Conv2d(squeezePlanes, expand3x3Planes, 3, { padding: 1, init: false }));
  }

  forward(x: Tensor): Tensor {
    const s = relu(this.squeeze.forward(x));
    return concat([relu(this.expand1x1.forward(s)), relu(this.expand3x3.forward(s))], 1);
  }
}

/** The Fire modules of `features`: index → (inplanes, squeeze, expand1x1, expand3x3). */
export const SQUEEZENET1_1_FIRES: ReadonlyMap<number, readonly [number, number, number, number]> = new Map([
  [3, [64, 16, 64, 64]],
  [4, [128, 16, 64, 64]],
  [6, [128, 32, 128, 128]],
  [7, [256, 32, 128, 128]],
  [9, [256, 48, 192, 192]],
  [10, [384, 48, 192, 192]],
  [11, [384, 64, 256, 256]],
  [12, [512, 64, 256, 256]],
] as const);

/** The max-pools of `features` (kernel 3, stride 2, ceil_mode). */
const POOLS = new Set([2, 5, 8]);

/** Output channels after each module of `features`. */
export function squeezenetChannels(index: number): number {
  if (index < 0 || index > 12 || !Number.isInteger(index)) throw new RangeError(`squeezenet1_1: features has modules 0..12, got ${index}`);
  for (let i = index; i >= 0; i--) {
    const f = SQUEEZENET1_1_FIRES.get(i);
    if (f) return f[2] + f[3];
  }
  return 64;
}

/** torchvision's state-dict names and shapes of `features` (classifier excluded), in its order. */
export function squeezenetFeaturesState(prefix = 'features'): { name: string; shape: number[] }[] {
  const out: { name: string; shape: number[] }[] = [
    { name: `${prefix}.0.weight`, shape: [64, 3, 3, 3] },
    { name: `${prefix}.0.bias`, shape: [64] },
  ];
  for (const [i, [cin, s, e1, e3]] of SQUEEZENET1_1_FIRES) {
    out.push(
      { name: `${prefix}.${i}.squeeze.weight`, shape: [s, cin, 1, 1] },
      { name: `${prefix}.${i}.squeeze.bias`, shape: [s] },
      { name: `${prefix}.${i}.expand1x1.weight`, shape: [e1, s, 1, 1] },
      { name: `${prefix}.${i}.expand1x1.bias`, shape: [e1] },
      { name: `${prefix}.${i}.expand3x3.weight`, shape: [e3, s, 3, 3] },
      { name: `${prefix}.${i}.expand3x3.bias`, shape: [e3] },
    );
  }
  return out;
}

export class SqueezeNetFeatures extends Module {
  /** torchvision's `features` Sequential (registered under that name). */
  readonly stack: Sequential;

  constructor() {
    super();
    const seq = new Sequential();
    for (let i = 0; i <= 12; i++) {
      const fire = SQUEEZENET1_1_FIRES.get(i);
      if (i === 0) seq.append(new Conv2d(3, 64, 3, { stride: 2, init: false }));
      else if (i === 1) seq.append(new ReLU());
      else if (POOLS.has(i)) seq.append(new MaxPool2d(3, { stride: 2, ceilMode: true }));
      else seq.append(new Fire(...fire!));
    }
    this.stack = this.registerModule('features', seq);
  }

  /**
   * Runs `features` in the current grad mode on x [N, 3, H, W] and returns the outputs of the
   * modules in `taps` (indices 0..12, ascending), stopping after the last one.
   */
  taps(x: Tensor, taps: readonly number[]): Tensor[] {
    const last = Math.max(...taps);
    const want = new Set(taps);
    const out: Tensor[] = [];
    let h = x;
    for (let i = 0; i <= last; i++) {
      h = this.stack.at(i).forward(h);
      if (want.has(i)) out.push(h);
    }
    return out;
  }

  forward(x: Tensor): Tensor {
    return this.stack.forward(x);
  }
}

/**
 * torchvision's SqueezeNet initialisation for `features`, every draw from `g` in module
 * order: kaiming_uniform_ (a = 0, fan_in, leaky_relu gain √2) weights, zero biases.
 */
export function squeezenetInit(net: SqueezeNetFeatures, g: Generator): void {
  for (const [, m] of net.namedModules()) {
    if (m instanceof Conv2d) {
      kaimingUniform(m.weight, { generator: g });
      m.bias?.data.fill(0);
    }
  }
}
