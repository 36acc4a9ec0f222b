// A restricted unpickler: it reads the pickles torch.save writes for state dicts and builds
// plain data, never calling anything. Python's pickle runs whatever callable a file names
// (GLOBAL + REDUCE), so a .pth from the internet can execute code in an unrestricted
// loader; here a GLOBAL is looked up in a fixed list of the names a state dict needs (the
// ones torch.load(weights_only=True) accepts for them) and any other name is refused with an
// error naming it, before anything else happens. The "calls" that remain (OrderedDict(),
// torch._utils._rebuild_tensor_v2(...), ...) only build descriptions: a tensor is a
// reference to a storage with an offset, a size and strides; the bytes are read later.

/** A torch storage met as a persistent id: ('storage', torch.FloatStorage, key, location, numel[, view]). */
export class StorageRef {
  constructor(
    readonly dtype: StorageDtype,
    readonly key: string,
    readonly numel: number,
    /** Legacy (pre-1.6) storage views: [root key, offset in elements, numel]. */
    readonly view: { key: string; offset: number; numel: number } | null = null,
  ) {}
}

/** A tensor as pickled: a view (offset, size, stride; in elements) of a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

/** An allowed global, as a value on the stack. */
class Global {
  constructor(readonly path: string) {}
}

/** A legacy tensor object (torch.FloatTensor()) waiting for its BUILD state. */
class LegacyTensor {
  ref: TensorRef | null = null;
  constructor(readonly cls: string) {}
}

export type StorageDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

/** Storage classes (torch.<Name>Storage) and the dtypes they hold. */
export const STORAGE_DTYPES: Record<string, StorageDtype> = {
  DoubleStorage: 'F64',
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
  UntypedStorage: 'U8',
};

// Pre-0.4 tensor classes, rebuilt by BUILD with (storage, offset, size, stride).
const LEGACY_TENSOR_CLASSES = ['DoubleTensor', 'FloatTensor', 'HalfTensor', 'BFloat16Tensor', 'LongTensor', 'IntTensor', 'ShortTensor', 'CharTensor', 'ByteTensor', 'BoolTensor'];

const ALLOWED = new Set<string>([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch._utils._rebuild_parameter_with_state',
  'torch.nn.parameter.Parameter',
  'torch.Size',
  'torch.Tensor',
  ...Object.keys(STORAGE_DTYPES).map((n) => `torch.${n}`),
  ...LEGACY_TENSOR_CLASSES.map((n) => `torch.${n}`),
  ...['float16', 'float32', 'float64', 'bfloat16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool'].map((n) => `torch.${n}`),
]);

// Storages that torch.load maps to an allowed name under another module path.
const ALIASES: Record<string, string> = {
  'torch.storage.UntypedStorage': 'torch.UntypedStorage',
  'torch.storage._LegacyStorage': 'torch.UntypedStorage',
  'torch._tensor.Tensor': 'torch.Tensor',
};

/** Thrown when a pickle names a global outside the allowed list (nothing was executed). */
export class RefusedGlobalError extends Error {
  constructor(
    readonly global: string,
    source: string,
  ) {
    const hint =
      /^torch\.nn\.modules\.|^torchvision\.models\./.test(global) || /^__main__\./.test(global)
        ? ' The file holds a whole pickled model, not a state dict: in Python, load it and save model.state_dict() with torch.save.'
        : ' A checkpoint that makes the loader call it either runs code when loaded (do not load it with torch.load either) or is not a plain state dict.';
    super(
      `${source}: refused to load: its pickle calls ${global}, which is not one of the tensor and state-dict types a weights file needs, so it was not executed.${hint}`,
    );
    this.name = 'RefusedGlobalError';
  }
}

export type PersistentLoad = (pid: unknown) => StorageRef;

export interface UnpickleResult {
  value: unknown;
  /** Bytes consumed (the STOP opcode included): legacy files hold several pickles in a row. */
  end: number;
}

export interface UnpickleOptions {
  source: string;
  persistentLoad?: PersistentLoad;
  /** Where to start reading. */
  offset?: number;
}

const MAX_DEPTH = 10_000;

export function isTuple(x: unknown): x is readonly unknown[] {
  return Array.isArray(x) && Object.isFrozen(x);
}

function tuple(items: unknown[]): readonly unknown[] {
  return Object.freeze(items);
}

function describeValue(x: unknown): string {
  if (x === null) return 'None';
  if (x instanceof Global) return x.path;
  if (x instanceof TensorRef || x instanceof LegacyTensor) return 'a tensor';
  if (x instanceof StorageRef) return 'a storage';
  if (x instanceof Map) return 'a dict';
  if (isTuple(x)) return 'a tuple';
  if (Array.isArray(x)) return 'a list';
  if (x instanceof Uint8Array) return 'bytes';
  return typeof x;
}

/**
 * Reads one pickle from `bytes` (starting at `opts.offset`). Dicts become Maps (insertion
 * order kept), lists arrays, tuples frozen arrays, ints numbers (bigint past 2^53), str
 * strings, bytes Uint8Arrays, tensors TensorRefs.
 */
export function unpickle(bytes: Uint8Array, opts: UnpickleOptions): UnpickleResult {
  const source = opts.source;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = opts.offset ?? 0;
  const fail = (problem: string): never => {
    throw new Error(`${source}: ${problem}`);
  };
  const corrupt = (what: string): never => fail(`the pickle is corrupt or truncated (${what} at byte ${pos})`);
  const need = (n: number): number => {
    if (n < 0 || pos + n > bytes.length) corrupt('it ends early');
    const at = pos;
    pos += n;
    return at;
  };
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const latin1 = new TextDecoder('latin1');
  const text = (n: number): string => {
    const at = need(n);
    try {
      return utf8.decode(bytes.subarray(at, at + n));
    } catch {
      return corrupt('a string that is not UTF-8');
    }
  };
  // Python 2 str (BINSTRING): torch.load decodes these as UTF-8 where it can.
  const py2str = (n: number): string => {
    const at = need(n);
    const b = bytes.subarray(at, at + n);
    try {
      return utf8.decode(b);
    } catch {
      return latin1.decode(b);
    }
  };
  const line = (): string => {
    const at = pos;
    while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
    if (pos >= bytes.length) corrupt('a line without its end');
    const s = latin1.decode(bytes.subarray(at, pos));
    pos++;
    return s;
  };

  let stack: unknown[] = [];
  const metastack: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const pop = (): unknown => {
    if (!stack.length) corrupt('a pop from an empty stack');
    return stack.pop();
  };
  const top = (): unknown => {
    if (!stack.length) corrupt('an empty stack');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) corrupt('a missing MARK');
    stack = prev!;
    return items;
  };
  const int = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
  const long = (n: number): number | bigint => {
    const at = need(n);
    if (n === 0) return 0;
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]);
    if (bytes[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
    return int(v);
  };
  const global = (module: string, name: string): Global => {
    let path = `${module}.${name}`;
    if (module === '__builtin__') path = `builtins.${name}`;
    path = ALIASES[path] ?? path;
    if (!ALLOWED.has(path)) {
      if (/^torch\.\w+Storage$/.test(path)) fail(`it holds a tensor stored as ${path}; only float (64, 32, 16, bfloat16), integer and bool tensors are supported`);
      throw new RefusedGlobalError(`${module}.${name}`, source);
    }
    return new Global(path);
  };
  const setItem = (d: unknown, k: unknown, v: unknown): void => {
    if (!(d instanceof Map)) fail(`the pickle sets an item on ${describeValue(d)}, which is not a dict`);
    (d as Map<unknown, unknown>).set(k, v);
  };

  for (;;) {
    if (metastack.length > MAX_DEPTH) corrupt('nesting deeper than any state dict');
    const op = bytes[need(1)];
    switch (op) {
      case 0x80: // PROTO
        if (bytes[need(1)] > 5) corrupt('an unknown pickle protocol');
        break;
      case 0x95: // FRAME (protocol 4): the frame length only; the contents follow inline
        need(8);
        break;
      case 0x2e: // STOP
        if (stack.length !== 1 || metastack.length) corrupt('STOP with an unbalanced stack');
        return { value: stack[0], end: pos };
      case 0x28: // MARK
        metastack.push(stack);
        stack = [];
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        stack.push(view.getInt32(need(4), true));
        break;
      case 0x4b: // BININT1
        stack.push(bytes[need(1)]);
        break;
      case 0x4d: // BININT2
        stack.push(view.getUint16(need(2), true));
        break;
      case 0x8a: // LONG1
        stack.push(long(bytes[need(1)]));
        break;
      case 0x8b: {
        // LONG4
        const n = view.getInt32(need(4), true);
        if (n < 0 || n > 64) corrupt('an integer longer than any size or offset');
        stack.push(long(n));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        stack.push(view.getFloat64(need(8), false));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(view.getUint32(need(4), true)));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(bytes[need(1)]));
        break;
      case 0x8d: {
        // BINUNICODE8
        const n = view.getBigUint64(need(8), true);
        stack.push(text(n > BigInt(bytes.length) ? -1 : Number(n)));
        break;
      }
      case 0x55: // SHORT_BINSTRING (Python 2 str)
        stack.push(py2str(bytes[need(1)]));
        break;
      case 0x54: // BINSTRING
        stack.push(py2str(view.getInt32(need(4), true)));
        break;
      case 0x43: {
        // SHORT_BINBYTES
        const n = bytes[need(1)];
        const at = need(n);
        stack.push(bytes.slice(at, at + n));
        break;
      }
      case 0x42: {
        // BINBYTES
        const n = view.getUint32(need(4), true);
        const at = need(n);
        stack.push(bytes.slice(at, at + n));
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(tuple([]));
        break;
      case 0x85: // TUPLE1
        stack.push(tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        const a = pop();
        stack.push(tuple([a, b, c]));
        break;
      }
      case 0x74: {
        // TUPLE (popMark first: it swaps `stack`)
        const items = popMark();
        stack.push(tuple(items));
        break;
      }
      case 0x6c: {
        // LIST
        const items = popMark();
        stack.push(items);
        break;
      }
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map();
        for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x61: {
        // APPEND
        const item = pop();
        const list = top();
        if (!Array.isArray(list) || isTuple(list)) fail(`the pickle appends to ${describeValue(list)}, which is not a list`);
        (list as unknown[]).push(item);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list) || isTuple(list)) fail(`the pickle appends to ${describeValue(list)}, which is not a list`);
        for (const it of items) (list as unknown[]).push(it);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItem(top(), k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        if (items.length % 2) corrupt('SETITEMS with an odd item count');
        const d = top();
        for (let i = 0; i < items.length; i += 2) setItem(d, items[i], items[i + 1]);
        break;
      }
      case 0x71: // BINPUT
        memo.set(bytes[need(1)], top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(view.getUint32(need(4), true), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = op === 0x68 ? bytes[need(1)] : view.getUint32(need(4), true);
        if (!memo.has(k)) corrupt(`a reference to memo entry ${k}, never stored`);
        stack.push(memo.get(k));
        break;
      }
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x63: {
        // GLOBAL: refused here, before anything else, unless allowed
        const module = line();
        const name = line();
        stack.push(global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') corrupt('STACK_GLOBAL without two strings');
        stack.push(global(module as string, name as string));
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) fail('the pickle refers to external data (a persistent id) where none is expected');
        stack.push(opts.persistentLoad!(pid));
        break;
      }
      case 0x52: {
        // REDUCE: only the allowed constructors, and they only build descriptions
        const args = pop();
        const fn = pop();
        if (!(fn instanceof Global)) fail(`the pickle calls ${describeValue(fn)}, which is not callable here`);
        if (!isTuple(args)) corrupt('REDUCE without an argument tuple');
        stack.push(reduce((fn as Global).path, args as readonly unknown[], fail));
        break;
      }
      case 0x81: {
        // NEWOBJ: torch.nn.Parameter(data, requires_grad) only
        const args = pop();
        const cls = pop();
        if (!(cls instanceof Global) || cls.path !== 'torch.nn.parameter.Parameter' || !isTuple(args)) {
          fail(`the pickle instantiates ${describeValue(cls)}; only torch.nn.Parameter is accepted`);
        }
        const data = (args as readonly unknown[])[0];
        stack.push(asTensor(data, 'torch.nn.Parameter', fail));
        break;
      }
      case 0x62: {
        // BUILD: an OrderedDict's attributes (state dict _metadata), a Parameter's state, a legacy tensor's data
        const state = pop();
        const inst = top();
        if (inst instanceof Map) {
          if (!(state instanceof Map) && state !== null && !isTuple(state)) fail(`the pickle sets ${describeValue(state)} as a dict's attributes`);
        } else if (inst instanceof LegacyTensor) {
          if (!isTuple(state) || (state as readonly unknown[]).length < 4) fail(`the pickle sets up a legacy ${inst.cls} from ${describeValue(state)}`);
          const [storage, offset, size, stride] = state as readonly unknown[];
          inst.ref = rebuildTensor([storage, offset, size, stride], `torch.${inst.cls}`, fail);
        } else if (!(inst instanceof TensorRef)) {
          fail(`the pickle sets the state of ${describeValue(inst)}; only dicts, tensors and parameters are accepted`);
        }
        break;
      }
      default:
        corrupt(`opcode 0x${op.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(op))}), which a weights file never uses`);
    }
  }
}

function asInt(x: unknown): number | null {
  if (typeof x === 'number' && Number.isSafeInteger(x)) return x;
  return null;
}

function asIntTuple(x: unknown): number[] | null {
  if (!Array.isArray(x)) return null;
  const out: number[] = [];
  for (const v of x) {
    const n = asInt(v);
    if (n === null || n < 0) return null;
    out.push(n);
  }
  return out;
}

function asTensor(x: unknown, what: string, fail: (p: string) => never): TensorRef {
  if (x instanceof TensorRef) return x;
  if (x instanceof LegacyTensor && x.ref) return x.ref;
  return fail(`${what} is given ${describeValue(x)} instead of a tensor`);
}

function rebuildTensor(args: readonly unknown[], fn: string, fail: (p: string) => never): TensorRef {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) fail(`${fn} is given ${describeValue(storage)} instead of a storage`);
  const off = asInt(offset);
  const sz = asIntTuple(size);
  const st = asIntTuple(stride);
  if (off === null || off < 0 || !sz || !st || sz.length !== st.length) {
    fail(`${fn} is given an invalid offset, size or stride (${JSON.stringify([offset, size, stride], (_k, v) => (typeof v === 'bigint' ? String(v) : v))})`);
  }
  return new TensorRef(storage as StorageRef, off!, sz!, st!);
}

function reduce(fn: string, args: readonly unknown[], fail: (p: string) => never): unknown {
  switch (fn) {
    case 'collections.OrderedDict': {
      const d = new Map();
      const init = args[0];
      if (init !== undefined) {
        if (!Array.isArray(init)) fail(`collections.OrderedDict is given ${describeValue(init)}`);
        for (const pair of init as unknown[]) {
          if (!Array.isArray(pair) || pair.length !== 2) fail('collections.OrderedDict is given an item that is not a pair');
          d.set((pair as unknown[])[0], (pair as unknown[])[1]);
        }
      }
      return d;
    }
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2':
      if (args.length < 4) fail(`${fn} is given ${args.length} arguments`);
      return rebuildTensor(args, fn, fail);
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      return asTensor(args[0], fn, fail);
    case 'torch.Size':
      if (!Array.isArray(args[0])) fail(`torch.Size is given ${describeValue(args[0])}`);
      return tuple([...(args[0] as unknown[])]);
    default: {
      const cls = fn.slice('torch.'.length);
      if (LEGACY_TENSOR_CLASSES.includes(cls) && args.length === 0) return new LegacyTensor(cls);
      return fail(`the pickle calls ${fn} with ${args.length} argument(s), which a state dict never does`);
    }
  }
}

/** The tensor a value is (a rebuilt tensor, or a legacy tensor once BUILD set it up), else null. */
export function tensorOf(x: unknown): TensorRef | null {
  if (x instanceof TensorRef) return x;
  if (x instanceof LegacyTensor) return x.ref;
  return null;
}

/** For persistent ids: the storage class a GLOBAL named, as a dtype. */
export function storageDtypeOf(x: unknown): StorageDtype | null {
  if (!(x instanceof Global)) return null;
  const name = x.path.startsWith('torch.') ? x.path.slice(6) : '';
  return STORAGE_DTYPES[name] ?? null;
}

export function globalName(x: unknown): string | null {
  return x instanceof Global ? x.path : null;
}
