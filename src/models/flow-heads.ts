// The trainable parts of the two normalizing-flow methods, on top of a frozen backbone.
//
// CFlowHeads (gudovskiy/cflow-ad `model.py freia_cflow_head`): one conditional flow per
// backbone level, `blocks` AllInOneBlocks on fibers [N, C] with a positional condition
// [N, P]; clamp α = 1.9; subnet Linear(C1 + P → 2(C1 + P)) → ReLU → Linear(→ 2·C2). The
// reference rotates channels with a fixed random SO(C) matrix (permute_soft=True); anomalib
// permutes them (permute_soft=False). State names: decoders.{level}.module_list.{k}.* —
// anomalib's `model.decoders.*`; CFLOW-official saves the same per-level dicts as a list.
//
// FastFlowHeads (anomalib `models/image/fastflow/torch_model.py`, from gathierry/FastFlow): per
// level a LayerNorm over [C, H, W] (trained affine, eps 1e-5) and a flow of `flowSteps`
// AllInOneBlocks on maps [B, C, H, W], clamp α = 2.0, hard channel permutation; step i's subnet
// is Conv k×k (C1 → ⌊C1·hiddenRatio⌋) → ReLU → Conv k×k (→ 2·C2), "same" zero padding, with
// k = 1 for odd i unless conv3x3Only, else 3. anomalib writes the padding as ZeroPad2d modules
// at positions 0 and 3 of the subnet; here the convolutions pad themselves (same numbers) and
// Identity layers hold those positions, so the names (subnet.1, subnet.4) and anomalib
// checkpoints match. State names: norms.{level}.*, fast_flow_blocks.{level}.module_list.{k}.*.
import type { Generator, Tensor } from '../engine/index.js';
import { Sequential } from '../nn/layers/container.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { ReLU } from '../nn/layers/activation.js';
import { Identity } from '../nn/layers/misc.js';
import { LayerNorm } from '../nn/layers/norm.js';
import { AllInOneBlock, SequenceINN, type ClampForm } from '../nn/layers/flow.js';
import { Module } from '../nn/module.js';

/** Children named 0, 1, ... (PyTorch's nn.ModuleList). */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: readonly M[];
  constructor(items: M[]) {
    super();
    this.items = items.slice();
    items.forEach((m, i) => this.registerModule(String(i), m));
  }
  forward(): never {
    throw new Error('ModuleList has no forward; index its items');
  }
}

/** CFlow-AD's fully connected subnet (subnet_fc): Linear(in → 2·in) → ReLU → Linear(2·in → out). `init` false: no draws (zeros). */
export function cflowSubnet(generator: Generator, init = true) {
  return (inChannels: number, outChannels: number): Module =>
    new Sequential(new Linear(inChannels, 2 * inChannels, { generator, init }), new ReLU(), new Linear(2 * inChannels, outChannels, { generator, init }));
}

/** FastFlow's convolutional subnet with kernel k (1 or 3) and hidden ratio r. `init` false: no draws (zeros). */
export function fastflowSubnet(kernel: 1 | 3, hiddenRatio: number, generator: Generator, init = true) {
  return (inChannels: number, outChannels: number): Module => {
    const hidden = Math.floor(inChannels * hiddenRatio);
    if (hidden < 1) throw new RangeError(`FastFlow subnet: hiddenRatio ${hiddenRatio} leaves no hidden channel for ${inChannels} inputs`);
    const padding = (kernel - 1) / 2;
    return new Sequential(
      new Identity(), // anomalib's ZeroPad2d
      new Conv2d(inChannels, hidden, kernel, { padding, generator, init }),
      new ReLU(),
      new Identity(), // anomalib's ZeroPad2d
      new Conv2d(hidden, outChannels, kernel, { padding, generator, init }),
    );
  };
}

export interface CFlowHeadsOptions {
  /** Channels of each level, shallow to deep. */
  channels: readonly number[];
  /** Condition width P (128). */
  condition: number;
  /** AllInOneBlocks per level (8). */
  blocks: number;
  /** affine clamping α (1.9). */
  clamp: number;
  clampForm?: ClampForm;
  /** true: fixed random SO(C) rotations (reference); false: permutations (anomalib). */
  permuteSoft: boolean;
  generator: Generator;
  /**
   * false: draw nothing (subnets zero, rotations/permutations undrawn) for a state loaded next:
   * WRN50's 24 flows take over a minute of draws, mostly the SO(2048) rotations. Default true.
   */
  init?: boolean;
}

export class CFlowHeads extends Module {
  readonly decoders: ModuleList<SequenceINN>;
  readonly channels: readonly number[];
  readonly condition: number;

  constructor(opts: CFlowHeadsOptions) {
    super();
    this.channels = opts.channels.slice();
    this.condition = opts.condition;
    const init = opts.init !== false;
    const subnet = cflowSubnet(opts.generator, init);
    const flows = opts.channels.map(
      (c) =>
        new SequenceINN(
          Array.from(
            { length: opts.blocks },
            () =>
              new AllInOneBlock({
                channels: c,
                condChannels: opts.condition,
                subnet,
                clamp: opts.clamp,
                clampForm: opts.clampForm,
                permuteSoft: opts.permuteSoft,
                generator: opts.generator,
                init,
              }),
          ),
        ),
    );
    this.decoders = this.registerModule('decoders', new ModuleList(flows));
  }

  forward(): never {
    throw new Error('CFlowHeads has no forward; run decoders.items[level] on fibers');
  }
}

export interface FastFlowHeadsOptions {
  /** Per level: channels and the feature grid's side (LayerNorm over [C, H, W]). */
  levels: readonly { channels: number; height: number; width: number }[];
  /** Flow steps per level (8). */
  flowSteps: number;
  /** α (2.0). */
  clamp: number;
  clampForm?: ClampForm;
  /** Every subnet 3×3 (gathierry's resnet18 config); false: 3×3 and 1×1 alternate (anomalib). */
  conv3x3Only: boolean;
  hiddenRatio: number;
  generator: Generator;
  /** false: draw nothing (subnets zero, permutations undrawn) for a state loaded next. Default true. */
  init?: boolean;
}

export class FastFlowHeads extends Module {
  readonly norms: ModuleList<LayerNorm>;
  readonly fast_flow_blocks: ModuleList<SequenceINN>;

  constructor(opts: FastFlowHeadsOptions) {
    super();
    const g = opts.generator;
    const init = opts.init !== false;
    this.norms = this.registerModule('norms', new ModuleList(opts.levels.map((l) => new LayerNorm([l.channels, l.height, l.width]))));
    const flows = opts.levels.map(
      (l) =>
        new SequenceINN(
          Array.from(
            { length: opts.flowSteps },
            (_, i) =>
              new AllInOneBlock({
                channels: l.channels,
                spatialDims: 2,
                subnet: fastflowSubnet(i % 2 === 1 && !opts.conv3x3Only ? 1 : 3, opts.hiddenRatio, g, init),
                clamp: opts.clamp,
                clampForm: opts.clampForm,
                permuteSoft: false,
                generator: g,
                init,
              }),
          ),
        ),
    );
    this.fast_flow_blocks = this.registerModule('fast_flow_blocks', new ModuleList(flows));
  }

  /** Per level: the normalised features and the flow's output z with its log-det [B]. */
  forward(features: readonly Tensor[]): { z: Tensor[]; logdet: Tensor[] } {
    if (features.length !== this.norms.items.length) throw new RangeError(`FastFlowHeads: ${features.length} feature maps for ${this.norms.items.length} levels`);
    const z: Tensor[] = [];
    const logdet: Tensor[] = [];
    features.forEach((f, i) => {
      const r = this.fast_flow_blocks.items[i].forward(this.norms.items[i].forward(f));
      z.push(r.z);
      logdet.push(r.logdet);
    });
    return { z, logdet };
  }
}
