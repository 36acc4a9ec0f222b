// Whether a run's training images were colour before preprocessing. A grey model may well
// have been trained on colour files (ISIC2018 loads as grey by default), so "the model is
// grey" does not mean "colour inputs are foreign": only the source files can say. The
// preprocessed split no longer knows, so a few training files are decoded again.
import { existsSync } from 'node:fs';
import { DEFAULT_FRAME_OPTIONS, formatOf, readFrame } from '../data/decode/index.js';
import type { Split } from '../data/types.js';
import { colourFraction } from './input-stats.js';

/** Training files decoded for their colour: evenly spaced over the split, so the result does not depend on timing. */
const SAMPLE = 16;

/**
 * Colour fractions of up to SAMPLE training sources and how many were decoded. Sources that
 * cannot hold colour (NIfTI slices, IDX records, generated images) count as 0 without
 * decoding; so do files that are gone since training (the stats then rest on the rest).
 */
export async function sourceColour(train: Split): Promise<{ fractions: number[]; sampled: number }> {
  const n = train.paths.length;
  const k = Math.min(SAMPLE, n);
  const fractions: number[] = [];
  let sampled = 0;
  for (let i = 0; i < k; i++) {
    const path = train.paths[Math.floor((i * n) / k)]!;
    const file = path.replace(/#\d+$/, '');
    const format = formatOf(file);
    if ((format !== 'image' && format !== 'dicom') || !existsSync(file)) {
      fractions.push(0);
      continue;
    }
    fractions.push(colourFraction(await readFrame(file, format, 0, DEFAULT_FRAME_OPTIONS)));
    sampled++;
  }
  return { fractions, sampled };
}
