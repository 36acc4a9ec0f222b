// Resumable training checkpoints: after every epoch the network's state dict, each
// optimiser's state, the training generator's state and the run's bookkeeping go into a
// fresh folder `epoch-<n>` inside the checkpoint folder; then `checkpoint.json`, the one
// file that says which folder is current, is replaced atomically (temp file + rename).
// A crash at any point leaves either the previous checkpoint or the new one, never a mix.
//
// The commit, in order (each step's crash point in ../crash-points.ts):
//   1. tensors into `epoch-<n>.tmp-<pid>/`, each file fsynced; their SHA-256 noted
//   2. the folder fsynced and renamed to `epoch-<n>`, the checkpoint folder fsynced
//   3. checkpoint.json (with the hashes) written to a temp file, fsynced, renamed: the commit
//   4. every other `epoch-*` and temp entry removed (also on resume: see cleanCheckpoint)
// On read, checkpoint.json must name an `epoch-<n>` folder of this checkpoint folder (never
// a path elsewhere), no entry may be a symbolic link, and every tensor file must match its
// recorded SHA-256.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { GeneratorState } from '../../engine/index.js';
import type { Module } from '../../nn/module.js';
import type { Optimizer } from '../../nn/optim/optimizer.js';
import { loadOptimizerStateFile, loadStateDictFile, saveOptimizerState, saveStateDict } from '../../nn/safetensors.js';
import { crashPoint } from './crash-points.js';
import { fsyncDir, writeFileAtomicSync } from '../../io/atomic.js';
import { ensureDir, refuseLink, sha256File, TEMP_NAME, verifySha256 } from './saved.js';
import type { MethodOptions } from '../types.js';

export const CHECKPOINT_POINTER = 'checkpoint.json';
const FORMAT = 'medianomaly-checkpoint';

export interface CheckpointState {
  format: typeof FORMAT;
  method: string;
  /** Resolved options of the run; a resume must use the same (epochs may differ). */
  options: MethodOptions;
  /** Epochs completed. */
  epoch: number;
  steps: number;
  lossCurve: number[];
  /** Training seconds so far. */
  seconds: number;
  /** The training generator (shuffling, augmentation draws) after the last completed epoch. */
  generator: GeneratorState;
  /** Folder (relative to the checkpoint folder) holding the tensors: always `epoch-<n>`. */
  folder: string;
  optimizers: string[];
  /** SHA-256 (hex) of each file in `folder`, by file name. */
  sha256: Record<string, string>;
}

const MODEL = 'model.safetensors';
const EPOCH_FOLDER = /^epoch-\d+$/;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyOptimizer = Optimizer<any>;

function optimizerFile(name: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`checkpoint: optimiser name "${name}" must be made of letters, digits, '_' and '-'`);
  return `optimizer-${name}.safetensors`;
}

/** The entry `name` of the checkpoint folder, refused when it is a symbolic link. */
function entry(dir: string, name: string): string {
  const path = join(dir, name);
  refuseLink(path, dir);
  return path;
}

export function writeCheckpoint(
  dir: string,
  state: Omit<CheckpointState, 'format' | 'folder' | 'optimizers' | 'sha256'>,
  network: Module,
  optimizers: Record<string, AnyOptimizer>,
): void {
  ensureDir(dir, 'checkpoint');
  const folder = `epoch-${String(state.epoch).padStart(4, '0')}`;
  const tmp = entry(dir, `${folder}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  const files = [MODEL, ...Object.keys(optimizers).map(optimizerFile)];
  saveStateDict(network, join(tmp, MODEL));
  for (const [name, opt] of Object.entries(optimizers)) saveOptimizerState(opt, join(tmp, optimizerFile(name)));
  const sha256 = Object.fromEntries(files.map((f) => [f, sha256File(join(tmp, f))]));
  fsyncDir(tmp);
  crashPoint('epoch-files', state.epoch);
  // A folder of this name is left over from a run killed before its pointer moved: stale.
  rmSync(entry(dir, folder), { recursive: true, force: true });
  renameSync(tmp, join(dir, folder));
  fsyncDir(dir);
  crashPoint('epoch-folder', state.epoch);
  const full: CheckpointState = { format: FORMAT, ...state, folder, optimizers: Object.keys(optimizers), sha256 };
  writeFileAtomicSync(entry(dir, CHECKPOINT_POINTER), JSON.stringify(full, null, 1) + '\n', { beforeRename: () => crashPoint('pointer-temp', state.epoch) });
  crashPoint('pointer', state.epoch);
  // Older epochs are no longer referenced; remove them only after the pointer moved.
  cleanCheckpoint(dir, folder, state.epoch);
}

/**
 * Removes what a checkpoint folder holds besides the current epoch folder `keep` and the
 * pointer: older or newer epoch folders (a crash between rename and pointer swap leaves
 * one) and temp files of interrupted writes. `keep` null: no checkpoint, all epochs go.
 */
export function cleanCheckpoint(dir: string, keep: string | null, epoch = 0): void {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) {
    if (f === keep || !(f.startsWith('epoch-') || TEMP_NAME.test(f))) continue;
    crashPoint('cleanup', epoch);
    rmSync(entry(dir, f), { recursive: true, force: true });
  }
}

/** The current checkpoint in `dir`, or null when there is none. */
export function readCheckpoint(dir: string): CheckpointState | null {
  const path = join(dir, CHECKPOINT_POINTER);
  if (!existsSync(path) && !isLink(path)) return null;
  refuseLink(path, dir);
  let s: CheckpointState;
  try {
    s = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`checkpoint ${path} is not valid JSON (${(e as Error).message}); delete the folder to start over`);
  }
  if (s?.format !== FORMAT || typeof s.epoch !== 'number' || !s.generator || typeof s.folder !== 'string' || !Array.isArray(s.optimizers)) {
    throw new Error(`checkpoint ${path} is not a medianomaly training checkpoint`);
  }
  // Only what writeCheckpoint writes: a path elsewhere (absolute, "..") would read tensors from outside the run.
  if (!EPOCH_FOLDER.test(s.folder)) {
    throw new Error(
      `checkpoint ${path} names folder ${JSON.stringify(s.folder)}, which is not an epoch-<n> folder inside ${dir}; ` +
        `the file was edited or corrupted. Delete ${dir} to start training over`,
    );
  }
  const folder = entry(dir, s.folder);
  if (!existsSync(folder)) throw new Error(`checkpoint ${path} points to ${s.folder}, which is missing`);
  if (!s.sha256 || typeof s.sha256 !== 'object') {
    throw new Error(
      `checkpoint ${path} records no SHA-256 of its tensor files (written by an older medianomaly), so they cannot be checked for corruption; ` +
        `finish the run with that version, or delete ${dir} to start training over`,
    );
  }
  return s;
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Loads the network and optimiser states of checkpoint `s` (from readCheckpoint) in place. */
export function restoreCheckpoint(dir: string, s: CheckpointState, network: Module, optimizers: Record<string, AnyOptimizer>): void {
  const names = Object.keys(optimizers);
  if (names.join(',') !== s.optimizers.join(',')) {
    throw new Error(`checkpoint in ${dir} holds optimisers [${s.optimizers.join(', ')}], this method uses [${names.join(', ')}]`);
  }
  const folder = entry(dir, s.folder);
  const checked = (file: string): string => {
    const path = entry(folder, file);
    const expected = s.sha256[file];
    const pointer = join(dir, CHECKPOINT_POINTER);
    if (typeof expected !== 'string') throw new Error(`checkpoint ${pointer} records no SHA-256 for ${path}; delete ${dir} to start training over`);
    verifySha256(path, expected, pointer, `delete ${dir} to start training over (or restore the file from a backup)`);
    return path;
  };
  loadStateDictFile(network, checked(MODEL));
  for (const [name, opt] of Object.entries(optimizers)) loadOptimizerStateFile(opt, checked(optimizerFile(name)));
}
