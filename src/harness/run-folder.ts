// A run folder: everything one training run leaves behind.
//
//   run.json           what was run: method, resolved options, dataset spec, status, times
//   config.json        the trained method's config (method.save)
//   model.safetensors  its weights (method.save)
//   log                one JSON line per finished epoch: epoch, loss, seconds, imagesPerSecond
//   metrics.json       test-set metrics (evaluate.ts)
//   scores.json        per test image: id, label, score (ROC curves, further analysis)
//   calibration.json   threshold, overlay scale, training-image statistics for predict (calibration.ts)
//   checkpoint/        resumable training state while the run is unfinished
//
// Every file is written atomically, so an interrupted run never leaves a half-written file;
// config.json records the SHA-256 of model.safetensors (methods/training/saved.ts), so one changed
// on disk afterwards is refused. No entry may be a symbolic link (checkRunFolder): writing
// or deleting through one would touch files outside the run.
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { LoadOptions } from '../data/types.js';
import { crashPoint } from '../methods/training/crash-points.js';
import { CHECKPOINT_POINTER, readCheckpoint } from '../methods/training/checkpoint.js';
import { CONFIG_FILE, MODEL_FILE, refuseLink, TEMP_NAME } from '../methods/training/saved.js';
import type { MethodOptions } from '../methods/types.js';
import { writeFileAtomicSync, writeJsonAtomic } from '../io/atomic.js';
import { CALIBRATION_FILE } from './calibration.js';

export const RUN_FILE = 'run.json';
export const LOG_FILE = 'log';
export const METRICS_FILE = 'metrics.json';
export const SCORES_FILE = 'scores.json';
export const CHECKPOINT_DIR = 'checkpoint';
const FORMAT = 'medianomaly-run';

/** A dataset by name with its load options: enough for another thread or process to load it again. */
export interface DatasetSpec {
  name: string;
  options?: LoadOptions;
}

/** training: fit in progress or interrupted; trained: model saved, not tested; complete: metrics written. */
export type RunStatus = 'training' | 'trained' | 'complete';

export interface RunRecordFile {
  format: typeof FORMAT;
  version: 1;
  method: string;
  options: MethodOptions;
  dataset: DatasetSpec;
  status: RunStatus;
  started: string;
  finished?: string;
  /** Seconds spent in fit (resumed runs: all sessions together). */
  trainSeconds?: number;
  backend: string;
  library: string;
  /** Images the run trained and tested on (after `limit` and counts): what ran, for reports. */
  images?: { train: number; test: number };
  /** The process training the run, so that a rerun never replaces a run still in its first epoch elsewhere. */
  owner?: { pid: number; host: string };
}

export interface EpochLogLine {
  epoch: number;
  loss: number;
  seconds: number;
  imagesPerSecond: number;
  terms?: Record<string, number>;
}

export interface ScoresFile {
  ids: string[];
  labels: number[];
  scores: number[];
}

export function writeRunFile(dir: string, r: RunRecordFile): Promise<void> {
  return writeJsonAtomic(join(dir, RUN_FILE), r);
}

export function newRunFile(fields: Omit<RunRecordFile, 'format' | 'version'>): RunRecordFile {
  return { format: FORMAT, version: 1, ...fields };
}

/** The files of a folder, for error messages ("it holds: a, b, c"). */
function listing(dir: string): string {
  try {
    const names = readdirSync(dir);
    return names.length ? `it holds: ${names.slice(0, 12).join(', ')}${names.length > 12 ? ', …' : ''}` : 'it is empty';
  } catch {
    return 'it cannot be read';
  }
}

/** True when `dir` holds a run.json (finished or not). */
export function isRunFolder(dir: string): boolean {
  return existsSync(join(dir, RUN_FILE));
}

/** Reads and checks run.json; a folder that is not a run gets an error saying what it holds and what a run holds. */
export function readRunFile(dir: string): RunRecordFile {
  const notRun = (why: string): never => {
    throw new Error(
      `${dir} is not a medianomaly run folder: ${why}. A run folder (written by "medianomaly train" or "bench") holds ${RUN_FILE}, config.json, model.safetensors, ${LOG_FILE} and ${METRICS_FILE}`,
    );
  };
  if (!existsSync(dir)) notRun('the folder does not exist');
  if (!statSync(dir).isDirectory()) notRun('it is not a folder');
  const path = join(dir, RUN_FILE);
  if (!existsSync(path)) notRun(`no ${RUN_FILE}; ${listing(dir)}`);
  let r: Partial<RunRecordFile>;
  try {
    r = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return notRun(`${RUN_FILE} is not valid JSON (${(e as Error).message})`);
  }
  if (r.format !== FORMAT || typeof r.method !== 'string' || !r.dataset || typeof r.dataset.name !== 'string') {
    notRun(`${RUN_FILE} is not a run record`);
  }
  return r as RunRecordFile;
}

/** Reads a trained run's run.json, requiring the model to be there. */
export function readTrainedRun(dir: string): RunRecordFile {
  checkRunFolder(dir);
  const r = readRunFile(dir);
  if (r.status === 'training' || !existsSync(join(dir, 'model.safetensors'))) {
    throw new Error(`${dir}: the run has not finished training (status "${r.status}"); resume it with "medianomaly train --out ${dir} --resume ..." first`);
  }
  return r;
}

export function readLog(dir: string): EpochLogLine[] {
  const path = join(dir, LOG_FILE);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EpochLogLine);
}

/**
 * Replaces the log with `lines`, synchronously and atomically. Synchronous on purpose: the
 * trainer reports an epoch before it commits the epoch's checkpoint, so a log written
 * here, inside that report, is on disk before the checkpoint names the epoch (the log is
 * never behind the checkpoint after a kill). `epoch` only labels the crash points.
 */
export function writeLog(dir: string, lines: readonly EpochLogLine[], epoch = 0): void {
  const text = lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : '');
  writeFileAtomicSync(join(dir, LOG_FILE), text, { beforeRename: () => crashPoint('log-temp', epoch) });
  crashPoint('log', epoch);
}

/**
 * Epochs completed according to the run's checkpoint folder: 0 without one, null when
 * the method checkpoints in stages (f-AnoGAN: one sub-folder per stage) and the count is
 * its own business.
 */
export function checkpointedEpochs(dir: string): number | null {
  const cdir = join(dir, CHECKPOINT_DIR);
  if (!existsSync(cdir)) return 0;
  const ck = readCheckpoint(cdir);
  if (ck) return ck.epoch;
  return readdirSync(cdir).some((f) => existsSync(join(cdir, f, CHECKPOINT_POINTER))) ? null : 0;
}

/** This process, as a run's owner. */
export function runOwner(): { pid: number; host: string } {
  return { pid: process.pid, host: hostname() };
}

/** True when another live process on this machine owns the run (it may still be in its first epoch). */
function ownedElsewhere(owner: RunRecordFile['owner']): boolean {
  if (!owner || owner.host !== hostname() || owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/**
 * True when the run in `dir` never finished an epoch (status training, no checkpoint, no
 * log line) and no live process owns it: it failed or was stopped at once, and holds
 * nothing a rerun could lose.
 */
export function neverTrained(dir: string, record: RunRecordFile): boolean {
  return record.status === 'training' && checkpointedEpochs(dir) === 0 && readLog(dir).length === 0 && !ownedElsewhere(record.owner);
}

/** Removes the files a run wrote (not the folder, nor anything else in it). Call checkRunFolder first. */
export function removeRun(dir: string): void {
  removeTempFiles(dir);
  for (const f of RUN_ENTRIES) rmSync(join(dir, f), { recursive: true, force: true });
}

/** The entries a run writes; checkRunFolder refuses any of them that is a link. */
const RUN_ENTRIES = [RUN_FILE, LOG_FILE, METRICS_FILE, SCORES_FILE, CHECKPOINT_DIR, CONFIG_FILE, MODEL_FILE, CALIBRATION_FILE];

/**
 * Throws when an entry of the run folder `dir` that medianomaly reads, writes or deletes
 * (its own files, anything under checkpoint/, temp files) is a symbolic link or resolves
 * outside `dir`. The folder itself may be a link (runs kept on another disk); nothing
 * inside it may point out.
 */
export function checkRunFolder(dir: string): void {
  if (!existsSync(dir)) return;
  const walk = (path: string): void => {
    refuseLink(path, dir);
    if (lstatSync(path).isDirectory()) for (const f of readdirSync(path)) walk(join(path, f));
  };
  for (const f of readdirSync(dir)) {
    if (f === CHECKPOINT_DIR) walk(join(dir, f));
    else if (RUN_ENTRIES.includes(f) || TEMP_NAME.test(f)) refuseLink(join(dir, f), dir);
  }
}

/** Removes temp files and folders a killed run left, in the run folder and under checkpoint/ (call checkRunFolder first). */
export function removeTempFiles(dir: string): void {
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const f of readdirSync(d)) {
      const path = join(d, f);
      if (TEMP_NAME.test(f)) rmSync(path, { recursive: true, force: true });
      else if ((d !== dir || f === CHECKPOINT_DIR) && lstatSync(path).isDirectory()) walk(path);
    }
  };
  walk(dir);
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
