// State dicts and optimizer states as safetensors files, with PyTorch's names and dtypes
// (float32 values, int64 num_batches_tracked), so checkpoints open in PyTorch unchanged:
// `torch.nn.Module.load_state_dict(safetensors.torch.load_file(path))`.
import type { Module, LoadResult, StateValue } from './module.js';
import type { Optimizer, OptimizerStateDict, ParamState } from './optim/optimizer.js';
import { readSafetensors, toFloat32, writeSafetensors, type RawTensor } from './safetensors-format.js';

export { parseSafetensors, readSafetensors, serializeSafetensors, toFloat32, writeSafetensors } from './safetensors-format.js';
export type { RawTensor, SafetensorsContent, SafetensorsDtype } from './safetensors-format.js';

/** Writes the module's state dict (parameters and persistent buffers) atomically. */
export function saveStateDict(module: Module, path: string, metadata: Record<string, string> = {}): void {
  const tensors: Array<[string, RawTensor]> = module.stateEntries().map((e) => {
    const shape = [...e.tensor.shape];
    if (e.dtype === 'int64') {
      const d = e.tensor.data;
      const ints = new BigInt64Array(d.length);
      for (let i = 0; i < d.length; i++) ints[i] = BigInt(Math.round(d[i]));
      return [e.name, { dtype: 'I64', shape, data: ints }];
    }
    return [e.name, { dtype: 'F32', shape, data: e.tensor.data }];
  });
  writeSafetensors(path, tensors, { format: 'pt', ...metadata });
}

/** Reads a safetensors file as name → float32 values (any stored dtype is converted). */
export function readStateDict(path: string): Map<string, StateValue> {
  const out = new Map<string, StateValue>();
  for (const [name, raw] of readSafetensors(path).tensors) out.set(name, { shape: raw.shape, data: toFloat32(raw) });
  return out;
}

/** Loads a safetensors state dict into the module (see Module.loadStateDict for strictness). */
export function loadStateDictFile(module: Module, path: string, opts: { strict?: boolean } = {}): LoadResult {
  const dict = readStateDict(path);
  try {
    return module.loadStateDict(dict, opts);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/**
 * Writes an optimizer's state: every state array as `state.<param index>.<name>` (float32),
 * the step counters and the parameter groups' options as JSON metadata.
 */
export function saveOptimizerState(opt: Optimizer<{ lr: number }>, path: string): void {
  const sd = opt.stateDict();
  const tensors: Array<[string, RawTensor]> = [];
  const scalars: Record<string, Record<string, number>> = {};
  for (const [i, s] of Object.entries(sd.state)) {
    for (const [k, v] of Object.entries(s)) {
      if (typeof v === 'number') (scalars[i] ??= {})[k] = v;
      else tensors.push([`state.${i}.${k}`, { dtype: 'F32', shape: [v.length], data: v }]);
    }
  }
  writeSafetensors(path, tensors, {
    kind: 'optimizer',
    optimizer: opt.constructor.name,
    param_groups: JSON.stringify(sd.paramGroups),
    scalars: JSON.stringify(scalars),
  });
}

/** Restores a state written by saveOptimizerState into an optimizer of the same kind. */
export function loadOptimizerStateFile(opt: Optimizer<{ lr: number }>, path: string): void {
  const { tensors, metadata } = readSafetensors(path);
  const fail = (why: string): never => {
    throw new Error(`optimizer state ${path}: ${why}`);
  };
  if (metadata.kind !== 'optimizer') fail('not an optimizer state file (metadata.kind is not "optimizer")');
  if (metadata.optimizer !== opt.constructor.name) fail(`written by ${metadata.optimizer}, cannot load into ${opt.constructor.name}`);
  let paramGroups: OptimizerStateDict<{ lr: number }>['paramGroups'];
  let scalars: Record<string, Record<string, number>>;
  try {
    paramGroups = JSON.parse(metadata.param_groups);
    scalars = JSON.parse(metadata.scalars);
  } catch (e) {
    return fail(`metadata is not valid JSON (${(e as Error).message})`);
  }
  const state: Record<number, ParamState> = {};
  for (const [i, s] of Object.entries(scalars)) state[Number(i)] = { ...s };
  for (const [name, raw] of tensors) {
    const m = /^state\.(\d+)\.(\w+)$/.exec(name);
    if (!m) fail(`unexpected tensor "${name}"`);
    (state[Number(m![1])] ??= {})[m![2]] = Float32Array.from(toFloat32(raw));
  }
  try {
    opt.loadStateDict({ state, paramGroups });
  } catch (e) {
    fail((e as Error).message);
  }
}
