// AutoDDPM's noise-prediction network (diffusion spec §3.1): MONAI Generative's
// DiffusionModelUNet as ci-ber/autoDDPM builds it (2-D, no conditioning, resblock_updown
// False). Defaults are the reference configuration: 1 channel in and out, num_channels
// (128, 256, 256), attention at the two deeper levels, 1 res block, 256 channels per head
// (one head everywhere), GroupNorm(32) with eps 1e-6: 18,500,993 parameters, of which 460,544
// are the never-applied proj_attn layers (7 attention blocks × 65,792).
//
// Forward: e = time_embed(cos-sin sinusoid of t, width num_channels[0]) with time_embed =
// Linear(C0, 4·C0) → SiLU → Linear(4·C0, 4·C0); h0 = conv_in(x); down blocks push their
// skips; middle; up blocks (num_res_blocks + 1 resnets each) pop theirs; out = GN → SiLU →
// Conv3×3 (zero-init). With the zero-init output conv an untrained net returns exactly 0.
//
// Parameter names are the reference's state-dict names (conv_in.conv.weight,
// time_embed.0.weight, down_blocks.1.attentions.0.to_q.weight,
// middle_block.resnet_1.time_emb_proj.bias, up_blocks.0.upsampler.conv.conv.weight,
// out.2.conv.weight, ...), so its checkpoints load unchanged.
import { sinusoidalTimestepEmbedding, Tensor, type Generator } from '../../engine/index.js';
import { Linear } from '../../nn/layers/linear.js';
import { GroupNorm } from '../../nn/layers/norm.js';
import { SiLU } from '../../nn/layers/activation.js';
import { Sequential } from '../../nn/layers/container.js';
import { Module } from '../../nn/module.js';
import type { Denoiser } from './denoiser.js';
import { DownBlock, MidBlock, MonaiConv, UpBlock, type BlockContext } from './monai-blocks.js';

export interface MonaiUNetOptions {
  /** Image channels in = out (1). */
  channels?: number;
  /** Output width of each level, shallow to deep ((128, 256, 256)); each a multiple of normGroups. */
  numChannels?: number[];
  /** Self-attention after each resnet of a level ((false, true, true)); one entry per level. */
  attentionLevels?: boolean[];
  /** Resnets per down level (1); the up levels have one more. */
  numResBlocks?: number;
  /** Channels per attention head (256); a level of c channels has ⌊c / headChannels⌋ heads. */
  headChannels?: number;
  /** GroupNorm epsilon (1e-6). */
  normEps?: number;
  /** GroupNorm group count (32, the reference's norm_num_groups). */
  normGroups?: number;
  /** Source of every initial weight. */
  generator: Generator;
}

export type MonaiUNetConfig = Required<Omit<MonaiUNetOptions, 'generator'>>;

/** The options with the reference's defaults filled in, checked (errors name the option). */
export function monaiUNetConfig(o: Partial<MonaiUNetOptions> = {}): MonaiUNetConfig {
  const c: MonaiUNetConfig = {
    channels: o.channels ?? 1,
    numChannels: [...(o.numChannels ?? [128, 256, 256])],
    attentionLevels: [...(o.attentionLevels ?? [false, true, true])],
    numResBlocks: o.numResBlocks ?? 1,
    headChannels: o.headChannels ?? 256,
    normEps: o.normEps ?? 1e-6,
    normGroups: o.normGroups ?? 32,
  };
  const posInt = (name: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`MonaiUNet: ${name} must be a positive integer, got ${String(v)}`);
  };
  posInt('channels', c.channels);
  posInt('numResBlocks', c.numResBlocks);
  posInt('headChannels', c.headChannels);
  posInt('normGroups', c.normGroups);
  if (c.numChannels.length < 1) throw new Error('MonaiUNet: numChannels must list at least one level width');
  c.numChannels.forEach((w, i) => {
    posInt(`numChannels[${i}]`, w);
    if (w % c.normGroups !== 0) throw new Error(`MonaiUNet: numChannels[${i}] = ${w} must be a multiple of normGroups (${c.normGroups})`);
  });
  if (c.attentionLevels.length !== c.numChannels.length || c.attentionLevels.some((a) => typeof a !== 'boolean')) {
    throw new Error(`MonaiUNet: attentionLevels must hold one boolean per level of numChannels (${c.numChannels.length}), got ${JSON.stringify(o.attentionLevels)}`);
  }
  if (typeof c.normEps !== 'number' || !(c.normEps > 0) || !Number.isFinite(c.normEps)) throw new Error(`MonaiUNet: normEps must be a positive number, got ${String(c.normEps)}`);
  // The middle block always attends at the deepest width.
  c.numChannels.forEach((w, i) => {
    if (!c.attentionLevels[i] && i !== c.numChannels.length - 1) return;
    const heads = Math.floor(w / c.headChannels);
    if (heads < 1 || w % heads !== 0) {
      throw new Error(`MonaiUNet: headChannels ${c.headChannels} gives ${heads} heads at level ${i} (${w} channels); it must be at most ${w} and leave a head count that divides ${w}`);
    }
  });
  return c;
}

/** The channel plan of the reference's constructor: one entry per resnet, per level. */
function plan(c: MonaiUNetConfig) {
  const n = c.numChannels.length;
  const ch = c.numChannels;
  const down = ch.map((out, i) => ({ inC: i === 0 ? ch[0] : ch[i - 1], outC: out, attention: c.attentionLevels[i], downsample: i !== n - 1 }));
  const rev = [...ch].reverse();
  const revAttn = [...c.attentionLevels].reverse();
  const up = rev.map((out, i) => ({
    prevOutC: i === 0 ? rev[0] : rev[i - 1],
    outC: out,
    skipInC: rev[Math.min(i + 1, n - 1)],
    attention: revAttn[i],
    upsample: i !== n - 1,
  }));
  return { down, up };
}

/**
 * Parameter count of the configuration without building it: total, and the dead proj_attn
 * share. Mirrors the constructor's arithmetic (the tests hold both to PyTorch's count).
 */
export function monaiUNetParameterCount(o: Partial<MonaiUNetOptions> = {}): { total: number; dead: number } {
  const c = monaiUNetConfig(o);
  const conv = (i: number, out: number, k: number) => out * i * k * k + out;
  const lin = (i: number, out: number) => out * i + out;
  const gn = (ch: number) => 2 * ch;
  const temb = 4 * c.numChannels[0];
  const rb = (i: number, out: number) => gn(i) + conv(i, out, 3) + lin(temb, out) + gn(out) + conv(out, out, 3) + (i === out ? 0 : conv(i, out, 1));
  let dead = 0;
  const attn = (ch: number) => {
    dead += lin(ch, ch);
    return gn(ch) + 4 * lin(ch, ch);
  };
  const p = plan(c);
  let total = conv(c.channels, c.numChannels[0], 3) + lin(c.numChannels[0], temb) + lin(temb, temb);
  for (const d of p.down) {
    for (let i = 0; i < c.numResBlocks; i++) total += rb(i === 0 ? d.inC : d.outC, d.outC) + (d.attention ? attn(d.outC) : 0);
    if (d.downsample) total += conv(d.outC, d.outC, 3);
  }
  const deep = c.numChannels[c.numChannels.length - 1];
  total += 2 * rb(deep, deep) + attn(deep);
  for (const u of p.up) {
    const n = c.numResBlocks + 1;
    for (let i = 0; i < n; i++) {
      total += rb((i === 0 ? u.prevOutC : u.outC) + (i === n - 1 ? u.skipInC : u.outC), u.outC) + (u.attention ? attn(u.outC) : 0);
    }
    if (u.upsample) total += conv(u.outC, u.outC, 3);
  }
  total += gn(c.numChannels[0]) + conv(c.numChannels[0], c.channels, 3);
  return { total, dead };
}

export class MonaiUNet extends Module implements Denoiser {
  readonly config: MonaiUNetConfig;
  readonly convIn: MonaiConv;
  readonly timeEmbed: Sequential;
  readonly downBlocks: Sequential;
  readonly middleBlock: MidBlock;
  readonly upBlocks: Sequential;
  readonly out: Sequential;

  constructor(opts: MonaiUNetOptions) {
    super();
    if (!opts || !opts.generator) throw new Error('MonaiUNet: options.generator (a seeded Generator) is required for the initial weights');
    const c = monaiUNetConfig(opts);
    this.config = c;
    const g = opts.generator;
    const ctx: BlockContext = { generator: g, normGroups: c.normGroups, normEps: c.normEps };
    const c0 = c.numChannels[0];
    const temb = 4 * c0;
    this.convIn = this.registerModule('conv_in', new MonaiConv(c.channels, c0, 3, g));
    this.timeEmbed = this.registerModule('time_embed', new Sequential(new Linear(c0, temb, { generator: g }), new SiLU(), new Linear(temb, temb, { generator: g })));
    const p = plan(c);
    const down = new Sequential();
    for (const d of p.down) {
      down.append(new DownBlock(d.inC, d.outC, temb, { numResBlocks: c.numResBlocks, attention: d.attention, headChannels: c.headChannels, downsample: d.downsample }, ctx));
    }
    this.downBlocks = this.registerModule('down_blocks', down);
    const deep = c.numChannels[c.numChannels.length - 1];
    this.middleBlock = this.registerModule('middle_block', new MidBlock(deep, temb, c.headChannels, ctx));
    const up = new Sequential();
    for (const u of p.up) {
      up.append(new UpBlock(u.skipInC, u.prevOutC, u.outC, temb, { numResBlocks: c.numResBlocks + 1, attention: u.attention, headChannels: c.headChannels, upsample: u.upsample }, ctx));
    }
    this.upBlocks = this.registerModule('up_blocks', up);
    this.out = this.registerModule(
      'out',
      new Sequential(new GroupNorm(c.normGroups, c0, { eps: c.normEps }), new SiLU(), new MonaiConv(c0, c.channels, 3, g, { zeroInit: true })),
    );
  }

  /** Input sides must halve once per downsampler (levels − 1 times). */
  checkInput(x: Tensor, t: Float32Array): void {
    const { channels, numChannels } = this.config;
    const f = 2 ** (numChannels.length - 1);
    if (!(x instanceof Tensor) || x.ndim !== 4 || x.shape[1] !== channels) {
      throw new Error(`MonaiUNet: expected x of shape [B, ${channels}, H, W], got ${x instanceof Tensor ? `[${x.shape.join(', ')}]` : String(x)}`);
    }
    const [, , h, w] = x.shape;
    if (h % f || w % f || h < f || w < f) throw new Error(`MonaiUNet: height and width must be multiples of ${f} (${numChannels.length} levels), got ${h} × ${w}`);
    if (!(t instanceof Float32Array) || t.length !== x.shape[0]) {
      throw new Error(`MonaiUNet: t must be a Float32Array with one timestep per image (${x.shape[0]}), got ${t instanceof Float32Array ? `${t.length} values` : String(t)}`);
    }
  }

  /** ε̂ for x_t [B, channels, H, W] at the levels t (one per image). */
  forward(x: Tensor, t: Float32Array): Tensor {
    this.checkInput(x, t);
    const emb = this.timeEmbed.forward(sinusoidalTimestepEmbedding(t, this.config.numChannels[0], 'cos-sin'));
    let h = this.convIn.forward(x);
    const skips: Tensor[] = [h];
    for (const block of this.downBlocks) h = (block as DownBlock).forward(h, emb, skips);
    h = this.middleBlock.forward(h, emb);
    for (const block of this.upBlocks) h = (block as UpBlock).forward(h, emb, skips);
    return this.out.forward(h);
  }
}
