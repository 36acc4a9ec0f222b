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

/**
 * Options for reading weights. Weights and optimizer states are refused when they hold NaN
 * or ±Inf: a model loaded with them scores every image NaN, far from the file that caused it.
 * No caller in this project stores non-finite values; `allowNonFinite: true` is for
 * inspecting such a file (e.g. after a diverged run), never for training or scoring.
 */
export interface ReadWeightsOptions {
  allowNonFinite?: boolean;
}

/** Throws, naming the file and the tensor, when `data` holds NaN or ±Inf. */
function assertFinite(path: string, name: string, data: Float32Array, what: string): void {
  let bad = 0;
  let first = -1;
  for (let i = 0; i < data.length; i++) {
    // x - x is 0 for every finite x and NaN for NaN and ±Inf: one test, no branches per kind.
    if (data[i] - data[i] !== 0) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad) {
    throw new Error(
      `${what} ${path}: tensor "${name}" holds ${bad} non-finite value(s) (first: ${data[first]} at index ${first}); ` +
        'the run that wrote it diverged or the file is corrupt: retrain, or resume from an earlier checkpoint',
    );
  }
}

/** Reads a safetensors file as name → float32 values (any stored dtype is converted); refuses NaN/Inf unless allowed. */
export function readStateDict(path: string, opts: ReadWeightsOptions = {}): Map<string, StateValue> {
  const out = new Map<string, StateValue>();
  for (const [name, raw] of readSafetensors(path).tensors) {
    const data = toFloat32(raw);
    if (!opts.allowNonFinite) assertFinite(path, name, data, 'state dict');
    out.set(name, { shape: raw.shape, data });
  }
  return out;
}

/** Loads a safetensors state dict into the module (see Module.loadStateDict for strictness). */
export function loadStateDictFile(module: Module, path: string, opts: { strict?: boolean } & ReadWeightsOptions = {}): LoadResult {
  const dict = readStateDict(path, opts);
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

/** Restores a state written by saveOptimizerState into an optimizer of the same kind; refuses NaN/Inf unless allowed. */
export function loadOptimizerStateFile(opt: Optimizer<{ lr: number }>, path: string, opts: ReadWeightsOptions = {}): void {
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
    const data = Float32Array.from(toFloat32(raw));
    if (!opts.allowNonFinite) assertFinite(path, name, data, 'optimizer state');
    (state[Number(m![1])] ??= {})[m![2]] = data;
  }
  try {
    opt.loadStateDict({ state, paramGroups });
  } catch (e) {
    fail((e as Error).message);
  }
}
