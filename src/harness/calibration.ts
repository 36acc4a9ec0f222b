// A run's calibration: what `predict` needs to turn a raw score into a decision people can
// act on, fitted once when the run is trained and saved as calibration.json in the run folder.
//
//   threshold   image scores ≥ it are "abnormal": by default the 99th percentile of the
//               normal training images' scores (DEFAULT_QUANTILE), or of held-out normal
//               images when `calibrate --val-path` gave some. Never fitted on test data
//               (src/metrics/README.md): the test split is not even loaded.
//   trainScores every training image's score, so `predict --threshold-quantile q` can refit
//               the threshold without the data, and a score far beyond them is flagged
//   mapScale    the pixel-map values the overlay colours span (robust quantiles of the
//               training maps), fixed per run: an image's overlay never depends on what
//               else is scored with it
//   input       ranges of simple statistics of the training images (input-stats.ts)
//
// Why the 99th percentile: training scores are optimistic (the model has fitted those very
// images), so unseen normal images score somewhat higher; the 95th percentile would flag
// well over 5 % of new normal images. A held-out normal set (--val-path) removes that bias.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Split } from '../data/types.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { type Threshold, givenThreshold, normalQuantileThreshold } from '../metrics/threshold.js';
import { refuseLink } from '../methods/training/saved.js';
import type { Method } from '../methods/types.js';
import { type InputProfile, inputProfile } from './input-stats.js';
import { sourceColour } from './source-colour.js';

export const CALIBRATION_FILE = 'calibration.json';
const FORMAT = 'medianomaly-calibration';

/** The quantile of normal scores the saved threshold sits at, unless asked otherwise. */
export const DEFAULT_QUANTILE = 0.99;
/**
 * Quantiles of the training maps' pixel values that set the overlay's blue and red ends.
 * Not min/max: one hot pixel in one training image would otherwise wash out every overlay.
 * The top end at 99.9 %: a normal image stays blue to cyan, values beyond anything common
 * in normal images saturate to red.
 */
export const MAP_QUANTILES = { lo: 0.01, hi: 0.999 } as const;
/** Pixel values sampled (evenly strided) for the map quantiles: bounds memory and time on large training sets. */
const MAP_SAMPLE = 1 << 22;
/**
 * A score beyond the training maximum by more than FAR_SCORE × (max − median) of the
 * training scores is flagged: lesions score above normal images, but not by this much;
 * such a score usually means the input is not the kind of image the model knows.
 */
const FAR_SCORE = 10;

export interface MapScale {
  lo: number;
  hi: number;
  /** The quantile levels lo and hi sit at. */
  qLo: number;
  qHi: number;
}

export interface Calibration {
  format: typeof FORMAT;
  version: 1;
  /** The threshold saved with the run: score ≥ value is abnormal. */
  threshold: Threshold;
  /** Every training image's score, in training-split order. */
  trainScores: number[];
  /** Held-out normal images the threshold was fitted on instead of the training scores (calibrate --val-path). */
  validation?: { source: string; scores: number[] };
  /** Absent for methods without pixel maps. */
  mapScale?: MapScale;
  input: InputProfile;
}

export interface CalibrateOptions {
  /** Quantile of normal scores for the threshold (default DEFAULT_QUANTILE). */
  quantile?: number;
  /** Scores of held-out normal images to fit the threshold on, with where they came from. */
  validation?: { source: string; scores: ArrayLike<number> };
}

/** Every `step`-th value of all maps (step chosen so at most MAP_SAMPLE are kept). */
function sampleMaps(maps: readonly Float32Array[]): Float32Array {
  const total = maps.reduce((a, m) => a + m.length, 0);
  const step = Math.max(1, Math.ceil(total / MAP_SAMPLE));
  const out = new Float32Array(Math.ceil(total / step));
  let k = 0;
  let i = 0;
  for (const m of maps) {
    for (; i < m.length; i += step) out[k++] = m[i]!;
    i -= m.length; // carry the stride across images
  }
  return out.subarray(0, k);
}

function mapScaleOf(maps: readonly Float32Array[]): MapScale {
  const values = sampleMaps(maps);
  const at = (q: number) => normalQuantileThreshold(values, q, { split: 'train' }).value;
  const lo = at(MAP_QUANTILES.lo);
  let hi = at(MAP_QUANTILES.hi);
  // Constant maps: a span of zero would divide by zero in the colouring.
  if (!(hi > lo)) hi = lo + Math.max(Math.abs(lo) * 1e-6, 1e-12);
  return { lo, hi, qLo: MAP_QUANTILES.lo, qHi: MAP_QUANTILES.hi };
}

/** Fits the calibration of a trained method on its training split (and optional held-out normal scores). */
export async function calibrate(method: Method, train: Split, opts: CalibrateOptions = {}): Promise<Calibration> {
  const q = opts.quantile ?? DEFAULT_QUANTILE;
  const result = await method.score(train);
  const trainScores = Array.from(result.scores);
  const bad = trainScores.findIndex((s) => !Number.isFinite(s));
  if (bad >= 0) {
    throw new Error(`calibrate: the model gave the score ${trainScores[bad]} for training image ${train.ids[bad]}; its training diverged (check the loss curve, retrain or resume from an earlier checkpoint)`);
  }
  const validation = opts.validation && { source: opts.validation.source, scores: Array.from(opts.validation.scores) };
  const threshold = validation
    ? normalQuantileThreshold(validation.scores, q, { split: 'validation' })
    : normalQuantileThreshold(trainScores, q, { split: 'train' });
  const colour = await sourceColour(train);
  const input = inputProfile(await train.images(), train.length, train.channels, colour.fractions, colour.sampled);
  return {
    format: FORMAT,
    version: 1,
    threshold,
    trainScores,
    ...(validation ? { validation } : {}),
    ...(result.maps ? { mapScale: mapScaleOf(result.maps) } : {}),
    input,
  };
}

/** Fits the calibration of the trained method in run folder `dir` and writes calibration.json (atomically). */
export async function calibrateRun(dir: string, method: Method, train: Split, opts: CalibrateOptions = {}): Promise<Calibration> {
  const c = await calibrate(method, train, opts);
  refuseLink(join(dir, CALIBRATION_FILE), dir);
  await writeJsonAtomic(join(dir, CALIBRATION_FILE), c);
  return c;
}

/** A quantile level as a percentile name: 0.99 → "99th percentile", 0.01 → "1st percentile". */
export function percentileName(q: number): string {
  const p = +(100 * q).toFixed(2);
  const last = Math.round(p) === p && Math.floor(p % 100 / 10) !== 1 ? p % 10 : 0;
  return `${p}${['th', 'st', 'nd', 'rd'][last] ?? 'th'} percentile`;
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** The calibration saved in `dir`, or undefined for a run trained before calibrations existed. */
export function readCalibration(dir: string): Calibration | undefined {
  const path = join(dir, CALIBRATION_FILE);
  if (!existsSync(path)) return undefined;
  refuseLink(path, dir);
  const invalid = (why: string): never => {
    throw new Error(`${path} is not a valid calibration (${why}); fit it again from the run's training data: medianomaly calibrate --run ${dir}`);
  };
  let c: Partial<Calibration>;
  try {
    c = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return invalid((e as Error).message);
  }
  if (c.format !== FORMAT || c.version !== 1) invalid(`format ${String(c.format)} version ${String(c.version)}, expected ${FORMAT} version 1`);
  if (!c.threshold || !isNum(c.threshold.value)) invalid('no finite threshold');
  if (!Array.isArray(c.trainScores) || !c.trainScores.length || !c.trainScores.every(isNum)) invalid('trainScores must be finite numbers');
  if (c.mapScale && !(isNum(c.mapScale.lo) && isNum(c.mapScale.hi) && c.mapScale.hi > c.mapScale.lo)) invalid('mapScale needs finite lo < hi');
  if (!c.input || !isNum(c.input.mean?.min) || !isNum(c.input.std?.max)) invalid('no input statistics');
  return c as Calibration;
}

/** What `predict` may be told instead of the saved threshold. */
export interface ThresholdOverride {
  /** A threshold value to use as is. */
  threshold?: number;
  /** Refit at this quantile of the saved normal scores (validation when the run has them, else training). */
  quantile?: number;
}

/**
 * The threshold predict applies: an override when given, else the saved one, else
 * undefined (a run trained before calibrations: predict then prints scores only).
 */
export function resolveThreshold(c: Calibration | undefined, o: ThresholdOverride, dir: string): Threshold | undefined {
  if (o.threshold !== undefined && o.quantile !== undefined) {
    throw new RangeError('predict: give --threshold or --threshold-quantile, not both');
  }
  if (o.threshold !== undefined) {
    if (!Number.isFinite(o.threshold)) throw new RangeError(`predict: --threshold must be a finite number, got ${o.threshold}`);
    return givenThreshold(o.threshold);
  }
  if (o.quantile !== undefined) {
    if (!(o.quantile >= 0 && o.quantile <= 1)) throw new RangeError(`predict: --threshold-quantile must be in [0, 1] (0.99 = the 99th percentile), got ${o.quantile}`);
    if (!c) throw new Error(`predict: ${dir} has no saved score distribution to take a quantile of (trained before calibrations); fit one first: medianomaly calibrate --run ${dir}`);
    return c.validation
      ? normalQuantileThreshold(c.validation.scores, o.quantile, { split: 'validation' })
      : normalQuantileThreshold(c.trainScores, o.quantile, { split: 'train' });
  }
  return c?.threshold;
}

/** A warning when `score` lies far beyond every training score, else undefined. */
export function scoreWarning(c: Calibration, score: number): string | undefined {
  const sorted = [...c.trainScores].sort((a, b) => a - b);
  const max = sorted[sorted.length - 1]!;
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const spread = Math.max(max - median, Math.abs(max) * 1e-3, 1e-12);
  if (score <= max + FAR_SCORE * spread) return undefined;
  return `score ${score.toPrecision(4)} is far beyond every training image's (max ${max.toPrecision(4)}): the image may not be the kind the model was trained on`;
}
