// The base of the feature-reference methods (PatchCore, PaDiM, the ResNet18-ImageNet
// Gaussian): a frozen ImageNet backbone, no gradient training. `fit` runs the backbone over
// the training split once, in batches, without gradients, and hands every batch's feature
// maps to the subclass, which keeps what it needs (a memory bank, running moments); then the
// subclass finishes (coreset, covariance inverses). `score` runs the same extraction and asks
// the subclass for maps and image scores. `save`/`load` write config.json + model.safetensors
// holding everything that determines a score: the options (backbone, weights, layers,
// aggregation, score rules), the backbone weights' SHA-256 and the fitted tensors.
//
// A subclass supplies:
// - `featureLayers()`: the backbone layers it reads (the backbone stops after the last);
// - `beginFit(plan)`: called once before the first batch (image count, backbone);
// - `accumulate(features, batch)`: one batch's feature maps (layer name → [B, C, h, w]);
// - `finishFit(ctx)`: after the last batch (may be long: check `ctx.checkAbort()`);
// - `scoreFeatures(features, batch)`: maps [B, S, S] and/or image scores [B];
// - `fittedState()` / `restoreState(tensors)`: the fitted tensors by name, for save/load;
// optional: `fittedSummary()` (sizes for config.json), `checkOptions()` (option checks that
// `validate` runs before a run folder exists).
//
// The input is the library's image convention, [N, C, S, S] in [-1, 1] with C = 1 or 3;
// `toBackboneInput` replicates grey images to 3 channels and normalises ('imagenet' or
// 'half'). The options common to the family are FEATURE_OPTIONS (see `featureOptions`).
// There are no epochs: progress reports one epoch whose steps are batches, and a resumed
// run simply fits again (nothing is checkpointed; a fit takes one pass over the data).
import { join } from 'node:path';
import { noGrad, Tensor } from '../../engine/index.js';
import type { Split } from '../../data/types.js';
import { backbones, type Backbone, type BackboneName } from '../../models/backbones/index.js';
import { toBackboneInput } from '../../models/backbones/preprocess.js';
import { readSafetensors, writeSafetensors, type RawTensor } from '../../nn/safetensors.js';
import { resolveWeights } from '../../weights/index.js';
import { checkGeometry, packImages } from '../training/images.js';
import { integerOption, resolveOptions, stringOption, withDefaults, type TypedSpec } from '../training/options.js';
import { ensureDir, MODEL_FILE, readConfig, writeConfig, type SavedConfig } from '../training/saved.js';
import { abortError } from '../training/trainer.js';
import type { BatchScore } from '../training/base.js';
import type { FitOptions, FitResult, ImageBatch, Method, MethodInfo, MethodOptions, Progress, ScoreOptions, ScoreResult } from '../types.js';

export type { BatchScore } from '../training/base.js';
export { gaussianBlurMaps, gaussianKernel1d, reflectIndex, scoreMaps, upsampleGrid, type BlurFlavour } from './maps.js';

const BACKBONE_NAMES = ['resnet18', 'wide_resnet50_2', 'vgg19'] as const;

/** A string option whose default is null (a path, or the absence of one). */
function nullableStringOption<const N extends string>(name: N, description: string): TypedSpec<N, 'string', string | null> {
  return { name, type: 'string', default: null, description };
}

/** The options every feature-reference method has; methods change defaults with `featureOptions`. */
export const FEATURE_OPTIONS = [
  stringOption('backbone', 'wide_resnet50_2', 'ImageNet backbone (torchvision architecture and parameter names)', BACKBONE_NAMES),
  nullableStringOption(
    'weights',
    "backbone weights: null = the cached torchvision ImageNet file (`medianomaly weights fetch <backbone>`), a .safetensors path with torchvision names, or 'random' (seeded torchvision initialisation; for tests and benches, not for results)",
  ),
  integerOption('size', 224, 'input side S; the dataset must be loaded at this size', { min: 32 }),
  integerOption('channels', 1, 'input channels: 1 (grey, replicated to 3 for the backbone) or 3', { min: 1, max: 3 }),
  integerOption('seed', 0, 'seed of every random draw (random weights, coreset, channel subset)', { min: 0, max: 4294967295 }),
  integerOption('batchSize', 16, 'images per backbone pass (fit and score); changes speed and memory, not results beyond float32 reordering', { min: 1 }),
  stringOption('normalisation', 'imagenet', "backbone input normalisation: 'imagenet' (mean/std of ImageNet) or 'half' (Normalize(0.5, 0.5): the [-1, 1] values themselves)", ['imagenet', 'half']),
];

export type FeatureSpec = (typeof FEATURE_OPTIONS)[number];

/** FEATURE_OPTIONS with method-specific defaults (e.g. `{ backbone: 'resnet18' }`). */
export function featureOptions(defaults: Partial<Record<FeatureSpec['name'], number | string | null>> = {}): FeatureSpec[] {
  return withDefaults(FEATURE_OPTIONS, defaults);
}

/** What `beginFit` learns before the first batch. */
export interface FitPlan {
  /** Training images. */
  images: number;
  batchSize: number;
  backbone: Backbone;
  size: number;
  channels: number;
  /** Prints a line for the user (the memory plan, a coreset estimate). */
  message(text: string): void;
}

/** One batch handed to `accumulate` / `scoreFeatures`. */
export interface FeatureBatch {
  /** Index of the batch's first image in the split. */
  start: number;
  count: number;
  /** The input, [count, C, S, S] in [-1, 1]. */
  input: Tensor;
}

/** What `finishFit` may use. */
export interface FinishContext {
  /** Throws an AbortError when the fit was aborted; call it often in long loops. */
  checkAbort(): void;
  /** Lets the event loop run (abort signals, progress); await it every few hundred ms of work. */
  yield(): Promise<void>;
  message(text: string): void;
  signal?: AbortSignal;
}

/** What the saved config.json holds beyond the common fields. */
export interface FeatureSavedConfig extends SavedConfig {
  featureReference: {
    backbone: BackboneName;
    /** The option as given (null: the cached torchvision file). */
    weights: string | null;
    /** SHA-256 of the backbone weights file the method was fitted with (null: random weights). */
    weightsSha256: string | null;
    layers: string[];
    /** Sizes of the fitted state (bank vectors, dimensions). */
    fitted: Record<string, unknown>;
  };
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Backbones alive in this process, by architecture, weights (file path and SHA-256, or random
 * with its seed): a frozen backbone in eval mode holds no state that features() changes, so
 * methods built with the same weights share one instead of loading (or drawing) it again. Weak:
 * a backbone no fitted method holds any more is collected as usual.
 */
const backboneCache = new Map<string, WeakRef<Backbone>>();

export abstract class FeatureReferenceMethod implements Method {
  private opts: MethodOptions;
  private backboneNet: Backbone | null = null;
  private weightsSha256: string | null = null;
  private fitted: FitResult | null = null;
  /** Messages of the fit in progress (FitOptions.onMessage, else stderr). */
  private messageSink: ((text: string) => void) | null = null;

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

  protected get backboneName(): BackboneName {
    return this.opts.backbone as BackboneName;
  }

  /** Backbone layers the method reads, in forward order. */
  protected abstract featureLayers(): readonly string[];
  protected abstract beginFit(plan: FitPlan): void;
  protected abstract accumulate(features: Record<string, Tensor>, batch: FeatureBatch): void;
  protected abstract finishFit(ctx: FinishContext): void | Promise<void>;
  protected abstract scoreFeatures(features: Record<string, Tensor>, batch: FeatureBatch): BatchScore;
  /** The fitted tensors, by name (written to model.safetensors). */
  protected abstract fittedState(): Record<string, RawTensor>;
  /** Restores what `fittedState` returned; throws naming a missing or misshapen tensor. */
  protected abstract restoreState(tensors: Map<string, RawTensor>): void;
  /** Sizes of the fitted state for config.json. */
  protected fittedSummary(): Record<string, unknown> {
    return {};
  }
  /** Option checks beyond ranges (combinations); throws naming the option. */
  protected checkOptions(): void {}
  /** True once fit or load gave the subclass its state. */
  protected get isFitted(): boolean {
    return this.backboneNet !== null;
  }

  /** Layer names this backbone accepts, checked against what the method reads. */
  private checkLayers(): void {
    const known = backbones.layers(this.backboneName).map((l) => l.name);
    for (const l of this.featureLayers()) {
      if (!known.includes(l)) throw new RangeError(`${this.info.name}: backbone ${this.backboneName} has no layer "${l}"; its layers: ${known.join(', ')}`);
    }
  }

  /** Option checks, layers, and that the weights resolve (a missing cached file names the fetch command); builds nothing. */
  validate(): void {
    const c = this.opts.channels as number;
    if (c !== 1 && c !== 3) throw new RangeError(`${this.info.name}: option "channels" must be 1 or 3, got ${c}`);
    this.checkLayers();
    this.checkOptions();
    resolveWeights(this.backboneName, this.opts.weights as string | null);
  }

  /** Builds the frozen backbone from the weights option; checks the SHA-256 against `expectSha` when given. */
  private buildBackbone(expectSha?: string | null): Backbone {
    const spec = this.opts.weights as string | null;
    const w = resolveWeights(this.backboneName, spec);
    if (expectSha !== undefined && w.sha256 !== expectSha) {
      throw new Error(
        `${this.info.name}: the backbone weights resolved from weights=${JSON.stringify(spec)} (${w.path}) have SHA-256 ${w.sha256}, ` +
          `but the method was fitted with ${expectSha}; scores would differ. Give the original weights file as the "weights" option, or fit again`,
      );
    }
    const seed = this.opts.seed as number;
    const key = JSON.stringify([this.backboneName, w.path, w.sha256, w.path === 'random' ? seed : null]);
    let net = backboneCache.get(key)?.deref();
    if (!net) {
      net = backbones.create(this.backboneName, { weights: w.path, seed });
      net.eval();
      for (const [k, ref] of backboneCache) if (!ref.deref()) backboneCache.delete(k);
      backboneCache.set(key, new WeakRef(net));
    }
    this.weightsSha256 = w.sha256;
    return net;
  }

  /** The backbone's features of a [B, C, S, S] batch in [-1, 1], without gradients. */
  protected extract(net: Backbone, x: Tensor): Record<string, Tensor> {
    return noGrad(() => net.features(toBackboneInput(x, { normalisation: this.opts.normalisation as 'imagenet' | 'half', channelPolicy: 'replicate' }), this.featureLayers()));
  }

  async fit(train: Split, opts: FitOptions = {}): Promise<FitResult> {
    if (!train || typeof train.images !== 'function') throw new TypeError(`${this.info.name}.fit: train must be a Split`);
    checkGeometry(this.info.name, `split ${train.dataset}/${train.name}`, train, this.geometry);
    if (train.length === 0) throw new Error(`${this.info.name}.fit: split ${train.dataset}/${train.name} has no images`);
    this.validate();
    const { signal, onProgress } = opts;
    const checkAbort = (): void => {
      if (signal?.aborted) throw abortError(signal);
    };
    checkAbort();
    const message = (text: string): void => (opts.onMessage ? opts.onMessage(text) : void process.stderr.write(`${this.info.name}: ${text}\n`));
    this.messageSink = message;
    const t0 = performance.now();
    this.backboneNet = null;
    this.fitted = null;
    const net = this.buildBackbone();
    const { channels: c, size: s } = this.geometry;
    const n = train.length;
    const bs = Math.min(this.opts.batchSize as number, n);
    const steps = Math.ceil(n / bs);
    const images = await train.images();
    const per = c * s * s;
    this.beginFit({ images: n, batchSize: bs, backbone: net, size: s, channels: c, message });
    const report = (step: number, done: boolean): void => {
      if (!onProgress) return;
      const seconds = (performance.now() - t0) / 1000;
      const seen = Math.min(step * bs, n);
      const ips = seconds > 0 ? seen / seconds : 0;
      const p: Progress = {
        epoch: 1, epochs: 1, step, stepsPerEpoch: steps, loss: NaN,
        imagesPerSecond: ips, etaSeconds: done ? 0 : ips > 0 ? (n - seen) / ips : Infinity, epochDone: done,
      };
      onProgress(p);
    };
    try {
      for (let step = 0; step < steps; step++) {
        checkAbort();
        const start = step * bs;
        const b = Math.min(bs, n - start);
        const input = Tensor.fromData(images.slice(start * per, (start + b) * per), [b, c, s, s]);
        this.accumulate(this.extract(net, input), { start, count: b, input });
        if (step + 1 < steps) report(step + 1, false);
        await yieldToEventLoop();
      }
      checkAbort();
      await this.finishFit({ checkAbort, yield: yieldToEventLoop, message, signal });
      checkAbort();
    } finally {
      this.messageSink = null;
    }
    this.backboneNet = net;
    const seconds = (performance.now() - t0) / 1000;
    this.fitted = { epochs: 1, steps, lossCurve: [0], seconds };
    report(steps, true);
    return this.fitted;
  }

  /** The fitted backbone; throws when neither fit nor load ran. */
  protected backbone(): Backbone {
    if (!this.backboneNet) throw new Error(`${this.info.name}: the method is not fitted; call fit() or load() first`);
    return this.backboneNet;
  }

  /** Prints a line during fit (onMessage or stderr); silent outside fit. */
  protected message(text: string): void {
    this.messageSink?.(text);
  }

  async score(input: Split | ImageBatch, opts: ScoreOptions = {}): Promise<ScoreResult> {
    const net = this.backbone();
    const batch = await packImages(this.info.name, input, this.geometry);
    const { n, channels: c, size: s } = batch;
    const per = c * s * s;
    const bs = this.opts.batchSize as number;
    const scores = new Float32Array(n);
    const maps: Float32Array[] = [];
    let hasMaps = true;
    const t0 = performance.now();
    for (let start = 0; start < n; start += bs) {
      const b = Math.min(bs, n - start);
      const x = Tensor.fromData(batch.images.slice(start * per, (start + b) * per), [b, c, s, s]);
      const out = noGrad(() => this.scoreFeatures(this.extract(net, x), { start, count: b, input: x }));
      let imageScores = out.scores;
      if (!imageScores && out.maps) {
        // default image score: the max of each map
        const m = out.maps.data;
        imageScores = new Float32Array(b);
        for (let i = 0; i < b; i++) {
          let best = -Infinity;
          for (let j = i * s * s; j < (i + 1) * s * s; j++) if (m[j] > best) best = m[j];
          imageScores[i] = best;
        }
      }
      if (!imageScores) throw new Error(`${this.info.name}: scoreFeatures returned neither maps nor scores`);
      scores.set(imageScores, start);
      if (out.maps) {
        const m = out.maps.data;
        for (let i = 0; i < b; i++) maps.push(m.slice(i * s * s, (i + 1) * s * s));
      } else hasMaps = false;
      opts.onProgress?.({ done: start + b, total: n, seconds: (performance.now() - t0) / 1000 });
      await yieldToEventLoop();
    }
    const result: ScoreResult = { scores };
    if (hasMaps && n > 0) result.maps = maps;
    return result;
  }

  async save(dir: string): Promise<void> {
    this.backbone();
    ensureDir(dir, `${this.info.name}.save`);
    const state = this.fittedState();
    writeSafetensors(join(dir, MODEL_FILE), Object.entries(state), { format: 'medianomaly-feature-reference', method: this.info.name });
    const cfg: FeatureSavedConfig = {
      format: 'medianomaly-method',
      version: 1,
      method: this.info.name,
      options: { ...this.opts },
      ...this.geometry,
      featureReference: {
        backbone: this.backboneName,
        weights: this.opts.weights as string | null,
        weightsSha256: this.weightsSha256,
        layers: [...this.featureLayers()],
        fitted: this.fittedSummary(),
      },
    };
    if (this.fitted) {
      const { lossCurve, ...rest } = this.fitted;
      cfg.training = { ...rest, finalLoss: null, lossCurve };
    }
    // config.json last: a folder is a saved method only once both files are in place.
    writeConfig(dir, cfg);
  }

  async load(dir: string): Promise<void> {
    const cfg = readConfig(dir) as Partial<FeatureSavedConfig> & SavedConfig;
    if (cfg.method !== this.info.name) throw new Error(`${dir} holds a saved "${cfg.method}", not "${this.info.name}"; use loadMethod(dir)`);
    const fr = cfg.featureReference;
    if (!fr || typeof fr !== 'object') throw new Error(`${dir}: config.json has no featureReference section; it was not saved by a feature-reference method`);
    const opts = resolveOptions(this.info, cfg.options);
    const saved = this.opts;
    this.opts = opts;
    try {
      const net = this.buildBackbone(fr.weightsSha256 ?? null);
      const { tensors } = readSafetensors(join(dir, MODEL_FILE));
      this.restoreState(tensors);
      this.backboneNet = net;
    } catch (e) {
      this.opts = saved;
      throw e;
    }
    this.fitted = cfg.training ? { epochs: cfg.training.epochs, steps: cfg.training.steps, lossCurve: cfg.training.lossCurve, seconds: cfg.training.seconds } : null;
  }
}

/** A stored tensor by name, checked: dtype and (when given) shape; throws naming the file's tensor. */
export function takeTensor(tensors: Map<string, RawTensor>, name: string, dtype: RawTensor['dtype'], shape?: number[]): RawTensor {
  const t = tensors.get(name);
  if (!t) throw new Error(`model.safetensors has no tensor "${name}"; the folder was not saved by this method or is damaged: fit again`);
  if (t.dtype !== dtype) throw new Error(`model.safetensors: tensor "${name}" is ${t.dtype}, expected ${dtype}`);
  if (shape && (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i]))) {
    throw new Error(`model.safetensors: tensor "${name}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
  return t;
}
