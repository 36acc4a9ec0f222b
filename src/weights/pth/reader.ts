// Reads a PyTorch checkpoint (.pth / .pt) into tensors, without Python and without running
// anything the file says: torch.save's zip archive (PyTorch ≥ 1.6: <name>/data.pkl, the
// storages as <name>/data/<key>, <name>/version) and the legacy format before it (magic
// number, protocol version and system info pickles, the object pickle, the list of storage
// keys, then each storage as an int64 element count and its bytes). The pickles go through
// the restricted unpickler (pickle.ts); each tensor is gathered from its storage by offset,
// size and strides (non-contiguous views and storages shared by several tensors both work)
// into a dense row-major array of the dtype it was saved in.
import { readFileSync } from 'node:fs';
import { ITEM_SIZE, typedArrayOf, type RawTensor } from '../../nn/safetensors-format.js';
import { StorageRef, isTuple, storageDtypeOf, globalName, tensorOf, unpickle, type StorageDtype, type TensorRef } from './pickle.js';
import { looksLikeZip, readZip } from './zip.js';

export { RefusedGlobalError } from './pickle.js';


export interface PthContent {
  /** 'zip' (torch.save since 1.6) or 'legacy' (before 1.6, or _use_new_zipfile_serialization=False). */
  format: 'zip' | 'legacy';
  /** Tensors in file order, each dense row-major in the dtype it was saved in. */
  tensors: Map<string, RawTensor>;
  /** Where the state dict was found inside the file ('state_dict', 'model', ...); null when the file is one. */
  key: string | null;
  /** Tensors left unread (ReadPthOptions.skip): their dtype and shape only. */
  skipped: Map<string, { dtype: StorageDtype; shape: number[] }>;
}

export interface ReadPthOptions {
  /** The key (dots for nesting: 'checkpoint.model') of the state dict inside a larger checkpoint. */
  key?: string;
  /** Tensors not to read (VGG19's 500 MB classifier when only its features are wanted); still listed in `skipped`. */
  skip?: (name: string) => boolean;
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;


const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * Copies tensor `t` out of its storage's bytes into a dense row-major array, checking that
 * every element it addresses lies inside the storage.
 */
function gather(name: string, t: TensorRef, storage: Uint8Array, storageNumel: number, bigEndian: boolean, fail: (p: string) => never): RawTensor {
  const es = ITEM_SIZE[t.storage.dtype];
  const shape = t.size;
  const n = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(n) || n * es > 2 ** 32) fail(`tensor "${name}" has shape ${fmt(shape)}, too large`);
  let last = t.offset;
  if (n > 0) {
    for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * t.stride[d];
    if (last >= storageNumel) {
      fail(`tensor "${name}" (shape ${fmt(shape)}, offset ${t.offset}, strides ${fmt(t.stride)}) reaches element ${last} of a storage of ${storageNumel}: the file is corrupt`);
    }
    // Only overlapping strides (expand(), stride 0) address more elements than the storage
    // holds; a state dict never needs them, and they would let a small file claim any size.
    if (n > storageNumel) {
      fail(`tensor "${name}" has ${n} elements over a storage of ${storageNumel} (overlapping strides ${fmt(t.stride)}, as expand() makes): re-save it with .contiguous()`);
    }
  }
  const out = new Uint8Array(n * es);
  if (n > 0) {
    // Row-major strides: one copy. Otherwise walk the indices, innermost fastest.
    let contiguous = true;
    for (let d = shape.length - 1, expect = 1; d >= 0; d--) {
      if (shape[d] !== 1 && t.stride[d] !== expect) contiguous = false;
      expect *= shape[d];
    }
    if (contiguous) {
      out.set(storage.subarray(t.offset * es, (t.offset + n) * es));
    } else {
      // Element copies through unsigned views of the item size (bit-exact, NaN payloads kept),
      // the storage first copied to aligned memory (a file's records need not be aligned).
      const words = (b: ArrayBuffer) => (es === 8 ? new BigUint64Array(b) : es === 4 ? new Uint32Array(b) : es === 2 ? new Uint16Array(b) : new Uint8Array(b));
      const from = words(new Uint8Array(storage.subarray(0, (last + 1) * es)).buffer) as Uint32Array;
      const to = words(out.buffer) as Uint32Array;
      const rank = shape.length;
      const idx = new Array<number>(rank).fill(0);
      let src = t.offset;
      for (let i = 0; i < n; i++) {
        to[i] = from[src];
        for (let d = rank - 1; d >= 0; d--) {
          idx[d]++;
          src += t.stride[d];
          if (idx[d] < shape[d]) break;
          src -= shape[d] * t.stride[d];
          idx[d] = 0;
        }
      }
    }
    if (bigEndian && es > 1) {
      for (let i = 0; i < out.length; i += es) out.subarray(i, i + es).reverse();
    }
  }
  return { dtype: t.storage.dtype, shape: [...shape], data: typedArrayOf(t.storage.dtype, out.buffer) };
}

function kindOf(x: unknown): string {
  if (x === null) return 'None';
  if (tensorOf(x)) return 'tensor';
  if (x instanceof Map) {
    const tensors = [...x.values()].filter((v) => tensorOf(v)).length;
    return tensors ? `dict, ${tensors} tensor(s)` : `dict of ${x.size}`;
  }
  if (isTuple(x)) return 'tuple';
  if (Array.isArray(x)) return 'list';
  if (x instanceof StorageRef) return 'storage';
  return globalName(x) ?? typeof x;
}

function isStateDict(x: unknown): x is Map<string, unknown> {
  if (!(x instanceof Map) || x.size === 0) return false;
  for (const [k, v] of x) if (typeof k !== 'string' || !tensorOf(v)) return false;
  return true;
}

/** Finds the state dict in what the pickle held: the whole thing, a key given, or the one nested dict of tensors. */
function findStateDict(root: unknown, source: string, key: string | undefined): { dict: Map<string, unknown>; key: string | null } {
  const fail = (p: string): never => {
    throw new Error(`${source}: ${p}`);
  };
  const listKeys = (m: Map<unknown, unknown>) =>
    [...m]
      .slice(0, 20)
      .map(([k, v]) => `${String(k)} (${kindOf(v)})`)
      .join(', ') + (m.size > 20 ? `, … (${m.size} keys)` : '');
  if (key) {
    let cur: unknown = root;
    for (const part of key.split('.')) {
      if (!(cur instanceof Map) || !cur.has(part)) fail(`has no key "${key}"${root instanceof Map ? `; its keys: ${listKeys(root)}` : ''}`);
      cur = (cur as Map<string, unknown>).get(part);
    }
    if (!isStateDict(cur)) fail(`"${key}" is not a state dict (a dict of tensors): it is ${kindOf(cur)}`);
    return { dict: cur as Map<string, unknown>, key };
  }
  if (tensorOf(root)) fail('holds a single tensor, not a state dict (a dict of names to tensors)');
  if (!(root instanceof Map)) fail(`holds ${kindOf(root)}, not a state dict (a dict of names to tensors)`);
  if (isStateDict(root)) return { dict: root, key: null };
  const found: { path: string; dict: Map<string, unknown> }[] = [];
  const walk = (m: Map<unknown, unknown>, prefix: string, depth: number) => {
    for (const [k, v] of m) {
      if (typeof k !== 'string' || !(v instanceof Map)) continue;
      const path = prefix ? `${prefix}.${k}` : k;
      if (isStateDict(v)) found.push({ path, dict: v });
      else if (depth < 3) walk(v, path, depth + 1);
    }
  };
  walk(root as Map<unknown, unknown>, '', 0);
  if (found.length === 1) return { dict: found[0].dict, key: found[0].path };
  if (found.length > 1) {
    fail(`holds ${found.length} state dicts (${found.map((f) => `"${f.path}", ${f.dict.size} tensors`).join('; ')}): say which one with --key (e.g. --key ${found[0].path})`);
  }
  return fail(`holds no state dict (a dict whose values are all tensors); its keys: ${listKeys(root as Map<unknown, unknown>)}`);
}

function collect(
  dict: Map<string, unknown>,
  opts: ReadPthOptions,
  load: (name: string, t: TensorRef) => RawTensor,
): { tensors: Map<string, RawTensor>; skipped: PthContent['skipped'] } {
  const tensors = new Map<string, RawTensor>();
  const skipped: PthContent['skipped'] = new Map();
  for (const [name, v] of dict) {
    const t = tensorOf(v)!;
    if (opts.skip?.(name)) skipped.set(name, { dtype: t.storage.dtype, shape: [...t.size] });
    else tensors.set(name, load(name, t));
  }
  return { tensors, skipped };
}

function parseZip(bytes: Uint8Array, source: string, opts: ReadPthOptions): PthContent {
  const zip = readZip(bytes, source);
  const fail = (p: string): never => {
    throw new Error(`${source}: ${p}`);
  };
  const pkls = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n) || n === 'data.pkl');
  if (pkls.length === 0) {
    const names = [...zip.entries.keys()];
    if (names.some((n) => /(^|\/)constants\.pkl$/.test(n) || /(^|\/)code\//.test(n))) {
      fail('is a TorchScript archive (torch.jit.save), not a state dict: in Python, save model.state_dict() with torch.save');
    }
    fail(`is a zip archive without data.pkl, so not a PyTorch checkpoint (entries: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''})`);
  }
  if (pkls.length > 1) fail(`holds ${pkls.length} data.pkl records (${pkls.join(', ')}): not a single PyTorch checkpoint`);
  const prefix = pkls[0].slice(0, -'data.pkl'.length);
  let bigEndian = false;
  if (zip.entries.has(`${prefix}byteorder`)) {
    const order = new TextDecoder().decode(zip.read(`${prefix}byteorder`)).trim();
    if (order !== 'little' && order !== 'big') fail(`its byteorder record says "${order}", neither "little" nor "big"`);
    bigEndian = order === 'big';
  }
  const storages = new Map<string, StorageRef>();
  const persistentLoad = (pid: unknown): StorageRef => {
    if (!isTuple(pid) || pid.length < 5 || pid[0] !== 'storage') fail(`the pickle refers to external data ${kindOf(pid)} that is not a storage`);
    const [, cls, key, , numel] = pid as readonly unknown[];
    const dtype = storageDtypeOf(cls);
    if (!dtype) fail(`a storage has type ${globalName(cls) ?? kindOf(cls)}, not a known storage class`);
    if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) fail(`a storage has an invalid key ${JSON.stringify(key)}`);
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) fail(`storage "${key}" has an invalid size`);
    const prev = storages.get(key as string);
    if (prev && (prev.dtype !== dtype || prev.numel !== numel)) fail(`storage "${key}" is declared twice with different types or sizes`);
    const ref = prev ?? new StorageRef(dtype!, key as string, numel as number);
    storages.set(key as string, ref);
    return ref;
  };
  const { value } = unpickle(zip.read(pkls[0]), { source: `${source} (${pkls[0]})`, persistentLoad });
  const { dict, key } = findStateDict(value, source, opts.key);
  const data = new Map<string, Uint8Array>();
  const { tensors, skipped } = collect(dict, opts, (name, t) => {
    const s = t.storage;
    let bytesOf = data.get(s.key);
    if (!bytesOf) {
      const record = `${prefix}data/${s.key}`;
      if (!zip.entries.has(record)) fail(`tensor "${name}" uses storage "${s.key}", but the archive has no record ${record}: the file is corrupt`);
      bytesOf = zip.read(record);
      const want = s.numel * ITEM_SIZE[s.dtype];
      if (bytesOf.length !== want) fail(`storage record ${record} holds ${bytesOf.length} bytes, but ${s.numel} elements of ${s.dtype} need ${want}: the file is corrupt`);
      data.set(s.key, bytesOf);
    }
    return gather(name, t, bytesOf, s.numel, bigEndian, fail);
  });
  return { format: 'zip', tensors, key, skipped };
}

function parseLegacy(bytes: Uint8Array, source: string, opts: ReadPthOptions): PthContent {
  const fail = (p: string): never => {
    throw new Error(`${source}: ${p}`);
  };
  const notPth = 'not a PyTorch checkpoint (neither torch.save\'s zip archive nor its legacy pickle format)';
  if (bytes.length >= 262 && new TextDecoder('latin1').decode(bytes.subarray(257, 262)) === 'ustar') {
    fail('is a tar archive, the format of PyTorch before 0.1.10, which is not supported: re-save it with PyTorch ≥ 1.6 (torch.save(torch.load(f), g))');
  }
  if (bytes[0] !== 0x80) fail(`does not start with a pickle: ${notPth}`);
  let magic: unknown;
  let pos = 0;
  try {
    ({ value: magic, end: pos } = unpickle(bytes, { source }));
  } catch (e) {
    if ((e as Error).name === 'RefusedGlobalError') throw e;
    fail(`${notPth} (${(e as Error).message.replace(`${source}: `, '')})`);
  }
  if (magic !== LEGACY_MAGIC) fail(`starts with a pickle that is not PyTorch's magic number: ${notPth}`);
  const proto = unpickle(bytes, { source, offset: pos });
  if (proto.value !== LEGACY_PROTOCOL) fail(`has legacy protocol version ${String(proto.value)}, not ${LEGACY_PROTOCOL}`);
  const sys = unpickle(bytes, { source, offset: proto.end });
  const little = sys.value instanceof Map ? sys.value.get('little_endian') : undefined;
  const bigEndian = little === false;
  const roots = new Map<string, { dtype: StorageDtype; numel: number }>();
  const persistentLoad = (pid: unknown): StorageRef => {
    if (!isTuple(pid) || pid.length < 5) fail(`the pickle refers to external data ${kindOf(pid)} that is not a storage`);
    const p = pid as readonly unknown[];
    if (p[0] === 'module') fail('holds a whole pickled model, not a state dict: in Python, load it and save model.state_dict() with torch.save');
    if (p[0] !== 'storage' || p.length < 6) fail(`the pickle refers to external data (${String(p[0])}) that is not a storage`);
    const [, cls, key, , numel, viewMeta] = p;
    const dtype = storageDtypeOf(cls);
    if (!dtype) fail(`a storage has type ${globalName(cls) ?? kindOf(cls)}, not a known storage class`);
    if (typeof key !== 'string') fail(`a storage has an invalid key ${JSON.stringify(key)}`);
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) fail(`storage "${key}" has an invalid size`);
    const prev = roots.get(key as string);
    if (prev && prev.dtype !== dtype) fail(`storage "${key}" is declared twice with different types`);
    if (!prev) roots.set(key as string, { dtype: dtype!, numel: numel as number });
    let view: StorageRef['view'] = null;
    if (viewMeta !== null && viewMeta !== undefined) {
      const v = viewMeta as readonly unknown[];
      if (!isTuple(v) || v.length !== 3 || typeof v[0] !== 'string' || typeof v[1] !== 'number' || typeof v[2] !== 'number') fail(`storage "${key}" has invalid view metadata`);
      view = { key: v[0] as string, offset: v[1] as number, numel: v[2] as number };
    }
    return new StorageRef(dtype!, key as string, view ? view.numel : (numel as number), view);
  };
  const main = unpickle(bytes, { source, offset: sys.end, persistentLoad });
  const keysPickle = unpickle(bytes, { source, offset: main.end });
  const keys = keysPickle.value;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) fail('its list of storage keys is missing or damaged: the file is corrupt');
  // The storages follow in the order of that list: an int64 element count, then the bytes.
  const data = new Map<string, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = keysPickle.end;
  for (const k of keys as string[]) {
    const root = roots.get(k);
    if (!root) fail(`its storage list names "${k}", which no tensor declared: the file is corrupt`);
    if (at + 8 > bytes.length) fail(`storage "${k}" starts past the end of the file (${bytes.length} bytes): the file is truncated`);
    const count = view.getBigInt64(at, !bigEndian);
    if (count !== BigInt(root!.numel)) fail(`storage "${k}" is stored with ${count} elements but declared with ${root!.numel}: the file is corrupt`);
    const n = root!.numel * ITEM_SIZE[root!.dtype];
    if (at + 8 + n > bytes.length) fail(`storage "${k}" (${n} bytes at ${at + 8}) runs past the end of the file (${bytes.length} bytes): the file is truncated`);
    data.set(k, bytes.subarray(at + 8, at + 8 + n));
    at += 8 + n;
  }
  if (at !== bytes.length) fail(`${bytes.length - at} bytes follow the last storage: the file is corrupt or something was appended`);
  const { dict, key } = findStateDict(main.value, source, opts.key);
  const { tensors, skipped } = collect(dict, opts, (name, t) => {
    const s = t.storage;
    const rootKey = s.view ? s.view.key : s.key;
    const root = roots.get(rootKey);
    const all = data.get(rootKey);
    if (!root || !all) fail(`tensor "${name}" uses storage "${rootKey}", whose data the file does not hold: the file is corrupt`);
    const es = ITEM_SIZE[s.dtype];
    const off = s.view ? s.view.offset : 0;
    if (s.view && (off < 0 || off + s.numel > root!.numel)) fail(`tensor "${name}" views elements outside its storage: the file is corrupt`);
    return gather(name, t, all!.subarray(off * es, (off + s.numel) * es), s.numel, bigEndian, fail);
  });
  return { format: 'legacy', tensors, key, skipped };
}

/** Parses a checkpoint held in memory; `source` names it in errors. */
export function parsePth(bytes: Uint8Array, source = '<buffer>', opts: ReadPthOptions = {}): PthContent {
  if (bytes.length === 0) throw new Error(`${source}: the file is empty`);
  return looksLikeZip(bytes) ? parseZip(bytes, source, opts) : parseLegacy(bytes, source, opts);
}

/** Reads a checkpoint file (.pth / .pt). */
export function readPth(path: string, opts: ReadPthOptions = {}): PthContent {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  return parsePth(bytes, path, opts);
}
