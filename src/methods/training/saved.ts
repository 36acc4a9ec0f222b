// The on-disk form of a trained method: a folder with config.json (what createMethod
// needs to rebuild it, plus the data geometry, a training summary and the SHA-256 of the
// weights) and model.safetensors (the network's state dict under PyTorch names). Both are
// written to temporary files and renamed into place, so a crash never leaves a
// half-written file; the hash catches what atomicity cannot: a file changed or corrupted
// on disk afterwards (bit flips change scores silently, they rarely break the format).
import { createHash } from 'node:crypto';
import {
  closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { writeFileAtomicSync } from '../../io/atomic.js';
import type { FitResult, MethodOptions } from '../types.js';

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
  /** SHA-256 (hex) of each weights file, by file name; filled in by writeConfig, checked by readConfig. */
  sha256?: Record<string, string>;
}

/**
 * Names of temp files and folders the atomic writers leave when killed mid-write:
 * `.<file>.<pid>.<k>.tmp` (io/atomic.ts) and `epoch-<n>.tmp-<pid>` (checkpoints). A resumed
 * run removes them.
 */
export const TEMP_NAME = /\.tmp(-|\.|$)/;

/** The weights files of a saved method, each hashed into config.json. */
export const WEIGHT_FILES: readonly string[] = [MODEL_FILE];

/** SHA-256 (hex) of a file's bytes. */
export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Throws unless `path` has the SHA-256 `expected`, recorded in `record` when the file was
 * written. The error names the file and says it was changed or corrupted since.
 */
export function verifySha256(path: string, expected: string, record: string, fix: string): void {
  const found = sha256File(path);
  if (found !== expected) {
    throw new Error(
      `${path} was changed or corrupted after it was written: its SHA-256 is ${found}, but ${record} recorded ${expected}. ` +
        `Its numbers cannot be trusted; ${fix}`,
    );
  }
}

/**
 * Throws when `path` (inside the folder `root`) is a symbolic link, or resolves outside
 * `root` through a link higher up. Reading, writing or deleting through such a link would
 * touch files outside the folder (a `checkpoint` link made a resumed run write and delete
 * folders in the link's target), so the library refuses instead of following it. A path
 * that does not exist passes: there is nothing to follow yet.
 */
export function refuseLink(path: string, root: string): void {
  let isLink: boolean;
  try {
    isLink = lstatSync(path).isSymbolicLink();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const refuse = (why: string): never => {
    throw new Error(
      `${path} ${why}; medianomaly never follows a link inside ${root}, because reading, writing or deleting through it would touch files outside that folder. ` +
        `Replace the link with a real file or folder (or move the whole folder where you want it), then run again`,
    );
  };
  if (isLink) {
    let target = '?';
    try {
      target = readlinkSync(path);
    } catch {
      // unreadable link: the message still names it
    }
    refuse(`is a symbolic link (to ${target})`);
  }
  const realRoot = realpathSync(root);
  const real = realpathSync(path);
  if (real !== realRoot && !real.startsWith(realRoot + sep)) refuse(`resolves to ${real}, outside the folder (a folder on the way is a link)`);
}

export function ensureDir(dir: string, what: string): void {
  if (typeof dir !== 'string' || dir === '') throw new TypeError(`${what}: dir must be a folder path, got ${JSON.stringify(dir)}`);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`${what}: ${dir} exists and is not a folder`);
  mkdirSync(dir, { recursive: true });
}

/** Writes config.json with the SHA-256 of each weights file; call it after the weights are written. */
export function writeConfig(dir: string, config: SavedConfig): void {
  const sha256: Record<string, string> = {};
  for (const f of WEIGHT_FILES) if (existsSync(join(dir, f))) sha256[f] = sha256File(join(dir, f));
  writeFileAtomicSync(join(dir, CONFIG_FILE), JSON.stringify({ ...config, sha256 }, null, 2) + '\n');
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
  verifyWeights(dir, cfg as SavedConfig);
  return cfg as SavedConfig;
}

/**
 * Checks every weights file against the SHA-256 in config.json. A config without hashes
 * (saved by a medianomaly from before hashes were recorded) is refused, not loaded unchecked:
 * this is a 0.x library, and the one-line fix below is an explicit "I trust this file".
 */
function verifyWeights(dir: string, cfg: SavedConfig): void {
  const config = join(dir, CONFIG_FILE);
  for (const f of WEIGHT_FILES) {
    const path = join(dir, f);
    const expected = cfg.sha256?.[f];
    if (typeof expected !== 'string') {
      throw new Error(
        `${config} records no SHA-256 for ${f} (it was saved by an older medianomaly), so ${path} cannot be checked for corruption. ` +
          `Save or train the method again; or, if you trust the file, add "sha256": { "${f}": "<the hash \`sha256sum ${path}\` prints>" } to ${config}`,
      );
    }
    verifySha256(path, expected, config, `restore ${f} from a backup or train the method again`);
  }
}
