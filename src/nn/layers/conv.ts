// Conv2d and ConvTranspose2d with PyTorch's parameter layout, names and default init.
import { conv2d, convTranspose2d, pad, Tensor } from '../../engine/index.js';
import { defaultLayerInit, type RandomSource } from '../init.js';
import { Module } from '../module.js';

export type Pair = number | [number, number];
export type PaddingMode = 'zeros' | 'reflect' | 'replicate';

function pair(name: string, v: Pair, min: number): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= min)) {
    throw new Error(`${name} must be an integer ≥ ${min} or a pair of them, got ${JSON.stringify(v)}`);
  }
  return p;
}

function checkChannels(layer: string, inC: number, outC: number, groups: number): void {
  for (const [n, v] of [['inChannels', inC], ['outChannels', outC], ['groups', groups]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${layer}: ${n} must be a positive integer, got ${v}`);
  }
  if (inC % groups || outC % groups) throw new Error(`${layer}: inChannels (${inC}) and outChannels (${outC}) must be divisible by groups (${groups})`);
}

const show = (p: [number, number]): string => (p[0] === p[1] ? `${p[0]}` : `(${p[0]}, ${p[1]})`);

export interface Conv2dOptions extends RandomSource {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  /** 'zeros' pads inside the convolution; 'reflect'/'replicate' pad the input first, like PyTorch. */
  paddingMode?: PaddingMode;
  /**
   * false: skip PyTorch's default initialisation and leave weight and bias at zero, for a layer
   * whose values the caller loads from a file or initialises itself (no draws are made).
   */
  init?: boolean;
}

export class Conv2d extends Module {
  readonly weight: Tensor; // [out, in/groups, kh, kw]
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;
  readonly paddingMode: PaddingMode;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    opts: Conv2dOptions = {},
  ) {
    super();
    this.groups = opts.groups ?? 1;
    checkChannels('Conv2d', inChannels, outChannels, this.groups);
    this.kernelSize = pair('Conv2d kernelSize', kernelSize, 1);
    this.stride = pair('Conv2d stride', opts.stride ?? 1, 1);
    this.padding = pair('Conv2d padding', opts.padding ?? 0, 0);
    this.dilation = pair('Conv2d dilation', opts.dilation ?? 1, 1);
    this.paddingMode = opts.paddingMode ?? 'zeros';
    if (!['zeros', 'reflect', 'replicate'].includes(this.paddingMode)) {
      throw new Error(`Conv2d: paddingMode must be 'zeros', 'reflect' or 'replicate', got "${this.paddingMode}"`);
    }
    const [kh, kw] = this.kernelSize;
    this.weight = this.registerParameter('weight', Tensor.empty([outChannels, inChannels / this.groups, kh, kw]));
    this.bias = this.registerParameter('bias', opts.bias === false ? null : Tensor.empty([outChannels]));
    if (opts.init !== false) defaultLayerInit(this.weight, this.bias, opts);
  }

  forward(x: Tensor): Tensor {
    const [ph, pw] = this.padding;
    const conv = { stride: this.stride, dilation: this.dilation, groups: this.groups };
    if (this.paddingMode !== 'zeros' && (ph || pw)) {
      const padded = pad(x, [pw, pw, ph, ph], this.paddingMode);
      return conv2d(padded, this.weight, this.bias ?? undefined, { ...conv, padding: 0 });
    }
    return conv2d(x, this.weight, this.bias ?? undefined, { ...conv, padding: this.padding });
  }

  protected override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernelSize=${show(this.kernelSize)}, stride=${show(this.stride)}`;
    if (this.padding[0] || this.padding[1]) s += `, padding=${show(this.padding)}`;
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) s += `, dilation=${show(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=false';
    if (this.paddingMode !== 'zeros') s += `, paddingMode=${this.paddingMode}`;
    return s;
  }
}

export interface ConvTranspose2dOptions extends RandomSource {
  stride?: Pair;
  padding?: Pair;
  outputPadding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

export class ConvTranspose2d extends Module {
  readonly weight: Tensor; // [in, out/groups, kh, kw]
  readonly bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly outputPadding: [number, number];
  readonly dilation: [number, number];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    opts: ConvTranspose2dOptions = {},
  ) {
    super();
    this.groups = opts.groups ?? 1;
    checkChannels('ConvTranspose2d', inChannels, outChannels, this.groups);
    this.kernelSize = pair('ConvTranspose2d kernelSize', kernelSize, 1);
    this.stride = pair('ConvTranspose2d stride', opts.stride ?? 1, 1);
    this.padding = pair('ConvTranspose2d padding', opts.padding ?? 0, 0);
    this.outputPadding = pair('ConvTranspose2d outputPadding', opts.outputPadding ?? 0, 0);
    this.dilation = pair('ConvTranspose2d dilation', opts.dilation ?? 1, 1);
    const [kh, kw] = this.kernelSize;
    this.weight = this.registerParameter('weight', Tensor.empty([inChannels, outChannels / this.groups, kh, kw]));
    this.bias = this.registerParameter('bias', opts.bias === false ? null : Tensor.empty([outChannels]));
    // PyTorch's fan_in for this layout is weight dim 1 × kernel area (the output channels per group).
    defaultLayerInit(this.weight, this.bias, opts);
  }

  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias ?? undefined, {
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  protected override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernelSize=${show(this.kernelSize)}, stride=${show(this.stride)}`;
    if (this.padding[0] || this.padding[1]) s += `, padding=${show(this.padding)}`;
    if (this.outputPadding[0] || this.outputPadding[1]) s += `, outputPadding=${show(this.outputPadding)}`;
    if (this.dilation[0] !== 1 || this.dilation[1] !== 1) s += `, dilation=${show(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (!this.bias) s += ', bias=false';
    return s;
  }
}
