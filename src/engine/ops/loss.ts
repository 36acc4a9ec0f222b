// Loss functions with PyTorch's definitions and reductions ('mean' | 'sum' | 'none').
// Most are compositions of differentiable ops; BCE is one node because its PyTorch
// gradient, (x − t)/max(x(1 − x), 1e−12), stays finite where the composed one would not.
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { fmt, sameShape } from '../shape-util.js';
import { abs, add, checkTensor, clamp, div, log, mul, neg, square, sub } from './elementwise.js';
import { logSoftmax, softplus } from './activation.js';
import { mean, sum } from './reduce.js';
import { expand } from './shape.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface LossOptions {
  reduction?: Reduction;
}

function reduce(loss: Tensor, reduction: Reduction | undefined, op: string): Tensor {
  switch (reduction ?? 'mean') {
    case 'mean':
      return mean(loss);
    case 'sum':
      return sum(loss);
    case 'none':
      return loss;
    default:
      throw new TypeError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${String(reduction)}`);
  }
}

function checkPair(input: Tensor, target: Tensor, op: string): void {
  checkTensor(input, op, 'input');
  checkTensor(target, op, 'target');
  if (!sameShape(input.shape, target.shape)) {
    throw new RangeError(`${op}: target shape ${fmt(target.shape)} differs from input shape ${fmt(input.shape)}`);
  }
}

/** Mean squared error. */
export function mseLoss(input: Tensor, target: Tensor, opts: LossOptions = {}): Tensor {
  checkPair(input, target, 'mseLoss');
  return reduce(square(sub(input, target)), opts.reduction, 'mseLoss');
}

/** Mean absolute error. */
export function l1Loss(input: Tensor, target: Tensor, opts: LossOptions = {}): Tensor {
  checkPair(input, target, 'l1Loss');
  return reduce(abs(sub(input, target)), opts.reduction, 'l1Loss');
}

export interface BceOptions extends LossOptions {
  /** Per-element rescaling, broadcast to the input. */
  weight?: Tensor | null;
}

/** The weight broadcast to the input's shape, or null. */
function weightFor(input: Tensor, weight: Tensor | null | undefined, op: string): Tensor | null {
  if (!weight) return null;
  checkTensor(weight, op, 'weight');
  try {
    return expand(weight.detach(), input.shape);
  } catch {
    throw new RangeError(`${op}: weight shape ${fmt(weight.shape)} does not broadcast to the input shape ${fmt(input.shape)}`);
  }
}

/**
 * Binary cross-entropy on probabilities: −w·(t·log x + (1 − t)·log(1 − x)), each log
 * clamped to ≥ −100 as PyTorch does, so x = 0 or 1 gives a finite loss.
 */
export function bceLoss(input: Tensor, target: Tensor, opts: BceOptions = {}): Tensor {
  const op = 'bceLoss';
  checkPair(input, target, op);
  const xd = input.data;
  for (let i = 0; i < xd.length; i++) {
    if (!(xd[i] >= 0 && xd[i] <= 1)) throw new RangeError(`${op}: input[${i}] = ${xd[i]} is not a probability in [0, 1]; apply sigmoid first or use bceWithLogitsLoss`);
  }
  const w = weightFor(input, opts.weight, op);
  const x = input.detach();
  const t = target.detach();
  const logX = clamp(log(x), -100);
  const log1mX = clamp(log(sub(1, x)), -100);
  let elem = neg(add(mul(t, logX), mul(sub(1, t), log1mX)));
  if (w) elem = mul(elem, w);
  const node = record(elem, op, [input, target], (g, needs) => {
    const gw = w ? mul(g, w) : g;
    // d/dx = (x − t) / max(x(1 − x), 1e−12); d/dt = log(1 − x) − log(x) (both clamped).
    const gx = needs[0] ? div(mul(gw, sub(x, t)), clamp(mul(x, sub(1, x)), 1e-12)) : null;
    const gt = needs[1] ? mul(gw, sub(log1mX, logX)) : null;
    return [gx, gt];
  });
  return reduce(node, opts.reduction, op);
}

export interface BceWithLogitsOptions extends BceOptions {
  /** Weight of positive examples, broadcast along the last dim (PyTorch's pos_weight). */
  posWeight?: Tensor | null;
}

/** Sigmoid + binary cross-entropy in the stable form (1 − t)·z + softplus(−z). */
export function bceWithLogitsLoss(logits: Tensor, target: Tensor, opts: BceWithLogitsOptions = {}): Tensor {
  const op = 'bceWithLogitsLoss';
  checkPair(logits, target, op);
  const w = weightFor(logits, opts.weight, op);
  let elem: Tensor;
  if (opts.posWeight) {
    const pw = weightFor(logits, opts.posWeight, op)!;
    // (1 − t)·z + (1 + (pw − 1)·t)·softplus(−z)
    elem = add(mul(sub(1, target), logits), mul(add(mul(sub(pw, 1), target), 1), softplus(neg(logits))));
  } else {
    elem = sub(softplus(logits), mul(logits, target)); // softplus(z) − t·z: the same, one op fewer
  }
  if (w) elem = mul(elem, w);
  return reduce(elem, opts.reduction, op);
}

export interface CrossEntropyOptions extends LossOptions {
  /** Per-class weight [C]. */
  weight?: Tensor | null;
  /** Targets equal to this are skipped (PyTorch default −100). */
  ignoreIndex?: number;
}

/**
 * Cross-entropy of logits [N, C] (or [N, C, ...]) against class ids [N] (or [N, ...]):
 * −log softmax(logits)[target]. 'mean' divides by the summed weight of the counted
 * targets, as PyTorch does.
 */
export function crossEntropy(logits: Tensor, target: Int32Array | number[] | Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  checkTensor(logits, op, 'logits');
  if (logits.ndim < 2) throw new RangeError(`${op}: logits must be [N, C] or [N, C, ...], got ${fmt(logits.shape)}`);
  const [N, C] = logits.shape;
  const spatial = logits.shape.slice(2);
  const S = spatial.reduce((a, b) => a * b, 1);
  const ids: ArrayLike<number> = target instanceof Tensor ? target.data : target;
  if (!(target instanceof Tensor) && !Array.isArray(target) && !(target instanceof Int32Array)) {
    throw new TypeError(`${op}: target must be an Int32Array, a number[] or a Tensor of class ids`);
  }
  if (target instanceof Tensor && !sameShape(target.shape, [N, ...spatial])) {
    throw new RangeError(`${op}: target shape ${fmt(target.shape)} must be ${fmt([N, ...spatial])} for logits ${fmt(logits.shape)}`);
  }
  if (ids.length !== N * S) throw new RangeError(`${op}: target has ${ids.length} class ids but logits ${fmt(logits.shape)} need ${N * S}`);
  let classWeight: Float32Array | null = null;
  if (opts.weight) {
    checkTensor(opts.weight, op, 'weight');
    if (opts.weight.ndim !== 1 || opts.weight.size !== C) throw new RangeError(`${op}: weight must have shape [${C}], got ${fmt(opts.weight.shape)}`);
    classWeight = opts.weight.data;
  }
  const ignore = opts.ignoreIndex ?? -100;
  // The (weighted) one-hot selector is host data built from the ids; the loss is then
  // −Σ_c selector·logSoftmax, so the whole gradient comes from differentiable ops.
  const selector = Tensor.empty(logits.shape);
  let totalWeight = 0;
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const k = ids[n * S + s];
      if (k === ignore) continue;
      if (!Number.isInteger(k) || k < 0 || k >= C) throw new RangeError(`${op}: target[${n * S + s}] = ${k} is not a class id in [0, ${C})`);
      const wk = classWeight ? classWeight[k] : 1;
      selector.data[(n * C + k) * S + s] = wk;
      totalWeight += wk;
    }
  }
  const perSample = neg(sum(mul(logSoftmax(logits, 1), selector), 1)); // [N, ...]
  const reduction = opts.reduction ?? 'mean';
  if (reduction === 'mean') return div(sum(perSample), totalWeight); // 0/0 = NaN when all are ignored, like PyTorch
  return reduce(perSample, reduction, op);
}
