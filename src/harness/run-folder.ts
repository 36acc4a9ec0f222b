// A run folder: everything one training run leaves behind.
//
//   run.json           what was run: method, resolved options, dataset spec, status, times
//   config.json        the trained method's config (method.save)
//   model.safetensors  its weights (method.save)
//   log                one JSON line per finished epoch: epoch, loss, seconds, imagesPerSecond
//   metrics.json       test-set metrics (evaluate.ts)
//   scores.json        per test image: id, label, score (ROC curves, further analysis)
//   checkpoint/        resumable training state while the run is unfinished
//
// Every file is written atomically, so an interrupted run never leaves a half-written file.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadOptions } from '../data/types.js';
import type { MethodOptions } from '../methods/types.js';
import { writeFileAtomic, writeJsonAtomic } from './atomic.js';

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

export function writeLog(dir: string, lines: readonly EpochLogLine[]): Promise<void> {
  return writeFileAtomic(join(dir, LOG_FILE), lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : ''));
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
