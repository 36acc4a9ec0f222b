// The native `cpu` backend: loads build/Release/medianomaly.node (C++ kernels, N-API)
// and exposes it as a Backend. A missing or unloadable addon is not an error here: the
// backend reports why through unavailableReason() and the registry falls back to `ts`.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KERNEL_NAMES, type Backend, type KernelName, type KernelTable } from './types.js';

export type BlasMode = 'auto' | 'openblas' | 'builtin';

/** What the addon exports besides the kernels. */
interface AddonControls {
  setThreads(n: number): void;
  getThreads(): number;
  setBlas(mode: BlasMode): void;
  getBlas(): { mode: BlasMode; active: 'openblas' | 'builtin' };
  info(): Record<string, unknown>;
}
type Addon = Partial<KernelTable> & AddonControls;

// src/backend/native.ts and dist/backend/native.js are both two levels below the package root.
const here = dirname(fileURLToPath(import.meta.url));
/** Where the addon is loaded from (MEDIANOMALY_ADDON overrides, for out-of-tree builds). */
export const nativeAddonPath = process.env.MEDIANOMALY_ADDON ?? join(here, '..', '..', 'build', 'Release', 'medianomaly.node');

let addon: Addon | null = null;
let loadError: string | null = null;
try {
  addon = createRequire(import.meta.url)(nativeAddonPath) as Addon;
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  loadError =
    e.code === 'MODULE_NOT_FOUND'
      ? `the native addon is not built (${nativeAddonPath} is missing; run \`npm run build:native\`)`
      : `the native addon failed to load: ${e.message.split('\n')[0]}`;
}

function kernelsOf(a: Addon | null): Partial<KernelTable> {
  const out: Partial<Record<KernelName, unknown>> = {};
  if (!a) return out as Partial<KernelTable>;
  for (const name of KERNEL_NAMES) {
    const fn = a[name];
    if (typeof fn === 'function') out[name] = fn; // called directly: same (params, inputs..., outputs...) order
  }
  return out as Partial<KernelTable>;
}

function loaded(): Addon {
  if (!addon) throw new Error(`medianomaly cpu backend unavailable: ${loadError}`);
  return addon;
}

export const cpuBackend: Backend = {
  name: 'cpu',
  unavailableReason: () => loadError,
  kernels: kernelsOf(addon),
  info: () => (addon ? { ...addon.info(), kernels: Object.keys(kernelsOf(addon)).length } : { unavailable: loadError }),
};

/** Threads of the native pool (also OpenBLAS's). Default: MEDIANOMALY_THREADS or the hardware threads. */
export function setThreads(n: number): void {
  loaded().setThreads(n);
}

export function getThreads(): number {
  return loaded().getThreads();
}

/** GEMM engine: 'auto' (OpenBLAS when linked), 'openblas' or 'builtin'. Default: MEDIANOMALY_BLAS. */
export function setBlas(mode: BlasMode): void {
  loaded().setBlas(mode);
}

export function getBlas(): { mode: BlasMode; active: 'openblas' | 'builtin' } {
  return loaded().getBlas();
}
