// The backend registry: which kernel table the engine dispatches to.
//
// Selection: MEDIANOMALY_BACKEND (ts|cpu|cuda) when set, otherwise the first available
// of cuda > cpu > ts. The effective table takes every kernel the chosen backend has and
// falls back to the `ts` reference for the rest; each fallback is reported once on
// stderr when it is first used, so a missing native kernel is never silent.
//
// The environment override is resolved lazily, on the first kernels()/currentBackend()
// call, so that `medianomaly backends` can still list the backends when it names an
// unavailable one.
import { KERNEL_NAMES, type Backend, type KernelName, type KernelTable } from './types.js';
import { tsBackend, tsKernels } from './ts/index.js';
import { cpuBackend } from './native.js';

export type BackendName = Backend['name'];

export interface BackendStatus {
  name: BackendName;
  available: boolean;
  reason: string | null;
  info: Record<string, unknown>;
}

/** Order of preference when nothing is forced. */
const PREFERENCE: BackendName[] = ['cuda', 'cpu', 'ts'];

const registered = new Map<BackendName, Backend>([
  ['ts', tsBackend],
  ['cpu', cpuBackend],
]);

/** Adds (or replaces) a backend, e.g. the CUDA addon once it is loaded. Reselects on next use. */
export function registerBackend(b: Backend): void {
  registered.set(b.name, b);
  current = null; // reselect on next use: by forced name if any, else by preference
  raw = null;
  wrapped = null;
}

function reasonOf(name: BackendName): string | null {
  const b = registered.get(name);
  if (!b) return name === 'cuda' ? 'this build has no CUDA backend' : `no '${name}' backend is registered`;
  try {
    return b.unavailableReason();
  } catch (e) {
    return `its availability check failed: ${(e as Error).message}`;
  }
}

export function backends(): BackendStatus[] {
  return PREFERENCE.map((name) => {
    const reason = reasonOf(name);
    let info: Record<string, unknown> = {};
    const b = registered.get(name);
    if (b && reason === null) {
      try {
        info = b.info();
      } catch (e) {
        info = { error: (e as Error).message };
      }
    }
    return { name, available: reason === null, reason, info };
  });
}

let current: Backend | null = null;
let forcedName: BackendName | null = null; // set by setBackend: survives registerBackend
let raw: KernelTable | null = null; // the effective table (backend kernels + ts fallbacks)
let wrapped: KernelTable | null = null; // `raw` seen through the dispatch wrapper (profiling)
let wrapper: ((name: KernelName, fn: (...args: never[]) => void) => (...args: never[]) => void) | null = null;
const reportedFallbacks = new Set<string>();

function checkName(name: string, origin: string): BackendName {
  if (!(PREFERENCE as string[]).includes(name)) {
    throw new Error(`${origin}: unknown backend '${name}'; use one of ${PREFERENCE.join(', ')}`);
  }
  const reason = reasonOf(name as BackendName);
  if (reason !== null) {
    const others = PREFERENCE.filter((n) => reasonOf(n) === null).join(', ');
    throw new Error(`${origin}: backend '${name}' is not available (${reason}); available: ${others}`);
  }
  return name as BackendName;
}

/** Forces a backend by name; throws for an unknown or unavailable one. */
export function setBackend(name: string): void {
  const chosen = checkName(name, 'setBackend');
  select(registered.get(chosen)!);
  forcedName = chosen;
}

function select(b: Backend): void {
  current = b;
  raw = buildTable(b);
  wrapped = null;
}

function resolve(): Backend {
  if (current) return current;
  if (forcedName) {
    select(registered.get(checkName(forcedName, 'setBackend'))!);
    return current!;
  }
  const env = process.env.MEDIANOMALY_BACKEND;
  if (env !== undefined && env !== '') {
    select(registered.get(checkName(env, 'MEDIANOMALY_BACKEND'))!);
    return current!;
  }
  for (const name of PREFERENCE) {
    if (reasonOf(name) === null) {
      select(registered.get(name)!);
      return current!;
    }
  }
  throw new Error('no compute backend is available (not even ts)'); // unreachable: ts is always available
}

/** The name of the backend in use. */
export function currentBackend(): BackendName {
  return resolve().name;
}

/** The backend that actually runs a kernel now: the chosen one, or `ts` when it lacks it. */
export function kernelBackend(name: KernelName): BackendName {
  const b = resolve();
  return b.kernels[name] ? b.name : 'ts';
}

/** The effective kernel table. Cheap: returns a prebuilt object. */
export function kernels(): KernelTable {
  if (!raw) resolve();
  if (wrapper) return wrapped ?? (wrapped = wrapTable(raw!, wrapper));
  return raw!;
}

/**
 * Installs (or, with null, removes) a function that wraps every kernel dispatch, used by
 * the profiler. With none installed, kernels() returns the plain table: no overhead.
 */
export function setKernelWrapper(
  w: ((name: KernelName, fn: (...args: never[]) => void) => (...args: never[]) => void) | null,
): void {
  wrapper = w;
  wrapped = null;
}

function wrapTable(
  table: KernelTable,
  w: (name: KernelName, fn: (...args: never[]) => void) => (...args: never[]) => void,
): KernelTable {
  const out: Record<string, unknown> = {};
  for (const name of KERNEL_NAMES) {
    // Dispatch through `table` at call time: a fallback entry swaps itself out after reporting.
    const call = (...args: never[]) => (table[name] as (...a: never[]) => void)(...args);
    out[name] = w(name, call);
  }
  return out as unknown as KernelTable;
}

function buildTable(b: Backend): KernelTable {
  const table: Record<string, unknown> = {};
  for (const name of KERNEL_NAMES) {
    const own = b.kernels[name];
    if (own) {
      table[name] = own;
      continue;
    }
    // Looked up at call time: the ts table may be completed after this table is built.
    table[name] = (...args: never[]) => {
      const fallback = tsKernels[name] as ((...a: never[]) => void) | undefined;
      if (!fallback) throw new Error(`kernel '${name}' is not implemented by the '${b.name}' backend nor by 'ts'`);
      if (b.name !== 'ts') {
        const key = `${b.name}:${name}`;
        if (!reportedFallbacks.has(key)) {
          reportedFallbacks.add(key);
          process.stderr.write(`medianomaly: backend '${b.name}' has no '${name}' kernel; using the ts kernel\n`);
        }
      }
      table[name] = fallback;
      return fallback(...args);
    };
  }
  return table as unknown as KernelTable;
}
