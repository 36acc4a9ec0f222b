// The one interface every method in medianomaly implements, whatever its family.
//
// A method is built from a name and options (`createMethod(name, options)`), learns from
// normal training images (`fit`), scores test images (`score`: one image score each and,
// when the method has one, a pixel map), and persists itself as a folder holding
// config.json (name, resolved options, data geometry) and model.safetensors (PyTorch
// parameter names). Methods run their networks on the engine synchronously; the
// off-main-thread wrapper in src/harness runs `fit`/`score` in a worker thread.

import type { Split } from '../data/types.js';

export type MethodFamily = 'image-reconstruction' | 'feature-reconstruction' | 'self-supervised' | 'feature-reference';

/** One option a method accepts, for `medianomaly methods` and for validation. */
export interface OptionSpec {
  name: string;
  type: 'number' | 'integer' | 'boolean' | 'string';
  default: number | boolean | string | null;
  description: string;
  /** Allowed values for string options. */
  choices?: readonly string[];
  min?: number;
  max?: number;
}

/** What a method says about itself. */
export interface MethodInfo {
  name: string;
  /** Other names that select the method (the paper's spelling, e.g. `rd++` for `rdpp`); runs and saved configs use `name`. */
  aliases?: readonly string[];
  /** The paper's label, e.g. "AE (ℓ2)". */
  title: string;
  family: MethodFamily;
  description: string;
  /** Input side the reference uses (64; DAE 128). */
  defaultSize: number;
  /** Whether `score` returns pixel maps. */
  pixelMaps: boolean;
  /**
   * How the harness resizes images at load for this method when the caller does not say
   * (default 'pil-bilinear'): the one-stage SSL methods load with Pillow's Lanczos, as their
   * reference sub-project does (quirk pilResample).
   */
  resample?: 'pil-bilinear' | 'pil-lanczos' | 'sharp';
  /**
   * The channels the harness loads the data with when the caller does not say (neither the
   * dataset's `channels` nor the method's `channels` option): absent, the dataset's own (1
   * for every dataset but Camelyon16, as the reconstruction sub-project). The two-stage SSL
   * methods and resnet18-in load Pillow RGB for every dataset (3), the one-stage SSL methods
   * Pillow L (1), as their reference sub-projects do (methods.md §2.6). Recorded in run.json.
   */
  loadChannels?: 1 | 3;
  /** Every option, with the reference defaults (quirks included, named `quirks.<name>` in the spec; here flat camelCase). */
  options: readonly OptionSpec[];
}

/** Resolved options: every option of the method's info, defaults filled in. */
export type MethodOptions = Record<string, number | boolean | string | null>;

export interface Progress {
  epoch: number; // 1-based, the epoch in progress or just finished
  epochs: number;
  step: number; // optimiser steps done in this epoch
  stepsPerEpoch: number;
  /** Mean training loss of the epoch so far; NaN for methods without a training loss (feature-reference). */
  loss: number;
  /** Named loss terms (e.g. { rec, kl }) averaged over the epoch so far. */
  terms?: Record<string, number>;
  imagesPerSecond: number;
  /** Seconds left at the current speed. */
  etaSeconds: number;
  /** True on the last report of an epoch. */
  epochDone: boolean;
}

export interface FitOptions {
  onProgress?: (p: Progress) => void;
  /** Aborting stops at the next optimiser step; `fit` rejects with an AbortError after the last checkpoint is written. */
  signal?: AbortSignal;
  /** Write a resumable checkpoint (model, optimiser state, epoch, RNG state) into this folder after every epoch. */
  checkpointDir?: string;
  /** Continue from the checkpoint in `checkpointDir` when one is there. */
  resume?: boolean;
  /** Lines for the user during fit (a memory plan, a long step's estimate); without it, methods that have some write them to stderr. */
  onMessage?: (text: string) => void;
}

export interface FitResult {
  epochs: number;
  steps: number;
  /** Mean loss per epoch. */
  lossCurve: number[];
  seconds: number;
}

export interface ScoreOptions {
  /** Also return reconstructions (image-reconstruction methods), for reports. */
  reconstructions?: boolean;
  /** Called after each scored batch; scoring a large test split takes minutes. */
  onProgress?: (p: ScoreProgress) => void;
}

/** Scoring progress: images scored so far, of `total`, and seconds since scoring began. */
export interface ScoreProgress {
  done: number;
  total: number;
  seconds: number;
}

export interface ScoreResult {
  /** One score per image; larger = more anomalous. */
  scores: Float32Array;
  /** Per image, an S × S pixel map (absent for methods without one, e.g. GANomaly). */
  maps?: Float32Array[];
  /** Per image, C × S × S reconstructions in [-1, 1] space, when asked and available. */
  reconstructions?: Float32Array[];
}

/** A batch of images for `score`: [n, C, S, S] in [-1, 1]. */
export interface ImageBatch {
  n: number;
  channels: number;
  size: number;
  images: Float32Array;
}

/**
 * How the harness computes a method's pixel metrics where its reference sub-project differs
 * from the reconstruction one (methods.md §9.4). Everything absent: ⌈Dice⌉ on 200 quantiles
 * at the maps' resolution.
 */
export interface PixelProtocol {
  /** ⌈Dice⌉'s quantile thresholds (reconstruction 200; one-stage SSL 100). */
  diceQuantiles?: number;
  /**
   * ⌈Dice⌉ at this side, after SciPy's ndimage.zoom of the maps (order 3) and masks
   * (order 0) to diceZoom × diceZoom (one-stage SSL: 64, quirk sslDiceZoom64); null or
   * absent: at the maps' resolution. AP_pix, pixel AUROC and AUPRO stay at the maps' side.
   */
  diceZoom?: number | null;
}

/**
 * An epoch that is not one pass over the training images in batches of `batchSize` (what the
 * harness assumes without it): the two-stage SSL methods train fixed-length epochs of
 * `stepsPerEpoch` steps of views × batchSize images, whatever the training-set size.
 */
export interface EpochPlan {
  /** Optimiser steps per epoch. */
  steps: number;
  /** Images per step, as Progress.imagesPerSecond counts them (every view of a batch). */
  stepImages: number;
  /** The option that sets `steps`, for advice on shortening a run (fewer training images would not). */
  stepsOption: string;
  /** What a step is made of, for people: e.g. "2 views × 64 images". */
  stepText?: string;
}

export interface Method {
  readonly info: MethodInfo;
  readonly options: Readonly<MethodOptions>;
  /** The epoch's size when it is not one pass over the training images (absent: one pass). */
  epochPlan?(): EpochPlan;
  /** The pixel-metric protocol of the current options (absent: the reconstruction sub-project's). */
  pixelProtocol?(): PixelProtocol;
  /** Train from scratch (or resume) on the normal images of `train`. */
  fit(train: Split, opts?: FitOptions): Promise<FitResult>;
  /** Score images: a Split (its order) or a packed batch. */
  score(images: Split | ImageBatch, opts?: ScoreOptions): Promise<ScoreResult>;
  /** Write config.json + model.safetensors into `dir` (atomically: temp files, then rename). */
  save(dir: string): Promise<void>;
  /** Restore from a folder `save` wrote; the options in its config.json replace the current ones. */
  load(dir: string): Promise<void>;
  /** Throws, naming the option, when the options cannot train (e.g. a size the network does not take); changes nothing. */
  validate?(): void;
}

/** A registry entry: how to describe and build one method. */
export interface MethodDefinition {
  info: MethodInfo;
  create(options: MethodOptions): Method;
}
