// Resumable training checkpoints: after every epoch the network's state dict, each
// optimiser's state, the training generator's state and the run's bookkeeping go into a
// fresh folder `epoch-<n>` inside the checkpoint folder; then `checkpoint.json`, the one
// file that says which folder is current, is replaced atomically (temp file + rename).
// A crash at any point leaves either the previous checkpoint or the new one, never a mix.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { GeneratorState } from '../../engine/index.js';
import type { Module } from '../../nn/module.js';
import type { Optimizer } from '../../nn/optim/optimizer.js';
import { loadOptimizerStateFile, loadStateDictFile, saveOptimizerState, saveStateDict } from '../../nn/safetensors.js';
import { ensureDir, writeFileAtomic } from '../saved.js';
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
  /** Folder (relative to the checkpoint folder) holding the tensors. */
  folder: string;
  optimizers: string[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyOptimizer = Optimizer<any>;

function optimizerFile(name: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`checkpoint: optimiser name "${name}" must be made of letters, digits, '_' and '-'`);
  return `optimizer-${name}.safetensors`;
}

export function writeCheckpoint(
  dir: string,
  state: Omit<CheckpointState, 'format' | 'folder' | 'optimizers'>,
  network: Module,
  optimizers: Record<string, AnyOptimizer>,
): void {
  ensureDir(dir, 'checkpoint');
  const folder = `epoch-${String(state.epoch).padStart(4, '0')}`;
  const tmp = join(dir, `${folder}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  saveStateDict(network, join(tmp, 'model.safetensors'));
  for (const [name, opt] of Object.entries(optimizers)) saveOptimizerState(opt, join(tmp, optimizerFile(name)));
  rmSync(join(dir, folder), { recursive: true, force: true });
  renameSync(tmp, join(dir, folder));
  const full: CheckpointState = { format: FORMAT, ...state, folder, optimizers: Object.keys(optimizers) };
  writeFileAtomic(join(dir, CHECKPOINT_POINTER), JSON.stringify(full, null, 1) + '\n');
  // Older epochs are no longer referenced; remove them only after the pointer moved.
  for (const f of readdirSync(dir)) {
    if (/^epoch-\d+(\.tmp-\d+)?$/.test(f) && f !== folder) rmSync(join(dir, f), { recursive: true, force: true });
  }
}

/** The current checkpoint in `dir`, or null when there is none. */
export function readCheckpoint(dir: string): CheckpointState | null {
  const path = join(dir, CHECKPOINT_POINTER);
  if (!existsSync(path)) return null;
  let s: CheckpointState;
  try {
    s = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`checkpoint ${path} is not valid JSON (${(e as Error).message}); delete the folder to start over`);
  }
  if (s?.format !== FORMAT || typeof s.epoch !== 'number' || !s.generator || typeof s.folder !== 'string') {
    throw new Error(`checkpoint ${path} is not a medianomaly training checkpoint`);
  }
  if (!existsSync(join(dir, s.folder))) throw new Error(`checkpoint ${path} points to ${s.folder}, which is missing`);
  return s;
}

/** Loads the network and optimiser states of checkpoint `s` (from readCheckpoint) in place. */
export function restoreCheckpoint(dir: string, s: CheckpointState, network: Module, optimizers: Record<string, AnyOptimizer>): void {
  const names = Object.keys(optimizers);
  if (names.join(',') !== s.optimizers.join(',')) {
    throw new Error(`checkpoint in ${dir} holds optimisers [${s.optimizers.join(', ')}], this method uses [${names.join(', ')}]`);
  }
  const folder = join(dir, s.folder);
  loadStateDictFile(network, join(folder, 'model.safetensors'));
  for (const [name, opt] of Object.entries(optimizers)) loadOptimizerStateFile(opt, join(folder, optimizerFile(name)));
}
