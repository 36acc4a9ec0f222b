// The on-disk form of a trained method: a folder with config.json (what createMethod
// needs to rebuild it, plus the data geometry and a training summary) and
// model.safetensors (the network's state dict under PyTorch names). Both are written to
// temporary files and renamed into place, so a crash never leaves a half-written file.
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FitResult, MethodOptions } from './types.js';

export const CONFIG_FILE = 'config.json';
export const MODEL_FILE = 'model.safetensors';
export const CONFIG_FORMAT = 'medianomaly-method';
export const CONFIG_VERSION = 1;

export interface SavedConfig {
  format: typeof CONFIG_FORMAT;
  version: number;
  method: string;
  options: MethodOptions;
  /** Geometry of the images the method was trained on. */
  size: number;
  channels: number;
  /** Absent when the method was saved untrained. */
  training?: Omit<FitResult, 'lossCurve'> & { finalLoss: number | null; lossCurve: number[] };
}

/** Writes text to `path` via a temporary file in the same folder and a rename. */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now().toString(36)}`;
  try {
    writeFileSync(tmp, content);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file was never created or is already gone
    }
    throw e;
  }
}

export function ensureDir(dir: string, what: string): void {
  if (typeof dir !== 'string' || dir === '') throw new TypeError(`${what}: dir must be a folder path, got ${JSON.stringify(dir)}`);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`${what}: ${dir} exists and is not a folder`);
  mkdirSync(dir, { recursive: true });
}

export function writeConfig(dir: string, config: SavedConfig): void {
  writeFileAtomic(join(dir, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n');
}

/** Reads and checks config.json; every failure says that `dir` is not a saved method and why. */
export function readConfig(dir: string): SavedConfig {
  const notSaved = (why: string): never => {
    throw new Error(`${dir} is not a saved medianomaly method: ${why} (a saved method is a folder with ${CONFIG_FILE} and ${MODEL_FILE}, written by method.save())`);
  };
  if (typeof dir !== 'string' || dir === '') throw new TypeError(`loadMethod: dir must be a folder path, got ${JSON.stringify(dir)}`);
  if (!existsSync(dir)) notSaved('the folder does not exist');
  if (!statSync(dir).isDirectory()) notSaved('it is not a folder');
  const path = join(dir, CONFIG_FILE);
  if (!existsSync(path)) notSaved(`no ${CONFIG_FILE}`);
  let cfg: Partial<SavedConfig>;
  try {
    cfg = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return notSaved(`${CONFIG_FILE} is not valid JSON (${(e as Error).message})`);
  }
  if (cfg?.format !== CONFIG_FORMAT) notSaved(`${CONFIG_FILE} has format ${JSON.stringify(cfg?.format)}, expected "${CONFIG_FORMAT}"`);
  if (typeof cfg.version !== 'number' || cfg.version > CONFIG_VERSION) {
    notSaved(`${CONFIG_FILE} has version ${JSON.stringify(cfg.version)}; this library reads version ≤ ${CONFIG_VERSION}`);
  }
  if (typeof cfg.method !== 'string') notSaved(`${CONFIG_FILE} names no method`);
  if (!cfg.options || typeof cfg.options !== 'object') notSaved(`${CONFIG_FILE} has no options object`);
  if (!existsSync(join(dir, MODEL_FILE))) notSaved(`no ${MODEL_FILE}`);
  return cfg as SavedConfig;
}
