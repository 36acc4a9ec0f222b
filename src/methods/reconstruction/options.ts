// Options shared by every method of the reconstruction sub-project (methods.md §3.1, §4.1),
// with the reference defaults. Methods add their own (loss weights, quirks) after these.
import { booleanOption, integerOption, numberOption, stringOption } from '../training/options.js';
import type { MethodOptions, OptionSpec } from '../types.js';

/** Training epochs of the reference by dataset: 600 for Brain Tumor, 250 for every other one. */
export function referenceEpochs(datasetName: string): number {
  const n = datasetName.toLowerCase().replace(/[^a-z0-9]/g, '');
  return n === 'brain' || n === 'braintumor' ? 600 : 250;
}

export const TRAINING_OPTIONS = [
  integerOption('epochs', 250, 'training epochs; the reference uses 600 for brain-tumor (referenceEpochs()) and 250 otherwise; the last epoch is used', { min: 1 }),
  integerOption('batchSize', 64, 'training batch size (the last partial batch is kept)', { min: 1 }),
  numberOption('lr', 1e-3, 'Adam learning rate (betas 0.9, 0.999; no schedule)', { min: 0 }),
  integerOption('seed', 0, 'seed of every random draw: initialisation, shuffling, augmentation (library default: fixed and recorded)', { min: 0, max: 4294967295 }),
];

export const GEOMETRY_OPTIONS = [
  integerOption('size', 64, 'input side S (a multiple of 16); the dataset must be loaded at this size', { min: 16 }),
  integerOption('channels', 1, 'input channels (1 grayscale; 3 for Camelyon16)', { min: 1 }),
];

export const AE_OPTIONS = [
  integerOption('latent', 16, 'latent size ls', { min: 1 }),
  integerOption('hidden', 1024, 'hidden width h of the bottleneck MLPs', { min: 1 }),
  integerOption('width', 16, 'base width w (block widths w·e, 2w·e, 4w·e, 4w·e)', { min: 1 }),
  integerOption('expansion', 1, 'width expansion e', { min: 1 }),
  integerOption('depth', 1, 'layers per encoder/decoder block', { min: 1 }),
  booleanOption('aeLinearOutput', true, 'quirk aeLinearOutput: linear last layer as the reference (false: tanh output)'),
  stringOption('imageScore', 'mean', 'quirk imageScoreMean: image score = mean of the pixel map (reference) or its max', ['mean', 'max']),
];

/** The specs every unified-AE method has (a union type, for OptionsOf). */
export type AESpec = (typeof TRAINING_OPTIONS)[number] | (typeof GEOMETRY_OPTIONS)[number] | (typeof AE_OPTIONS)[number];

/** The options of a unified-AE method: training, geometry, network (in that order), then `extra`. */
export function aeMethodOptions<E extends OptionSpec = never>(extra: readonly E[] = []): (AESpec | E)[] {
  return [...TRAINING_OPTIONS, ...GEOMETRY_OPTIONS, ...AE_OPTIONS, ...extra];
}

/** Typed views of the resolved common options. */
export interface TrainingSettings {
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
}

export function trainingSettings(o: MethodOptions): TrainingSettings {
  return { epochs: o.epochs as number, batchSize: o.batchSize as number, lr: o.lr as number, seed: o.seed as number };
}
