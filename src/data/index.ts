// Datasets and loaders: the MedIAnomaly benchmark layout, the folder/MVTec layout, IDX
// one-class benchmarks, DICOM, NIfTI, and the built-in synthetic datasets.

export type {
  Batch, Dataset, DatasetDescriptor, DatasetEntry, DatasetInfo, ExpectedCounts, Item, Label, LabelCounts,
  LoadOptions, Modality, OnError, Resample, SkippedFile, Split, SplitName,
} from './types.js';
export { list, load, names } from './catalogue.js';
export { dataRoot } from './paths.js';
export { DatasetError, DecodeError, MaskSizeError } from './errors.js';
export { createSplit, type SourceItem, type SplitSpec, type PreparedItem } from './split.js';
export type { RawImage } from './raw.js';
export { preprocessImage, preprocessMask, type PreprocessOptions } from './preprocess.js';
export { pilResize, pilResizeNearest, resizeImage, sharpResizeImage, type PilFilter } from './resize.js';
export { REFERENCE_DATASETS, ZENODO_RECORD } from './loaders/medianomaly.js';
// The built-in synthetic datasets: `synthetic(name, {count, size, seed, difficulty})`.
export { syntheticDataset as synthetic, SYNTHETIC_NAMES, DEFAULT_COUNTS } from './synthetic/index.js';
export type { SyntheticOptions, SyntheticCounts, Difficulty } from './synthetic/index.js';
