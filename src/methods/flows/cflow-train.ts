// CFlow-AD's training step on one image batch (gudovskiy/cflow-ad `train.py train_meta_epoch`,
// `utils.py adjust_learning_rate / warmup_learning_rate`; anomalib `cflow/lightning_model.py`).
//
// Per level, in level order: the B·H·W fibers of the batch (order b, h, w) with their
// positional conditions; a fresh random permutation of them; fiber batches of N taken in that
// order, each one Adam step over all the flows:
//   log p = C·(−ln √(2π)) − ½·Σ_c z_c² + log|det J|,  log p̄ = log p / C,
//   loss  = mean over the fiber batch of −log σ(log p̄) = softplus(−log p̄).
// The reference drops the E mod N fibers left over (E // N batches); anomalib merges them into
// the last batch (fiberRemainder 'merge').
//
// One Adam over every level's flow, zeroed before each fiber batch. The reference ran on
// PyTorch 1.x, whose zero_grad() sets gradients to zero rather than None: a flow that has had
// a gradient once then takes a step at every fiber batch of every level — a momentum-only step
// (zero gradient) when the batch belongs to another level. zeroGrad 'zeros' (default) does the
// same; 'none' (PyTorch ≥ 2, anomalib) skips the flows that got no gradient. The zero-gradient
// steps are queued and run in one pass per parameter (zero-grad-steps.ts: the same bits).
//
// Learning rate (reference, lrSchedule 'warmup-cosine'): per meta-epoch m (0-based) of M,
//   η(m) = η_min + (η − η_min)·(1 + cos(π·m/M))/2,  η_min = η·0.1³;
// during meta-epochs 0 and 1 a linear warm-up overrides it per image batch, from η/10 to η(2),
// at the fraction (image batches done in the warm-up) / (image batches of the warm-up).
// anomalib: the constant η ('constant').
import { div, mul, neg, softplus, sum, Tensor, type Generator } from '../../engine/index.js';
import type { Adam } from '../../nn/optim/adam.js';
import type { SequenceINN } from '../../nn/layers/flow.js';
import { fiberConditions } from './positional.js';
import { ZeroGradSteps } from './zero-grad-steps.js';

/** −ln √(2π) (the reference's _GCONST_). */
export const LOG_NORMAL_CONST = -0.9189385332046727;

/** Meta-epochs the reference warms up over (lr_warm_epochs). */
export const WARMUP_META_EPOCHS = 2;

export type LrSchedule = 'warmup-cosine' | 'constant';

export interface LrScheduleSettings {
  lr: number;
  schedule: LrSchedule;
  /** Passes over the training images per meta-epoch (sub_epochs, 8). */
  subEpochs: number;
  /** Meta-epochs of the run: ⌈epochs / subEpochs⌉. */
  metaEpochs: number;
  /** Image batches per pass (the reference's len(loader), drop_last). */
  batchesPerPass: number;
}

/** The cosine value of meta-epoch m (adjust_learning_rate with lr_cosine). */
export function cosineLr(lr: number, m: number, metaEpochs: number): number {
  const etaMin = lr * 0.1 ** 3;
  return etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * m) / metaEpochs))) / 2;
}

/** The learning rate of image batch `batch` (0-based within its pass) of pass `epoch` (1-based). */
export function cflowLearningRate(s: LrScheduleSettings, epoch: number, batch: number): number {
  if (s.schedule === 'constant') return s.lr;
  const m = Math.floor((epoch - 1) / s.subEpochs);
  const sub = (epoch - 1) % s.subEpochs;
  if (m < WARMUP_META_EPOCHS) {
    const total = s.batchesPerPass * s.subEpochs;
    const p = (batch + sub * s.batchesPerPass + m * total) / (WARMUP_META_EPOCHS * total);
    const from = s.lr / 10;
    const to = cosineLr(s.lr, WARMUP_META_EPOCHS, s.metaEpochs);
    return from + p * (to - from);
  }
  return cosineLr(s.lr, m, s.metaEpochs);
}

export type FiberRemainder = 'drop' | 'merge';

/** [start, end) ranges of the permuted fibers that make the fiber batches of E fibers. */
export function fiberBatches(E: number, N: number, remainder: FiberRemainder): Array<[number, number]> {
  const count = Math.floor(E / N);
  const out: Array<[number, number]> = [];
  for (let f = 0; f < count; f++) out.push([f * N, (f + 1) * N]);
  if (remainder === 'merge' && count > 0) out[count - 1][1] = E;
  return out;
}

/** Rows `idx` of the fibers of f [B, C, H, W] as [n, C] (fiber e = b·H·W + h·W + w). */
export function gatherFibers(f: Tensor, idx: Int32Array): Tensor {
  const [, C, H, W] = f.shape;
  const hw = H * W;
  const d = f.data;
  const out = new Float32Array(idx.length * C);
  for (let r = 0; r < idx.length; r++) {
    const e = idx[r];
    const b = Math.floor(e / hw);
    const s = e - b * hw;
    const base = b * C * hw + s;
    const o = r * C;
    for (let c = 0; c < C; c++) out[o + c] = d[base + c * hw];
  }
  return Tensor.fromData(out, [idx.length, C]);
}

/** Rows `idx` of a row-major [E, P] array as [n, P]. */
export function gatherRows(rows: Float32Array, P: number, idx: Int32Array): Tensor {
  const out = new Float32Array(idx.length * P);
  for (let r = 0; r < idx.length; r++) out.set(rows.subarray(idx[r] * P, (idx[r] + 1) * P), r * P);
  return Tensor.fromData(out, [idx.length, P]);
}

/** log p̄ [n] = (C·(−ln √(2π)) − ½·Σ_c z_c² + log|det J|) / C of latents z [n, C] (the reference's get_logp / C). */
export function cflowLogProb(z: Tensor, logdet: Tensor): Tensor {
  const C = z.shape[1];
  // In the reference's order: (C·const − ½·Σz²) + log|det J|.
  return div(sum(mul(z, z), 1).mul(-0.5).add(C * LOG_NORMAL_CONST).add(logdet), C);
}

/** log p̄ [n] of fibers e [n, C] under a flow with conditions c [n, P]. */
export function fiberLogProb(flow: SequenceINN, e: Tensor, c: Tensor): Tensor {
  const { z, logdet } = flow.forward(e, c);
  return cflowLogProb(z, logdet);
}

/** The fiber batch's loss: mean of −log σ(log p̄) = softplus(−log p̄). */
export function fiberLoss(logProb: Tensor): Tensor {
  return softplus(neg(logProb)).mean();
}

export type ZeroGrad = 'zeros' | 'none';

export interface FiberStepSettings {
  condition: number;
  fiberBatch: number;
  remainder: FiberRemainder;
  zeroGrad: ZeroGrad;
  lr: number;
}

export interface FiberStepResult {
  /** Sum of the per-fiber losses of every fiber batch, and the fibers they hold. */
  lossSum: number;
  fibers: number;
  /** Per level: loss sum and fibers. */
  levels: Array<{ lossSum: number; fibers: number }>;
  /** Adam steps taken. */
  steps: number;
}

/** One zero buffer, grown to the largest parameter, viewed as every zero gradient (never written: assigned after backward). */
let zeroBuffer = new Float32Array(0);

function zeroGradFor(p: Tensor): Tensor {
  if (zeroBuffer.length < p.size) zeroBuffer = new Float32Array(p.size);
  return Tensor.fromData(zeroBuffer.subarray(0, p.size), p.shape);
}

/** Where a level's fiber order comes from: a fresh permutation drawn from `generator`, or given (fixtures). */
export type FiberOrder = { generator: Generator } | { perms: readonly Int32Array[] };

/**
 * Trains the flows on one image batch's features (one per level, [B, C_l, H_l, W_l]): per
 * level a permutation of its fibers, then one Adam step per fiber batch. A level with fewer
 * fibers than one batch takes no step (the method refuses that for a full image batch).
 * `afterBackward` (tests) sees each fiber batch's loss with the gradients in place, before the step
 * (with zeroGrad 'zeros' the other levels' parameters may still have zero-gradient steps queued).
 */
export function cflowFiberSteps(
  flows: readonly SequenceINN[],
  feats: readonly Tensor[],
  adam: Adam,
  s: FiberStepSettings,
  order: FiberOrder,
  afterBackward?: (level: number, batch: number, loss: number) => void,
): FiberStepResult {
  for (const group of adam.paramGroups) group.lr = s.lr;
  const params = adam.paramGroups.flatMap((group) => group.params);
  const result: FiberStepResult = { lossSum: 0, fibers: 0, levels: [], steps: 0 };
  // 'zeros': the other levels' zero-gradient steps are queued and run in one pass each (same bits).
  const lazy = s.zeroGrad === 'zeros' && ZeroGradSteps.handles(adam) ? new ZeroGradSteps(adam) : null;
  try {
    feats.forEach((f, l) => {
      const [B, , H, W] = f.shape;
      const E = B * H * W;
      const conds = fiberConditions(s.condition, B, H, W);
      let perm: Int32Array;
      if ('perms' in order) {
        perm = order.perms[l];
        if (perm.length !== E) throw new RangeError(`cflowFiberSteps: the order of level ${l} has ${perm.length} entries for ${E} fibers`);
      } else {
        perm = new Int32Array(E);
        for (let i = 0; i < E; i++) perm[i] = i;
        order.generator.shuffle(perm);
      }
      const level = { lossSum: 0, fibers: 0 };
      fiberBatches(E, s.fiberBatch, s.remainder).forEach(([a, b], k) => {
        const idx = perm.subarray(a, b);
        const e = gatherFibers(f, idx);
        const c = gatherRows(conds, s.condition, idx);
        adam.zeroGrad();
        lazy?.flush(flows[l].parameters()); // their queued zero-gradient steps, before the forward reads them
        const logProb = fiberLogProb(flows[l], e, c);
        const loss = fiberLoss(logProb);
        loss.backward();
        const value = loss.item();
        afterBackward?.(l, k, value);
        if (lazy) lazy.step();
        else {
          if (s.zeroGrad === 'zeros') for (const p of params) if (!p.grad && adam.state.has(p)) p.grad = zeroGradFor(p);
          adam.step();
        }
        level.lossSum += value * idx.length;
        level.fibers += idx.length;
        result.steps++;
      });
      result.levels.push(level);
      result.lossSum += level.lossSum;
      result.fibers += level.fibers;
    });
  } finally {
    lazy?.flush(); // nothing stays queued past the image batch (checkpoints, scoring, the next call)
  }
  return result;
}
