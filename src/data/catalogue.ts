// Every dataset name the library knows, what `list()` says about each, and `load()`.
// The built-in synthetic datasets live in ./synthetic/ and are registered by name when that
// module is present (it exports `synthetic`, a list of DatasetEntry).

import type { Dataset, DatasetDescriptor, DatasetEntry, LoadOptions } from './types.js';
import { dataRoot } from './paths.js';
import { REFERENCE_DATASETS, describeReference, loadReference } from './loaders/medianomaly.js';
import { type IdxName, describeIdx, loadIdx } from './loaders/idx.js';
import { type FolderKind, describeFolder, loadFolder } from './loaders/folder.js';

const builtin: DatasetEntry[] = [
  ...REFERENCE_DATASETS.map((def): DatasetEntry => ({
    name: def.name,
    describe: (root) => describeReference(def, root),
    load: (o) => loadReference(def, o),
  })),
  ...(['mnist', 'fashion-mnist'] as IdxName[]).map((name): DatasetEntry => ({
    name,
    describe: (root) => describeIdx(name, root),
    load: (o) => loadIdx(name, o),
  })),
  ...(['folder', 'dicom', 'nifti'] as FolderKind[]).map((name): DatasetEntry => ({
    name,
    describe: () => describeFolder(name),
    load: (o) => loadFolder(name, o),
  })),
];

let syntheticCache: Promise<DatasetEntry[]> | undefined;

function isEntry(x: unknown): x is DatasetEntry {
  const e = x as Partial<DatasetEntry> | null;
  return !!e && typeof e.name === 'string' && typeof e.load === 'function';
}

/** The synthetic datasets, imported on first use; none when the module is absent. */
function syntheticEntries(): Promise<DatasetEntry[]> {
  syntheticCache ??= (async () => {
    const specifier = './synthetic/index.js'; // a variable: the module is optional at build time
    let mod: { synthetic?: unknown };
    try {
      mod = (await import(specifier)) as { synthetic?: unknown };
    } catch (err) {
      const code = (err as { code?: string }).code;
      // Only the module itself being absent means "no synthetic datasets"; a missing import
      // inside it is a bug to report.
      if (code === 'ERR_MODULE_NOT_FOUND' && /Cannot find module '[^']*synthetic[/\\]index\.[jt]s'/.test(String((err as Error).message))) return [];
      throw err;
    }
    const s = mod.synthetic;
    const entries = Array.isArray(s) ? s : s && typeof s === 'object' ? Object.values(s) : [];
    return entries.filter(isEntry);
  })();
  return syntheticCache;
}

async function entries(): Promise<DatasetEntry[]> {
  const synth = await syntheticEntries();
  const names = new Set(builtin.map((e) => e.name));
  return [...builtin, ...synth.filter((e) => !names.has(e.name))];
}

/** Descriptors of every known dataset, with whether its data is present under the root. */
export async function list(options: { root?: string } = {}): Promise<DatasetDescriptor[]> {
  const root = dataRoot(options.root);
  const all = await entries();
  return Promise.all(
    all.map(async (e) => {
      if (typeof e.describe === 'function') return e.describe(root);
      return { name: e.name, title: e.name, modality: 'generic', kind: 'synthetic', channels: 1, hasMasks: false, present: true, requires: [], howToGet: 'generated' } satisfies DatasetDescriptor;
    }),
  );
}

/** Every known dataset name. */
export async function names(): Promise<string[]> {
  return (await entries()).map((e) => e.name);
}

/** Loads a dataset by name; see LoadOptions for the options. */
export async function load(name: string, options: LoadOptions = {}): Promise<Dataset> {
  if (typeof name !== 'string' || name === '') throw new TypeError('load: name must be a dataset name (see list())');
  const all = await entries();
  const entry = all.find((e) => e.name === name);
  if (!entry) throw new RangeError(`unknown dataset '${name}'; known datasets: ${all.map((e) => e.name).join(', ')}`);
  return entry.load({ ...options, root: dataRoot(options.root) });
}
