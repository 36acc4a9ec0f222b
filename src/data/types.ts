// The dataset contract: what every loader (reference layout, folder/MVTec, IDX, DICOM,
// NIfTI) and every built-in synthetic dataset returns, and what a trainer consumes.
//
// A Dataset has a train split (normal images only, like the reference code: there is no
// validation split) and a labelled test split. Items are decoded lazily, preprocessed once
// (grayscale or RGB, resized to size × size, scaled to [-1, 1]) and cached; the order of
// a split is fixed when the dataset is loaded and never depends on timing or on the
// file system's listing order.
//
// Layouts in memory: an image is C × S × S (channel-major, row-major) Float32Array in
// [-1, 1]; a batch is [n, C, S, S]; a mask is S × S Uint8Array of 0/1; a batch of masks
// is [n, S, S]. Labels are 0 (normal) and 1 (abnormal).

/** 0 = normal, 1 = abnormal. */
export type Label = 0 | 1;

export type SplitName = 'train' | 'test';

/**
 * How images are resized.
 * - `pil-bilinear`: Pillow's BILINEAR (antialiased triangle filter, 8-bit fixed point),
 *   what the reference code's reconstruction and two-stage sub-projects use. Default.
 * - `pil-lanczos`: Pillow's LANCZOS / ANTIALIAS (antialiased Lanczos-3).
 * - `sharp`: libvips through sharp (fast; pixels differ from Pillow, see docs/datasets.md).
 */
export type Resample = 'pil-bilinear' | 'pil-lanczos' | 'sharp';

/** What to do with a file that is missing, unreadable or corrupt. */
export type OnError = 'throw' | 'skip';

/** Imaging modality, as a short lowercase tag. */
export type Modality =
  | 'chest-xray'
  | 'brain-mri'
  | 'fundus'
  | 'dermatoscopy'
  | 'histopathology'
  | 'handwritten-digits'
  | 'clothing'
  | 'industrial'
  | 'generic'
  | (string & {});

/** One preprocessed item of a split. */
export interface Item {
  /** Identifier: the file name up to its first dot (reference rule), `#<k>` appended for slices/frames/records. */
  id: string;
  /** Where the pixels came from (a file; `<file>#<k>` for a frame, slice or IDX record). */
  path: string;
  label: Label;
  /** C × S × S, values in [-1, 1]. */
  image: Float32Array;
  /** S × S, 0/1; present on every test item when the dataset has masks (all zero for normal items). */
  mask?: Uint8Array;
}

/** A batch for a trainer: images [n, C, S, S] in [-1, 1], labels [n], masks [n, S, S] when the split has masks. */
export interface Batch {
  n: number;
  channels: number;
  size: number;
  ids: string[];
  labels: Uint8Array;
  images: Float32Array;
  masks?: Uint8Array;
}

export interface LabelCounts {
  normal: number;
  abnormal: number;
}

/** A file that was skipped under `onError: 'skip'`, with the reason. */
export interface SkippedFile {
  split: SplitName;
  path: string;
  reason: string;
}

export interface Split {
  readonly dataset: string;
  readonly name: SplitName;
  readonly length: number;
  readonly channels: number;
  readonly size: number;
  /** Item identifiers in split order. */
  readonly ids: readonly string[];
  /** Source paths in split order. */
  readonly paths: readonly string[];
  /** Labels in split order (0 normal, 1 abnormal); the train split is all 0. */
  readonly labels: Uint8Array;
  /** True when items carry pixel masks (test split of datasets with masks). */
  readonly hasMasks: boolean;
  readonly counts: LabelCounts;
  /** One item, decoded and preprocessed on first access, then cached. Throws RangeError outside [0, length). */
  item(i: number): Promise<Item>;
  /** The items at `indices`, packed for a trainer. */
  batch(indices: ArrayLike<number>): Promise<Batch>;
  /** Every image as one [length, C, S, S] array (built once, then cached). */
  images(): Promise<Float32Array>;
  /** Every mask as one [length, S, S] array, or undefined when the split has no masks. */
  masks(): Promise<Uint8Array | undefined>;
}

/** Published split sizes (methods.md §2.1) a loaded dataset is checked against. */
export interface ExpectedCounts {
  train: number;
  testNormal: number;
  testAbnormal: number;
}

export interface DatasetInfo {
  name: string;
  title: string;
  modality: Modality;
  /** Where the data was read from (a folder or file); `(generated)` for synthetic datasets. */
  source: string;
  channels: number;
  size: number;
  resample: Resample;
  hasMasks: boolean;
  counts: { train: LabelCounts; test: LabelCounts };
  /** Published counts, when the dataset has them. */
  expected?: ExpectedCounts;
  /** Non-fatal findings, e.g. split counts that differ from the published ones. */
  warnings: string[];
  /** Files skipped under `onError: 'skip'`; always empty under `onError: 'throw'`. */
  skipped: SkippedFile[];
  /** Dataset-specific settings that shaped the data (normal class, slice axis, seed, ...). */
  options: Record<string, unknown>;
}

export interface Dataset {
  readonly name: string;
  readonly train: Split;
  /** Empty (`length` 0) when the source has no test data, e.g. a plain folder of normal images without `testPath`. */
  readonly test: Split;
  readonly info: DatasetInfo;
}

export interface LoadOptions {
  /** Dataset root (default: $MEDIANOMALY_DATA, else ~/MedIAnomaly-Data). */
  root?: string;
  /** The dataset folder: required for `folder`, `dicom`, `nifti`; for the others it overrides `<root>/<Folder>`. */
  path?: string;
  /**
   * `folder`, `dicom`, `nifti`: the test data, apart from `path`: a folder with `normal/` and
   * `abnormal/` subfolders (searched recursively), or a CSV with columns path,label[,mask]
   * (paths relative to the CSV's folder, labels 0/1 or normal/abnormal). It replaces an MVTec
   * layout's test/. Without it, a plain folder of images has no test split (`test.length` 0).
   */
  testPath?: string;
  /** Output side S (default 64, the reconstruction sub-project). */
  size?: number;
  /** 1 (grayscale, Pillow `L`) or 3 (RGB, Pillow `RGB`); default per dataset (3 for Camelyon16, else 1). */
  channels?: 1 | 3;
  /** Resampler (default `pil-bilinear`). */
  resample?: Resample;
  /** One-class benchmarks (`mnist`, `fashion-mnist`): the class treated as normal (default 0). */
  normalClass?: number;
  /** Seed for every random draw a dataset makes (synthetic generation, `limit` subsampling). */
  seed?: number;
  /** `throw` (default) stops at the first bad file; `skip` drops it and lists it in `info.skipped`. */
  onError?: OnError;
  /**
   * How much of every file `load` checks before it returns: `exists` (stat only), `header`
   * (default: readable, a known format, frame count and size; masks match their images) or
   * `decode` (decode and preprocess everything now, so that `onError: 'skip'` also drops files
   * whose pixel data is corrupt; the results are kept, as the reference code does at load).
   */
  verify?: 'exists' | 'header' | 'decode';
  /** DICOM VOI: `header` (default: Window Center/Width when present, else min–max) or `minmax`. */
  dicomWindow?: 'header' | 'minmax';
  /** NIfTI: axis the volume is sliced along (0, 1 or 2; default 2). */
  axis?: 0 | 1 | 2;
  /** Keep at most this many items per split (a seeded random subset, order preserved). */
  limit?: number;
  /** Directory listings sorted by name (quirk `sortListings`, default true). */
  sortListings?: boolean;
  /**
   * Decode cap, in bytes, for each buffer one file decodes into: the file itself, a gzip or
   * deflate stream once inflated, a decoded volume (voxels × 4), a decoded frame or image
   * (default 2³⁰ = 1 GiB). Checked from headers before allocating; a file over it is an error
   * that names this option.
   */
  maxDecodedBytes?: number;
  /** Pixels (width × height) of one image or DICOM frame (default 268,402,689 = 16383², sharp's default). */
  maxPixels?: number;
  /**
   * NaN / ±Infinity voxels (NIfTI float data): `error` (default; the file is refused, naming
   * it) or `clamp` (±Infinity → the volume's largest/smallest finite value, NaN → the smallest).
   */
  nonFinite?: 'error' | 'clamp';
  /** Synthetic datasets: split sizes (a number sets the training count alone). */
  count?: number | { train?: number; testNormal?: number; testAbnormal?: number };
  /** Synthetic datasets: lesion contrast and size, 'easy' | 'medium' | 'hard' or a number in [0, 1]. */
  difficulty?: 'easy' | 'medium' | 'hard' | number;
}

/** What `list()` says about one dataset name. */
export interface DatasetDescriptor {
  name: string;
  title: string;
  modality: Modality;
  /** `reference`: MedIAnomaly benchmark; `benchmark`: one-class benchmark; `generic`: user layout; `synthetic`: generated. */
  kind: 'reference' | 'benchmark' | 'generic' | 'synthetic';
  channels: number;
  hasMasks: boolean;
  /** Whether the data is available (found under the root; always true for synthetic datasets). */
  present: boolean;
  /** Where the data is expected (or was found); undefined when it depends on the `path` option. */
  location?: string;
  expected?: ExpectedCounts;
  /** Options `load` requires for this name (e.g. `path`). */
  requires: string[];
  /** How to obtain the data. */
  howToGet: string;
}

/** A dataset definition as registered with the catalogue (also what `synthetic` exports). */
export interface DatasetEntry {
  name: string;
  describe(root: string): DatasetDescriptor;
  load(options: LoadOptions & { root: string }): Promise<Dataset>;
}

// The built-in synthetic datasets (src/data/synthetic/) are registered by name: that folder's
// index.ts exports `synthetic`, a DatasetEntry[] (names `synth-brain`, `synth-cxr`).
// `createSplit` in ./split.ts builds a Split from a list of sources and a decode function;
// any implementation of the interfaces above is equally valid.
