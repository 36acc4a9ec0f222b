// PatchCore (Roth et al. 2022; feature-reference spec §2): patch embeddings of a frozen
// ImageNet backbone, a memory bank of every normal training patch subsampled by a greedy
// coreset, and nearest-neighbour distances as patch scores.
//
// Two presets reproduce the two code bases (spec §2.6); every row is also an option, null =
// "as the preset says":
//
// | option      | official (default)                 | anomalib                         |
// |-------------|------------------------------------|----------------------------------|
// | aggregation | 'adaptive' (3×3 unfold + adaptive  | 'avgpool' (3×3 average pooling,  |
// |             |  pooling to pretrainDim per layer) |  padding counted)                |
// | merge       | 'adaptive' (→ targetDim = 1024)    | 'concat' (d = Σ channels)        |
// | distance    | 'squared' (faiss IndexFlatL2)      | 'euclidean'                      |
// | imageScore  | 'max'                              | 'reweighted' (b = 9)             |
// | upsample    | 'bilinear'                         | 'nearest'                        |
// | blur        | 'scipy' (half-sample reflect)      | 'torch' (mirror reflect)         |
// | coresetStart| 'official' (mean distance to 10   | 'anomalib' (one random point,    |
// |             |  random points, none selected)     |  selected first)                 |
//
// The official code's image score is the max patch score: the paper's re-weighting is not in
// it (spec §2.2, §2.5), so 'max' is the default and 'reweighted' (the paper's, anomalib's
// default) and 'max-of-knn-mean' (official anomaly_score_num_nn > 1) are options. The coreset
// projection is the official dense 128-d map in both presets (anomalib's sparse random
// projection is not reproduced); the kept bank is stored in training order.
//
// Memory: the full bank (images × patches × d float32) is streamed batch by batch into one
// array allocated once its size is known; the coreset selects from it, the kept rows move to
// its front in place, the kNN index copies them, and the full bank is dropped.
// The plan (full bank, coreset projection, final bank) is printed before the bank is
// allocated and a fit whose peak exceeds `memoryBudget` is refused, naming what fits.
//
// bankPrecision 'float16' (REQ-MEM 5) stores the kept bank as IEEE half (rounded to nearest
// even, a relative error ≤ 2^-11 per value; distances accumulate in float32 from the half
// values), and model.safetensors holds it as F16: the bank held while scoring and the saved
// model take half the bytes. The full bank before the coreset stays float32 in both cases:
// the coreset reads float32 points (its projection runs on them), and rounding before the
// selection would change the picks; so the option lowers the fit's peak by the kept bank's
// half only (with coresetRatio 1, where the kept bank is a copy of the full one, by a quarter).
import { totalmem } from 'node:os';
import { halfToFloat, Tensor } from '../../engine/index.js';
import { coresetAsync, coresetEstimate, formatBytes, KnnIndex, planMemoryBank } from '../../memory-bank/index.js';
import type { RawTensor } from '../../nn/safetensors.js';
import { registerMethod } from '../catalogue.js';
import { integerOption, numberOption, stringOption, type TypedSpec } from '../training/options.js';
import type { MethodInfo, MethodOptions } from '../types.js';
import { FeatureReferenceMethod, featureOptions, takeTensor, type BatchScore, type FeatureBatch, type FinishContext, type FitPlan } from './base.js';
import { scoreMaps, type BlurFlavour } from './maps.js';
import { embedPatches, type EmbedOptions } from './patchcore-embed.js';
import { reweightedScore } from './patchcore-score.js';

function presetChoice<const N extends string, const C extends string>(name: N, description: string, choices: readonly C[]): TypedSpec<N, 'string', C | null> & { choices: readonly C[] } {
  return { name, type: 'string', default: null, description, choices };
}

export const PATCHCORE_OPTIONS = [
  stringOption('preset', 'official', "which code base the null options follow: 'official' (amazon-science/patchcore-inspection) or 'anomalib'", ['official', 'anomalib']),
  stringOption('layers', 'layer2,layer3', 'backbone layers, comma-separated; the first one\'s grid is the patch grid'),
  integerOption('patchSize', 3, 'neighbourhood side p of the local aggregation (odd)', { min: 1, max: 15 }),
  presetChoice('aggregation', "local aggregation: 'adaptive' (p×p unfold, adaptive average pooling of the C·p² vector to pretrainDim; official) or 'avgpool' (p×p average pooling; anomalib); null: the preset's", ['adaptive', 'avgpool']),
  integerOption('pretrainDim', 1024, "per-layer dimension of the 'adaptive' aggregation (official pretrain_embed_dimension)", { min: 1 }),
  presetChoice('merge', "layer merge: 'adaptive' (adaptive average pooling of the concatenation to targetDim; official) or 'concat' (anomalib); null: the preset's", ['adaptive', 'concat']),
  integerOption('targetDim', 1024, "embedding dimension d of the 'adaptive' merge (official target_embed_dimension)", { min: 1 }),
  numberOption('coresetRatio', 0.1, 'fraction of the bank the greedy coreset keeps (1: no coreset; the official IM320 runs use 0.01)', { min: 1e-6, max: 1 }),
  integerOption('coresetProjection', 128, 'dimension d′ of the coreset\'s random projection (official 128)', { min: 1 }),
  presetChoice('coresetStart', "coreset start: 'official' (distances start as the mean distance to 10 random points, none selected) or 'anomalib' (one random point, selected first); null: the preset's", ['official', 'anomalib']),
  presetChoice('distance', "patch score distance: 'squared' Euclidean (official, faiss IndexFlatL2) or 'euclidean' (anomalib); null: the preset's", ['squared', 'euclidean']),
  presetChoice(
    'imageScore',
    "image score: 'max' patch score (official), 'max-of-knn-mean' (patch score = mean of the `neighbours` nearest distances; official anomaly_score_num_nn > 1) or 'reweighted' (the paper's, anomalib's default); null: the preset's",
    ['max', 'max-of-knn-mean', 'reweighted'],
  ),
  integerOption('neighbours', 3, "k of 'max-of-knn-mean' (patch scores and map)", { min: 1 }),
  integerOption('reweightNeighbours', 9, "b of 'reweighted': the bank neighbours of the nearest bank vector that weigh the score", { min: 1 }),
  presetChoice('upsample', "patch grid → input size: 'bilinear' (align_corners false; official) or 'nearest' (anomalib); null: the preset's", ['bilinear', 'nearest']),
  presetChoice('blur', "Gaussian blur borders: 'scipy' (gaussian_filter, half-sample reflect; official) or 'torch' (33 taps, mirror reflect; anomalib); null: the preset's", ['scipy', 'torch']),
  numberOption('sigma', 4, 'σ of the map blur (0: no blur)', { min: 0 }),
  stringOption('bankPrecision', 'float32', "storage of the kept memory bank: 'float32' (official, faiss) or 'float16' (IEEE half: half the bytes while scoring and on disk; distances in float32 from the half values; the bank before the coreset stays float32)", ['float32', 'float16']),
  numberOption('memoryBudget', null, 'GB the fit may use for the bank, its coreset projection and the kept bank; null: 80 % of this machine\'s memory', { min: 0 }),
];

export const PATCHCORE_METHOD_OPTIONS = [...featureOptions({ backbone: 'wide_resnet50_2', batchSize: 8 }), ...PATCHCORE_OPTIONS];

/** Every setting a score depends on, with the preset's nulls filled in. */
export interface PatchCoreSettings extends EmbedOptions {
  layers: string[];
  distance: 'squared' | 'euclidean';
  imageScore: 'max' | 'max-of-knn-mean' | 'reweighted';
  neighbours: number;
  reweightNeighbours: number;
  upsample: 'bilinear' | 'nearest';
  blur: BlurFlavour;
  sigma: number;
  coresetRatio: number;
  coresetProjection: number;
  coresetStart: 'official' | 'anomalib';
  bankPrecision: 'float32' | 'float16';
}

const PRESETS = {
  official: { aggregation: 'adaptive', merge: 'adaptive', distance: 'squared', imageScore: 'max', upsample: 'bilinear', blur: 'scipy', coresetStart: 'official' },
  anomalib: { aggregation: 'avgpool', merge: 'concat', distance: 'euclidean', imageScore: 'reweighted', upsample: 'nearest', blur: 'torch', coresetStart: 'anomalib' },
} as const;

export function patchcoreSettings(o: MethodOptions): PatchCoreSettings {
  const p = PRESETS[o.preset as keyof typeof PRESETS];
  const pick = <K extends keyof typeof p>(k: K): (typeof p)[K] => ((o[k] ?? p[k]) as (typeof p)[K]);
  return {
    layers: String(o.layers).split(',').map((s) => s.trim()).filter((s) => s.length > 0),
    patchSize: o.patchSize as number,
    aggregation: pick('aggregation'),
    pretrainDim: o.pretrainDim as number,
    merge: pick('merge'),
    targetDim: o.targetDim as number,
    distance: pick('distance'),
    imageScore: pick('imageScore'),
    neighbours: o.neighbours as number,
    reweightNeighbours: o.reweightNeighbours as number,
    upsample: pick('upsample'),
    blur: pick('blur'),
    sigma: o.sigma as number,
    coresetRatio: o.coresetRatio as number,
    coresetProjection: o.coresetProjection as number,
    coresetStart: pick('coresetStart'),
    bankPrecision: o.bankPrecision as 'float32' | 'float16',
  };
}

const GB = 1e9;
const fmtBytes = (b: number): string => (b >= GB ? `${(b / GB).toFixed(2)} GB` : `${(b / 1e6).toFixed(1)} MB`);

/**
 * The memory a fit needs, in bytes: the full bank (always float32: the coreset reads it), the
 * coreset's projection and distances, and the kept bank in the index (`bytesPerValue` per value
 * + one float32 norm per vector; with coresetRatio 1 it is a copy of the full bank, alive
 * with it until the full bank is dropped).
 */
export interface PatchCoreMemoryPlan {
  vectors: number;
  dim: number;
  fullBank: number;
  projection: number;
  keptVectors: number;
  /** 4 (float32) or 2 (float16): bytes per value of the kept bank. */
  bytesPerValue: 2 | 4;
  keptBank: number;
  peak: number;
  budget: number;
}

type PlanSettings = Pick<PatchCoreSettings, 'coresetRatio' | 'coresetProjection'> & { bankPrecision?: PatchCoreSettings['bankPrecision'] };

export function patchcoreMemoryPlan(vectors: number, dim: number, s: PlanSettings, budget: number): PatchCoreMemoryPlan {
  const bytesPerValue = s.bankPrecision === 'float16' ? 2 : 4;
  const p = planMemoryBank({ vectors, dim, bytesPerValue, coresetRatio: s.coresetRatio, projectionDim: s.coresetProjection, budgetBytes: budget });
  const fullBank = vectors * dim * 4;
  const keptBank = p.keptVectors * (dim * bytesPerValue + 4);
  return { vectors, dim, fullBank, projection: p.coresetBytes, keptVectors: p.keptVectors, bytesPerValue, keptBank, peak: fullBank + p.coresetBytes + keptBank, budget };
}

/** The refusal for a plan over budget: the sizes, and the settings that fit. */
export function memoryRefusal(method: string, plan: PatchCoreMemoryPlan, images: number, patches: number, s: Pick<PatchCoreSettings, 'coresetRatio'>): string {
  const bpv = plan.bytesPerValue ?? 4;
  const head =
    `${method}: the memory bank needs ${fmtBytes(plan.peak)} at its peak (${plan.vectors} patch vectors = ${images} images × ${patches} patches, × d ${plan.dim} × 4 B = ${fmtBytes(plan.fullBank)} ` +
    `before the coreset (float32 whatever bankPrecision), + ${fmtBytes(plan.projection)} coreset projection + ${fmtBytes(plan.keptBank)} kept bank (${plan.keptVectors} vectors, ${bpv === 2 ? 'float16' : 'float32'})), ` +
    `more than memoryBudget ${fmtBytes(plan.budget)}`;
  const fixes: string[] = [];
  // The largest coreset ratio whose kept bank of `b` bytes per value fits what the full bank and
  // the projection leave (a smaller ratio shrinks the kept bank only); 0: none.
  const rest = plan.budget - plan.fullBank - plan.projection;
  const ratioFor = (b: number): number => (s.coresetRatio < 1 && rest > 0 ? Math.floor((rest / (plan.dim * b + 4) / plan.vectors) * 1e4) / 1e4 : 0);
  const r32 = ratioFor(bpv);
  if (r32 > 0 && r32 < s.coresetRatio) fixes.push(`coresetRatio ${r32} (or smaller)`);
  if (bpv === 4) {
    const halfPeak = plan.fullBank + plan.projection + plan.keptVectors * (plan.dim * 2 + 4);
    if (halfPeak <= plan.budget) fixes.push(`bankPrecision float16 (peak ${fmtBytes(halfPeak)})`);
    else {
      const r16 = ratioFor(2);
      if (r16 > 0 && r16 < s.coresetRatio && r16 > r32) fixes.push(`bankPrecision float16 with coresetRatio ${r16} (or smaller)`);
    }
  }
  fixes.push(`memoryBudget ${Math.ceil((plan.peak / GB) * 100) / 100} (GB, if the machine has it)`);
  fixes.push('fewer training images (--limit / --train-count) or a smaller size');
  return `${head}. Settings that fit: ${fixes.join('; ')}`;
}

export class PatchCore extends FeatureReferenceMethod {
  private full: Float32Array | null = null;
  private fullCount = 0;
  private images = 0;
  private grid: [number, number] = [0, 0];
  private dim = 0;
  /** The index's own bank (a view, no copy): float32 values, or the half bits of a float16 bank. */
  private bank: Float32Array | Uint16Array | null = null;
  private index: KnnIndex | null = null;
  private messageFn: (text: string) => void = () => {};

  protected get settings(): PatchCoreSettings {
    return patchcoreSettings(this.options);
  }

  protected featureLayers(): readonly string[] {
    return this.settings.layers;
  }

  protected override checkOptions(): void {
    const s = this.settings;
    if (s.layers.length === 0) throw new RangeError(`${this.info.name}: option "layers" names no layer`);
    if (new Set(s.layers).size !== s.layers.length) throw new RangeError(`${this.info.name}: option "layers" names a layer twice (${s.layers.join(',')})`);
    if (s.patchSize % 2 !== 1) throw new RangeError(`${this.info.name}: option "patchSize" must be odd, got ${s.patchSize}`);
  }

  private budgetBytes(): number {
    const b = this.options.memoryBudget as number | null;
    return b === null ? 0.8 * totalmem() : b * GB;
  }

  protected beginFit(plan: FitPlan): void {
    this.full = null;
    this.bank = null;
    this.index = null;
    this.fullCount = 0;
    this.images = plan.images;
    this.messageFn = plan.message;
  }

  protected accumulate(features: Record<string, Tensor>, batch: FeatureBatch): void {
    const s = this.settings;
    const e = embedPatches(s.layers.map((l) => features[l]), s);
    const P = e.gh * e.gw;
    if (!this.full) {
      const vectors = this.images * P;
      const plan = patchcoreMemoryPlan(vectors, e.dim, s, this.budgetBytes());
      this.messageFn(
        `memory bank: ${vectors} vectors (${this.images} images × ${e.gh}×${e.gw} patches) × d ${e.dim} = ${fmtBytes(plan.fullBank)}; ` +
          (s.coresetRatio < 1 ? `coreset ${s.coresetRatio} keeps ${plan.keptVectors} (${fmtBytes(plan.keptBank)} ${s.bankPrecision}) via a ${fmtBytes(plan.projection)} projection; ` : `no coreset, the index holds a ${s.bankPrecision} copy (${fmtBytes(plan.keptBank)}); `) +
          `peak ${fmtBytes(plan.peak)} of memoryBudget ${fmtBytes(plan.budget)}`,
      );
      if (plan.peak > plan.budget) throw new RangeError(memoryRefusal(this.info.name, plan, this.images, P, s));
      try {
        this.full = new Float32Array(vectors * e.dim);
      } catch (err) {
        throw new RangeError(`${this.info.name}: cannot allocate the ${fmtBytes(plan.fullBank)} memory bank (${(err as Error).message}); ${memoryRefusal(this.info.name, { ...plan, budget: 0 }, this.images, P, s).split('. ').pop()}`);
      }
      this.grid = [e.gh, e.gw];
      this.dim = e.dim;
    }
    if (e.gh !== this.grid[0] || e.gw !== this.grid[1] || e.dim !== this.dim) throw new Error(`${this.info.name}: the patch grid changed between batches`);
    this.full.set(e.patches, batch.start * P * e.dim);
    this.fullCount = (batch.start + batch.count) * P;
  }

  protected async finishFit(ctx: FinishContext): Promise<void> {
    const s = this.settings;
    let full = this.full;
    if (!full) throw new Error(`${this.info.name}: no training features were accumulated`);
    const n = this.fullCount;
    const d = this.dim;
    let kept = n;
    if (s.coresetRatio < 1) {
      const est = coresetEstimate(n, d, { ratio: s.coresetRatio, projectionDim: s.coresetProjection });
      ctx.message(
        `coreset: ${est.iterations} of ${n} vectors, one pass over the ${n} × ${s.coresetProjection} projection per pick ` +
          `(${formatBytes(est.trafficBytes)} of memory traffic in all, ≈ ${(est.trafficBytes / 20e9).toFixed(est.trafficBytes < 20e10 ? 1 : 0)} s at 20 GB/s)`,
      );
      let lastNote = performance.now();
      const selected = await coresetAsync(Tensor.fromData(full.subarray(0, n * d), [n, d]), {
        ratio: s.coresetRatio,
        projectionDim: s.coresetProjection,
        seed: this.options.seed as number,
        start: s.coresetStart,
        signal: ctx.signal,
        onProgress: (p) => {
          const now = performance.now();
          if (now - lastNote < 10_000 || p.done >= p.total) return;
          lastNote = now;
          ctx.message(`coreset: ${p.done}/${p.total} picks, ${Math.round(p.etaMs / 1000)} s left`);
        },
      });
      ctx.checkAbort();
      // The kept vectors, in training order, moved to the front of the full bank in place
      // (row sorted[i] ≥ i, so no row is overwritten before it is moved): no second array.
      const sorted = Int32Array.from(selected).sort();
      for (let i = 0; i < sorted.length; i++) if (sorted[i] !== i) full.copyWithin(i * d, sorted[i] * d, (sorted[i] + 1) * d);
      kept = sorted.length;
    }
    // A copy of exactly the kept rows (rounded to half for bankPrecision float16).
    this.setBank(full.subarray(0, kept * d), s.bankPrecision);
    full = null;
    this.full = null; // the full bank goes once the index holds the kept rows
  }

  /** The index over `bank` [n, d] float32 values, stored as `precision`; this.bank is the index's own array. */
  private setBank(bank: Float32Array, precision: 'float32' | 'float16'): void {
    const index = new KnnIndex(this.dim, { storage: precision });
    try {
      index.add(Tensor.fromData(bank, [bank.length / this.dim, this.dim]));
    } catch (e) {
      if (precision === 'float16' && e instanceof RangeError && /float16's range/.test(e.message)) {
        throw new RangeError(`${this.info.name}: the memory bank does not fit float16 (${e.message.replace(/; use storage.*$/, '')}); use bankPrecision float32`, { cause: e });
      }
      throw e;
    }
    this.index = index;
    this.bank = index.halfVectors ?? index.vectors; // views of the index's storage: no second copy
  }

  /**
   * The fitted memory bank [n, d] (after the coreset) as float32 values: a view of a float32
   * bank, a new decoded copy of a float16 one (exact: the half values widened).
   */
  get memoryBank(): { vectors: Float32Array; count: number; dim: number; precision: 'float32' | 'float16' } {
    const index = this.index;
    if (!index) throw new Error(`${this.info.name}: the method is not fitted; call fit() or load() first`);
    return { vectors: index.vectors, count: index.ntotal, dim: this.dim, precision: index.storage };
  }

  protected scoreFeatures(features: Record<string, Tensor>, batch: FeatureBatch): BatchScore {
    const s = this.settings;
    const index = this.index;
    const bank = this.bank;
    if (!index || !bank) throw new Error(`${this.info.name}: the method is not fitted; call fit() or load() first`);
    const e = embedPatches(s.layers.map((l) => features[l]), s);
    const P = e.gh * e.gw;
    const B = batch.count;
    const k = Math.min(s.imageScore === 'max-of-knn-mean' ? s.neighbours : 1, index.ntotal);
    const { distances, indices } = index.search(Tensor.fromData(e.patches, [B * P, e.dim]), k);
    const patchScores = new Float32Array(B * P);
    for (let q = 0; q < B * P; q++) {
      let acc = 0;
      for (let j = 0; j < k; j++) {
        const v = Math.max(0, distances[q * k + j]);
        acc += s.distance === 'euclidean' ? Math.sqrt(v) : v;
      }
      patchScores[q] = acc / k;
    }
    const scores = new Float32Array(B);
    for (let b = 0; b < B; b++) {
      let best = 0;
      for (let p = 1; p < P; p++) if (patchScores[b * P + p] > patchScores[b * P + best]) best = p;
      if (s.imageScore === 'reweighted') {
        const q = b * P + best;
        scores[b] = reweightedScore(e.patches.subarray(q * e.dim, (q + 1) * e.dim), patchScores[q], indices[q * k], bank, index, s.reweightNeighbours);
      } else scores[b] = patchScores[b * P + best];
    }
    const size = this.options.size as number;
    const maps = scoreMaps(patchScores, B, e.gh, e.gw, size, { upsample: s.upsample, blur: s.blur, sigma: s.sigma });
    return { scores, maps: Tensor.fromData(maps, [B, size, size]) };
  }

  protected fittedState(): Record<string, RawTensor> {
    const index = this.index;
    if (!index) throw new Error(`${this.info.name}: the method is not fitted; call fit() or load() first`);
    const shape = [index.ntotal, this.dim];
    const half = index.halfVectors;
    // float16: the stored half bits as F16 (the saved model halves too); float32: F32.
    return { memory_bank: half ? { dtype: 'F16', shape, data: half } : { dtype: 'F32', shape, data: index.vectors } };
  }

  protected restoreState(tensors: Map<string, RawTensor>): void {
    const precision = this.settings.bankPrecision;
    const t = takeTensor(tensors, 'memory_bank', precision === 'float16' ? 'F16' : 'F32');
    if (t.shape.length !== 2 || t.shape[1] < 1) throw new Error(`model.safetensors: tensor "memory_bank" must be [n, d], got [${t.shape.join(', ')}]`);
    this.dim = t.shape[1];
    // F16: the half values widened exactly, rounded back to the same bits by the float16 index.
    this.setBank(t.dtype === 'F16' ? halfToFloat(t.data as Uint16Array) : (t.data as Float32Array), precision);
  }

  protected override fittedSummary(): Record<string, unknown> {
    const index = this.index;
    if (!index) throw new Error(`${this.info.name}: the method is not fitted; call fit() or load() first`);
    return { bankVectors: index.ntotal, dim: this.dim, bankPrecision: index.storage, bankBytes: index.bytes, grid: this.grid[0] ? this.grid : undefined, settings: this.settings };
  }
}

export const PATCHCORE_INFO: MethodInfo = {
  name: 'patchcore',
  title: 'PatchCore',
  family: 'feature-reference',
  description:
    'Frozen ImageNet backbone (wide_resnet50_2 layer2 + layer3), locally aggregated patch embeddings, a greedy-coreset memory bank of the normal training patches; ' +
    'patch score = nearest-bank distance, map = score grid upsampled and blurred (σ 4). Presets official (default) and anomalib',
  defaultSize: 224,
  pixelMaps: true,
  options: PATCHCORE_METHOD_OPTIONS,
};

registerMethod({ info: PATCHCORE_INFO, create: (o) => new PatchCore(PATCHCORE_INFO, o) });
