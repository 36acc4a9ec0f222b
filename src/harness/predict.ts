// Scoring image files with a trained run: each file is decoded and preprocessed exactly
// as the run's training data was (size, channels, resampling), scored, and rendered as a
// heat-map overlay PNG (jet over the grayscale input) named after the file.
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { DEFAULT_FRAME_OPTIONS, formatOf, readFrame } from '../data/decode/index.js';
import { resolveLimits, type DecodeLimits } from '../data/limits.js';
import { preprocessImage } from '../data/preprocess.js';
import type { Resample } from '../data/types.js';
import { loadMethod } from '../methods/registry.js';
import type { Method } from '../methods/types.js';
import { writeFileAtomic } from '../io/atomic.js';
import { isRunFolder, readRunFile, readTrainedRun } from './run-folder.js';
import { imageToRgb, mapRange, overlay, upscale } from './report/colormap.js';
import { pngOf } from './report/png.js';
import { displayScale } from './report/examples.js';

export interface Prediction {
  /** The input file. */
  path: string;
  score: number;
  /** The overlay PNG written, when the method gives maps. */
  overlay?: string;
}

export interface PredictResult {
  predictions: Prediction[];
  /** The map values the overlay colours span (shared by all images of the call). */
  range?: { lo: number; hi: number };
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

export async function predictFiles(runDir: string, files: readonly string[], outDir?: string, limits: Partial<DecodeLimits> = {}): Promise<PredictResult> {
  if (!files.length) throw new RangeError('predict: give at least one image file');
  const frame = { ...DEFAULT_FRAME_OPTIONS, limits: resolveLimits(limits) };
  const { method, resample } = await loadRun(runDir);
  const size = method.options.size as number;
  const channels = (method.options.channels as 1 | 3 | undefined) ?? 1;
  if (!Number.isInteger(size)) throw new Error(`${runDir}: the saved method has no input size`);
  const per = channels * size * size;
  const images = new Float32Array(files.length * per);
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    if (!existsSync(f)) throw new Error(`predict: ${f} does not exist`);
    const format = formatOf(f);
    if (!format) throw new Error(`predict: ${f} is not an image this library reads (PNG, JPEG, TIFF, WebP, GIF, DICOM, NIfTI)`);
    const raw = await readFrame(f, format, 0, frame);
    try {
      images.set(await preprocessImage(raw, { size, channels, resample }), i * per);
    } catch (e) {
      throw new Error(`predict: ${f}: ${(e as Error).message}`, { cause: e });
    }
  }
  const result = await method.score({ n: files.length, channels, size, images });
  // The inputs are finite (the decoders refuse anything else), so a NaN or infinite score
  // means the model itself produced it: say so instead of printing it as a score.
  const bad = Array.from(result.scores).findIndex((s) => !Number.isFinite(s));
  if (bad >= 0) {
    throw new Error(`predict: the model in ${runDir} gave the score ${result.scores[bad]} for ${files[bad]}; its weights or its training diverged (check the run's loss curve, retrain or resume from an earlier checkpoint)`);
  }
  const predictions: Prediction[] = files.map((path, i) => ({ path, score: result.scores[i] }));
  let range: PredictResult['range'];
  if (result.maps && outDir) {
    range = mapRange(result.maps);
    const scale = Math.max(displayScale(size), 2);
    const taken = new Set<string>();
    for (let i = 0; i < files.length; i++) {
      const base = imageToRgb(images.subarray(i * per, (i + 1) * per), channels, size);
      const png = await pngOf(upscale(overlay(base, result.maps[i], range), size, scale), size * scale);
      const out = join(outDir, overlayName(files[i], taken));
      await writeFileAtomic(out, png);
      predictions[i].overlay = out;
    }
  }
  return { predictions, range };
}
