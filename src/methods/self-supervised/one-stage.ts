// The one-stage self-supervised protocol (methods.md §3.2, §4.5, §6.1) shared by `cutpaste`,
// `fpi`, `pii` and `nsa`, which differ only in their patch_ex settings
// (anomalies.patchExPresets):
//
// - network: the ResNet18 encoder–decoder from scratch (src/models/ssl-resnet.ts), 1 channel,
//   sigmoid output;
// - every training sample is synthetic: x = T(I_i), p = T(I_source), (x̃, y) = patchEx(x, p),
//   input x̃/255, target y (soft or binary, C × C); see ./one-stage-data.ts for T and the
//   geometry rule (S = 256 → 224 crops);
// - source (quirk sslSourcePreviousSample, default true): the sample made just before in the
//   epoch's shuffled order; the first sample of every epoch takes one fixed index drawn from
//   the seed (the reference: each DataLoader worker starts each epoch from the dataset's
//   initial random `prev_idx`, a copy the workers never write back). false: a random other
//   training image per sample;
// - loss: BCE (mean) between the sigmoid output and y, computed from the logits
//   (softplus(z) − y·z): the same values and gradients as PyTorch's BCELoss on sigmoid(z),
//   except that PyTorch clamps log at −100 where sigmoid saturates in float32 (|z| > ~17);
// - Adam lr 1e-3, cosine annealing over the run (T_max = epochs, η_min = 1e-6), the rate of
//   epoch e (1-based) set from e before its first step, so a resumed run gets the same rates;
//   batch 64, shuffled; epochs 250 (400 on VinDr-CXR: oneStageEpochs);
// - test: CenterCrop(C), batch 16, eval mode; the map is the C × C sigmoid output zero-padded
//   back to S × S (quirk sslZeroPad256; false: the whole S × S image goes through the fully
//   convolutional network, S a multiple of 32, and the map has no zero border); image score =
//   mean of the map (quirk imageScoreMean; or its max); ⌈Dice⌉ on 100 quantiles after SciPy's
//   cubic zoom of the maps (nearest for the masks) to 64 × 64 (pixelProtocol, quirk
//   sslDiceZoom64; false: at the maps' side).
//
// Samples are made ahead of the trainer by a pool of worker threads (./sample-pool.ts): the
// batches of the current epoch two steps ahead, and the first ones of the next epoch from
// its predicted order. Each sample's draws come from a Generator derived from (seed, epoch,
// position) only, so the samples — and the trained weights — do not depend on `workers`.
import { availableParallelism } from 'node:os';
import { bceWithLogitsLoss, Generator, Tensor, type Generator as Gen } from '../../engine/index.js';
import { patchExPresets, type PatchExOptions } from '../../anomalies/index.js';
import { SslResNet } from '../../models/ssl-resnet.js';
import { CosineAnnealingLR } from '../../nn/optim/lr-scheduler.js';
import type { Split } from '../../data/types.js';
import { ReconstructionMethod, type BatchScore } from '../training/base.js';
import { booleanOption, integerOption, numberOption, stringOption } from '../training/options.js';
import { adam, singleLossStep, type AnyOptimizer, type StepContext, type StepResult } from '../training/trainer.js';
import type { FitOptions, FitResult, MethodInfo, MethodOptions, PixelProtocol } from '../types.js';
import { oneStageGeometry, sampleGenerator, sampleJobs, toBytes, type OneStageGeometry, type SampleJob, type SampleSettings } from './one-stage-data.js';
import { SampleFeed, SamplePool } from './sample-pool.js';

export type OneStageName = 'cutpaste' | 'fpi' | 'pii' | 'nsa';

/** Training epochs of the reference by dataset: 400 on VinDr-CXR, 250 on every other one. */
export function oneStageEpochs(datasetName: string): number {
  const n = datasetName.toLowerCase().replace(/[^a-z0-9]/g, '');
  return n === 'vin' || n === 'vincxr' || n === 'vindrcxr' ? 400 : 250;
}

export const ONE_STAGE_OPTIONS = [
  integerOption('epochs', 250, 'training epochs; the reference uses 400 on VinDr-CXR (oneStageEpochs()) and 250 otherwise; the last epoch is used', { min: 1 }),
  integerOption('batchSize', 64, 'training batch size (shuffled; the last partial batch is kept)', { min: 1 }),
  numberOption('lr', 1e-3, 'Adam learning rate at the start of the cosine schedule', { min: 0 }),
  numberOption('lrMin', 1e-6, 'η_min of the cosine annealing (T_max = epochs, stepped once per epoch)', { min: 0 }),
  integerOption('seed', 0, 'seed of every random draw: initialisation, shuffling, transforms, synthetic anomalies (library default: fixed and recorded; the reference is unseeded)', { min: 0, max: 4294967295 }),
  integerOption('size', 256, 'side S of the loaded square images (the reference: shorter side Lanczos-resized to 256)', { min: 32 }),
  integerOption('channels', 1, 'input channels: 1 (Pillow L for every dataset, as the reference)', { min: 1, max: 1 }),
  integerOption('crop', null, 'network input side C, a multiple of 32; null: the largest multiple of 32 ≤ round(224·S/256) (224 at 256)', { min: 32 }),
  integerOption('workers', null, 'worker threads making synthetic samples ahead of the trainer; 0 = inline; null: min(4, cores − 1), at least 1. The samples do not depend on it', { min: 0, max: 64 }),
  booleanOption('sslSourcePreviousSample', true, 'quirk sslSourcePreviousSample: the foreign patch comes from the previous sample of the epoch order (reference); false: a random other training image'),
  booleanOption('sslZeroPad256', true, 'quirk sslZeroPad256: the C × C map is zero-padded to S × S (reference, 224 → 256); false: score the whole S × S image (S a multiple of 32)'),
  booleanOption('sslDiceZoom64', true, 'quirk sslDiceZoom64: ⌈Dice⌉ (100 quantiles) after SciPy\'s cubic zoom of the maps and nearest zoom of the masks to 64 × 64 (reference); false: ⌈Dice⌉ at the maps\' resolution (AP_pix is at the maps\' resolution either way)'),
  booleanOption('patchMaskAssign', true, 'quirk patchMaskAssign: a later patch mask overwrites earlier ones inside its rectangle (reference); false: union'),
  stringOption('imageScore', 'mean', 'quirk imageScoreMean: image score = mean of the (padded) map (reference) or its max', ['mean', 'max']),
];

const TITLES: Record<OneStageName, { title: string; description: string }> = {
  cutpaste: { title: 'CutPaste (one-stage)', description: 'ResNet18 encoder–decoder segmenting CutPaste patches (same image, shifted, hard swap, binary label); map = sigmoid output, score its mean.' },
  fpi: { title: 'FPI', description: 'ResNet18 encoder–decoder regressing Foreign Patch Interpolation (another image, same place, convex blend α, label α); map = sigmoid output, score its mean.' },
  pii: { title: 'PII', description: 'ResNet18 encoder–decoder on Poisson Image Interpolation (another image, same place, Poisson mixed clone, label α); map = sigmoid output, score its mean.' },
  nsa: { title: 'NSA', description: 'ResNet18 encoder–decoder on Natural Synthetic Anomalies (another image, shifted and resized, Poisson mixed clone, logistic-intensity label); map = sigmoid output, score its mean.' },
};

export function oneStageInfo(name: OneStageName): MethodInfo {
  return { name, ...TITLES[name], family: 'self-supervised', defaultSize: 256, pixelMaps: true, resample: 'pil-lanczos', loadChannels: 1, options: ONE_STAGE_OPTIONS };
}

/** Batches made ahead of the one the trainer takes. */
const AHEAD = 2;

/** The default worker count: min(4, cores − 1), at least 1. */
export function defaultSampleWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

export class OneStageMethod extends ReconstructionMethod<SslResNet> {
  protected override scoreBatchSize = 16;
  /** The samples do not depend on the worker count (per-sample generators), so a resume may change it. */
  protected override resumeIgnores = ['workers'];
  private feed: SampleFeed | null = null;
  private scheduler: CosineAnnealingLR | null = null;
  private order: Int32Array | null = null;
  private epoch = 0;
  private prev0 = 0;

  constructor(
    info: MethodInfo,
    options: MethodOptions,
    readonly preset: OneStageName,
  ) {
    super(info, options);
  }

  /** ⌈Dice⌉ as the one-stage reference computes it (methods.md §9.4): 100 quantiles, at 64 px (quirk sslDiceZoom64) or the maps' side. */
  pixelProtocol(): PixelProtocol {
    return { diceQuantiles: 100, diceZoom: this.options.sslDiceZoom64 === false ? null : 64 };
  }

  /** The crop geometry of the current options. */
  get geometryRule(): OneStageGeometry {
    return oneStageGeometry(this.info.name, this.options.size as number, (this.options.crop as number | null) ?? null);
  }

  /** patch_ex settings: the preset with the patchMaskAssign quirk. */
  get patchSettings(): PatchExOptions {
    return { ...patchExPresets[this.preset], patchMaskAssign: this.options.patchMaskAssign !== false } as PatchExOptions;
  }

  protected buildNetwork(generator: Gen): SslResNet {
    const g = this.geometryRule;
    if (this.options.sslZeroPad256 === false && g.size % 32 !== 0) {
      throw new RangeError(`${this.info.name}: with sslZeroPad256 false the whole ${g.size} × ${g.size} image is scored, which needs a size that is a multiple of 32`);
    }
    return new SslResNet({ inChannels: 1, numClasses: 1, generator });
  }

  protected override createOptimizers(net: SslResNet): Record<string, AnyOptimizer> {
    const opt = adam(net.parameters(), this.options.lr as number);
    this.scheduler = new CosineAnnealingLR(opt, this.options.epochs as number, this.options.lrMin as number);
    return { adam: opt };
  }

  /** What every sample of a fit needs besides the images. */
  sampleSettings(): SampleSettings {
    return { seed: this.options.seed as number, geometry: this.geometryRule, patch: this.patchSettings };
  }

  override async fit(train: Split, opts: FitOptions = {}): Promise<FitResult> {
    if (!train || typeof train.images !== 'function') throw new TypeError(`${this.info.name}.fit: train must be a Split`);
    const g = this.geometryRule;
    if (train.size !== g.size || train.channels !== 1) return super.fit(train, opts); // the base names the mismatch
    const images = await train.images();
    const plane = g.size * g.size;
    const bytes = new Uint8Array(train.length * plane);
    for (let i = 0; i < train.length; i++) toBytes(images, i * plane, plane, bytes.subarray(i * plane, (i + 1) * plane));
    this.prev0 = train.length > 0 ? sampleGenerator(this.options.seed as number, -1, 0).int(train.length) : 0;
    const w = this.options.workers as number | null;
    const pool = new SamplePool(bytes, this.sampleSettings(), w ?? defaultSampleWorkers());
    this.feed = new SampleFeed(pool);
    try {
      return await super.fit(train, opts);
    } finally {
      this.feed = null;
      this.order = null;
      await pool.close();
    }
  }

  /** The jobs of step `step` of an epoch with this order. */
  private jobs(epoch: number, order: Int32Array, step: number): SampleJob[] {
    return sampleJobs(epoch, order, step, this.options.batchSize as number, this.prev0, this.options.sslSourcePreviousSample !== false);
  }

  protected override epochOrder(epoch: number, order: Int32Array): void {
    // The cosine rate of this epoch (lastEpoch = epoch − 1), from the epoch number alone.
    const s = this.scheduler;
    if (s) s.loadStateDict({ lastEpoch: epoch - 1, baseLrs: s.baseLrs });
    this.epoch = epoch;
    this.order = order.slice();
    const steps = Math.ceil(order.length / (this.options.batchSize as number));
    for (let k = 0; k < Math.min(AHEAD, steps); k++) this.feed?.prefetch(`${epoch}:${k}`, this.jobs(epoch, this.order, k));
  }

  protected override async trainStep(net: SslResNet, _x: Tensor, ctx: StepContext, optimizers: Record<string, AnyOptimizer>): Promise<StepResult> {
    const feed = this.feed;
    const order = this.order;
    if (!feed || !order || this.epoch !== ctx.epoch) throw new Error(`${this.info.name}: internal error: no sample feed for epoch ${ctx.epoch}`);
    const jobs = this.jobs(ctx.epoch, order, ctx.step);
    const batch = feed.take(`${ctx.epoch}:${ctx.step}`, jobs);
    this.prefetchAfter(ctx);
    const { input, label } = await batch;
    const c = this.geometryRule.crop;
    const shape = [jobs.length, 1, c, c];
    const x = Tensor.fromData(input, shape);
    const y = Tensor.fromData(label, shape);
    return singleLossStep(Object.values(optimizers)[0]!, () => bceWithLogitsLoss(net.logits(x), y));
  }

  /** Starts the batches AHEAD steps on; past the epoch's end, those of the next epoch in its predicted order. */
  private prefetchAfter(ctx: StepContext): void {
    const feed = this.feed!;
    const order = this.order!;
    const b = this.options.batchSize as number;
    const steps = Math.ceil(order.length / b);
    const epochs = this.options.epochs as number;
    let next: Int32Array | null = null;
    for (let k = ctx.step + 1; k <= ctx.step + AHEAD; k++) {
      if (k < steps) feed.prefetch(`${ctx.epoch}:${k}`, this.jobs(ctx.epoch, order, k));
      else if (ctx.epoch < epochs && k - steps < steps) {
        // The loop shuffles 0..n−1 with the training stream, which the steps never draw from.
        if (!next) {
          const g = new Generator(0);
          g.setState(ctx.generator.state);
          next = new Int32Array(order.length);
          for (let i = 0; i < next.length; i++) next[i] = i;
          g.shuffle(next);
        }
        feed.prefetch(`${ctx.epoch + 1}:${k - steps}`, this.jobs(ctx.epoch + 1, next, k - steps));
      }
    }
  }

  protected scoreBatch(net: SslResNet, x: Tensor): BatchScore {
    const g = this.geometryRule;
    const [b, , s] = x.shape;
    const plane = s * s;
    const whole = this.options.sslZeroPad256 === false;
    const c = whole ? s : g.crop;
    const off = whole ? 0 : g.offset;
    const input = new Float32Array(b * c * c);
    const bytes = new Uint8Array(plane);
    for (let i = 0; i < b; i++) {
      toBytes(x.data, i * plane, plane, bytes);
      for (let r = 0; r < c; r++) {
        const from = (off + r) * s + off;
        for (let q = 0; q < c; q++) input[i * c * c + r * c + q] = bytes[from + q]! / 255;
      }
    }
    const out = net.forward(Tensor.fromData(input, [b, 1, c, c])).data;
    if (whole) return { maps: Tensor.fromData(out.slice(), [b, s, s]) };
    const maps = new Float32Array(b * plane); // zero border
    for (let i = 0; i < b; i++) {
      for (let r = 0; r < c; r++) maps.set(out.subarray(i * c * c + r * c, i * c * c + (r + 1) * c), i * plane + (off + r) * s + off);
    }
    return { maps: Tensor.fromData(maps, [b, s, s]) };
  }
}
