// The two-stage SSL protocol of MedIAnomaly (methods.md §3.3, §6.2, §6.3; reference:
// caiyu6666/MedIAnomaly ssl/two_stage/run_training.py, eval.py), shared by cutpaste-2stage
// (variants normal and 3way) and anatpaste.
//
// Stage 1, self-supervised training of ProjectionNet (§4.6) from scratch:
// - batches of two-stage-views.ts: B images per view (64), views concatenated, labels 0, 1
//   (2 for 3-way scars), drawn from Repeat(train, 3000) (quirk twoStageRepeat3000);
// - loss: cross-entropy of the logits over the concatenated views; the whole network in
//   training mode (batch norm statistics over the V·B images);
// - SGD lr 0.03, momentum 0.9, weight decay 3e-5 on every parameter;
// - one "epoch" = 256 optimiser steps; after epoch e (0-based) CosineAnnealingWarmRestarts
//   (T_0 = epochs, η_min = 0) is stepped with e, so epochs 0 and 1 train at 0.03 and epoch
//   k ≥ 1 at 0.015·(1 + cos(π(k − 1)/epochs)) (the reference calls scheduler.step(epoch));
// - the last step is the model; a checkpoint after every epoch makes a run resumable to the
//   same numbers (the batches depend only on the seed and the step counter).
//
// Stage 2, one-class (§6.3, the code shared with resnet18-in: gaussian-embedding.ts): the
// 512-d backbone embeddings of every training image (all of them, not only the first 3000)
// in eval mode, L2-normalised, a Ledoit–Wolf Gaussian; image score = Mahalanobis distance.
// The secondary classifier score 1 − softmax(logits)[0] is the option imageScore:
// 'classifier' (the reference's "cls_auc"; not the reported metric). No pixel maps.
//
// The fitted Gaussian is stored with the network as buffers `gaussian.mean` [512] and
// `gaussian.precision` [512, 512] (the network's own names are the reference's: resnet18.*,
// head.*, out.*).
import { crossEntropy, noGrad, softmax, Tensor, type Generator } from '../../engine/index.js';
import type { Split } from '../../data/types.js';
import { EMBEDDING_DIM, ProjectionNet } from '../../models/projection-net.js';
import { Module } from '../../nn/module.js';
import { CosineAnnealingWarmRestarts, SGD } from '../../nn/optim/index.js';
import { GaussianEmbedding } from '../feature-reference/gaussian-embedding.js';
import { ReconstructionMethod, type BatchScore } from '../training/base.js';
import { cleanCheckpoint, readCheckpoint, restoreCheckpoint, writeCheckpoint } from '../training/checkpoint.js';
import { checkGeometry } from '../training/images.js';
import { booleanOption, integerOption, numberOption, stringOption } from '../training/options.js';
import { abortError, seedStreams } from '../training/trainer.js';
import type { EpochPlan, FitOptions, FitResult, Progress } from '../types.js';
import { availableParallelism } from 'node:os';
import { TwoStageBatchFeed } from './two-stage-pool.js';
import { batchesPerPass, makeBatch, VIEW_COUNT, type TwoStageVariant, type ViewBatch, type ViewSettings } from './two-stage-views.js';

export const TWO_STAGE_OPTIONS = [
  integerOption('epochs', 100, 'training epochs of stepsPerEpoch optimiser steps each (reference CLI default 100); the last step is the model', { min: 1 }),
  integerOption('stepsPerEpoch', 256, 'optimiser steps per "epoch" (the reference defines 256 parameter updates as one epoch)', { min: 1 }),
  integerOption('batchSize', 64, 'images per view per step (drop_last): 2 views → 2·batchSize images per step, 3-way → 3·batchSize', { min: 2 }),
  numberOption('lr', 0.03, 'SGD learning rate (CosineAnnealingWarmRestarts over the epochs, stepped after each epoch with its 0-based index)', { min: 0 }),
  numberOption('momentum', 0.9, 'SGD momentum', { min: 0 }),
  numberOption('weightDecay', 3e-5, 'SGD weight decay (all parameters)', { min: 0 }),
  integerOption('seed', 0, 'seed of every random draw: initialisation, data order, jitter and synthetic anomalies (library default: fixed and recorded)', { min: 0, max: 4294967295 }),
  integerOption('size', 224, 'input side S; the dataset must be loaded at this size (the reference: 224)', { min: 32 }),
  integerOption('channels', 1, 'input channels: 1 (grey, replicated to RGB as the reference loads Pillow RGB) or 3', { min: 1, max: 3 }),
  integerOption('headLayers', 1, 'hidden 512-wide Linear–BN–ReLU layers of the projection head before the 128-wide one (reference head_layer)', { min: 0, max: 16 }),
  booleanOption('twoStageRepeat3000', true, 'quirk twoStageRepeat3000: SSL batches come from Repeat(train, 3000), so only the first 3000 training images are used (false: every image)'),
  stringOption('imageScore', 'mahalanobis', "image score: 'mahalanobis' (the one-class stage, reported) or 'classifier' (1 − softmax(logits)[0], the reference's secondary cls_auc)", ['mahalanobis', 'classifier']),
  integerOption('workers', null, 'worker threads making the views (jitter, CutPaste / AnatPaste) ahead of the trainer; 0 = inline; null: min(4, cores − 1), at least 1. The batches do not depend on it', { min: 0, max: 64 }),
  integerOption('embedBatchSize', 64, 'images per forward pass when embedding (one-class fit and scoring); changes speed and memory, not results beyond float32 reordering', { min: 1 }),
];

export type TwoStageSpec = (typeof TWO_STAGE_OPTIONS)[number];

/** ProjectionNet plus the fitted Gaussian as buffers. */
export class TwoStageNet extends ProjectionNet {
  readonly gaussian: GaussianBuffers;
  constructor(opts: { numClasses: number; headLayers: number; generator: Generator }) {
    super(opts);
    this.gaussian = this.registerModule('gaussian', new GaussianBuffers(EMBEDDING_DIM));
  }
}

export class GaussianBuffers extends Module {
  readonly mean: Tensor;
  readonly precision: Tensor;
  constructor(p: number) {
    super();
    this.mean = this.registerBuffer('mean', Tensor.fromData(new Float32Array(p), [p]));
    this.precision = this.registerBuffer('precision', Tensor.fromData(new Float32Array(p * p), [p, p]));
  }
  get isSet(): boolean {
    return this.precision.data.some((v) => v !== 0);
  }
  forward(): never {
    throw new Error('GaussianBuffers holds the fitted Gaussian; it has no forward');
  }
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** [n, C, S, S] in [-1, 1] → [n, 3, S, S] (grey replicated): the reference's test transform of Pillow RGB images. */
export function toRgbInput(x: Tensor): Tensor {
  const [n, c, s] = x.shape;
  if (c === 3) return x;
  const plane = s * s;
  const out = new Float32Array(n * 3 * plane);
  for (let i = 0; i < n; i++) {
    const src = x.data.subarray(i * c * plane, i * c * plane + plane);
    for (let k = 0; k < 3; k++) out.set(src, (i * 3 + k) * plane);
  }
  return Tensor.fromData(out, [n, 3, s, s]);
}

export abstract class TwoStageMethod extends ReconstructionMethod<TwoStageNet> {
  /** The view generator of this method (fixed, or from the variant option). */
  protected abstract get variant(): TwoStageVariant;

  override score(...args: Parameters<ReconstructionMethod<TwoStageNet>['score']>): ReturnType<ReconstructionMethod<TwoStageNet>['score']> {
    this.scoreBatchSize = this.options.embedBatchSize as number;
    return super.score(...args);
  }

  protected buildNetwork(generator: Generator): TwoStageNet {
    const size = this.options.size as number;
    const c = this.options.channels as number;
    if (c !== 1 && c !== 3) throw new RangeError(`${this.info.name}: option "channels" must be 1 or 3, got ${c}`);
    if (size < 32) throw new RangeError(`${this.info.name}: size must be at least 32 (ResNet18 subsamples by 32), got ${size}`);
    return new TwoStageNet({ numClasses: VIEW_COUNT[this.variant], headLayers: this.options.headLayers as number, generator });
  }

  /** An epoch is stepsPerEpoch steps of V views × batchSize images, whatever the training-set size. */
  epochPlan(): EpochPlan {
    const v = VIEW_COUNT[this.variant];
    const b = this.options.batchSize as number;
    return { steps: this.options.stepsPerEpoch as number, stepImages: v * b, stepsOption: 'stepsPerEpoch', stepText: `${v} views × ${b} images` };
  }

  protected viewSettings(): ViewSettings {
    const o = this.options;
    return {
      variant: this.variant,
      seed: o.seed as number,
      batchSize: o.batchSize as number,
      repeat3000: o.twoStageRepeat3000 !== false,
      anatPasteDarkRegion: o.anatPasteDarkRegion !== false,
      anatPasteEmptyRange255: o.anatPasteEmptyRange255 !== false,
    };
  }

  /**
   * Raw 512-d embeddings of packed images [n, C, S, S] in [-1, 1], eval mode, in batches of
   * embedBatchSize; yields to the event loop between batches (abort signals, progress).
   */
  protected async embedAll(net: TwoStageNet, images: Float32Array, n: number, signal?: AbortSignal): Promise<Float32Array> {
    const { channels: c, size: s } = this.geometry;
    const per = c * s * s;
    const bs = this.options.embedBatchSize as number;
    const out = new Float32Array(n * EMBEDDING_DIM);
    net.eval();
    for (let start = 0; start < n; start += bs) {
      await yieldToEventLoop();
      if (signal?.aborted) throw abortError(signal);
      const b = Math.min(bs, n - start);
      const x = toRgbInput(Tensor.fromData(images.slice(start * per, (start + b) * per), [b, c, s, s]));
      out.set(noGrad(() => net.embed(x)).data, start * EMBEDDING_DIM);
    }
    return out;
  }

  override async fit(train: Split, opts: FitOptions = {}): Promise<FitResult> {
    if (!train || typeof train.images !== 'function') throw new TypeError(`${this.info.name}.fit: train must be a Split`);
    checkGeometry(this.info.name, `split ${train.dataset}/${train.name}`, train, this.geometry);
    const o = this.options;
    const n = train.length;
    if (n < 2) throw new RangeError(`${this.info.name}: the one-class stage (Ledoit–Wolf) needs at least 2 training images, got ${n}`);
    const epochs = o.epochs as number;
    const stepsPerEpoch = o.stepsPerEpoch as number;
    const vs = this.viewSettings();
    if (batchesPerPass(n, vs) < 1) throw new RangeError(`${this.info.name}: batchSize ${vs.batchSize} exceeds the repeated training set`);
    const { signal, onProgress, checkpointDir } = opts;
    if (opts.resume && !checkpointDir) throw new Error(`${this.info.name}: resume needs checkpointDir (the folder the run wrote its checkpoints to)`);
    if (signal?.aborted) throw abortError(signal);
    const message = opts.onMessage ?? ((t: string) => process.stderr.write(`${this.info.name}: ${t}\n`));

    const streams = seedStreams(o.seed as number);
    const net = this.buildNetwork(streams.init);
    const sgd = new SGD(net.parameters(), { lr: o.lr as number, momentum: o.momentum as number, weightDecay: o.weightDecay as number });
    const optimizers = { sgd };
    const scheduler = new CosineAnnealingWarmRestarts(sgd, epochs);
    this.net = null;
    this.fitted = null;

    let startEpoch = 0;
    let steps = 0;
    let seconds = 0;
    const lossCurve: number[] = [];
    if (opts.resume && checkpointDir) {
      const ck = readCheckpoint(checkpointDir);
      if (ck) {
        if (ck.method !== this.info.name) throw new Error(`checkpoint in ${checkpointDir} is from method "${ck.method}", not "${this.info.name}"`);
        // epochs may grow; workers changes no batch.
        const diff = Object.keys({ ...ck.options, ...o }).filter((k) => k !== 'epochs' && k !== 'workers' && ck.options[k] !== o[k]);
        if (diff.length) {
          throw new Error(
            `checkpoint in ${checkpointDir} was written with different options (${diff.map((k) => `${k}: ${JSON.stringify(ck.options[k])} there, ${JSON.stringify(o[k])} here`).join('; ')})`,
          );
        }
        if (ck.epoch > epochs) throw new Error(`checkpoint in ${checkpointDir} has ${ck.epoch} epochs done, more than the ${epochs} asked for`);
        restoreCheckpoint(checkpointDir, ck, net, optimizers);
        startEpoch = ck.epoch;
        steps = ck.steps;
        seconds = ck.seconds;
        lossCurve.push(...ck.lossCurve);
        // The rate the next epoch trains with (closed form: nothing else to restore).
        if (startEpoch > 0) scheduler.stepTo(startEpoch - 1);
      }
      cleanCheckpoint(checkpointDir, ck?.folder ?? null, ck?.epoch ?? 0);
    }

    const images = await train.images();
    const { channels: c, size: s } = train;
    if (images.length !== n * c * s * s) throw new Error(`${this.info.name}: ${train.dataset} train images hold ${images.length} values, expected ${n}·${c}·${s}·${s}`);
    const V = VIEW_COUNT[this.variant];
    const totalSteps = epochs * stepsPerEpoch;
    const workers = (o.workers as number | null) ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    const feed = startEpoch < epochs ? new TwoStageBatchFeed(images, n, c, s, vs, { workers, ahead: 2, end: totalSteps }) : null;
    const t0 = performance.now() - seconds * 1000;
    const runStart = performance.now();
    let imagesThisRun = 0;

    try {
      for (let epoch = startEpoch; epoch < epochs; epoch++) {
        net.train();
        let lossSum = 0;
        for (let i = 0; i < stepsPerEpoch; i++) {
          await yieldToEventLoop();
          if (signal?.aborted) throw abortError(signal);
          const step = epoch * stepsPerEpoch + i;
          const batch: ViewBatch = await feed!.take(step);
          const x = Tensor.fromData(batch.x, [V * vs.batchSize, 3, s, s]);
          sgd.zeroGrad();
          const { logits } = net.forward(x);
          const loss = crossEntropy(logits, batch.labels);
          loss.backward();
          sgd.step();
          const l = loss.item();
          if (!Number.isFinite(l)) throw new Error(`${this.info.name}: the training loss became ${l} at epoch ${epoch + 1}, step ${i + 1}; try a smaller lr`);
          lossSum += l;
          steps++;
          imagesThisRun += V * vs.batchSize;
          if (onProgress) {
            const elapsed = (performance.now() - runStart) / 1000;
            const ips = elapsed > 0 ? imagesThisRun / elapsed : 0;
            const left = ((epochs - epoch - 1) * stepsPerEpoch + (stepsPerEpoch - i - 1)) * V * vs.batchSize;
            const p: Progress = {
              epoch: epoch + 1,
              epochs,
              step: i + 1,
              stepsPerEpoch,
              loss: lossSum / (i + 1),
              imagesPerSecond: ips,
              etaSeconds: ips > 0 ? left / ips : Infinity,
              epochDone: i + 1 === stepsPerEpoch,
            };
            onProgress(p);
          }
        }
        scheduler.stepTo(epoch);
        lossCurve.push(lossSum / stepsPerEpoch);
        seconds = (performance.now() - t0) / 1000;
        if (checkpointDir) {
          writeCheckpoint(
            checkpointDir,
            { method: this.info.name, options: o, epoch: epoch + 1, steps, lossCurve: [...lossCurve], seconds, generator: streams.train.state },
            net,
            optimizers,
          );
        }
      }
    } finally {
      await feed?.close();
    }

    // Stage 2: the one-class Gaussian of every training image's embedding.
    message(`one-class stage: embedding ${n} training images`);
    const oneClass = new GaussianEmbedding(this.info.name);
    oneClass.begin(n);
    oneClass.add(await this.embedAll(net, images, n, signal), n, EMBEDDING_DIM, 0);
    const g = oneClass.finish(message);
    net.gaussian.mean.data.set(g.mean);
    net.gaussian.precision.data.set(g.precision);

    const result: FitResult = { epochs, steps, lossCurve, seconds: (performance.now() - t0) / 1000 };
    this.net = net;
    this.fitted = result;
    return result;
  }

  protected scoreBatch(net: TwoStageNet, x: Tensor): BatchScore {
    const rgb = toRgbInput(x);
    const embeds = net.embed(rgb);
    if (this.options.imageScore === 'classifier') {
      const p = softmax(net.classify(embeds), 1).data;
      const k = net.numClasses;
      const n = x.shape[0];
      const scores = new Float32Array(n);
      for (let i = 0; i < n; i++) scores[i] = 1 - p[i * k];
      return { scores };
    }
    if (!net.gaussian.isSet) throw new Error(`${this.info.name}: the network has no fitted Gaussian (gaussian.mean / gaussian.precision); fit the method, or load a folder a fit saved`);
    const oneClass = new GaussianEmbedding(this.info.name);
    oneClass.set({ mean: net.gaussian.mean.data, precision: net.gaussian.precision.data, shrinkage: null });
    return { scores: oneClass.score(embeds.data, embeds.shape[0], embeds.shape[1]) };
  }
}

/** The reference's batch assembly, exported for tests and benches: [V·B, 3, S, S] and labels of one step. */
export function twoStageBatch(images: Float32Array, n: number, channels: number, size: number, settings: ViewSettings, step: number): ViewBatch {
  return makeBatch(images, n, channels, size, settings, step);
}
