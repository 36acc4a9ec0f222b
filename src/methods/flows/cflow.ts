// CFlow-AD (Gudovskiy et al., WACV 2022; gudovskiy/cflow-ad @ b2ebf9e): a frozen ImageNet
// backbone, and per level (layer2–layer4) a conditional normalizing flow that models the
// density of each feature vector ("fiber") given its position. Anomalous fibers are unlikely.
//
// Training (src/methods/flows/cflow-train.ts): per image batch, every fiber of every level in
// random order, in fiber batches of N, one Adam step each; loss softplus(−log p̄) with
// log p̄ = log p / C. Test (flow-maps.ts): log p̄ of every fiber in order, normalised over the
// whole scored set (reference) or per scoring batch (anomalib), upsampled and summed over
// levels; map = max − sum; score = max of the map.
//
// Two presets reproduce the two code bases; every row is also an option, null = "as the
// preset says":
//
// | option         | official (default)                          | anomalib                        |
// |----------------|---------------------------------------------|---------------------------------|
// | permute        | 'soft' (fixed random SO(C) rotation)        | 'hard' (fixed permutation)      |
// | fiberBatch     | 256                                         | 64                              |
// | fiberRemainder | 'drop' (E mod N fibers unused)              | 'merge' (into the last batch)   |
// | lr             | 2e-4                                        | 1e-4                            |
// | lrSchedule     | 'warmup-cosine' (per meta-epoch)            | 'constant'                      |
// | rotation       | 5 (RandomRotation ±5°, nearest, fill black) | 0 (no augmentation)             |
// | dropLast       | true (loader drop_last)                     | false                           |
// | zeroGrad       | 'zeros' (PyTorch 1.x zero_grad)             | 'none' (PyTorch 2 zero_grad)    |
// | mapNorm        | 'set' (max over the whole scored set)       | 'batch' (max over each batch)   |
//
// Epochs: the reference trains 25 meta-epochs × 8 sub-epochs, a sub-epoch being one pass over
// the training images. Here `epochs` counts passes (default 200 = 25 × 8) and `subEpochs` the
// passes per meta-epoch (8): the learning rate steps per meta-epoch ⌈epoch / subEpochs⌉, over
// ⌈epochs / subEpochs⌉ meta-epochs. Progress and FitResult.steps count optimiser steps (fiber
// batches); one image batch at 256 px, batch 32, WRN50 gives 128 + 32 + 8 = 168 of them.
//
// dropLast: the reference's loader drops the last partial image batch of a pass; so does this
// method (its images count towards the pass but train nothing, and the pass's mean loss is that
// of the trained batches). A training set smaller than one batch is trained as one partial
// batch (the reference would train nothing). A partial batch too small to fill one fiber batch
// at some level takes no step at that level.
//
// Map normalisation: with 'set' a score depends on every image scored with it — the reference
// scores the test split at once and so does score() here (it receives the whole split); with
// 'batch' it depends on which images share its scoring batch (scoreBatchSize), so scores from
// different batches are not on one scale and a metric over the split mixes scales.
//
// Not reproduced: the reference reports the best of its per-meta-epoch test evaluations
// (test-set selection; its published MVTec numbers depend on it) and trains with a seed taken
// from the clock. Here the last epoch is the result and the seed is an option. Backbones:
// wide_resnet50_2 (reference) and resnet18; the reference's other encoders (mobilenet,
// efficientnet, ViT) are not offered. The weights are torchvision's (the reference's); anomalib
// uses timm's racm_in1k weights, which this library does not import.
import { noGrad, Tensor, type Generator } from '../../engine/index.js';
import { backbones, type BackboneName } from '../../models/backbones/index.js';
import { CFlowHeads } from '../../models/flow-heads.js';
import type { Adam } from '../../nn/optim/adam.js';
import { resolveWeights } from '../../weights/index.js';
import type { Split } from '../../data/types.js';
import { registerMethod } from '../catalogue.js';
import { backboneOption, FeatureNetworkMethod, normalisationOption, WEIGHTS_OPTION } from '../feature-reconstruction/base.js';
import type { BatchScore } from '../training/base.js';
import { packImages } from '../training/images.js';
import { integerOption, numberOption, stringOption, type TypedSpec } from '../training/options.js';
import { adam, type AnyOptimizer, type StepContext, type StepResult } from '../training/trainer.js';
import type { FitOptions, FitResult, ImageBatch, MethodInfo, MethodOptions, ScoreOptions, ScoreResult } from '../types.js';
import { randomRotateImages } from './augment.js';
import { cflowFiberSteps, cflowLearningRate, fiberBatches, fiberLogProb, gatherFibers, gatherRows, type FiberRemainder, type LrSchedule, type ZeroGrad } from './cflow-train.js';
import { cflowMaps, type CFlowNormalisation, type LevelLogProb } from './flow-maps.js';
import { fiberConditions } from './positional.js';

function presetChoice<const N extends string, const C extends string>(name: N, description: string, choices: readonly C[]): TypedSpec<N, 'string', C | null> & { choices: readonly C[] } {
  return { name, type: 'string', default: null, description, choices };
}

function presetBoolean<const N extends string>(name: N, description: string): TypedSpec<N, 'boolean', boolean | null> {
  return { name, type: 'boolean', default: null, description };
}

export const CFLOW_OPTIONS = [
  integerOption('epochs', 200, 'passes over the training images (sub-epochs): the reference trains 25 meta-epochs × 8 = 200; the last epoch is used', { min: 1 }),
  integerOption('batchSize', 32, 'images per batch; each batch yields B·H·W fibers per level', { min: 1 }),
  numberOption('lr', null, 'Adam learning rate (betas 0.9, 0.999; no weight decay); null: the preset\'s (official 2e-4, anomalib 1e-4)', { min: 0 }),
  integerOption('seed', 0, 'seed of every random draw: initialisation, rotations, shuffling, fiber order, augmentation (the reference seeds from the clock)', { min: 0, max: 4294967295 }),
  integerOption('size', 256, 'input side S (a multiple of the deepest layer\'s stride); the reference\'s MVTec runs use 128, 256 or 512 per class', { min: 32 }),
  integerOption('channels', 1, 'input channels (1 or 3; grey is repeated to RGB for the backbone)', { min: 1 }),
  backboneOption(['wide_resnet50_2', 'resnet18'] as const),
  WEIGHTS_OPTION,
  normalisationOption('imagenet'),
  stringOption('preset', 'official', "which code base the null options follow: 'official' (gudovskiy/cflow-ad) or 'anomalib'", ['official', 'anomalib']),
  stringOption('layers', 'layer2,layer3,layer4', 'backbone levels with a flow each, comma-separated, shallow to deep (reference: layer2,layer3,layer4)'),
  integerOption('condition', 128, 'width P of the positional condition (a multiple of 4)', { min: 4 }),
  integerOption('blocks', 8, 'coupling blocks per flow (coupling_blocks)', { min: 1 }),
  numberOption('clamp', 1.9, 'affine clamping α of the coupling blocks', { min: 1e-6 }),
  stringOption('clampForm', 'tanh', "soft clamp: 'tanh' = α·tanh(s) (FrEIA of the reference's time, anomalib) or 'tanh-scaled' = α·tanh(s/α) (FrEIA from August 2023)", ['tanh', 'tanh-scaled']),
  presetChoice('permute', "channel mixing after each block: 'soft' (fixed random rotation from SO(C); official) or 'hard' (fixed permutation; anomalib); null: the preset's", ['soft', 'hard']),
  integerOption('fiberBatch', null, 'fibers per optimiser step N; null: the preset\'s (official 256, anomalib 64)', { min: 1 }),
  presetChoice('fiberRemainder', "the E mod N fibers of a level: 'drop' (official) or 'merge' into the last fiber batch (anomalib); null: the preset's", ['drop', 'merge']),
  presetChoice('lrSchedule', "'warmup-cosine' (cosine over meta-epochs, linear warm-up over the first two; official) or 'constant' (anomalib); null: the preset's", ['warmup-cosine', 'constant']),
  integerOption('subEpochs', 8, 'passes per meta-epoch (sub_epochs): the learning rate changes once per meta-epoch', { min: 1 }),
  numberOption('rotation', null, 'training augmentation: random rotation by up to ± this many degrees (nearest, black corners), 0 = none; null: the preset\'s (official 5, anomalib 0)', { min: 0, max: 180 }),
  presetBoolean('dropLast', 'drop the last partial image batch of each pass (official true, anomalib false); null: the preset\'s'),
  presetChoice('zeroGrad', "'zeros': a flow keeps taking momentum-only Adam steps when another level's fibers train (PyTorch 1.x zero_grad; official) or 'none': it does not (PyTorch 2; anomalib); null: the preset's", ['zeros', 'none']),
  presetChoice('mapNorm', "likelihood normalisation of the maps: 'set' (over the whole scored set; official) or 'batch' (per scoring batch of scoreBatchSize images; anomalib — a score then depends on its batch); null: the preset's", ['set', 'batch']),
  integerOption('scoreBatchSize', 32, "images per forward pass at test (and the group of mapNorm 'batch')", { min: 1 }),
];

/** Every setting of a run, the preset's values filled in. */
export interface CFlowSettings {
  layers: string[];
  strides: number[];
  channels: number[];
  permuteSoft: boolean;
  fiberBatch: number;
  remainder: FiberRemainder;
  lr: number;
  lrSchedule: LrSchedule;
  rotation: number;
  dropLast: boolean;
  zeroGrad: ZeroGrad;
  mapNorm: CFlowNormalisation;
}

const PRESETS = {
  official: { permute: 'soft', fiberBatch: 256, fiberRemainder: 'drop', lr: 2e-4, lrSchedule: 'warmup-cosine', rotation: 5, dropLast: true, zeroGrad: 'zeros', mapNorm: 'set' },
  anomalib: { permute: 'hard', fiberBatch: 64, fiberRemainder: 'merge', lr: 1e-4, lrSchedule: 'constant', rotation: 0, dropLast: false, zeroGrad: 'none', mapNorm: 'batch' },
} as const;

/** Resolves the preset and checks the options that the option specs cannot (layers, size). */
export function cflowSettings(o: MethodOptions): CFlowSettings {
  const preset = PRESETS[o.preset as keyof typeof PRESETS];
  const pick = (k: keyof typeof preset): string | number | boolean => (o[k] ?? preset[k]) as string | number | boolean;
  const arch = o.backbone as BackboneName;
  const table = backbones.layers(arch);
  const layers = String(o.layers)
    .split(',')
    .map((l) => l.trim())
    .filter((l) => l);
  const allowed = ['layer1', 'layer2', 'layer3', 'layer4'];
  const bad = layers.filter((l) => !allowed.includes(l));
  if (!layers.length || bad.length) throw new RangeError(`cflow: option "layers" must name levels among ${allowed.join(', ')}, comma-separated; got "${o.layers}"`);
  if (new Set(layers).size !== layers.length || layers.some((l, i) => i > 0 && allowed.indexOf(l) <= allowed.indexOf(layers[i - 1]))) {
    throw new RangeError(`cflow: option "layers" must list distinct levels from shallow to deep, got "${o.layers}"`);
  }
  const info = layers.map((l) => table.find((t) => t.name === l)!);
  const size = o.size as number;
  const deepest = info[info.length - 1].stride;
  if (size % deepest !== 0) throw new RangeError(`cflow: option "size" must be a multiple of ${deepest} (the stride of ${layers[layers.length - 1]}), got ${size}`);
  if ((o.condition as number) % 4 !== 0) throw new RangeError(`cflow: option "condition" must be a multiple of 4 (half the channels encode x, half y, in sin/cos pairs), got ${o.condition}`);
  return {
    layers,
    strides: info.map((t) => t.stride),
    channels: info.map((t) => t.channels),
    permuteSoft: pick('permute') === 'soft',
    fiberBatch: pick('fiberBatch') as number,
    remainder: pick('fiberRemainder') as FiberRemainder,
    lr: pick('lr') as number,
    lrSchedule: pick('lrSchedule') as LrSchedule,
    rotation: pick('rotation') as number,
    dropLast: pick('dropLast') as boolean,
    zeroGrad: pick('zeroGrad') as ZeroGrad,
    mapNorm: pick('mapNorm') as CFlowNormalisation,
  };
}

/** Fibers pushed through a flow at once when scoring (bounds the memory of the subnets' activations). */
const SCORE_FIBER_CHUNK = 4096;

interface EpochTally {
  lossSum: number;
  images: number;
  terms: Record<string, number>;
  fiberSteps: number;
}

export class CFlow extends FeatureNetworkMethod<CFlowHeads> {
  private trainCount = 0;
  private tally: EpochTally = { lossSum: 0, images: 0, terms: {}, fiberSteps: 0 };

  get settings(): CFlowSettings {
    return cflowSettings(this.options);
  }

  /** Grid side of each level at the current size. */
  private grids(st: CFlowSettings): number[] {
    return st.strides.map((s) => (this.options.size as number) / s);
  }

  /** Optimiser steps of an image batch of b images. */
  private fiberStepsOf(st: CFlowSettings, b: number): number {
    return this.grids(st).reduce((n, g) => n + fiberBatches(b * g * g, st.fiberBatch, st.remainder).length, 0);
  }

  /** Image batches per pass that train (the reference's len(loader)), and optimiser steps per pass. */
  private passPlan(st: CFlowSettings, n: number): { batches: number; steps: number } {
    const B = this.options.batchSize as number;
    const full = Math.floor(n / B);
    const rest = n - full * B;
    if (full === 0) return { batches: 1, steps: this.fiberStepsOf(st, rest) };
    const keepRest = rest > 0 && !st.dropLast;
    return { batches: full + (keepRest ? 1 : 0), steps: full * this.fiberStepsOf(st, B) + (keepRest ? this.fiberStepsOf(st, rest) : 0) };
  }

  /** The checks of FeatureNetworkMethod.validate without building the flows (the rotations of WRN50's levels take seconds). */
  override validate(): void {
    const c = this.options.channels as number;
    if (c !== 1 && c !== 3) throw new RangeError(`cflow: option "channels" must be 1 or 3 (backbones take RGB; grey is repeated), got ${c}`);
    resolveWeights(this.backboneName, this.options.weights as string | null);
    const st = this.settings;
    const B = this.options.batchSize as number;
    this.grids(st).forEach((g, i) => {
      if (B * g * g < st.fiberBatch) {
        throw new RangeError(
          `cflow: an image batch of ${B} gives ${B * g * g} fibers at ${st.layers[i]} (${g}×${g} each), fewer than fiberBatch ${st.fiberBatch}; lower "fiberBatch" or raise "batchSize" or "size"`,
        );
      }
    });
  }

  protected buildNetwork(generator: Generator): CFlowHeads {
    const st = this.settings;
    return new CFlowHeads({
      channels: st.channels,
      condition: this.options.condition as number,
      blocks: this.options.blocks as number,
      clamp: this.options.clamp as number,
      clampForm: this.options.clampForm as 'tanh' | 'tanh-scaled',
      permuteSoft: st.permuteSoft,
      generator,
      init: this.drawsInitialisation,
    });
  }


  protected override createOptimizers(net: CFlowHeads): Record<string, AnyOptimizer> {
    return { adam: adam(net.parameters(), this.settings.lr) };
  }

  /** Backbone features of images [B, C, S, S] in [-1, 1], one map per level (eval, no grad). */
  private levelFeatures(x: Tensor, layers: readonly string[]): Tensor[] {
    const f = this.backbone().features(this.backboneInput(x), layers);
    return layers.map((l) => f[l]);
  }

  protected override trainStep(net: CFlowHeads, x: Tensor, ctx: StepContext, optimizers: Record<string, AnyOptimizer>): StepResult {
    const st = this.settings;
    if (ctx.step === 0) this.tally = { lossSum: 0, images: 0, terms: {}, fiberSteps: 0 };
    const [b, c, s] = x.shape;
    const B = this.options.batchSize as number;
    const keep = !(st.dropLast && b < B && this.trainCount >= B);
    let r = null;
    if (keep) {
      const images = randomRotateImages(x.data, b, c, s, st.rotation, ctx.generator);
      const feats = this.levelFeatures(images === x.data ? x : Tensor.fromData(images, x.shape), st.layers);
      const subEpochs = this.options.subEpochs as number;
      const lr = cflowLearningRate(
        { lr: st.lr, schedule: st.lrSchedule, subEpochs, metaEpochs: Math.ceil((this.options.epochs as number) / subEpochs), batchesPerPass: this.passPlan(st, this.trainCount).batches },
        ctx.epoch,
        ctx.step,
      );
      r = cflowFiberSteps(net.decoders.items, feats, optimizers.adam as Adam, { condition: this.options.condition as number, fiberBatch: st.fiberBatch, remainder: st.remainder, zeroGrad: st.zeroGrad, lr }, { generator: ctx.generator });
    }
    const t = this.tally;
    if (!r || r.fibers === 0) {
      // Nothing trained: report the pass's running means, which leaves its mean unchanged.
      const m = t.images ? t.lossSum / t.images : 0;
      return { loss: m, terms: Object.fromEntries(st.layers.map((l) => [l, t.images ? (t.terms[l] ?? 0) / t.images : 0])) };
    }
    const loss = r.lossSum / r.fibers;
    const terms = Object.fromEntries(st.layers.map((l, i) => [l, r.levels[i].fibers ? r.levels[i].lossSum / r.levels[i].fibers : loss]));
    t.lossSum += loss * b;
    t.images += b;
    for (const [k, v] of Object.entries(terms)) t.terms[k] = (t.terms[k] ?? 0) + v * b;
    t.fiberSteps += r.steps;
    return { loss, terms };
  }

  override async fit(train: Split, opts: FitOptions = {}): Promise<FitResult> {
    this.validate();
    const st = this.settings;
    this.trainCount = train.length;
    const plan = this.passPlan(st, train.length);
    // Progress counts optimiser steps (fiber batches), not image batches.
    const wrapped: FitOptions = {
      ...opts,
      onProgress: opts.onProgress && ((p) => opts.onProgress!({ ...p, step: p.epochDone ? plan.steps : this.tally.fiberSteps, stepsPerEpoch: plan.steps })),
    };
    const result = await super.fit(train, wrapped);
    const out = { ...result, steps: result.epochs * plan.steps };
    this.fitted = out;
    return out;
  }

  protected scoreBatch(): BatchScore {
    throw new Error('cflow: scoring runs in score() (its maps are normalised over the scored set)');
  }

  override async score(input: Split | ImageBatch, opts: ScoreOptions = {}): Promise<ScoreResult> {
    const net = this.network();
    const st = this.settings;
    const batch = await packImages(this.info.name, input, this.geometry);
    const { n, channels: c, size: s } = batch;
    const per = c * s * s;
    const P = this.options.condition as number;
    const grids = this.grids(st);
    const levels: LevelLogProb[] = grids.map((g) => ({ height: g, width: g, values: new Float32Array(n * g * g) }));
    const bs = this.options.scoreBatchSize as number;
    net.eval();
    const t0 = performance.now();
    for (let start = 0; start < n; start += bs) {
      const b = Math.min(bs, n - start);
      const x = Tensor.fromData(batch.images.slice(start * per, (start + b) * per), [b, c, s, s]);
      noGrad(() => {
        const feats = this.levelFeatures(x, st.layers);
        feats.forEach((f, l) => {
          const [, , H, W] = f.shape;
          const E = b * H * W;
          const conds = fiberConditions(P, b, H, W);
          const out = levels[l].values.subarray(start * H * W, (start + b) * H * W);
          for (let a = 0; a < E; a += SCORE_FIBER_CHUNK) {
            const idx = new Int32Array(Math.min(SCORE_FIBER_CHUNK, E - a));
            for (let i = 0; i < idx.length; i++) idx[i] = a + i;
            out.set(fiberLogProb(net.decoders.items[l], gatherFibers(f, idx), gatherRows(conds, P, idx)).data, a);
          }
        });
      });
      opts.onProgress?.({ done: start + b, total: n, seconds: (performance.now() - t0) / 1000 });
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const { maps, scores } = cflowMaps(levels, n, s, st.mapNorm, bs);
    return n > 0 ? { scores, maps } : { scores };
  }
}

export const CFLOW_INFO: MethodInfo = {
  name: 'cflow',
  title: 'CFlow-AD',
  family: 'feature-reference',
  description:
    'Frozen ImageNet backbone (wide_resnet50_2 layer2–4), one conditional normalizing flow per level (8 coupling blocks, positional condition) trained on feature vectors in fiber batches; ' +
    'map = max − Σ_levels upsampled likelihoods normalised over the scored set, image score = max of the map',
  defaultSize: 256,
  pixelMaps: true,
  resample: 'pil-lanczos',
  options: CFLOW_OPTIONS,
};

registerMethod({ info: CFLOW_INFO, create: (o) => new CFlow(CFLOW_INFO, o) });
