// `calibrate` for a run folder that is already trained: reloads its model and its training
// split (not the test split's images: a threshold is never fitted on test data) and writes
// calibration.json, without retraining. For runs trained before calibrations existed, or
// to refit the threshold on held-out normal images the user keeps apart (--val-path).
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DecodeLimits } from '../data/limits.js';
import { formatOf } from '../data/decode/index.js';
import { loadMethod } from '../methods/registry.js';
import { type Calibration, calibrateRun } from './calibration.js';
import { readInputs } from './read-inputs.js';
import { readTrainedRun } from './run-folder.js';
import { loadDataset } from './train.js';

export interface CalibrateRunOptions {
  /** Quantile of normal scores for the threshold (default DEFAULT_QUANTILE). */
  quantile?: number;
  /** A folder of held-out normal images (or one image file) to fit the threshold on instead of the training scores. */
  valPath?: string;
  /** Dataset root, when the data moved since training. */
  root?: string;
  limits?: Partial<DecodeLimits>;
}

/** The image files of `path`: the file itself, or the readable images directly in the folder, sorted by name. */
function imageFiles(path: string): string[] {
  if (!statSync(path, { throwIfNoEntry: false })) throw new Error(`calibrate: --val-path ${path} does not exist`);
  if (!statSync(path).isDirectory()) return [path];
  const files = readdirSync(path).sort().filter((f) => formatOf(f)).map((f) => join(path, f));
  if (!files.length) throw new Error(`calibrate: --val-path ${path} holds no image this library reads (PNG, JPEG, TIFF, WebP, GIF, DICOM, NIfTI)`);
  return files;
}

export async function calibrateRunFolder(dirIn: string, o: CalibrateRunOptions = {}): Promise<Calibration> {
  const dir = resolve(dirIn);
  const record = readTrainedRun(dir); // refuses links and unfinished runs, saying what to do
  const method = await loadMethod(dir);
  if (o.quantile !== undefined && !(o.quantile >= 0 && o.quantile <= 1)) {
    throw new RangeError(`calibrate: --quantile must be in [0, 1] (0.99 = the 99th percentile), got ${o.quantile}`);
  }
  const size = typeof method.options.size === 'number' ? method.options.size : (record.dataset.options?.size ?? method.info.defaultSize);
  const channels = (method.options.channels as 1 | 3 | undefined) ?? 1;
  const data = await loadDataset({ name: record.dataset.name, options: { ...record.dataset.options, ...(o.root ? { root: o.root } : {}) } }, size);
  let validation;
  if (o.valPath) {
    const files = imageFiles(o.valPath);
    const { images } = await readInputs(files, { size, channels, resample: record.dataset.options?.resample ?? 'pil-bilinear' }, o.limits ?? {}, 'calibrate');
    const { scores } = await method.score({ n: files.length, channels, size, images });
    validation = { source: o.valPath, scores };
  }
  return calibrateRun(dir, method, data.train, { quantile: o.quantile, validation });
}
