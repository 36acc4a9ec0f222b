// The training loop of the reconstruction sub-project (methods.md §3.1), shared by every
// method trained on normal images: the training images are loaded once, shuffled each
// epoch by the run's seeded generator and cut into batches (the last partial batch kept);
// each batch goes to the method's `step`; the last epoch is the result (no model
// selection). After every epoch an optional checkpoint makes the run resumable to the
// same numbers as an uninterrupted one.
//
// Order at the end of an epoch: the epoch's last progress report (epochDone) comes first,
// then the checkpoint commit. A caller that records the epoch synchronously in onProgress
// (the run folder's log) is therefore never behind the checkpoint after a crash, only at
// most one uncommitted epoch ahead, which the resumed run repeats and replaces.
//
// Extension points (what a method supplies in TrainLoopSpec):
// - `network`: the one Module whose state the checkpoint holds. A method with several
//   networks (GANomaly's G and D) registers them under one parent Module.
// - `optimizers`: every optimiser, by name (e.g. { g: adamG, d: adamD }); all are
//   checkpointed. A single-loss method uses `adam(network.parameters(), lr)`.
// - `step(x, ctx)`: one optimisation step on a batch x [B, C, S, S] (no grad attached):
//   any number of forward/backward passes and optimiser steps, returning the loss to report
//   (and named terms). `singleLossStep` covers the one-loss, one-optimiser case.
//   Random draws of a step (masks, noise) must come from `ctx.generator`, the checkpointed
//   training stream, so that resumed runs stay identical.
// - `beforeEpoch(epoch)`: optional; the loop has already put `network` in training mode.
// - `epochOrder(epoch, order)`: optional; the epoch's shuffled indices, before its first step
//   (a method that prepares its batches ahead, in worker threads, reads them here).
import { Generator, Tensor, type GeneratorState } from '../../engine/index.js';
import { BatchNorm1d } from '../../nn/layers/norm.js';
import type { Module } from '../../nn/module.js';
import { Adam } from '../../nn/optim/adam.js';
import type { Optimizer } from '../../nn/optim/optimizer.js';
import type { Split } from '../../data/types.js';
import type { FitOptions, FitResult, MethodOptions, Progress } from '../types.js';
import { cleanCheckpoint, readCheckpoint, restoreCheckpoint, writeCheckpoint } from './checkpoint.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyOptimizer = Optimizer<any>;

export interface StepContext {
  /** 1-based epoch in progress. */
  epoch: number;
  /** 0-based step within the epoch. */
  step: number;
  /** The training stream: shuffling and every per-step random draw (checkpointed). */
  generator: Generator;
  /** Indices, in the training split, of the batch's images. */
  indices: Int32Array;
}

export interface StepResult {
  loss: number;
  terms?: Record<string, number>;
}

export interface TrainLoopSpec {
  /** Method name, recorded in checkpoints. */
  method: string;
  /** Resolved options, recorded in checkpoints; a resume must match them (except `epochs` and `resumeIgnores`). */
  options: MethodOptions;
  /** Options that change no number (e.g. `workers`, the threads that make samples ahead) and may differ on resume. */
  resumeIgnores?: readonly string[];
  epochs: number;
  batchSize: number;
  /** The training stream, already seeded (see `seedStreams`). Its state is checkpointed. */
  generator: Generator;
  network: Module;
  optimizers: Record<string, AnyOptimizer>;
  /** One optimisation step; may be async (a step that waits for its batch to be prepared elsewhere). */
  step(x: Tensor, ctx: StepContext): StepResult | Promise<StepResult>;
  beforeEpoch?(epoch: number): void;
  /** Optional: the epoch's shuffled order of training indices, right after the shuffle (read-only; e.g. to prepare batches ahead). */
  epochOrder?(epoch: number, order: Int32Array): void;
}

/**
 * The independent random streams of a run, all from the `seed` option: `init` for the
 * network's initial weights, `train` for shuffling and augmentation, `score` for draws at
 * test (e.g. the VAE's sampled z; restarted by every score() call so that scores are
 * reproducible). Separate streams keep the data order unchanged when a network's size
 * (its number of init draws) changes.
 */
export function seedStreams(seed: number): { init: Generator; train: Generator; score: Generator } {
  const root = new Generator(seed);
  return { init: root.fork(), train: root.fork(), score: root.fork() };
}

/** Adam with the reference settings (betas 0.9, 0.999; ε 1e-8; no weight decay). */
export function adam(params: Tensor[], lr: number): Adam {
  return new Adam(params, { lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
}

export interface LossOutput {
  loss: Tensor;
  /** Named terms to report (e.g. { rec, kl }); numbers or size-1 tensors. */
  terms?: Record<string, Tensor | number>;
}

/** The common step: zero the gradients, compute the loss, backpropagate, one optimiser step. */
export function singleLossStep(optimizer: AnyOptimizer, computeLoss: () => LossOutput | Tensor): StepResult {
  optimizer.zeroGrad();
  const out = computeLoss();
  const { loss, terms } = out instanceof Tensor ? { loss: out, terms: undefined } : out;
  loss.backward();
  optimizer.step();
  const result: StepResult = { loss: loss.item() };
  if (terms) result.terms = Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, typeof v === 'number' ? v : v.item()]));
  return result;
}

export function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const e = new DOMException(reason instanceof Error ? reason.message : 'fit was aborted', 'AbortError');
  return e;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function sameOptions(a: MethodOptions, b: MethodOptions, ignore: readonly string[] = []): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => k !== 'epochs' && !ignore.includes(k) && a[k] !== b[k]);
}

/** Runs the loop on the train split; resolves with the loss curve once the last epoch is done. */
export async function trainLoop(train: Split, spec: TrainLoopSpec, opts: FitOptions = {}): Promise<FitResult> {
  const { epochs, batchSize, network, optimizers, generator } = spec;
  const n = train.length;
  if (n < 1) throw new Error(`${spec.method}: the training split of ${train.dataset} is empty`);
  const hasBn1d = network.modules().some((m) => m instanceof BatchNorm1d);
  if (hasBn1d && n % batchSize === 1) {
    // PyTorch stops here too ("Expected more than 1 value per channel when training").
    throw new Error(
      `${spec.method}: ${n} training images at batchSize ${batchSize} leave a last batch of 1 image, which batch norm cannot ` +
        `normalise in training; choose a batchSize for which ${n} mod batchSize ≠ 1`,
    );
  }
  if (opts.resume && !opts.checkpointDir) throw new Error(`${spec.method}: resume needs checkpointDir (the folder the run wrote its checkpoints to)`);
  const { signal, onProgress, checkpointDir } = opts;
  if (signal?.aborted) throw abortError(signal);

  let startEpoch = 0;
  let steps = 0;
  let seconds = 0;
  const lossCurve: number[] = [];
  if (opts.resume && checkpointDir) {
    const ck = readCheckpoint(checkpointDir);
    if (ck) {
      if (ck.method !== spec.method) throw new Error(`checkpoint in ${checkpointDir} is from method "${ck.method}", not "${spec.method}"`);
      const diff = sameOptions(ck.options, spec.options, spec.resumeIgnores);
      if (diff.length) {
        throw new Error(
          `checkpoint in ${checkpointDir} was written with different options (${diff.map((k) => `${k}: ${JSON.stringify(ck.options[k])} there, ${JSON.stringify(spec.options[k])} here`).join('; ')})`,
        );
      }
      if (ck.epoch > epochs) throw new Error(`checkpoint in ${checkpointDir} has ${ck.epoch} epochs done, more than the ${epochs} asked for`);
      restoreCheckpoint(checkpointDir, ck, network, optimizers);
      generator.setState(ck.generator as GeneratorState);
      startEpoch = ck.epoch;
      steps = ck.steps;
      seconds = ck.seconds;
      lossCurve.push(...ck.lossCurve);
    }
    // What a killed run left beside the checkpoint (temp files, unreferenced epoch folders) goes now.
    cleanCheckpoint(checkpointDir, ck?.folder ?? null, ck?.epoch ?? 0);
  }

  const images = await train.images();
  const { channels: c, size: s } = train;
  const per = c * s * s;
  if (images.length !== n * per) throw new Error(`${spec.method}: ${train.dataset} train images hold ${images.length} values, expected ${n}·${c}·${s}·${s}`);
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const order = new Int32Array(n);
  const t0 = performance.now() - seconds * 1000;
  let imagesThisRun = 0;
  const runStart = performance.now();

  for (let epoch = startEpoch + 1; epoch <= epochs; epoch++) {
    network.train();
    spec.beforeEpoch?.(epoch);
    for (let i = 0; i < n; i++) order[i] = i;
    generator.shuffle(order);
    spec.epochOrder?.(epoch, order);
    let lossSum = 0;
    let seen = 0;
    const termSums: Record<string, number> = {};
    for (let step = 0; step < stepsPerEpoch; step++) {
      await yieldToEventLoop();
      if (signal?.aborted) throw abortError(signal);
      const indices = order.subarray(step * batchSize, Math.min(n, (step + 1) * batchSize));
      const b = indices.length;
      const data = new Float32Array(b * per);
      for (let j = 0; j < b; j++) data.set(images.subarray(indices[j] * per, (indices[j] + 1) * per), j * per);
      const x = Tensor.fromData(data, [b, c, s, s]);
      const r = await spec.step(x, { epoch, step, generator, indices: indices.slice() });
      if (!Number.isFinite(r.loss)) throw new Error(`${spec.method}: the training loss became ${r.loss} at epoch ${epoch}, step ${step + 1}; try a smaller lr`);
      // Epoch means weight each batch by its size, like a per-image average.
      lossSum += r.loss * b;
      for (const [k, v] of Object.entries(r.terms ?? {})) termSums[k] = (termSums[k] ?? 0) + v * b;
      seen += b;
      steps++;
      imagesThisRun += b;
      if (onProgress) {
        const elapsed = (performance.now() - runStart) / 1000;
        const ips = elapsed > 0 ? imagesThisRun / elapsed : 0;
        const left = (epochs - epoch) * n + (n - seen);
        const p: Progress = {
          epoch,
          epochs,
          step: step + 1,
          stepsPerEpoch,
          loss: lossSum / seen,
          imagesPerSecond: ips,
          etaSeconds: ips > 0 ? left / ips : Infinity,
          epochDone: step + 1 === stepsPerEpoch,
        };
        if (Object.keys(termSums).length) p.terms = Object.fromEntries(Object.entries(termSums).map(([k, v]) => [k, v / seen]));
        onProgress(p);
      }
    }
    lossCurve.push(lossSum / seen);
    seconds = (performance.now() - t0) / 1000;
    if (checkpointDir) {
      writeCheckpoint(
        checkpointDir,
        { method: spec.method, options: spec.options, epoch, steps, lossCurve: [...lossCurve], seconds, generator: generator.state },
        network,
        optimizers,
      );
    }
  }
  return { epochs, steps, lossCurve, seconds: (performance.now() - t0) / 1000 };
}
