// MNIST and Fashion-MNIST as one-class benchmarks: the images of `normalClass` from the
// standard training file are the train split; the whole standard test file is the test
// split, the normal class labelled 0 and every other class 1.
//
// Files are looked up, in order, under `path` (when given), under the data root (torchvision's
// <Name>/raw/ layout and a few spellings), and where Debian's packages install them
// (/usr/share/datasets/<name>/, package dataset-fashion-mnist for Fashion-MNIST).

import { join } from 'node:path';
import type { Dataset, DatasetDescriptor, LoadOptions } from '../types.js';
import { DatasetError, reasonOf } from '../errors.js';
import { expandPath, isFile, isFileSync } from '../paths.js';
import { parseIdx } from '../decode/idx.js';
import { readCapped } from '../decode/index.js';
import type { SourceItem } from '../split.js';
import { assemble, reject, resolveOptions } from './common.js';

export type IdxName = 'mnist' | 'fashion-mnist';

interface IdxDef {
  name: IdxName;
  title: string;
  modality: string;
  /** Folders under the data root, first match wins. */
  dirs: string[];
  /** System folders (Debian packages). */
  system: string[];
  classes: string[];
  howToGet: string;
}

export const IDX_DATASETS: Record<IdxName, IdxDef> = {
  mnist: {
    name: 'mnist', title: 'MNIST (one class normal)', modality: 'handwritten-digits',
    dirs: ['MNIST/raw', 'MNIST', 'mnist'], system: ['/usr/share/datasets/mnist'],
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    howToGet: 'put train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (optionally .gz) in <root>/MNIST/',
  },
  'fashion-mnist': {
    name: 'fashion-mnist', title: 'Fashion-MNIST (one class normal)', modality: 'clothing',
    dirs: ['FashionMNIST/raw', 'FashionMNIST', 'fashion-mnist', 'Fashion-MNIST'], system: ['/usr/share/datasets/fashion-mnist'],
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    howToGet: 'install the Debian package dataset-fashion-mnist (files land in /usr/share/datasets/fashion-mnist/), or put the four IDX files in <root>/FashionMNIST/',
  },
};

const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
type FileKey = keyof typeof FILES;

async function findFile(dir: string, base: string): Promise<string | undefined> {
  for (const name of [base, `${base}.gz`]) if (await isFile(join(dir, name))) return join(dir, name);
  return undefined;
}

/** The folder holding all four files, searched in the documented order. */
export async function findIdxFolder(def: IdxDef, root: string, path?: string): Promise<{ dir: string; files: Record<FileKey, string> } | undefined> {
  const dirs = path !== undefined ? [expandPath(path)] : [...def.dirs.map((d) => join(root, d)), ...def.system];
  for (const dir of dirs) {
    const files: Partial<Record<FileKey, string>> = {};
    for (const k of Object.keys(FILES) as FileKey[]) {
      const f = await findFile(dir, FILES[k]);
      if (f) files[k] = f;
    }
    if (Object.keys(files).length === 4) return { dir, files: files as Record<FileKey, string> };
  }
  return undefined;
}

/** findIdxFolder with synchronous stats, for list(). */
function findIdxFolderSync(def: IdxDef, root: string): string | undefined {
  const dirs = [...def.dirs.map((d) => join(root, d)), ...def.system];
  return dirs.find((dir) =>
    (Object.keys(FILES) as FileKey[]).every((k) => isFileSync(join(dir, FILES[k])) || isFileSync(join(dir, `${FILES[k]}.gz`))),
  );
}

export function describeIdx(name: IdxName, root: string): DatasetDescriptor {
  const def = IDX_DATASETS[name];
  const found = findIdxFolderSync(def, root);
  return {
    name, title: def.title, modality: def.modality, kind: 'benchmark', channels: 1, hasMasks: false,
    present: found !== undefined, location: found ?? join(root, def.dirs[1]!), requires: [], howToGet: def.howToGet,
  };
}

export async function loadIdx(name: IdxName, options: LoadOptions & { root: string }): Promise<Dataset> {
  const def = IDX_DATASETS[name];
  const ctx = resolveOptions(name, options, 1);
  const normalClass = options.normalClass ?? 0;
  if (!Number.isInteger(normalClass) || normalClass < 0 || normalClass >= def.classes.length) {
    throw new RangeError(`normalClass must be an integer in [0, ${def.classes.length - 1}] for ${name}, got ${normalClass}`);
  }
  const found = await findIdxFolder(def, ctx.root, options.path);
  if (!found) {
    const looked = options.path !== undefined ? [expandPath(options.path)] : [...def.dirs.map((d) => join(ctx.root, d)), ...def.system];
    throw new DatasetError(`${name}: dataset not found; looked in ${looked.join(', ')}. To get it, ${def.howToGet}`, name, looked[0]);
  }
  const read = async (k: FileKey) => {
    const path = found.files[k];
    try {
      return { path, idx: parseIdx(await readCapped(path, ctx.frame.limits), path, ctx.frame.limits) };
    } catch (err) {
      // The four files are one unit: a bad one cannot be skipped item by item.
      throw new DatasetError(`${name}: cannot read ${path}: ${reasonOf(err)}`, name, path, { cause: err });
    }
  };
  const split = async (imagesKey: FileKey, labelsKey: FileKey, split: 'train' | 'test'): Promise<SourceItem[]> => {
    const images = await read(imagesKey);
    const labels = await read(labelsKey);
    const [n, h, w] = images.idx.dims;
    if (images.idx.dims.length !== 3 || labels.idx.dims.length !== 1 || labels.idx.dims[0] !== n) {
      throw new DatasetError(
        `${name}: ${images.path} (dims ${images.idx.dims.join('×')}) and ${labels.path} (dims ${labels.idx.dims.join('×')}) do not match`,
        name, images.path,
      );
    }
    const items: SourceItem[] = [];
    const prefix = split === 'train' ? 'train' : 't10k';
    for (let i = 0; i < n!; i++) {
      const cls = labels.idx.data[i]!;
      if (cls >= def.classes.length) {
        reject(ctx, split, `${labels.path}#${i}`, `class ${cls} is not one of the ${def.classes.length} classes`);
        continue;
      }
      if (split === 'train' && cls !== normalClass) continue;
      const pixels = images.idx.data.subarray(i * h! * w!, (i + 1) * h! * w!);
      items.push({
        id: `${prefix}-${String(i).padStart(5, '0')}`,
        path: `${images.path}#${i}`,
        label: cls === normalClass ? 0 : 1,
        read: async () => ({ image: { width: w!, height: h!, channels: 1, data: pixels } }),
      });
    }
    return items;
  };
  const train = await split('trainImages', 'trainLabels', 'train');
  const test = await split('testImages', 'testLabels', 'test');
  return assemble(ctx, {
    title: def.title, modality: def.modality, source: found.dir, train, test, hasMasks: false,
    options: { normalClass, normalClassName: def.classes[normalClass] },
  });
}
