// The built-in synthetic generators by name, and how one item is derived from
// (seed, dataset, split, class, index) so that any item can be regenerated alone.

import type { Modality } from '../types.js';
import { renderBrain } from './brain.js';
import { renderCxr } from './cxr.js';
import type { Rendered } from './render.js';
import { nameKey, Rng } from './rng.js';

export const SYNTHETIC_NAMES = ['synth-brain', 'synth-cxr'] as const;
export type SyntheticName = (typeof SYNTHETIC_NAMES)[number];

export interface Generator {
  name: SyntheticName;
  title: string;
  modality: Modality;
  /** What the images imitate and what their lesions are. */
  description: string;
  render(size: number, rng: Rng, abnormal: boolean, difficulty: number): Rendered;
}

export const GENERATORS: Readonly<Record<SyntheticName, Generator>> = {
  'synth-brain': {
    name: 'synth-brain',
    title: 'Synthetic brain MRI (FLAIR-like axial slices, tumour masks)',
    modality: 'brain-mri',
    description:
      'Axial FLAIR-like brain slices: scalp, skull, cortex with sulci, white matter, ventricles, bias field, Rician noise; ' +
      'abnormal slices carry a tumour (mass + oedema) with a pixel mask.',
    render: renderBrain,
  },
  'synth-cxr': {
    name: 'synth-cxr',
    title: 'Synthetic chest X-ray (PA films, consolidation masks)',
    modality: 'chest-xray',
    description:
      'Frontal chest radiographs: torso, lungs, cardiomediastinal silhouette, diaphragm, ribs, clavicles, spine, exposure and noise; ' +
      'abnormal films carry a consolidation-like opacity with a pixel mask.',
    render: renderCxr,
  },
};

export function isSyntheticName(name: string): name is SyntheticName {
  return (SYNTHETIC_NAMES as readonly string[]).includes(name);
}

/** Which stream an item comes from: train normals, test normals, test abnormals. */
export type Stream = 'train' | 'test-normal' | 'test-abnormal';

const STREAM_KEY: Readonly<Record<Stream, number>> = { train: 1, 'test-normal': 2, 'test-abnormal': 3 };

/**
 * Renders item `index` of a stream. Train and test subjects come from different
 * streams, so no test image repeats a training subject; the difficulty affects
 * abnormal items' lesions only.
 */
export function renderItem(name: SyntheticName, seed: number, stream: Stream, index: number, size: number, difficulty: number): Rendered {
  const rng = new Rng(seed, nameKey(name), STREAM_KEY[stream], index);
  return GENERATORS[name].render(size, rng, stream === 'test-abnormal', difficulty);
}
