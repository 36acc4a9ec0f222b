// FrEIA's AllInOneBlock (affine coupling + global affine + fixed channel mixing) and
// SequenceINN, the normalizing-flow pieces CFlow-AD and FastFlow are built from.
//
// One block, for x [B, C] (vectors, optional condition c [B, P]) or [B, C, H, W] (maps):
//   x1 = x[:, :C1] (C1 = C − ⌊C/2⌋, passed through), x2 = x[:, C1:]
//   r = subnet(concat(x1, c)) · 0.1;  s = r[:, :C2], t = r[:, C2:]
//   j = α·tanh(s)            (FrEIA ≤ 2023-03, anomalib's copy: every reference run)
//     or α·tanh(s/α)         (FrEIA from ae74fd4, 2023-08: clampForm 'tanh-scaled')
//   y2 = x2·exp(j) + t;  u = concat(x1, y2)
//   g = 0.1·softplus_{β=0.5}(γ) = 0.2·ln(1 + exp(γ/2)) per channel, γ = 2·ln(e⁵ − 1) at init (g = 1)
//   v = u·g + offset;  out = W·v along channels (W a fixed permutation or rotation)
//   log|det J| = Σ_{C2 channels, positions} j + n_pix·Σ_c ln g_c, per sample.
// The subnet has PyTorch's default initialisation (no zero-init of its last layer).
//
// State names are FrEIA's (global_scale [1, C(, 1, 1)], global_offset, w_perm, w_perm_inv,
// subnet.*) so CFLOW-official and anomalib checkpoints load unchanged. w_perm / w_perm_inv
// are the C×C matrices FrEIA of 2022–2023 stores (one-hot for a hard permutation); they are
// buffers here (FrEIA keeps them as parameters with requires_grad=False): saved, never trained.
// A hard permutation's index is read from w_perm once and kept; loadStateDict drops it (change
// the matrices through loadStateDict, not in place). A block built with `init: false` draws no
// mixing (a Haar rotation of C = 2048 takes seconds): its matrices are zero, and it refuses to
// run until loadStateDict fills them.
import { concat, coupling, couplingInverse, Tensor, type CouplingMix, type Generator } from '../../engine/index.js';
import { Module } from '../module.js';
import { permutationMatrix, randomPermutation, randomRotation } from './flow-rotation.js';

export type ClampForm = 'tanh' | 'tanh-scaled';

export interface AllInOneBlockOptions {
  /** C: the channels of x (dim 1). */
  channels: number;
  /** Spatial rank: 0 for vectors [B, C], 2 for maps [B, C, H, W]. Default 0. */
  spatialDims?: 0 | 2;
  /** P: a condition [B, P] (or [B, P, H, W] for maps) concatenated to x1; 0/absent = none. */
  condChannels?: number;
  /** FrEIA's subnet_constructor, called once with in = C1 + P, out = 2·C2. */
  subnet: (inChannels: number, outChannels: number) => Module;
  /** affine_clamping α. */
  clamp: number;
  /** 'tanh' (default) = α·tanh(s); 'tanh-scaled' = α·tanh(s/α). */
  clampForm?: ClampForm;
  /** true: a fixed random rotation from SO(C); false: a fixed random permutation. */
  permuteSoft: boolean;
  /** Draws the permutation or rotation (the subnet draws its own initialisation). */
  generator: Generator;
  /**
   * false: draw no permutation or rotation (w_perm, w_perm_inv stay zero) for values that
   * loadStateDict fills next; the generator is left untouched. Default true.
   */
  init?: boolean;
}

/** γ at init: 2·ln(e⁵ − 1), so that 0.2·ln(1 + exp(γ/2)) = 1 (FrEIA global_affine_init = 1). */
export const GLOBAL_SCALE_INIT = 2 * Math.log(Math.exp(5) - 1);

export class AllInOneBlock extends Module {
  readonly channels: number;
  readonly c1: number;
  readonly c2: number;
  readonly condChannels: number;
  readonly spatialDims: 0 | 2;
  readonly clamp: number;
  readonly clampForm: ClampForm;
  readonly permuteSoft: boolean;
  readonly global_scale: Tensor;
  readonly global_offset: Tensor;
  readonly w_perm: Tensor;
  readonly w_perm_inv: Tensor;
  readonly subnet: Module;
  /** π of w_perm and of w_perm_inv (hard permutation), read on first use; null: not read yet. */
  private permIndex: [Int32Array | null, Int32Array | null] = [null, null];
  /** Whether w_perm / w_perm_inv hold a mixing (drawn, or loaded into a block built with init false). */
  private mixReady: [boolean, boolean];

  constructor(opts: AllInOneBlockOptions) {
    super();
    const C = opts.channels;
    if (!Number.isInteger(C) || C < 2) throw new RangeError(`AllInOneBlock: channels must be an integer ≥ 2, got ${String(C)}`);
    const P = opts.condChannels ?? 0;
    if (!Number.isInteger(P) || P < 0) throw new RangeError(`AllInOneBlock: condChannels must be a non-negative integer, got ${String(P)}`);
    const sd = opts.spatialDims ?? 0;
    if (sd !== 0 && sd !== 2) throw new RangeError(`AllInOneBlock: spatialDims must be 0 (vectors) or 2 (maps), got ${String(sd)}`);
    if (typeof opts.clamp !== 'number' || !(opts.clamp > 0) || !Number.isFinite(opts.clamp)) {
      throw new RangeError(`AllInOneBlock: clamp must be a positive finite number, got ${String(opts.clamp)}`);
    }
    const form = opts.clampForm ?? 'tanh';
    if (form !== 'tanh' && form !== 'tanh-scaled') throw new RangeError(`AllInOneBlock: clampForm must be 'tanh' or 'tanh-scaled', got ${String(form)}`);
    if (typeof opts.subnet !== 'function') throw new TypeError('AllInOneBlock: subnet must be a function (inChannels, outChannels) => Module');
    if (!opts.generator) throw new TypeError('AllInOneBlock: generator is required (it draws the fixed permutation)');
    this.channels = C;
    this.c1 = C - Math.floor(C / 2);
    this.c2 = Math.floor(C / 2);
    this.condChannels = P;
    this.spatialDims = sd;
    this.clamp = opts.clamp;
    this.clampForm = form;
    this.permuteSoft = !!opts.permuteSoft;
    const ones = sd === 2 ? [1, 1] : [];
    this.global_scale = this.registerParameter('global_scale', Tensor.empty([1, C, ...ones]));
    this.global_scale.data.fill(GLOBAL_SCALE_INIT);
    this.global_offset = this.registerParameter('global_offset', Tensor.empty([1, C, ...ones]));
    const draw = opts.init !== false;
    const w = new Float32Array(C * C);
    const wInv = new Float32Array(C * C);
    if (draw) {
      if (this.permuteSoft) w.set(randomRotation(C, opts.generator));
      else w.set(permutationMatrix(randomPermutation(C, opts.generator)));
      for (let i = 0; i < C; i++) for (let k = 0; k < C; k++) wInv[k * C + i] = w[i * C + k];
    }
    this.mixReady = [draw, draw];
    this.w_perm = this.registerBuffer('w_perm', Tensor.fromData(w, [C, C, ...ones]));
    this.w_perm_inv = this.registerBuffer('w_perm_inv', Tensor.fromData(wInv, [C, C, ...ones]));
    const sub = opts.subnet(this.c1 + P, 2 * this.c2);
    if (!(sub instanceof Module)) throw new TypeError('AllInOneBlock: subnet(in, out) must return a Module');
    this.subnet = this.registerModule('subnet', sub);
  }

  /** The channel mixing the kernels get: an index vector for a permutation, the matrix for a rotation. */
  private mix(inverse: boolean): CouplingMix {
    const k = inverse ? 1 : 0;
    const name = inverse ? 'w_perm_inv' : 'w_perm';
    if (!this.mixReady[k]) throw new Error(`AllInOneBlock: ${name} was neither drawn (the block was built with init: false) nor loaded; load a state dict first`);
    const w = inverse ? this.w_perm_inv : this.w_perm;
    if (this.permuteSoft) return { kind: 'matrix', w };
    // C² reads: once per loaded or drawn matrix, not per call.
    const perm = (this.permIndex[k] ??= this.readPermutation(w, name));
    return { kind: 'index', perm, w };
  }

  /** π from a one-hot matrix: out[i] = v[π(i)]. */
  private readPermutation(w: Tensor, name: string): Int32Array {
    const C = this.channels;
    const d = w.data;
    const perm = new Int32Array(C);
    for (let i = 0; i < C; i++) {
      let at = -1;
      for (let k = 0; k < C; k++) {
        const e = d[i * C + k];
        if (e === 1 && at < 0) at = k;
        else if (e !== 0) {
          at = -2;
          break;
        }
      }
      if (at < 0) throw new Error(`AllInOneBlock: ${name} row ${i} is not one-hot, yet permuteSoft is false`);
      perm[i] = at;
    }
    return perm;
  }

  /** New values may be in w_perm / w_perm_inv: read π again on next use; a block built without a draw is ready once its matrices hold one. */
  protected override stateLoaded(): void {
    this.permIndex = [null, null];
    const filled = (w: Tensor) => {
      const d = w.data;
      for (let i = 0; i < d.length; i++) if (d[i] !== 0) return true; // a drawn mixing stops within a row
      return false;
    };
    if (!this.mixReady[0]) this.mixReady[0] = filled(this.w_perm);
    if (!this.mixReady[1]) this.mixReady[1] = filled(this.w_perm_inv);
  }

  private checkInput(x: Tensor, cond: Tensor | undefined, op: string): void {
    const want = this.spatialDims + 2;
    if (!(x instanceof Tensor) || x.ndim !== want || x.shape[1] !== this.channels) {
      throw new RangeError(`AllInOneBlock.${op}: input must be [B, ${this.channels}${this.spatialDims ? ', H, W' : ''}], got ${x instanceof Tensor ? `[${x.shape.join(', ')}]` : typeof x}` + (this.spatialDims ? '' : ' (a block for maps is built with spatialDims: 2)'));
    }
    if (this.condChannels > 0) {
      if (!(cond instanceof Tensor)) throw new TypeError(`AllInOneBlock.${op}: this block is conditional (condChannels ${this.condChannels}); pass cond`);
      const ok = cond.ndim === want && cond.shape[0] === x.shape[0] && cond.shape[1] === this.condChannels && cond.shape.slice(2).every((d, i) => d === x.shape[2 + i]);
      if (!ok) throw new RangeError(`AllInOneBlock.${op}: cond must be [${[x.shape[0], this.condChannels, ...x.shape.slice(2)].join(', ')}], got [${cond.shape.join(', ')}]`);
    } else if (cond !== undefined) {
      throw new TypeError(`AllInOneBlock.${op}: cond given to a block built without condChannels`);
    }
  }

  private params() {
    return { c1: this.c1, c2: this.c2, clamp: this.clamp, scaled: this.clampForm === 'tanh-scaled' };
  }

  forward(x: Tensor, cond?: Tensor): { y: Tensor; logdet: Tensor } {
    this.checkInput(x, cond, 'forward');
    const res = coupling(x, (x1) => this.subnet.forward(this.condChannels ? concatCond(x1, cond!) : x1), this.global_scale, this.global_offset, this.mix(false), this.params());
    return { y: res.y, logdet: res.logdet };
  }

  inverse(y: Tensor, cond?: Tensor): { x: Tensor; logdet: Tensor } {
    this.checkInput(y, cond, 'inverse');
    const res = couplingInverse(y, (x1) => this.subnet.forward(this.condChannels ? concatCond(x1, cond!) : x1), this.global_scale, this.global_offset, this.mix(true), this.params());
    return { x: res.x, logdet: res.logdet };
  }

  protected override extraRepr(): string {
    return `channels=${this.channels}${this.condChannels ? `, condChannels=${this.condChannels}` : ''}, clamp=${this.clamp}, clampForm=${this.clampForm}, permuteSoft=${this.permuteSoft}`;
  }
}

function concatCond(x1: Tensor, c: Tensor): Tensor {
  return concat([x1, c], 1);
}

/** The children list of SequenceINN, named 0, 1, ... (PyTorch's nn.ModuleList). */
class ModuleList extends Module {
  constructor(readonly items: Module[]) {
    super();
    items.forEach((m, i) => this.registerModule(String(i), m));
  }
  forward(): never {
    throw new Error('ModuleList has no forward');
  }
}

/** Blocks applied in order, log-dets summed; every block gets the same condition (FrEIA SequenceINN). */
export class SequenceINN extends Module {
  readonly blocks: AllInOneBlock[];
  readonly module_list: Module;

  constructor(blocks: AllInOneBlock[]) {
    super();
    if (!Array.isArray(blocks) || blocks.length === 0 || !blocks.every((b) => b instanceof AllInOneBlock)) {
      throw new TypeError('SequenceINN: blocks must be a non-empty array of AllInOneBlock');
    }
    this.blocks = blocks.slice();
    this.module_list = this.registerModule('module_list', new ModuleList(this.blocks));
  }

  forward(x: Tensor, cond?: Tensor): { z: Tensor; logdet: Tensor } {
    let z = x;
    let logdet: Tensor | null = null;
    for (const b of this.blocks) {
      const r = b.forward(z, b.condChannels ? cond : undefined);
      z = r.y;
      logdet = logdet ? logdet.add(r.logdet) : r.logdet;
    }
    return { z, logdet: logdet! };
  }

  inverse(z: Tensor, cond?: Tensor): { x: Tensor; logdet: Tensor } {
    let x = z;
    let logdet: Tensor | null = null;
    for (let i = this.blocks.length - 1; i >= 0; i--) {
      const b = this.blocks[i];
      const r = b.inverse(x, b.condChannels ? cond : undefined);
      x = r.x;
      logdet = logdet ? logdet.add(r.logdet) : r.logdet;
    }
    return { x, logdet: logdet! };
  }
}
