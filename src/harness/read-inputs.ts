// Image files → a packed batch preprocessed exactly as a run's training data was (size,
// channels, resampling), with each file's colour fraction measured before the grey
// conversion hides it. Used by `predict` and by `calibrate --val-path`.
import { existsSync } from 'node:fs';
import { DEFAULT_FRAME_OPTIONS, formatOf, readFrame } from '../data/decode/index.js';
import { resolveLimits, type DecodeLimits } from '../data/limits.js';
import { preprocessImage } from '../data/preprocess.js';
import type { Resample } from '../data/types.js';
import { colourFraction } from './input-stats.js';

export interface InputGeometry {
  size: number;
  channels: 1 | 3;
  resample: Resample;
}

export interface InputBatch {
  /** [n, C, S, S] in [-1, 1]. */
  images: Float32Array;
  /** Per file, the colour fraction of the decoded image (input-stats.ts). */
  colour: number[];
}

/** Reads and preprocesses `files`; errors start with `what` and name the file. */
export async function readInputs(files: readonly string[], g: InputGeometry, limits: Partial<DecodeLimits>, what: string): Promise<InputBatch> {
  const frame = { ...DEFAULT_FRAME_OPTIONS, limits: resolveLimits(limits) };
  const per = g.channels * g.size * g.size;
  const images = new Float32Array(files.length * per);
  const colour: number[] = [];
  for (let i = 0; i < files.length; i++) {
    const f = files[i]!;
    if (!existsSync(f)) throw new Error(`${what}: ${f} does not exist`);
    const format = formatOf(f);
    if (!format) throw new Error(`${what}: ${f} is not an image this library reads (PNG, JPEG, TIFF, WebP, GIF, DICOM, NIfTI)`);
    const raw = await readFrame(f, format, 0, frame);
    colour.push(colourFraction(raw));
    try {
      images.set(await preprocessImage(raw, g), i * per);
    } catch (e) {
      throw new Error(`${what}: ${f}: ${(e as Error).message}`, { cause: e });
    }
  }
  return { images, colour };
}
