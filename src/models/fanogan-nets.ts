// The f-AnoGAN networks of the MedIAnomaly history (methods.md §5.15; reference history
// networks/fanogan.py): a WGAN-GP generator and critic built from residual blocks (DIM = 64,
// the ResNet of Gulrajani et al. for 64 × 64 images) and an encoder from the critic's blocks
// ending in tanh.
//
// - Critic and encoder blocks ('down'): LayerNorm over [C, H, W] → ReLU → 3×3 conv (no bias)
//   → LayerNorm → ReLU → 3×3 conv → 2×2 mean pool, plus a shortcut mean pool → 1×1 conv.
// - Generator blocks ('up'): BN2d → ReLU → nearest ×2 → 3×3 conv (no bias) → BN2d → ReLU →
//   3×3 conv, plus a shortcut nearest ×2 → 1×1 conv. (The reference's upsampling concatenates
//   four copies and applies depth-to-space, which is nearest-neighbour ×2.)
// - Init: conv weights Kaiming-normal (fan_in, gain √2), conv biases 0; norm weights 1,
//   biases 0; Linear weights Xavier-uniform, biases 0.
//
// The reference fixes the image side at 64 (a 4 × 4 start, four ×2 blocks); here the side s
// may be any multiple of 16 and the start is s/16, which is the reference at s = 64.
//
// WGAN-GP needs ∂/∂θ of a penalty on ‖∇ₓD(x)‖, a gradient of a gradient. The engine's
// autograd is first order, so the critic also builds its input gradient ∇ₓD(x) explicitly
// as a graph of ordinary differentiable ops (`Critic.inputGradient`): each layer's
// vector–Jacobian product written out (conv → transposed conv with the same weight, mean
// pool → nearest upsampling / 4, ReLU → a constant 0/1 mask, LayerNorm → its closed-form
// backward). Back-propagating through that graph gives the exact parameter gradient of the
// penalty, as PyTorch's create_graph=True does; ReLU's second derivative is zero almost
// everywhere, so the constant masks lose nothing.
import {
  add,
  avgPool2d,
  convTranspose2d,
  interpolate,
  matmul,
  mul,
  ones,
  relu,
  tanh,
  Tensor,
  type Generator,
} from '../engine/index.js';
import * as init from '../nn/init.js';
import { resolveGenerator, type RandomSource } from '../nn/init.js';
import { BatchNorm2d, LayerNorm } from '../nn/layers/norm.js';
import { Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import { Module } from '../nn/module.js';

type Src = { generator: Generator };

/** The reference's MyConvo2d: a same-padded conv held as `.conv`. */
export class MyConvo2d extends Module {
  readonly conv: Conv2d;
  constructor(inC: number, outC: number, kernel: number, src: Src, bias = true) {
    super();
    this.conv = this.registerModule('conv', new Conv2d(inC, outC, kernel, { padding: (kernel - 1) / 2, bias, ...src }));
  }
  forward(x: Tensor): Tensor {
    return this.conv.forward(x);
  }
  /** Input gradient of the conv for output gradient g (a transposed conv with the same weight). */
  inputVjp(g: Tensor): Tensor {
    return convTranspose2d(g, this.conv.weight, null, { padding: this.conv.padding });
  }
}

const meanPool = (x: Tensor) => avgPool2d(x, { kernelSize: 2 });
/** The adjoint of the 2×2 mean pool: each gradient spread over its four inputs, /4. */
const meanPoolVjp = (g: Tensor) => mul(interpolate(g, { scaleFactor: 2, mode: 'nearest' }), 0.25);
const nearestUp = (x: Tensor) => interpolate(x, { scaleFactor: 2, mode: 'nearest' });

/** Mean pool, then conv (the shortcut of a 'down' block). */
export class MeanPoolConv extends Module {
  readonly conv: MyConvo2d;
  constructor(inC: number, outC: number, kernel: number, src: Src) {
    super();
    this.conv = this.registerModule('conv', new MyConvo2d(inC, outC, kernel, src));
  }
  forward(x: Tensor): Tensor {
    return this.conv.forward(meanPool(x));
  }
  inputVjp(g: Tensor): Tensor {
    return meanPoolVjp(this.conv.inputVjp(g));
  }
}

/** Conv, then mean pool. */
export class ConvMeanPool extends Module {
  readonly conv: MyConvo2d;
  constructor(inC: number, outC: number, kernel: number, src: Src) {
    super();
    this.conv = this.registerModule('conv', new MyConvo2d(inC, outC, kernel, src));
  }
  forward(x: Tensor): Tensor {
    return meanPool(this.conv.forward(x));
  }
  inputVjp(g: Tensor): Tensor {
    return this.conv.inputVjp(meanPoolVjp(g));
  }
}

/** Nearest ×2, then conv (the reference's cat ×4 + depth-to-space + conv). */
export class UpSampleConv extends Module {
  readonly conv: MyConvo2d;
  constructor(inC: number, outC: number, kernel: number, src: Src, bias = true) {
    super();
    this.conv = this.registerModule('conv', new MyConvo2d(inC, outC, kernel, src, bias));
  }
  forward(x: Tensor): Tensor {
    return this.conv.forward(nearestUp(x));
  }
}

const reluMask = (pre: Tensor): Tensor => Tensor.fromData(pre.data.map((v) => (v > 0 ? 1 : 0)), pre.shape);

/** What a 'down' block keeps from its forward for the input-gradient graph. */
interface DownSaved {
  ln1: { xHat: Tensor; rstd: Tensor };
  ln2: { xHat: Tensor; rstd: Tensor };
  mask1: Tensor;
  mask2: Tensor;
}

/** The critic's and encoder's residual block: halves the side. LayerNorms over [in, hw, hw]. */
export class DownBlock extends Module {
  readonly bn1: LayerNorm;
  readonly bn2: LayerNorm;
  readonly convShortcut: MeanPoolConv;
  readonly conv1: MyConvo2d;
  readonly conv2: ConvMeanPool;

  constructor(inC: number, outC: number, hw: number, src: Src) {
    super();
    this.bn1 = this.registerModule('bn1', new LayerNorm([inC, hw, hw]));
    this.bn2 = this.registerModule('bn2', new LayerNorm([inC, hw, hw]));
    this.convShortcut = this.registerModule('conv_shortcut', new MeanPoolConv(inC, outC, 1, src));
    this.conv1 = this.registerModule('conv_1', new MyConvo2d(inC, inC, 3, src, false));
    this.conv2 = this.registerModule('conv_2', new ConvMeanPool(inC, outC, 3, src));
  }

  forward(x: Tensor): Tensor {
    return this.forwardSaved(x).y;
  }

  forwardSaved(x: Tensor): { y: Tensor; saved: DownSaved } {
    const ln1 = this.bn1.normalize(x);
    const c1 = this.conv1.forward(relu(ln1.y));
    const ln2 = this.bn2.normalize(c1);
    const main = this.conv2.forward(relu(ln2.y));
    const saved = { ln1, ln2, mask1: reluMask(ln1.y), mask2: reluMask(ln2.y) };
    return { y: add(this.convShortcut.forward(x), main), saved };
  }

  /** ∂(g·y)/∂x as a differentiable graph. */
  inputVjp(g: Tensor, s: DownSaved): Tensor {
    let gm = this.conv2.inputVjp(g);
    gm = this.bn2.inputVjp(mul(gm, s.mask2), s.ln2);
    gm = this.conv1.inputVjp(gm);
    gm = this.bn1.inputVjp(mul(gm, s.mask1), s.ln1);
    return add(gm, this.convShortcut.inputVjp(g));
  }
}

/** The generator's residual block: doubles the side; BatchNorm2d over in, then out channels. */
export class UpBlock extends Module {
  readonly bn1: BatchNorm2d;
  readonly bn2: BatchNorm2d;
  readonly convShortcut: UpSampleConv;
  readonly conv1: UpSampleConv;
  readonly conv2: MyConvo2d;

  constructor(inC: number, outC: number, src: Src) {
    super();
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(inC));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(outC));
    this.convShortcut = this.registerModule('conv_shortcut', new UpSampleConv(inC, outC, 1, src));
    this.conv1 = this.registerModule('conv_1', new UpSampleConv(inC, outC, 3, src, false));
    this.conv2 = this.registerModule('conv_2', new MyConvo2d(outC, outC, 3, src));
  }

  forward(x: Tensor): Tensor {
    const main = this.conv2.forward(relu(this.bn2.forward(this.conv1.forward(relu(this.bn1.forward(x))))));
    return add(this.convShortcut.forward(x), main);
  }
}

export interface FanoganNetOptions extends RandomSource {
  /** Image channels (1 in the reference). */
  inChannels?: number;
  /** Image side, a multiple of 16 (64 in the reference). */
  size?: number;
  /** DIM: widths DIM, 2·DIM, 4·DIM, 8·DIM (64). */
  dim?: number;
  /** Latent size (the reference generator takes 128). */
  latent?: number;
}

export interface FanoganNetConfig {
  inChannels: number;
  size: number;
  dim: number;
  latent: number;
}

export function fanoganConfig(opts: FanoganNetOptions = {}): FanoganNetConfig {
  const c = { inChannels: opts.inChannels ?? 1, size: opts.size ?? 64, dim: opts.dim ?? 64, latent: opts.latent ?? 128 };
  for (const [k, v] of Object.entries(c)) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`f-AnoGAN: ${k} must be a positive integer, got ${v}`);
  }
  if (c.size % 16) throw new Error(`f-AnoGAN: size must be a multiple of 16 (four ×2 blocks), got ${c.size}`);
  return c;
}

/** The f-AnoGAN initialisation (the reference's initialize()). */
export function fanoganInit(net: Module, generator: Generator): void {
  for (const m of net.modules()) {
    if (m instanceof Conv2d) {
      init.kaimingNormal(m.weight, { generator });
      if (m.bias) init.zeros(m.bias);
    } else if (m instanceof BatchNorm2d || m instanceof LayerNorm) {
      if (m.weight) init.ones(m.weight);
      if (m.bias) init.zeros(m.bias);
    } else if (m instanceof Linear) {
      init.xavierUniform(m.weight, { generator });
      if (m.bias) init.zeros(m.bias);
    }
  }
}

function checkImage(x: Tensor, c: FanoganNetConfig, who: string): void {
  if (x.ndim !== 4 || x.shape[1] !== c.inChannels || x.shape[2] !== c.size || x.shape[3] !== c.size) {
    throw new Error(`${who}: expected input [B, ${c.inChannels}, ${c.size}, ${c.size}], got [${x.shape.join(', ')}]`);
  }
}

/** z [B, latent] → image [B, C, s, s] in (−1, 1). */
export class FanoganGenerator extends Module {
  readonly ln1: Linear;
  readonly blocks: UpBlock[] = [];
  readonly bn: BatchNorm2d;
  readonly conv1: MyConvo2d;
  private readonly fm: number;

  constructor(
    readonly config: FanoganNetConfig,
    src: Src,
  ) {
    super();
    const d = config.dim;
    this.fm = config.size / 16;
    this.ln1 = this.registerModule('ln1', new Linear(config.latent, this.fm * this.fm * 8 * d, src));
    const chain = [8 * d, 8 * d, 4 * d, 2 * d, d];
    for (let i = 0; i < 4; i++) this.blocks.push(this.registerModule(`rb${i + 1}`, new UpBlock(chain[i], chain[i + 1], src)));
    this.bn = this.registerModule('bn', new BatchNorm2d(d));
    this.conv1 = this.registerModule('conv1', new MyConvo2d(d, config.inChannels, 3, src));
  }

  forward(z: Tensor): Tensor {
    if (z.ndim !== 2 || z.shape[1] !== this.config.latent) throw new Error(`FanoganGenerator: expected z [B, ${this.config.latent}], got [${z.shape.join(', ')}]`);
    let x = this.ln1.forward(z).reshape([-1, 8 * this.config.dim, this.fm, this.fm]);
    for (const b of this.blocks) x = b.forward(x);
    return tanh(this.conv1.forward(relu(this.bn.forward(x))));
  }
}

/** The WGAN critic: conv, four 'down' blocks, flatten ("features"), Linear → one score. */
export class Critic extends Module {
  readonly conv1: MyConvo2d;
  readonly blocks: DownBlock[] = [];
  readonly ln1: Linear;

  constructor(
    readonly config: FanoganNetConfig,
    src: Src,
  ) {
    super();
    const { dim: d, size: s } = config;
    this.conv1 = this.registerModule('conv1', new MyConvo2d(config.inChannels, d, 3, src));
    const chain = [d, 2 * d, 4 * d, 8 * d, 8 * d];
    for (let i = 0; i < 4; i++) this.blocks.push(this.registerModule(`rb${i + 1}`, new DownBlock(chain[i], chain[i + 1], s / 2 ** i, src)));
    const fm = s / 16;
    this.ln1 = this.registerModule('ln1', new Linear(fm * fm * 8 * d, 1, src));
  }

  /** The flattened output of the last block, [B, 8·DIM·fm²] (f_D in the izif loss). */
  features(x: Tensor): Tensor {
    checkImage(x, this.config, 'Critic');
    let h = this.conv1.forward(x);
    for (const b of this.blocks) h = b.forward(h);
    return h.flatten(1);
  }

  /** The critic's score per sample, [B]. */
  forward(x: Tensor): Tensor {
    return this.ln1.forward(this.features(x)).reshape([-1]);
  }

  /**
   * ∇ₓ Σ_b D(x)_b, i.e. each sample's input gradient (samples do not interact: LayerNorm is
   * per sample), built from differentiable ops so that a loss on it back-propagates into the
   * critic's parameters exactly. x itself need not require grad.
   */
  inputGradient(x: Tensor): Tensor {
    checkImage(x, this.config, 'Critic');
    let h = this.conv1.forward(x);
    const saved: DownSaved[] = [];
    for (const b of this.blocks) {
      const r = b.forwardSaved(h);
      saved.push(r.saved);
      h = r.y;
    }
    // D = ln1(flatten(h)): with ∂L/∂D = 1 per sample, ∂L/∂h = the weight row, per sample.
    let g = matmul(ones([x.shape[0], 1]), this.ln1.weight).reshape(h.shape);
    for (let i = this.blocks.length - 1; i >= 0; i--) g = this.blocks[i].inputVjp(g, saved[i]);
    return this.conv1.inputVjp(g);
  }
}

/** x → z ∈ (−1, 1)^latent: conv, four 'down' blocks, Linear, tanh. */
export class FanoganEncoder extends Module {
  readonly convIn: Conv2d;
  readonly blocks: DownBlock[] = [];
  readonly fc: Linear;

  constructor(
    readonly config: FanoganNetConfig,
    src: Src,
  ) {
    super();
    const { dim: d, size: s } = config;
    this.convIn = this.registerModule('conv_in', new Conv2d(config.inChannels, d, 3, { padding: 1, ...src }));
    const chain = [d, 2 * d, 4 * d, 8 * d, 8 * d];
    for (let i = 0; i < 4; i++) this.blocks.push(this.registerModule(`res${i + 1}`, new DownBlock(chain[i], chain[i + 1], s / 2 ** i, src)));
    const fm = s / 16;
    this.fc = this.registerModule('fc', new Linear(fm * fm * 8 * d, config.latent, src));
  }

  forward(x: Tensor): Tensor {
    checkImage(x, this.config, 'FanoganEncoder');
    let h = this.convIn.forward(x);
    for (const b of this.blocks) h = b.forward(h);
    return tanh(this.fc.forward(h.flatten(1)));
  }
}

/** The three networks under the reference's names: encoder, generator, discriminator. */
export class FAnoGAN extends Module {
  readonly config: FanoganNetConfig;
  readonly encoder: FanoganEncoder;
  readonly generator: FanoganGenerator;
  readonly discriminator: Critic;

  constructor(opts: FanoganNetOptions = {}) {
    super();
    this.config = fanoganConfig(opts);
    const g = resolveGenerator(opts);
    const src = { generator: g };
    this.encoder = this.registerModule('encoder', new FanoganEncoder(this.config, src));
    this.generator = this.registerModule('generator', new FanoganGenerator(this.config, src));
    this.discriminator = this.registerModule('discriminator', new Critic(this.config, src));
    fanoganInit(this, g);
  }

  /** x → G(E(x)) and the critic features of x and of G(E(x)). */
  forward(x: Tensor): { xHat: Tensor; featReal: Tensor; featFake: Tensor } {
    const xHat = this.generator.forward(this.encoder.forward(x));
    return { xHat, featReal: this.discriminator.features(x), featFake: this.discriminator.features(xHat) };
  }
}
