// Every dataset name the library knows, what `list()` says about each, and `load()`.
// The built-in synthetic datasets live in ./synthetic/ (it exports `synthetic`, a list of
// DatasetEntry). Listing is synchronous: presence is a stat of the expected folder.

import type { Dataset, DatasetDescriptor, DatasetEntry, LoadOptions } from './types.js';
import { dataRoot } from './paths.js';
import { REFERENCE_DATASETS, describeReference, loadReference } from './loaders/medianomaly.js';
import { type IdxName, describeIdx, loadIdx } from './loaders/idx.js';
import { type FolderKind, describeFolder, loadFolder } from './loaders/folder.js';
import { synthetic } from './synthetic/index.js';

const FOLDER_KINDS: readonly FolderKind[] = ['folder', 'dicom', 'nifti'];

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
  ...FOLDER_KINDS.map((name): DatasetEntry => ({
    name,
    describe: () => describeFolder(name),
    load: (o) => loadFolder(name, o),
  })),
];

const all: DatasetEntry[] = (() => {
  const names = new Set(builtin.map((e) => e.name));
  return [...builtin, ...synthetic.filter((e) => !names.has(e.name))];
})();

/** Descriptors of every known dataset, with whether its data is present under the root. */
export function list(options: { root?: string } = {}): DatasetDescriptor[] {
  const root = dataRoot(options.root);
  return all.map((e) => e.describe(root));
}

/** Every known dataset name. */
export function names(): string[] {
  return all.map((e) => e.name);
}

/** Loads a dataset by name; see LoadOptions for the options. */
export async function load(name: string, options: LoadOptions = {}): Promise<Dataset> {
  if (typeof name !== 'string' || name === '') throw new TypeError('load: name must be a dataset name (see list())');
  const entry = all.find((e) => e.name === name);
  if (!entry) throw new RangeError(`unknown dataset '${name}'; known datasets: ${all.map((e) => e.name).join(', ')}`);
  // Silently ignoring it would test on the dataset's own split while the caller thinks otherwise.
  if (options.testPath !== undefined && !FOLDER_KINDS.includes(name as FolderKind)) {
    throw new RangeError(`load('${name}'): testPath applies to the folder, dicom and nifti datasets only; ${name} has its own test split`);
  }
  return entry.load({ ...options, root: dataRoot(options.root) });
}
