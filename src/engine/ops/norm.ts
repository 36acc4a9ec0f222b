// Batch normalisation (BatchNorm1d/2d semantics) and group normalisation, each one
// autograd node over the backend's fused statistics / apply / backward kernels.
import { kernels } from '../../backend/registry.js';
import type { ChannelParams, GroupNormParams } from '../../backend/types.js';
import { isGradEnabled, record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { fmt, prod } from '../shape-util.js';
import { checkTensor } from './elementwise.js';
import { copyStrided } from './strided.js';
import { relu } from './activation.js';

export interface BatchNormOptions {
  training: boolean;
  /** Weight of the new batch in the running averages; null = cumulative average (needs numBatchesTracked). */
  momentum?: number | null;
  eps?: number;
  /** Batches seen including this one; used only when momentum is null (factor 1/numBatchesTracked). */
  numBatchesTracked?: number;
}

function checkChannelVector(t: Tensor | null | undefined, C: number, op: string, arg: string): void {
  if (!t) return;
  checkTensor(t, op, arg);
  if (t.size !== C || t.ndim !== 1) throw new RangeError(`${op}: ${arg} must have shape [${C}] (one per channel), got ${fmt(t.shape)}`);
}

function checkEps(eps: unknown, op: string): number {
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) throw new RangeError(`${op}: eps must be a non-negative number, got ${String(eps)}`);
  return eps;
}

/** (v + eps)^(−1/2), through the unary kernels. */
function invStd(variance: Float32Array, eps: number): Float32Array {
  const n = variance.length;
  const shifted = new Float32Array(n);
  const out = new Float32Array(n);
  kernels().unary({ op: 'addScalar', n, alpha: eps, beta: 0 }, variance, shifted);
  kernels().unary({ op: 'powScalar', n, alpha: -0.5, beta: 0 }, shifted, out);
  return out;
}

/** running ← (1 − f)·running + f·scale·batch, in place (no graph: running stats are buffers). */
function updateRunning(running: Tensor, batch: Float32Array, f: number, scale: number): void {
  const n = running.size;
  const next = new Float32Array(n);
  kernels().unary({ op: 'mulScalar', n, alpha: 1 - f, beta: 0 }, running.data, next);
  kernels().axpy({ n, alpha: f * scale }, batch, next);
  copyStrided([n], next, [1], 0, running.data, [1], 0);
}

/**
 * Batch normalisation of x [N, C] or [N, C, ...] over every dim but C.
 * Training: normalises with the batch mean and biased variance, and (when given) updates
 * the running stats in place with the unbiased variance, like PyTorch. Eval: uses the
 * running stats (or batch stats when none are given, as with track_running_stats=False).
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null,
  bias: Tensor | null,
  opts: BatchNormOptions,
): Tensor {
  const op = 'batchNorm';
  checkTensor(x, op, 'input');
  if (x.ndim < 2) throw new RangeError(`${op}: input must be [N, C] or [N, C, ...], got ${fmt(x.shape)}`);
  if (typeof opts?.training !== 'boolean') throw new TypeError(`${op}: opts.training must be true or false`);
  const [N, C] = x.shape;
  const HW = prod(x.shape.slice(2));
  checkChannelVector(runningMean, C, op, 'runningMean');
  checkChannelVector(runningVar, C, op, 'runningVar');
  checkChannelVector(weight, C, op, 'weight');
  checkChannelVector(bias, C, op, 'bias');
  if (!runningMean !== !runningVar) throw new TypeError(`${op}: pass both runningMean and runningVar, or neither`);
  const eps = checkEps(opts.eps ?? 1e-5, op);
  const momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
  const p: ChannelParams = { N, C, HW };
  const useBatchStats = opts.training || !runningMean;
  const count = N * HW;

  let mean: Float32Array;
  let invstd: Float32Array;
  if (useBatchStats) {
    if (count <= 1 && opts.training) {
      throw new RangeError(`${op}: training needs more than one value per channel, got input ${fmt(x.shape)}`);
    }
    mean = new Float32Array(C);
    const variance = new Float32Array(C);
    if (count > 0) kernels().batchNormStats(p, x.data, mean, variance);
    invstd = invStd(variance, eps);
    if (opts.training && runningMean && runningVar) {
      let f: number;
      if (momentum === null) {
        const n = opts.numBatchesTracked;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
          throw new TypeError(`${op}: momentum null (cumulative average) needs opts.numBatchesTracked ≥ 1, got ${String(n)}`);
        }
        f = 1 / n;
      } else {
        if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) throw new RangeError(`${op}: momentum must be in [0, 1] or null, got ${String(momentum)}`);
        f = momentum;
      }
      updateRunning(runningMean, mean, f, 1);
      updateRunning(runningVar, variance, f, count / (count - 1)); // unbiased, as PyTorch stores it
    }
  } else {
    mean = runningMean!.data.slice();
    invstd = invStd(runningVar!.data, eps);
  }

  const y = Tensor.uninit(x.shape); // batchNormApply overwrites every element
  if (y.size > 0) kernels().batchNormApply(p, x.data, mean, invstd, weight ? weight.data : null, bias ? bias.data : null, y.data);
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(y, op, inputs, (g, needs) => {
    const dx = Tensor.uninit(x.shape); // all outputs overwritten
    const dgamma = weight && needs[1] ? Tensor.empty([C]) : null;
    const dbeta = bias && needs[inputs.length - 1] ? Tensor.empty([C]) : null;
    kernels().batchNormBackward({ ...p, training: useBatchStats }, x.data, g.data, mean, invstd, weight ? weight.data : null, dx.data, dgamma?.data ?? null, dbeta?.data ?? null);
    return [needs[0] ? dx : null, ...(weight ? [dgamma] : []), ...(bias ? [dbeta] : [])];
  });
}

/** The checked kernel geometry of a group normalisation of x [N, C, ...] (groupNorm, groupNormSilu). */
export function groupNormParams(op: string, x: Tensor, numGroups: number, weight: Tensor | null, bias: Tensor | null, eps: number): GroupNormParams {
  checkTensor(x, op, 'input');
  if (x.ndim < 2) throw new RangeError(`${op}: input must be [N, C, ...], got ${fmt(x.shape)}`);
  const [N, C] = x.shape;
  if (typeof numGroups !== 'number' || !Number.isInteger(numGroups) || numGroups < 1) {
    throw new RangeError(`${op}: numGroups must be a positive integer, got ${String(numGroups)}`);
  }
  if (C % numGroups !== 0) throw new RangeError(`${op}: ${C} channels are not divisible into numGroups=${numGroups} groups`);
  checkChannelVector(weight, C, op, 'weight');
  checkChannelVector(bias, C, op, 'bias');
  checkEps(eps, op);
  return { N, C, HW: prod(x.shape.slice(2)), G: numGroups, eps };
}

/** Group normalisation of x [N, C, ...]: statistics per sample over each group of C/G channels. */
export function groupNorm(x: Tensor, numGroups: number, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  const op = 'groupNorm';
  const p = groupNormParams(op, x, numGroups, weight, bias, eps);
  const { N, C } = p;
  const y = Tensor.uninit(x.shape); // groupNormForward writes every element
  const mean = new Float32Array(N * numGroups);
  const invstd = new Float32Array(N * numGroups);
  if (y.size > 0) kernels().groupNormForward(p, x.data, weight ? weight.data : null, bias ? bias.data : null, y.data, mean, invstd);
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(y, op, inputs, (g, needs) => {
    const dx = Tensor.empty(x.shape);
    const dgamma = weight && needs[1] ? Tensor.empty([C]) : null;
    const dbeta = bias && needs[inputs.length - 1] ? Tensor.empty([C]) : null;
    kernels().groupNormBackward(p, x.data, g.data, mean, invstd, weight ? weight.data : null, dx.data, dgamma?.data ?? null, dbeta?.data ?? null);
    return [needs[0] ? dx : null, ...(weight ? [dgamma] : []), ...(bias ? [dbeta] : [])];
  });
}

export interface BatchNormReluOptions {
  eps?: number;
  /**
   * Write the result over x's memory. Only for an x nothing else will read (a fresh layer
   * output inside a forward that records no graph); ignored while a graph is recorded.
   */
  inPlace?: boolean;
}

/**
 * relu(batchNorm(x, …, { training: false })) with the running statistics, in one pass: the
 * eval-time fusion of BN + ReLU, bitwise equal to the two ops on the same backend. While a
 * graph is being recorded through any input it is exactly those two ops (differentiable).
 */
export function batchNormRelu(
  x: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  opts: BatchNormReluOptions = {},
): Tensor {
  const op = 'batchNormRelu';
  checkTensor(x, op, 'input');
  if (!runningMean || !runningVar) throw new TypeError(`${op}: needs runningMean and runningVar (eval mode)`);
  const eps = opts.eps ?? 1e-5;
  if (isGradEnabled() && [x, weight, bias].some((t) => t?.requiresGrad)) {
    return relu(batchNorm(x, runningMean, runningVar, weight, bias, { training: false, eps }));
  }
  if (x.ndim < 2) throw new RangeError(`${op}: input must be [N, C] or [N, C, ...], got ${fmt(x.shape)}`);
  const [N, C] = x.shape;
  checkChannelVector(runningMean, C, op, 'runningMean');
  checkChannelVector(runningVar, C, op, 'runningVar');
  checkChannelVector(weight, C, op, 'weight');
  checkChannelVector(bias, C, op, 'bias');
  checkEps(eps, op);
  const p: ChannelParams = { N, C, HW: prod(x.shape.slice(2)) };
  // The same mean and invstd the unfused eval path computes (batchNorm above).
  const mean = runningMean.data.slice();
  const invstd = invStd(runningVar.data, eps);
  const y = opts.inPlace ? new Tensor(x.storage, x.shape) : Tensor.uninit(x.shape);
  if (y.size > 0) kernels().batchNormApplyRelu(p, x.data, mean, invstd, weight ? weight.data : null, bias ? bias.data : null, y.data);
  return y;
}
