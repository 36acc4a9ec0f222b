// AnoDDPM's noise-prediction U-Net (diffusion spec §2.1; the reference's UNet.py, a fork of
// openai/guided-diffusion): ResBlocks with timestep injection, BigGAN-style up/down
// ResBlocks (nearest ×2 / 2×2 average pooling on the branch and the skip), self-attention
// wherever the feature map is at one of the attention resolutions, skip concatenation on the
// way up, and zero-initialised last layers, so an untrained net predicts ε̂ = 0 exactly.
//
// Parameter names are the reference's state-dict names, so its checkpoints can be imported:
//   time_embedding.{1,3}.{weight,bias}                 the timestep MLP's Linears
//   down.0.0.{weight,bias}                             the first 3×3 conv
//   down.K.0.*  up.K.0.*  middle.{0,2}.*                ResBlocks:
//     in_layers.0 (GroupNorm32)  in_layers.2 (Conv3×3)  embed_layers.1 (Linear 4C → out)
//     out_layers.0 (GroupNorm32) out_layers.3 (Conv3×3, zero-init)  skip_connection (Conv1×1, only when in ≠ out)
//   down.K.1.*  up.K.1.*  middle.1.*                    AttentionBlocks:
//     norm (GroupNorm32)  to_qkv (Conv1d k=1, weight [3c, c, 1])  proj_out (Conv1d k=1, zero-init)
//   up.K.{1,2}.*                                       the up-ResBlock closing a level (index 1 without attention)
//   out.0 (GroupNorm32)  out.2 (Conv3×3 → channels, zero-init)
// K counts the blocks of down / up in build order, exactly as the reference's ModuleLists.
//
// One deliberate difference: the reference's first conv emits C channels whatever
// channel_mults[0] is, which crashes its own 512-px default (mult 0.5); here it emits
// C·mults[0], the same net wherever the reference runs.
import { silu, type Generator, type Tensor } from '../../engine/index.js';
import type { RandomSource } from '../../nn/init.js';
import { Conv2d } from '../../nn/layers/conv.js';
import { SiLU } from '../../nn/layers/activation.js';
import { Sequential } from '../../nn/layers/container.js';
import { GroupNorm } from '../../nn/layers/norm.js';
import { Module } from '../../nn/module.js';
import { AttentionBlock, checkHeads, groupNorm32, joinSkip, ModuleList, normSilu, ResBlock, TimestepMLP, TimestepSequential, zeroConv3x3, type ResBlockSpec } from './anoddpm-blocks.js';
import type { Denoiser } from './denoiser.js';

export interface AnoDDPMUNetOptions {
  /** Image side S; picks the default channel multipliers and places attention. */
  size: number;
  /** Image channels, in = out (default 1). */
  channels?: number;
  /** Base width C (default 128); the timestep embedding is 4C wide. */
  baseChannels?: number;
  /** Width multipliers per level (default by S: 512 → 0.5,1,1,2,2,4,4; 256 → 1,1,2,2,4,4; 128 → 1,1,2,3,4; 64, 32 → 1,2,3,4). */
  channelMults?: number[];
  /** ResBlocks per level on the way down (default 2; the way up has one more). */
  numResBlocks?: number;
  /** Feature-map sides with attention (default [32, 16, 8]; ds = ⌊S / r⌋ as the reference). */
  attentionResolutions?: number[];
  /** Attention heads (default 1); ignored when headChannels is not −1. */
  heads?: number;
  /** Channels per head (default −1: use `heads`); otherwise heads = width / headChannels. */
  headChannels?: number;
  /** Dropout before each ResBlock's last conv (default 0). */
  dropout?: number;
  /**
   * Heads every attention block uses in eval mode (default: the training heads). 1 reproduces
   * the reference's detection.py / evaluation.py, which rebuild the net without n_heads.
   */
  evalHeads?: number;
  generator: Generator;
}

/** The reference's channel_mults for image sides it knows. */
export const ANODDPM_DEFAULT_MULTS: Readonly<Record<number, readonly number[]>> = {
  512: [0.5, 1, 1, 2, 2, 4, 4],
  256: [1, 1, 2, 2, 4, 4],
  128: [1, 1, 2, 3, 4],
  64: [1, 2, 3, 4],
  32: [1, 2, 3, 4],
};

export type LayerPlan =
  | { kind: 'conv'; inChannels: number; outChannels: number }
  | ({ kind: 'res' } & ResBlockSpec)
  | { kind: 'attn'; channels: number; heads: number };

/** The resolved configuration and the block list, computed without allocating the net. */
export interface AnoDDPMUNetPlan {
  size: number;
  channels: number;
  baseChannels: number;
  channelMults: number[];
  numResBlocks: number;
  attentionResolutions: number[];
  dropout: number;
  /** Each entry is one TimestepEmbedSequential of `down` / `up` (the reference's ModuleList items). */
  down: LayerPlan[][];
  middle: LayerPlan[];
  up: LayerPlan[][];
  /** Width entering the output head (C·mults[0]). */
  outWidth: number;
  /** How many times the down path halves the image. */
  downsamplings: number;
}

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`AnoDDPM U-Net: ${what} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Checks the options and lays out every block, as the reference's constructor does. */
export function planAnoDDPMUNet(o: Omit<AnoDDPMUNetOptions, 'generator'>): AnoDDPMUNetPlan {
  const size = positiveInt(o.size, 'size');
  const channels = positiveInt(o.channels ?? 1, 'channels');
  const C = positiveInt(o.baseChannels ?? 128, 'baseChannels');
  const numResBlocks = positiveInt(o.numResBlocks ?? 2, 'numResBlocks');
  let mults = o.channelMults;
  if (mults === undefined) {
    const d = ANODDPM_DEFAULT_MULTS[size];
    if (!d) throw new Error(`AnoDDPM U-Net: no default channelMults for size ${size} (the reference knows 32, 64, 128, 256, 512); pass channelMults`);
    mults = [...d];
  }
  if (!Array.isArray(mults) || mults.length === 0) throw new Error('AnoDDPM U-Net: channelMults must be a non-empty list');
  const widths = mults.map((m) => {
    const w = C * m;
    if (!(m > 0) || !Number.isInteger(w)) throw new Error(`AnoDDPM U-Net: baseChannels × channelMult must be a positive integer, got ${C} × ${m}`);
    if (w % 32 !== 0) throw new Error(`AnoDDPM U-Net: every width baseChannels × channelMult must be a multiple of 32 (GroupNorm32), got ${C} × ${m} = ${w}`);
    return w;
  });
  const resolutions = o.attentionResolutions ?? [32, 16, 8];
  resolutions.forEach((r) => positiveInt(r, 'each attention resolution'));
  const attentionDs = new Set(resolutions.map((r) => Math.floor(size / r)));
  const headsOpt = positiveInt(o.heads ?? 1, 'heads');
  const headChannels = o.headChannels ?? -1;
  if (headChannels !== -1) positiveInt(headChannels, 'headChannels (or −1)');
  const dropout = o.dropout ?? 0;
  if (!(dropout >= 0 && dropout < 1)) throw new Error(`AnoDDPM U-Net: dropout must lie in [0, 1), got ${dropout}`);

  const attn = (c: number): LayerPlan => {
    if (headChannels !== -1 && c % headChannels !== 0) throw new Error(`AnoDDPM U-Net: attention width ${c} is not divisible by headChannels ${headChannels}`);
    const heads = headChannels === -1 ? headsOpt : c / headChannels;
    checkHeads(c, heads, 'heads');
    return { kind: 'attn', channels: c, heads };
  };
  const res = (inChannels: number, outChannels: number, resample: ResBlockSpec['resample'] = 'none'): LayerPlan => ({ kind: 'res', inChannels, outChannels, resample });

  let ch = widths[0];
  const down: LayerPlan[][] = [[{ kind: 'conv', inChannels: channels, outChannels: ch }]];
  const skipWidths = [ch];
  let ds = 1;
  widths.forEach((w, i) => {
    for (let r = 0; r < numResBlocks; r++) {
      const stage = [res(ch, w)];
      ch = w;
      if (attentionDs.has(ds)) stage.push(attn(ch));
      down.push(stage);
      skipWidths.push(ch);
    }
    if (i !== widths.length - 1) {
      down.push([res(ch, ch, 'down')]);
      ds *= 2;
      skipWidths.push(ch);
    }
  });
  const middle = [res(ch, ch), attn(ch), res(ch, ch)];
  const up: LayerPlan[][] = [];
  for (let i = widths.length - 1; i >= 0; i--) {
    for (let j = 0; j <= numResBlocks; j++) {
      const stage = [res(ch + skipWidths.pop()!, widths[i])];
      ch = widths[i];
      if (attentionDs.has(ds)) stage.push(attn(ch));
      if (i > 0 && j === numResBlocks) {
        stage.push(res(ch, ch, 'up'));
        ds /= 2;
      }
      up.push(stage);
    }
  }
  const plan: AnoDDPMUNetPlan = {
    size,
    channels,
    baseChannels: C,
    channelMults: [...mults],
    numResBlocks,
    attentionResolutions: [...resolutions],
    dropout,
    down,
    middle,
    up,
    outWidth: ch,
    downsamplings: widths.length - 1,
  };
  if (o.evalHeads !== undefined) for (const a of attentionLayers(plan)) checkHeads(a.channels, o.evalHeads, 'evalHeads');
  return plan;
}

function attentionLayers(plan: AnoDDPMUNetPlan): Array<Extract<LayerPlan, { kind: 'attn' }>> {
  return [...plan.down.flat(), ...plan.middle, ...plan.up.flat()].filter((l): l is Extract<LayerPlan, { kind: 'attn' }> => l.kind === 'attn');
}

const conv3 = (cin: number, cout: number) => cout * cin * 9 + cout;
const gn = (c: number) => 2 * c;

function layerParams(l: LayerPlan, embDim: number): number {
  switch (l.kind) {
    case 'conv':
      return conv3(l.inChannels, l.outChannels);
    case 'attn':
      return gn(l.channels) + 3 * l.channels * (l.channels + 1) + l.channels * (l.channels + 1);
    case 'res': {
      const { inChannels: a, outChannels: b } = l;
      return gn(a) + conv3(a, b) + (embDim + 1) * b + gn(b) + conv3(b, b) + (a === b ? 0 : b * (a + 1));
    }
  }
}

/** The number of parameters of the net these options build, counted from the plan (nothing allocated). */
export function anoddpmUNetParameterCount(o: Omit<AnoDDPMUNetOptions, 'generator'>): number {
  const plan = planAnoDDPMUNet(o);
  const C = plan.baseChannels;
  const E = 4 * C;
  const time = (C + 1) * E + (E + 1) * E;
  const blocks = [...plan.down.flat(), ...plan.middle, ...plan.up.flat()].reduce((n, l) => n + layerParams(l, E), 0);
  return time + blocks + gn(plan.outWidth) + conv3(plan.outWidth, plan.channels);
}

function buildStage(layers: LayerPlan[], embDim: number, dropout: number, src: RandomSource): TimestepSequential {
  return new TimestepSequential(
    ...layers.map((l): Module => {
      if (l.kind === 'conv') return new Conv2d(l.inChannels, l.outChannels, 3, { padding: 1, ...src });
      if (l.kind === 'attn') return new AttentionBlock(l.channels, l.heads, src);
      return new ResBlock(l, embDim, dropout, src);
    }),
  );
}

export class AnoDDPMUNet extends Module implements Denoiser {
  readonly plan: AnoDDPMUNetPlan;
  readonly timeEmbedding: TimestepMLP;
  readonly down: ModuleList<TimestepSequential>;
  readonly middle: TimestepSequential;
  readonly up: ModuleList<TimestepSequential>;
  readonly out: Sequential;
  private readonly outNorm: GroupNorm;
  private readonly outConv: Conv2d;

  constructor(o: AnoDDPMUNetOptions) {
    super();
    if (!o || !o.generator) throw new Error('AnoDDPM U-Net: options.generator is required (a seeded Generator from src/engine/random.ts)');
    const plan = (this.plan = planAnoDDPMUNet(o));
    const src: RandomSource = { generator: o.generator };
    const E = 4 * plan.baseChannels;
    // Registration order = the reference's attribute order = its state-dict order.
    this.timeEmbedding = this.registerModule('time_embedding', new TimestepMLP(plan.baseChannels, src));
    this.down = this.registerModule('down', new ModuleList(plan.down.map((s) => buildStage(s, E, plan.dropout, src))));
    this.middle = this.registerModule('middle', buildStage(plan.middle, E, plan.dropout, src));
    this.up = this.registerModule('up', new ModuleList(plan.up.map((s) => buildStage(s, E, plan.dropout, src))));
    this.outNorm = groupNorm32(plan.outWidth);
    this.outConv = zeroConv3x3(plan.outWidth, plan.channels);
    this.out = this.registerModule('out', new Sequential(this.outNorm, new SiLU(), this.outConv));
    if (o.evalHeads !== undefined) this.setEvalHeads(o.evalHeads);
  }

  /** Every attention block, in state-dict order. */
  attentionBlocks(): AttentionBlock[] {
    return this.modules().filter((m): m is AttentionBlock => m instanceof AttentionBlock);
  }

  /**
   * The heads every attention block uses in eval mode (the reference's evaluation quirk: 1);
   * null restores each block's training head count.
   */
  setEvalHeads(heads: number | null): this {
    const blocks = this.attentionBlocks();
    if (heads !== null) for (const b of blocks) checkHeads(b.channels, heads, 'evalHeads');
    for (const b of blocks) b.evalHeads = heads ?? b.heads;
    return this;
  }

  /** x [B, channels, H, W] at noise level t (one timestep per image) → ε̂ of x's shape. */
  forward(x: Tensor, t: Float32Array): Tensor {
    const { channels, downsamplings } = this.plan;
    const step = 2 ** downsamplings;
    if (x.ndim !== 4 || x.shape[1] !== channels) {
      throw new Error(`AnoDDPM U-Net: expected input [B, ${channels}, H, W], got [${x.shape.join(', ')}]`);
    }
    if (x.shape[2] % step !== 0 || x.shape[3] % step !== 0 || x.shape[2] === 0 || x.shape[3] === 0) {
      throw new Error(`AnoDDPM U-Net: H and W must be positive multiples of ${step} (the net halves the image ${downsamplings} times), got ${x.shape[2]}×${x.shape[3]}`);
    }
    if (!(t instanceof Float32Array) || t.length !== x.shape[0]) {
      throw new Error(`AnoDDPM U-Net: t must be a Float32Array with one timestep per image (${x.shape[0]}), got ${t instanceof Float32Array ? `length ${t.length}` : typeof t}`);
    }
    // SiLU(e) once: every ResBlock's embed_layers starts with it.
    const siluEmb = silu(this.timeEmbedding.forward(t));
    const skips: Tensor[] = [];
    let h = x;
    for (const stage of this.down.items) {
      h = stage.forward(h, siluEmb);
      skips.push(h);
    }
    h = this.middle.forward(h, siluEmb);
    for (const stage of this.up.items) h = stage.forward(joinSkip(h, skips.pop()!), siluEmb);
    return this.outConv.forward(normSilu(this.outNorm, h));
  }
}
