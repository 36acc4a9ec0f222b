// Scoring image files with a trained run: each file is decoded and preprocessed exactly
// as the run's training data was (size, channels, resampling), scored, judged against the
// run's threshold (normal / abnormal), checked against the training images' statistics
// (a warning for an image unlike them), and rendered as a heat-map overlay PNG with a
// colour bar, named after the file. The threshold, the overlay scale and the input
// statistics come from the run's calibration.json (calibration.ts), fitted at training
// time on training data only, so one image's result never depends on the others scored
// with it.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { DecodeLimits } from '../data/limits.js';
import type { Resample } from '../data/types.js';
import { loadMethod } from '../methods/registry.js';
import type { Method } from '../methods/types.js';
import type { Threshold } from '../metrics/threshold.js';
import { writeFileAtomic } from '../io/atomic.js';
import { isRunFolder, readRunFile, readTrainedRun } from './run-folder.js';
import { type Calibration, percentileName, readCalibration, resolveThreshold, scoreWarning } from './calibration.js';
import { imageStats, inputWarnings } from './input-stats.js';
import { readInputs } from './read-inputs.js';
import { imageToRgb, mapRange, overlay, upscale } from './report/colormap.js';
import { withColourBar } from './report/colour-bar.js';
import { pngOf } from './report/png.js';
import { displayScale } from './report/examples.js';

export interface Prediction {
  /** The input file. */
  path: string;
  score: number;
  /** 'abnormal' when score ≥ the threshold, 'normal' below it; null when there is no threshold. */
  decision: 'normal' | 'abnormal' | null;
  /** Why the score should not be trusted (the image is unlike the training images), or null. */
  warning: string | null;
  /** The overlay PNG written, when the method gives maps. */
  overlay?: string;
}

/** The threshold applied, where it came from, and a sentence saying so. */
export interface AppliedThreshold extends Threshold {
  source: 'run' | 'threshold' | 'threshold-quantile';
  description: string;
}

export interface PredictResult {
  predictions: Prediction[];
  /** Null when the run has no saved threshold and none was given (see notes). */
  threshold: AppliedThreshold | null;
  /** The map values the overlay colours span: the run's fixed scale, or each image's own range when the run has none. */
  mapScale?: { lo: number; hi: number; fixed: true } | { fixed: false };
  /** What the output lacks and how to get it (runs trained before calibrations). */
  notes: string[];
}

export interface PredictOptions {
  /** Use this threshold instead of the saved one. */
  threshold?: number;
  /** Refit the threshold at this quantile of the run's saved normal scores. */
  thresholdQuantile?: number;
}

/** A trained method from a run folder (or from a folder method.save wrote), with its resampling. */
export async function loadRun(dirIn: string): Promise<{ method: Method; resample: Resample }> {
  const dir = resolve(dirIn);
  if (isRunFolder(dir)) {
    const r = readTrainedRun(dir);
    return { method: await loadMethod(dir), resample: r.dataset.options?.resample ?? 'pil-bilinear' };
  }
  if (existsSync(join(dir, 'config.json'))) return { method: await loadMethod(dir), resample: 'pil-bilinear' };
  readRunFile(dir); // throws, saying what the folder holds
  throw new Error(`${dir} is not a run folder`);
}

/** Output file name of an input: its name without extension, plus "-overlay.png". */
function overlayName(path: string, taken: Set<string>): string {
  const stem = basename(path).replace(/\.(nii\.gz|[^.]+)$/i, '');
  let name = `${stem}-overlay.png`;
  for (let k = 2; taken.has(name); k++) name = `${stem}-${k}-overlay.png`;
  taken.add(name);
  return name;
}

function describe(t: Threshold, c: Calibration | undefined, source: AppliedThreshold['source']): string {
  if (t.rule === 'given') return 'given with --threshold';
  const of = t.split === 'validation' && c?.validation ? `the ${c.validation.scores.length} held-out normal images' scores (${c.validation.source})` : `the ${c?.trainScores.length} training images' scores`;
  return `${percentileName(t.q ?? 0)} of ${of}${source === 'run' ? ', saved with the run' : ''}`;
}

export async function predictFiles(
  runDir: string,
  files: readonly string[],
  outDir?: string,
  limits: Partial<DecodeLimits> = {},
  opts: PredictOptions = {},
): Promise<PredictResult> {
  if (!files.length) throw new RangeError('predict: give at least one image file');
  const dir = resolve(runDir);
  const { method, resample } = await loadRun(dir);
  const calibration = readCalibration(dir);
  const picked = resolveThreshold(calibration, { threshold: opts.threshold, quantile: opts.thresholdQuantile }, runDir);
  const source: AppliedThreshold['source'] = opts.threshold !== undefined ? 'threshold' : opts.thresholdQuantile !== undefined ? 'threshold-quantile' : 'run';
  const threshold = picked ? { ...picked, source, description: describe(picked, calibration, source) } : null;

  const size = method.options.size as number;
  const channels = (method.options.channels as 1 | 3 | undefined) ?? 1;
  if (!Number.isInteger(size)) throw new Error(`${runDir}: the saved method has no input size`);
  const per = channels * size * size;
  const { images, colour } = await readInputs(files, { size, channels, resample }, limits, 'predict');
  const result = await method.score({ n: files.length, channels, size, images });
  // The inputs are finite (the decoders refuse anything else), so a NaN or infinite score
  // means the model itself produced it: say so instead of printing it as a score.
  const bad = Array.from(result.scores).findIndex((s) => !Number.isFinite(s));
  if (bad >= 0) {
    throw new Error(`predict: the model in ${runDir} gave the score ${result.scores[bad]} for ${files[bad]}; its weights or its training diverged (check the run's loss curve, retrain or resume from an earlier checkpoint)`);
  }

  const predictions: Prediction[] = files.map((path, i) => {
    const score = result.scores[i]!;
    const warnings = calibration
      ? [...inputWarnings(calibration.input, imageStats(images.subarray(i * per, (i + 1) * per)), colour[i]!), scoreWarning(calibration, score)].filter((w): w is string => !!w)
      : [];
    return {
      path,
      score,
      decision: threshold ? (score >= threshold.value ? 'abnormal' : 'normal') : null,
      warning: warnings.length ? warnings.join('; ') : null,
    };
  });

  const notes: string[] = [];
  if (!calibration) {
    const fix = isRunFolder(dir)
      ? `fit them from the run's training data without retraining: medianomaly calibrate --run ${runDir}`
      : 'this folder holds a saved method without its run record, so they cannot be fitted here; train a run with "medianomaly train"';
    notes.push(
      `${runDir} has no saved calibration (it was trained before thresholds were saved): ` +
        `${threshold ? '' : 'no normal/abnormal decisions (give --threshold X to decide now), '}no checks against the training images${result.maps ? ', overlays scaled per image' : ''}; ${fix}`,
    );
  }

  let mapScale: PredictResult['mapScale'];
  if (result.maps && outDir) {
    const fixed = calibration?.mapScale;
    mapScale = fixed ? { lo: fixed.lo, hi: fixed.hi, fixed: true } : { fixed: false };
    const scale = Math.max(displayScale(size), 2);
    const side = size * scale;
    const taken = new Set<string>();
    for (let i = 0; i < files.length; i++) {
      // Without a run scale, each image gets its own range: never one shared by the call,
      // which let one odd image flatten every other overlay.
      const range = fixed ?? mapRange([result.maps[i]!]);
      const base = imageToRgb(images.subarray(i * per, (i + 1) * per), channels, size);
      const withBar = withColourBar(upscale(overlay(base, result.maps[i]!, range), size, scale), side, range);
      const out = join(outDir, overlayName(files[i]!, taken));
      await writeFileAtomic(out, await pngOf(withBar.rgb, withBar.width, withBar.height));
      predictions[i]!.overlay = out;
    }
  }
  return { predictions, threshold, mapScale, notes };
}
