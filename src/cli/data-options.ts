// Command-line options that say which data a run uses, shared by `train` and `bench`, and
// their translation into a dataset spec (name + load options) that a worker thread can
// load again by itself.
import type { Argv } from 'yargs';
import type { DatasetSpec } from '../harness/run-folder.js';
import { list, names } from '../data/index.js';
import { resolveLimits, type DecodeLimits } from '../data/limits.js';

export interface DataArgs extends LimitArgs {
  dataRoot?: string;
  path?: string;
  testPath?: string;
  normalClass?: number;
  trainCount?: number;
  testCount?: number;
  limit?: number;
  difficulty?: string;
}

/** The decode limits of src/data/limits.ts as flags (train, bench, test, predict). */
export interface LimitArgs {
  maxDecodedBytes?: number;
  maxPixels?: number;
  nonFinite?: string;
}

export function limitOptions<T>(y: Argv<T>): Argv<T & LimitArgs> {
  return y
    .option('max-decoded-bytes', { type: 'number', describe: 'bytes one file may decode into (default 1 GiB); a larger file is refused' })
    .option('max-pixels', { type: 'number', describe: 'pixels of one image or DICOM frame (default 16383²)' })
    .option('non-finite', { type: 'string', choices: ['error', 'clamp'], describe: "NaN/±Infinity voxels: 'error' (default) or 'clamp' to the finite range" }) as Argv<T & LimitArgs>;
}

/** The decode limits the flags ask for (only those given), checked; a bad value names its flag. */
export function decodeLimits(a: LimitArgs): Partial<DecodeLimits> {
  const out: Partial<DecodeLimits> = {};
  if (a.maxDecodedBytes !== undefined) out.maxDecodedBytes = a.maxDecodedBytes;
  if (a.maxPixels !== undefined) out.maxPixels = a.maxPixels;
  if (a.nonFinite !== undefined) out.nonFinite = a.nonFinite as DecodeLimits['nonFinite'];
  try {
    resolveLimits(out);
  } catch (e) {
    const flag = (e as Error).message.replace(/^(\w+).*/, '$1').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    throw new RangeError(`--${flag}: ${(e as Error).message}`);
  }
  return out;
}

export function dataOptions<T>(y: Argv<T>): Argv<T & DataArgs> {
  return limitOptions(y)
    .option('data-root', { type: 'string', describe: 'dataset root (default $MEDIANOMALY_DATA, else ~/MedIAnomaly-Data)' })
    .option('path', { type: 'string', describe: 'folder, dicom, nifti: a folder of normal training images (searched recursively) or an MVTec layout' })
    .option('test-path', { type: 'string', describe: 'folder, dicom, nifti: test data, a folder with normal/ and abnormal/ or a CSV path,label[,mask]; without it a plain folder trains untested' })
    .option('normal-class', { type: 'number', describe: 'mnist / fashion-mnist: the class treated as normal (default 0)' })
    .option('train-count', { type: 'number', describe: 'synthetic datasets: training images (default 400)' })
    .option('test-count', { type: 'number', describe: 'synthetic datasets: test images, half normal, half abnormal (default 200)' })
    .option('limit', { type: 'number', describe: 'keep at most this many images per split (a seeded subset)' })
    .option('difficulty', { type: 'string', describe: "synthetic datasets: lesion difficulty, 'easy' | 'medium' | 'hard' or a number in [0, 1]" }) as Argv<T & DataArgs>;
}

function positiveInt(value: number | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`--${flag} must be a positive integer, got ${value}`);
  return value;
}

/** Throws for an unknown dataset name, listing the known ones. */
export async function checkDatasetName(name: string): Promise<void> {
  const known = await names();
  if (!known.includes(name)) throw new Error(`unknown dataset "${name}"; known datasets: ${known.join(', ')} (see: medianomaly datasets)`);
}

/**
 * The dataset spec for `name` from the data options; a dataset that is not present under
 * the root is an error saying where it was looked for and how to get it.
 */
export async function datasetSpec(name: string, a: DataArgs): Promise<DatasetSpec> {
  await checkDatasetName(name);
  const root = a.dataRoot;
  const d = (await list({ root })).find((x) => x.name === name)!;
  if (d.requires.includes('path') && a.path === undefined) {
    throw new Error(`dataset "${name}" needs --path (the dataset folder): ${d.howToGet}`);
  }
  if (!d.present && d.kind !== 'generic' && a.path === undefined) {
    throw new Error(`dataset "${name}" is not present${d.location ? ` (looked in ${d.location})` : ''}: ${d.howToGet}. Or pass --data-root / --path; "medianomaly datasets" lists what is present.`);
  }
  const options: Record<string, unknown> = {};
  if (root !== undefined) options.root = root;
  if (a.path !== undefined) options.path = a.path;
  if (a.testPath !== undefined) {
    if (d.kind !== 'generic') throw new Error(`--test-path applies to the folder, dicom and nifti datasets; "${name}" has its own test split`);
    options.testPath = a.testPath;
  }
  if (a.normalClass !== undefined) options.normalClass = a.normalClass;
  Object.assign(options, decodeLimits(a));
  const limit = positiveInt(a.limit, 'limit');
  if (limit !== undefined) options.limit = limit;
  const train = positiveInt(a.trainCount, 'train-count');
  const test = positiveInt(a.testCount, 'test-count');
  if (train !== undefined || test !== undefined || a.difficulty !== undefined) {
    if (d.kind !== 'synthetic') {
      throw new Error(`--train-count, --test-count and --difficulty apply to the synthetic datasets only; for "${name}" use --limit`);
    }
    if (train !== undefined || test !== undefined) {
      const count: Record<string, number> = {};
      if (train !== undefined) count.train = train;
      if (test !== undefined) {
        if (test < 2) throw new RangeError('--test-count must be at least 2 (one normal, one abnormal image)');
        count.testNormal = Math.floor(test / 2);
        count.testAbnormal = test - Math.floor(test / 2);
      }
      options.count = count;
    }
    if (a.difficulty !== undefined) {
      const n = Number(a.difficulty);
      options.difficulty = a.difficulty.trim() !== '' && Number.isFinite(n) ? n : a.difficulty;
    }
  }
  return { name, options: options as DatasetSpec["options"] };
}
