// The base of every method trained by the reconstruction loop: options, the network's
// life cycle (built fresh by fit, rebuilt by load), scoring in batches, save and load.
//
// A subclass supplies:
// - `buildNetwork(generator)`: a freshly initialised network from `this.options`, its
//   initial weights drawn from `generator` only;
// - `loss(net, x, ctx)`: the training loss of a batch (default step: one Adam over every
//   parameter), or `trainStep` / `createOptimizers` for anything else (several
//   optimisers, several passes, extra modules — register extra modules under the network);
// - `scoreBatch(net, x, wantReconstructions, ctx)`: per-pixel maps [B, S, S] (mean over
//   channels) and/or image scores, and reconstructions when asked; random draws at test
//   come from `ctx.generator` (restarted by every score() call, so scores repeat).
// Optional: `scoreMode(net)` (default eval mode), `scoreNeedsGrad` (gradient maps),
// `scoreBatchSize` (64; 1 where batch statistics matter at test).
import { noGrad, Tensor, type Generator } from '../../engine/index.js';
import type { Split } from '../../data/types.js';
import type { Module } from '../../nn/module.js';
import { loadStateDictFile, saveStateDict } from '../../nn/safetensors.js';
import { packImages, checkGeometry } from './images.js';
import { resolveOptions } from './options.js';
import { ensureDir, MODEL_FILE, readConfig, writeConfig, type SavedConfig } from './saved.js';
import type { FitOptions, FitResult, ImageBatch, Method, MethodInfo, MethodOptions, ScoreOptions, ScoreResult } from '../types.js';
import { join } from 'node:path';
import { adam, seedStreams, singleLossStep, trainLoop, type AnyOptimizer, type LossOutput, type StepContext, type StepResult } from './trainer.js';
import { trainingSettings } from '../reconstruction/options.js';

export interface BatchScore {
  /** [B, S, S] pixel maps (already averaged over channels). */
  maps?: Tensor;
  /** [B] image scores; when absent they are reduced from `maps` by the `imageScore` option. */
  scores?: Float32Array;
  /** [B, C, S, S] reconstructions in [-1, 1] space. */
  reconstructions?: Tensor;
}

export interface ScoreContext {
  /** Random draws at test (the run's `score` stream, restarted by every score() call). */
  generator: Generator;
  /** Index, in the scored input, of the batch's first image. */
  start: number;
}

export abstract class ReconstructionMethod<N extends Module = Module> implements Method {
  private opts: MethodOptions;
  protected net: N | null = null;
  protected fitted: FitResult | null = null;
  /** Images per forward pass at test. */
  protected scoreBatchSize = 64;
  /** True when scoreBatch differentiates with respect to its input (gradient maps). */
  protected scoreNeedsGrad = false;

  constructor(
    readonly info: MethodInfo,
    options: MethodOptions,
  ) {
    this.opts = { ...options };
  }

  get options(): Readonly<MethodOptions> {
    return this.opts;
  }

  protected get geometry(): { channels: number; size: number } {
    return { channels: this.opts.channels as number, size: this.opts.size as number };
  }

  protected abstract buildNetwork(generator: Generator): N;

  /** Optimisers by name (checkpointed under these names). Default: one Adam over every parameter. */
  protected createOptimizers(net: N): Record<string, AnyOptimizer> {
    return { adam: adam(net.parameters(), this.opts.lr as number) };
  }

  /** Training loss of a batch for the default step. */
  protected loss(_net: N, _x: Tensor, _ctx: StepContext): LossOutput | Tensor {
    throw new Error(`${this.info.name}: loss() or trainStep() must be implemented`);
  }

  /** Called with each epoch's shuffled training order before its first step (default: nothing). */
  protected epochOrder(_epoch: number, _order: Int32Array): void {}

  /** One optimisation step (may be async). Default: the loss of `loss()` through the single optimiser. */
  protected trainStep(net: N, x: Tensor, ctx: StepContext, optimizers: Record<string, AnyOptimizer>): StepResult | Promise<StepResult> {
    const opts = Object.values(optimizers);
    if (opts.length !== 1) throw new Error(`${this.info.name}: with several optimisers, override trainStep()`);
    return singleLossStep(opts[0], () => this.loss(net, x, ctx));
  }

  protected abstract scoreBatch(net: N, x: Tensor, wantReconstructions: boolean, ctx: ScoreContext): BatchScore;

  /** Puts the network in the mode it is scored in (default eval: BN uses running statistics). */
  protected scoreMode(net: N): void {
    net.eval();
  }

  /** The trained network; throws when neither fit nor load ran. */
  protected network(): N {
    if (!this.net) throw new Error(`${this.info.name}: the method is not trained; call fit() or load() first`);
    return this.net;
  }

  /** Options that change no number and may differ when a run resumes (e.g. `workers`). */
  protected resumeIgnores: readonly string[] = [];

  /**
   * Builds the network once from a throwaway generator and drops it: option checks that only
   * the network makes (sizes its layers accept) fail here, before a run folder exists. The
   * run's own streams are made afresh by fit, so its numbers do not change.
   */
  validate(): void {
    this.buildNetwork(seedStreams(trainingSettings(this.opts).seed).init);
  }

  async fit(train: Split, opts: FitOptions = {}): Promise<FitResult> {
    if (!train || typeof train.images !== 'function') throw new TypeError(`${this.info.name}.fit: train must be a Split`);
    checkGeometry(this.info.name, `split ${train.dataset}/${train.name}`, train, this.geometry);
    const t = trainingSettings(this.opts);
    const streams = seedStreams(t.seed);
    const net = this.buildNetwork(streams.init);
    const optimizers = this.createOptimizers(net);
    this.net = null;
    this.fitted = null;
    const result = await trainLoop(
      train,
      {
        method: this.info.name,
        options: this.opts,
        resumeIgnores: this.resumeIgnores,
        epochs: t.epochs,
        batchSize: t.batchSize,
        generator: streams.train,
        network: net,
        optimizers,
        step: (x, ctx) => this.trainStep(net, x, ctx, optimizers),
        epochOrder: (epoch, order) => this.epochOrder(epoch, order),
      },
      opts,
    );
    this.net = net;
    this.fitted = result;
    return result;
  }

  async score(input: Split | ImageBatch, opts: ScoreOptions = {}): Promise<ScoreResult> {
    const net = this.network();
    const batch = await packImages(this.info.name, input, this.geometry);
    const { n, channels: c, size: s } = batch;
    const per = c * s * s;
    const want = !!opts.reconstructions;
    const scores = new Float32Array(n);
    const maps: Float32Array[] = [];
    const recs: Float32Array[] = [];
    let hasMaps = true;
    let hasRecs = want;
    this.scoreMode(net);
    const generator = seedStreams(this.opts.seed as number).score;
    const t0 = performance.now();
    for (let start = 0; start < n; start += this.scoreBatchSize) {
      const b = Math.min(this.scoreBatchSize, n - start);
      const x = Tensor.fromData(batch.images.slice(start * per, (start + b) * per), [b, c, s, s]);
      const ctx = { generator, start };
      const out = this.scoreNeedsGrad ? this.scoreBatch(net, x, want, ctx) : noGrad(() => this.scoreBatch(net, x, want, ctx));
      const imageScores = out.scores ?? (out.maps ? reduceMaps(out.maps, this.opts.imageScore as string | undefined) : null);
      if (!imageScores) throw new Error(`${this.info.name}: scoreBatch returned neither maps nor scores`);
      scores.set(imageScores, start);
      if (out.maps) {
        const m = out.maps.data;
        for (let i = 0; i < b; i++) maps.push(m.slice(i * s * s, (i + 1) * s * s));
      } else hasMaps = false;
      if (want && out.reconstructions) {
        const r = out.reconstructions.data;
        for (let i = 0; i < b; i++) recs.push(r.slice(i * per, (i + 1) * per));
      } else hasRecs = false;
      opts.onProgress?.({ done: start + b, total: n, seconds: (performance.now() - t0) / 1000 });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const result: ScoreResult = { scores };
    if (hasMaps && n > 0) result.maps = maps;
    if (hasRecs && n > 0) result.reconstructions = recs;
    return result;
  }

  async save(dir: string): Promise<void> {
    const net = this.network();
    ensureDir(dir, `${this.info.name}.save`);
    saveStateDict(net, join(dir, MODEL_FILE), { method: this.info.name });
    const cfg: SavedConfig = { format: 'medianomaly-method', version: 1, method: this.info.name, options: { ...this.opts }, ...this.geometry };
    if (this.fitted) {
      const { lossCurve, ...rest } = this.fitted;
      cfg.training = { ...rest, finalLoss: lossCurve.length ? lossCurve[lossCurve.length - 1] : null, lossCurve };
    }
    // config.json last: a folder is a saved method only once both files are in place.
    writeConfig(dir, cfg);
  }

  async load(dir: string): Promise<void> {
    const cfg = readConfig(dir);
    if (cfg.method !== this.info.name) throw new Error(`${dir} holds a saved "${cfg.method}", not "${this.info.name}"; use loadMethod(dir)`);
    const opts = resolveOptions(this.info, cfg.options);
    const saved = this.opts;
    this.opts = opts; // buildNetwork reads the options
    let net: N;
    try {
      net = this.buildNetwork(seedStreams(opts.seed as number).init);
      loadStateDictFile(net, join(dir, MODEL_FILE));
    } catch (e) {
      this.opts = saved;
      throw e;
    }
    this.net = net;
    this.fitted = cfg.training ? { epochs: cfg.training.epochs, steps: cfg.training.steps, lossCurve: cfg.training.lossCurve, seconds: cfg.training.seconds } : null;
  }
}

/** Image scores from [B, S, S] maps: the mean (reference) or the max of each map. */
export function reduceMaps(maps: Tensor, how = 'mean'): Float32Array {
  const [b] = maps.shape;
  const d = maps.data;
  const per = d.length / b;
  const out = new Float32Array(b);
  for (let i = 0; i < b; i++) {
    let acc = how === 'max' ? -Infinity : 0;
    for (let j = i * per; j < (i + 1) * per; j++) acc = how === 'max' ? Math.max(acc, d[j]) : acc + d[j];
    out[i] = how === 'max' ? acc : acc / per;
  }
  return out;
}
