// The seven MedIAnomaly benchmark datasets, read exactly as the reference code reads them
// (reference code: caiyu6666/MedIAnomaly reconstruction/dataloaders/dataload.py; methods.md §2).
//
//   RSNA, VinCXR, BrainTumor, LAG  images/ + data.json: train["0"]; test["0"] then test["1"]
//   ISIC2018_Task3                 official one-hot CSVs: NV == 1 normal, NV == 0 abnormal
//   Camelyon16                     train/good; test/good then test/Ungood
//   BraTS2021                      train/; test/normal then test/tumor; masks in test/annotation
//                                  named by replacing "flair" with "seg"
//
// Ids follow the reference's `name.split('.')[0]`. Directory listings are sorted by name
// (quirk `sortListings`, default true; the reference takes the file system's order).

import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Dataset, DatasetDescriptor, ExpectedCounts, LoadOptions, Modality } from '../types.js';
import { DatasetError, reasonOf } from '../errors.js';
import { containedPath, expandPath, isDirectory, isDirectorySync, isFile, isFileSync, referenceId } from '../paths.js';
import { formatOf } from '../decode/index.js';
import { type FileCandidate, type LoadContext, assemble, expandFiles, resolveOptions } from './common.js';
import { readCsvFile } from './csv.js';

export const ZENODO_RECORD = '12677223';
export const ZENODO_URL = `https://zenodo.org/records/${ZENODO_RECORD}`;

type Layout = 'data-json' | 'isic' | 'camelyon16' | 'brats';

export interface ReferenceDataset {
  name: string;
  /** Folder under the data root. */
  dir: string;
  title: string;
  modality: Modality;
  layout: Layout;
  channels: 1 | 3;
  hasMasks: boolean;
  expected: ExpectedCounts;
}

/** methods.md §2.1 (counts from the reference repository's datasets table). */
export const REFERENCE_DATASETS: readonly ReferenceDataset[] = [
  { name: 'rsna', dir: 'RSNA', title: 'RSNA Pneumonia Detection Challenge', modality: 'chest-xray', layout: 'data-json', channels: 1, hasMasks: false, expected: { train: 3851, testNormal: 1000, testAbnormal: 1000 } },
  { name: 'vincxr', dir: 'VinCXR', title: 'VinDr-CXR', modality: 'chest-xray', layout: 'data-json', channels: 1, hasMasks: false, expected: { train: 4000, testNormal: 1000, testAbnormal: 1000 } },
  { name: 'brain-tumor', dir: 'BrainTumor', title: 'Brain Tumor MRI', modality: 'brain-mri', layout: 'data-json', channels: 1, hasMasks: false, expected: { train: 1000, testNormal: 600, testAbnormal: 600 } },
  { name: 'lag', dir: 'LAG', title: 'LAG (large-scale attention-based glaucoma)', modality: 'fundus', layout: 'data-json', channels: 1, hasMasks: false, expected: { train: 1500, testNormal: 811, testAbnormal: 811 } },
  { name: 'isic2018', dir: 'ISIC2018_Task3', title: 'ISIC2018 Task 3', modality: 'dermatoscopy', layout: 'isic', channels: 1, hasMasks: false, expected: { train: 6705, testNormal: 909, testAbnormal: 603 } },
  { name: 'camelyon16', dir: 'Camelyon16', title: 'Camelyon16 (patches)', modality: 'histopathology', layout: 'camelyon16', channels: 3, hasMasks: false, expected: { train: 5088, testNormal: 1120, testAbnormal: 1113 } },
  { name: 'brats2021', dir: 'BraTS2021', title: 'BraTS2021 (FLAIR slices)', modality: 'brain-mri', layout: 'brats', channels: 1, hasMasks: true, expected: { train: 4211, testNormal: 828, testAbnormal: 1948 } },
];

const ISIC_TRAIN_CSV = join('ISIC2018_Task3_Training_GroundTruth', 'ISIC2018_Task3_Training_GroundTruth.csv');
const ISIC_TEST_CSV = join('ISIC2018_Task3_Test_GroundTruth', 'ISIC2018_Task3_Test_GroundTruth.csv');

/** The file or folder whose presence means the dataset is there. */
function marker(def: ReferenceDataset, dir: string): string {
  switch (def.layout) {
    case 'data-json': return join(dir, 'data.json');
    case 'isic': return join(dir, ISIC_TRAIN_CSV);
    case 'camelyon16': return join(dir, 'train', 'good');
    case 'brats': return join(dir, 'train');
  }
}

export function howToGet(def: ReferenceDataset): string {
  if (def.layout === 'isic') {
    return 'download the ISIC 2018 Task 3 training and test inputs and ground-truth CSVs from the ISIC challenge archive ' +
      `and unpack them into ${def.dir}/ (folders ISIC2018_Task3_Training_Input, ISIC2018_Task3_Training_GroundTruth, ` +
      'ISIC2018_Task3_Test_Input, ISIC2018_Task3_Test_GroundTruth)';
  }
  return `download ${def.dir}.tar.gz from Zenodo record ${ZENODO_RECORD} (${ZENODO_URL}) and unpack it under the data root`;
}

export function describeReference(def: ReferenceDataset, root: string): DatasetDescriptor {
  const dir = join(root, def.dir);
  const m = marker(def, dir);
  const present = def.layout === 'camelyon16' || def.layout === 'brats' ? isDirectorySync(m) : isFileSync(m);
  return {
    name: def.name, title: def.title, modality: def.modality, kind: 'reference', channels: def.channels,
    hasMasks: def.hasMasks, present, location: dir, expected: def.expected, requires: [], howToGet: howToGet(def),
  };
}

/** Image file names of a folder (hidden files and non-images left out), sorted unless asked otherwise. */
export async function listImages(ctx: LoadContext, dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new DatasetError(`${ctx.dataset}: cannot list ${dir}: ${reasonOf(err)}`, ctx.dataset, dir, { cause: err });
  }
  names = names.filter((n) => !n.startsWith('.') && formatOf(n) !== undefined);
  return ctx.sortListings ? names.sort() : names;
}

function candidates(dir: string, names: readonly string[], label: 0 | 1): FileCandidate[] {
  return names.map((n) => ({ id: referenceId(n), path: join(dir, n), label, format: formatOf(n) ?? 'image' }));
}

/**
 * Refuses a file name from an index file that would leave its folder (`../`, absolute). The
 * whole index is refused, whatever `onError` says: it is not a bad file but an untrustworthy list.
 */
function checkEntry(ctx: LoadContext, dir: string, entry: string, where: string, indexPath: string): void {
  const c = containedPath(dir, entry);
  if (c.reason === undefined) return;
  throw new DatasetError(
    `${ctx.dataset}: ${indexPath}: ${where} "${entry}" ${c.reason}; entries must name files inside ${dir}. ` +
      'Fix the index file (an index that points elsewhere is refused as a whole)',
    ctx.dataset,
    indexPath,
  );
}

async function readJson(ctx: LoadContext, path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DatasetError(`${ctx.dataset}: cannot read ${path}: ${reasonOf(err)}`, ctx.dataset, path, { cause: err });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DatasetError(`${ctx.dataset}: ${path} is not valid JSON: ${reasonOf(err)}`, ctx.dataset, path, { cause: err });
  }
}

function stringList(ctx: LoadContext, json: unknown, keys: [string, string], path: string): string[] {
  const [a, b] = keys;
  const outer = (json as Record<string, unknown> | null)?.[a];
  const list = outer && typeof outer === 'object' ? (outer as Record<string, unknown>)[b] : undefined;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) {
    throw new DatasetError(`${ctx.dataset}: ${path} must have ${a}["${b}"] as a list of file names`, ctx.dataset, path);
  }
  return list as string[];
}

async function dataJsonFiles(ctx: LoadContext, dir: string): Promise<{ train: FileCandidate[]; test: FileCandidate[] }> {
  const jsonPath = join(dir, 'data.json');
  const json = await readJson(ctx, jsonPath);
  const images = join(dir, 'images');
  const train = stringList(ctx, json, ['train', '0'], jsonPath);
  const test0 = stringList(ctx, json, ['test', '0'], jsonPath);
  const test1 = stringList(ctx, json, ['test', '1'], jsonPath);
  for (const [key, list] of [['train["0"]', train], ['test["0"]', test0], ['test["1"]', test1]] as const) {
    list.forEach((name, i) => checkEntry(ctx, images, name, `entry ${key}[${i}]`, jsonPath));
  }
  // Files the list names but the disk lacks are reported by expandFiles (as missing files).
  return { train: candidates(images, train, 0), test: [...candidates(images, test0, 0), ...candidates(images, test1, 1)] };
}

async function isicFiles(ctx: LoadContext, dir: string): Promise<{ train: FileCandidate[]; test: FileCandidate[] }> {
  const read = async (csvRel: string, inputDir: string) => {
    const csvPath = join(dir, csvRel);
    const rows = await readCsvFile(ctx.dataset, csvPath);
    const header = rows[0] ?? [];
    const iImage = header.indexOf('image');
    const iNV = header.indexOf('NV');
    if (iImage < 0 || iNV < 0) throw new DatasetError(`${ctx.dataset}: ${csvPath} must have columns 'image' and 'NV'`, ctx.dataset, csvPath);
    const normal: string[] = [];
    const abnormal: string[] = [];
    for (let r = 1; r < rows.length; r++) {
      const row = rows[r]!;
      if (row.length === 1 && row[0] === '') continue;
      const nv = Number(row[iNV]);
      if (!row[iImage] || !Number.isFinite(nv)) {
        throw new DatasetError(`${ctx.dataset}: ${csvPath} line ${r + 1}: expected an image name and a numeric NV`, ctx.dataset, csvPath);
      }
      checkEntry(ctx, join(dir, inputDir), `${row[iImage]}.jpg`, `line ${r + 1}: image "${row[iImage]}" →`, csvPath);
      // pandas: data_csv['NV'] == 1 / == 0; other values (none in the official files) are neither.
      if (nv === 1) normal.push(`${row[iImage]}.jpg`);
      else if (nv === 0) abnormal.push(`${row[iImage]}.jpg`);
    }
    const input = join(dir, inputDir);
    return { normal: candidates(input, normal, 0), abnormal: candidates(input, abnormal, 1) };
  };
  const tr = await read(ISIC_TRAIN_CSV, 'ISIC2018_Task3_Training_Input');
  const te = await read(ISIC_TEST_CSV, 'ISIC2018_Task3_Test_Input');
  return { train: tr.normal, test: [...te.normal, ...te.abnormal] };
}

async function camelyonFiles(ctx: LoadContext, dir: string): Promise<{ train: FileCandidate[]; test: FileCandidate[] }> {
  const d = (...p: string[]) => join(dir, ...p);
  return {
    train: candidates(d('train', 'good'), await listImages(ctx, d('train', 'good')), 0),
    test: [
      ...candidates(d('test', 'good'), await listImages(ctx, d('test', 'good')), 0),
      ...candidates(d('test', 'Ungood'), await listImages(ctx, d('test', 'Ungood')), 1),
    ],
  };
}

async function bratsFiles(ctx: LoadContext, dir: string): Promise<{ train: FileCandidate[]; test: FileCandidate[] }> {
  const d = (...p: string[]) => join(dir, ...p);
  const tumor = await listImages(ctx, d('test', 'tumor'));
  const abnormal = candidates(d('test', 'tumor'), tumor, 1).map((c, i) => {
    const maskName = tumor[i]!.replaceAll('flair', 'seg'); // Python str.replace replaces every occurrence
    return { ...c, mask: { path: d('test', 'annotation', maskName), format: formatOf(maskName) ?? ('image' as const) } };
  });
  return {
    train: candidates(d('train'), await listImages(ctx, d('train')), 0),
    test: [...candidates(d('test', 'normal'), await listImages(ctx, d('test', 'normal')), 0), ...abnormal],
  };
}

export async function loadReference(def: ReferenceDataset, options: LoadOptions & { root: string }): Promise<Dataset> {
  const ctx = resolveOptions(def.name, options, def.channels);
  // `path` points at the dataset folder itself (e.g. an archive unpacked elsewhere).
  const dir = options.path !== undefined && options.path !== '' ? expandPath(options.path) : join(ctx.root, def.dir);
  const m = marker(def, dir);
  const ok = def.layout === 'camelyon16' || def.layout === 'brats' ? await isDirectory(m) : await isFile(m);
  if (!ok) {
    throw new DatasetError(
      `${def.name}: dataset not found: expected ${m}. To get it, ${howToGet(def)} ` +
        '(the data root is $MEDIANOMALY_DATA, else ~/MedIAnomaly-Data, or the `root` option).',
      def.name,
      m,
    );
  }
  const files =
    def.layout === 'data-json' ? await dataJsonFiles(ctx, dir)
    : def.layout === 'isic' ? await isicFiles(ctx, dir)
    : def.layout === 'camelyon16' ? await camelyonFiles(ctx, dir)
    : await bratsFiles(ctx, dir);
  const train = await expandFiles(ctx, 'train', files.train);
  const test = await expandFiles(ctx, 'test', files.test);
  return assemble(ctx, {
    title: def.title, modality: def.modality, source: dir, train, test, hasMasks: def.hasMasks, expected: def.expected,
    options: { sortListings: ctx.sortListings },
  });
}
