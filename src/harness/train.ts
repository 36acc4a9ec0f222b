// One training run into a run folder: load the data, fit (with a checkpoint after every
// epoch), save the model, test it, write the metrics. Runs in the calling thread; see
// ./in-worker.ts for the off-main-thread form the library's async API uses.
//
// Crash safety (a kill -9 at any instant, then --resume, ends like an uninterrupted run):
// - each epoch's log line is written (atomically, synchronously) before the trainer
//   commits the epoch's checkpoint, so the log is never behind the checkpoint;
// - a resume first refuses symbolic links in the folder, removes temp files, and cuts the
//   log back to the checkpointed epochs (a line for an epoch killed before its commit goes;
//   the epoch is trained again and logged again);
// - the checkpoint folder is removed only after run.json says "trained"; a resume of a
//   trained run removes one left behind.
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { currentBackend } from '../engine/index.js';
import { load } from '../data/index.js';
import type { Dataset } from '../data/types.js';
import { createMethod, loadMethod, methods } from '../methods/registry.js';
import type { EpochPlan, FitResult, Method, Progress, ScoreProgress } from '../methods/types.js';
import { crashPoint } from '../methods/training/crash-points.js';
import { version } from '../version.js';
import { writeJsonAtomic } from '../io/atomic.js';
import { calibrateRun } from './calibration.js';
import { type RunMetrics, scoreAndEvaluate } from './evaluate.js';
import { RunInterrupted, isAbortError } from './interrupted.js';
import { runOptions, runSize } from './options.js';
import {
  CHECKPOINT_DIR, type DatasetSpec, type EpochLogLine, METRICS_FILE, type RunRecordFile, SCORES_FILE,
  checkpointedEpochs, checkRunFolder, isRunFolder, neverTrained, newRunFile, readLog, readRunFile, readTrainedRun, removeRun, removeTempFiles, runOwner, writeLog, writeRunFile,
} from './run-folder.js';

export interface TrainSpec {
  method: string;
  /** Method options (epochs, batchSize, seed, ...); size, channels and epochs default from the data. */
  options?: Record<string, unknown>;
  dataset: DatasetSpec;
  /** The run folder. */
  dir: string;
  /** Continue an unfinished run in `dir` (from its checkpoint) instead of refusing to touch it. */
  resume?: boolean;
  /** Test after training and write metrics.json (default true). */
  evaluate?: boolean;
}

export interface TrainHooks {
  onProgress?: (p: Progress) => void;
  onEpoch?: (line: EpochLogLine) => void;
  /** What is about to be trained (once, before the first step): for time estimates. */
  onPlan?: (plan: TrainPlan) => void;
  /** Scoring of the test split, after each scored batch. */
  onScore?: (p: ScoreProgress) => void;
  signal?: AbortSignal;
}

/** The settings that decide how long a run takes, reported before its first step. */
export interface TrainPlan {
  dataset: string;
  trainImages: number;
  testImages: number;
  epochs: number;
  /** Epochs already done (a resumed run). */
  startEpoch: number;
  size: number;
  batchSize: number;
  /** The method's epoch when it is not one pass over trainImages in batches of batchSize (Method.epochPlan). */
  epoch?: EpochPlan;
}

export interface TrainOutcome {
  dir: string;
  method: string;
  dataset: string;
  options: Record<string, unknown>;
  /** Absent when the run was already trained (resume of a trained run). */
  fit?: FitResult;
  metrics?: RunMetrics;
  /** Why there are no metrics although testing was asked for (the dataset has no test split). */
  note?: string;
  /** Training seconds (all sessions of a resumed run). */
  trainSeconds: number;
  /** True when the folder already held a finished run and nothing was redone. */
  reused: boolean;
}

/** Loads the dataset of a spec at `size`. */
export function loadDataset(spec: DatasetSpec, size: number): Promise<Dataset> {
  return load(spec.name, { ...spec.options, size });
}

/** Writes metrics.json and scores.json of a trained method on `data.test`. */
export async function testInto(dir: string, method: Method, data: Dataset, onScore?: (p: ScoreProgress) => void): Promise<RunMetrics> {
  if (data.test.length === 0) throw new Error(noTestNote(data));
  const { result, metrics } = await scoreAndEvaluate(method, data.test, onScore);
  await writeJsonAtomic(join(dir, SCORES_FILE), {
    ids: [...data.test.ids],
    labels: Array.from(data.test.labels),
    scores: Array.from(result.scores),
  });
  await writeJsonAtomic(join(dir, METRICS_FILE), metrics);
  return metrics;
}

/** What to tell a user whose dataset has no test split (a plain folder of normal images). */
function noTestNote(data: Dataset): string {
  return `${data.name} at ${data.info.source} has no test split, so there are no metrics; ` +
    'give test data with --test-path (testPath): a folder with normal/ and abnormal/, or a CSV path,label[,mask]';
}

function checkSpec(spec: TrainSpec): void {
  if (!spec || typeof spec !== 'object') throw new TypeError('train: spec must be an object { method, dataset, dir }');
  if (typeof spec.method !== 'string') throw new TypeError('train: spec.method must be a method name (see methods.list())');
  if (!spec.dataset || typeof spec.dataset.name !== 'string') throw new TypeError('train: spec.dataset must be { name, options? } (see datasets.list())');
  if (typeof spec.dir !== 'string' || spec.dir === '') throw new TypeError('train: spec.dir must be the run folder path');
}

export async function train(spec: TrainSpec, hooks: TrainHooks = {}): Promise<TrainOutcome> {
  checkSpec(spec);
  const dir = resolve(spec.dir);
  const info = methods.info(spec.method);
  const given = spec.options ?? {};
  const size = runSize(info, given, spec.dataset.options?.size);
  // A method may load its data with another resampler than Pillow's bilinear (one-stage SSL: Lanczos); the caller's choice wins.
  if (info.resample && spec.dataset.options?.resample === undefined) spec = { ...spec, dataset: { ...spec.dataset, options: { ...spec.dataset.options, resample: info.resample } } };
  // Likewise its channels (two-stage SSL: RGB for every dataset; one-stage SSL: grey), unless the
  // caller set the dataset's channels or the method's `channels` option (then the data follows it).
  if (info.loadChannels && spec.dataset.options?.channels === undefined) {
    const c = given.channels === 1 || given.channels === 3 ? given.channels : info.loadChannels;
    spec = { ...spec, dataset: { ...spec.dataset, options: { ...spec.dataset.options, channels: c } } };
  }

  // Before anything reads or writes in the folder: no entry may lead out of it.
  checkRunFolder(dir);
  let previous: RunRecordFile | undefined;
  // A run that failed or was stopped before its first epoch holds nothing worth keeping: a
  // rerun (corrected options, no --resume) replaces it once the new options are checked.
  let replace = false;
  if (isRunFolder(dir)) {
    previous = readRunFile(dir);
    replace = !spec.resume && neverTrained(dir, previous);
    if (!spec.resume && !replace) {
      throw new Error(`${dir} already holds a run (${previous.method} on ${previous.dataset.name}, ${previous.status}); pass --resume (resume: true) to continue it, or choose another folder`);
    }
    if (previous.method !== spec.method || previous.dataset.name !== spec.dataset.name) {
      throw new Error(`${dir} holds a run of ${previous.method} on ${previous.dataset.name}, not ${spec.method} on ${spec.dataset.name}; choose another folder to start a new run`);
    }
  }
  if (hooks.signal?.aborted) throw new RunInterrupted(dir, 'loading', 0, 0);
  const data = await loadDataset(spec.dataset, size);
  const options = runOptions(info, given, { name: spec.dataset.name, size, channels: data.info.channels });
  // No test split (training images only): train, and say why there are no metrics.
  const note = spec.evaluate !== false && data.test.length === 0 ? noTestNote(data) : undefined;
  const wantTest = spec.evaluate !== false && note === undefined;

  // What a killed run left half-done: temp files (the checkpoint's own leftovers go when the trainer resumes it).
  if (previous) removeTempFiles(dir);

  // A resumed run that already finished: its files stand; redo only what is missing.
  if (previous && previous.status !== 'training') {
    // Killed between "trained" and the checkpoint's removal: the saved model replaces it.
    await rm(join(dir, CHECKPOINT_DIR), { recursive: true, force: true });
    let metrics: RunMetrics | undefined;
    if (wantTest && previous.status !== 'complete') {
      if (hooks.signal?.aborted) throw new RunInterrupted(dir, 'testing', 0, 0);
      metrics = await testInto(dir, await loadMethod(dir), data, hooks.onScore);
      await writeRunFile(dir, { ...previous, status: 'complete', finished: new Date().toISOString() });
    }
    return { dir, method: spec.method, dataset: spec.dataset.name, options: previous.options, metrics, note, trainSeconds: previous.trainSeconds ?? 0, reused: metrics === undefined };
  }

  const method = createMethod(spec.method, options);
  // Every option checked (the network is built once, then dropped) before the folder is touched.
  method.validate?.();
  if (replace) {
    removeRun(dir);
    previous = undefined;
  }
  await mkdir(dir, { recursive: true });
  const record = newRunFile({
    method: spec.method,
    options: method.options,
    dataset: { name: spec.dataset.name, options: { ...spec.dataset.options, size } },
    status: 'training',
    started: previous?.started ?? new Date().toISOString(),
    backend: currentBackend(),
    library: version,
    images: { train: data.train.length, test: data.test.length },
    owner: runOwner(),
  });
  await writeRunFile(dir, record);

  // A method without epochs (feature-reference: one pass, nothing checkpointed) is one epoch.
  const epochs = typeof method.options.epochs === 'number' ? method.options.epochs : 1;
  // One line per checkpointed epoch: a line written for an epoch killed before its commit goes.
  const checkpointed = previous ? checkpointedEpochs(dir) : 0;
  hooks.onPlan?.({
    dataset: spec.dataset.name,
    trainImages: data.train.length,
    testImages: wantTest ? data.test.length : 0,
    epochs,
    startEpoch: checkpointed ?? 0,
    size: typeof method.options.size === 'number' ? method.options.size : size,
    batchSize: typeof method.options.batchSize === 'number' ? method.options.batchSize : data.train.length,
    ...(method.epochPlan ? { epoch: method.epochPlan() } : {}),
  });
  let log = readLog(dir).filter((l) => checkpointed === null || l.epoch <= checkpointed);
  if (previous) writeLog(dir, log);
  let epochsDone = 0;
  let epochStart = performance.now();
  const onProgress = (p: Progress) => {
    hooks.onProgress?.(p);
    if (!p.epochDone) return;
    const now = performance.now();
    const line: EpochLogLine = { epoch: p.epoch, loss: p.loss, seconds: (now - epochStart) / 1000, imagesPerSecond: p.imagesPerSecond, ...(p.terms ? { terms: p.terms } : {}) };
    epochStart = now;
    epochsDone = p.epoch;
    // A resumed run repeats no checkpointed epoch, but a line of an epoch whose checkpoint
    // never landed may remain (multi-stage methods): the new line replaces it.
    log = [...log.filter((l) => l.epoch < p.epoch), line];
    // Now, inside the report: the trainer commits this epoch's checkpoint only after it returns.
    writeLog(dir, log, p.epoch);
    hooks.onEpoch?.(line);
  };

  let fit: FitResult;
  try {
    fit = await method.fit(data.train, { onProgress, signal: hooks.signal, checkpointDir: join(dir, CHECKPOINT_DIR), resume: !!previous });
  } catch (e) {
    if (isAbortError(e) || hooks.signal?.aborted) throw new RunInterrupted(dir, 'training', epochsDone, epochs);
    throw e;
  }
  checkRunFolder(dir);
  await method.save(dir);
  crashPoint('saved', epochs);
  // Before "trained": a trained run always has its threshold, overlay scale and input stats (calibration.ts).
  await calibrateRun(dir, method, data.train);
  const trained: RunRecordFile = { ...record, status: 'trained', trainSeconds: fit.seconds };
  await writeRunFile(dir, trained);
  crashPoint('trained', epochs);
  // The saved model replaces the checkpoint; the folder would otherwise triple the run's size.
  if (existsSync(join(dir, CHECKPOINT_DIR))) await rm(join(dir, CHECKPOINT_DIR), { recursive: true, force: true });

  let metrics: RunMetrics | undefined;
  if (wantTest) {
    if (hooks.signal?.aborted) throw new RunInterrupted(dir, 'testing', epochs, epochs);
    metrics = await testInto(dir, method, data, hooks.onScore);
    await writeRunFile(dir, { ...trained, status: 'complete', finished: new Date().toISOString() });
  }
  return { dir, method: spec.method, dataset: spec.dataset.name, options: method.options, fit, metrics, note, trainSeconds: fit.seconds, reused: false };
}

/** Tests a trained run folder again: reloads model and dataset, writes metrics.json and scores.json. */
export async function testRun(dirIn: string, overrides: { root?: string; testPath?: string } = {}, onScore?: (p: ScoreProgress) => void): Promise<RunMetrics> {
  const dir = resolve(dirIn);
  const record = readTrainedRun(dir); // refuses links, like every reader of a run folder
  const method = await loadMethod(dir);
  const size = typeof method.options.size === 'number' ? method.options.size : (record.dataset.options?.size ?? method.info.defaultSize);
  // testPath: test data for a run trained on a folder of normal images alone (or other test data).
  const spec: DatasetSpec = {
    name: record.dataset.name,
    options: { ...record.dataset.options, ...(overrides.root ? { root: overrides.root } : {}), ...(overrides.testPath ? { testPath: overrides.testPath } : {}) },
  };
  const data = await loadDataset(spec, size);
  const metrics = await testInto(dir, method, data, onScore);
  await writeRunFile(dir, { ...record, status: 'complete', finished: record.finished ?? new Date().toISOString() });
  return metrics;
}
