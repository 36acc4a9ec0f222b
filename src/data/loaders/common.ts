// What every file-based loader shares: resolving options, turning file lists into split
// items (checking each file, expanding multi-frame files and volumes into 2-D items,
// applying the error policy), and assembling the Dataset with its report.

import { stat } from 'node:fs/promises';
import type { Dataset, DatasetInfo, ExpectedCounts, Label, LoadOptions, Modality, OnError, Resample, SkippedFile, Split, SplitName } from '../types.js';
import type { PreprocessOptions } from '../preprocess.js';
import { checkPreprocessOptions } from '../preprocess.js';
import { DatasetError, MaskSizeError, reasonOf } from '../errors.js';
import { type FileFormat, type FrameOptions, foregroundFrames, probeFile, readFrame, readMaskFrame } from '../decode/index.js';
import { type SourceItem, createSplit, prepareItem } from '../split.js';
import { mapLimit, sampleIndices, seededRandom } from '../util.js';
import { resolveLimits } from '../limits.js';

export type Verify = 'exists' | 'header' | 'decode';

/** Options after defaults, shared by the loaders of one `load` call. */
export interface LoadContext {
  dataset: string;
  root: string;
  onError: OnError;
  verify: Verify;
  frame: FrameOptions;
  preprocess: PreprocessOptions;
  seed: number;
  limit?: number;
  sortListings: boolean;
  skipped: SkippedFile[];
  options: LoadOptions;
}

const RESAMPLES: Resample[] = ['pil-bilinear', 'pil-lanczos', 'sharp'];

/** Checks the options and fills in defaults (`channels` falls back to the dataset's own). */
export function resolveOptions(dataset: string, o: LoadOptions & { root: string }, defaultChannels: 1 | 3): LoadContext {
  const size = o.size ?? 64;
  const channels = o.channels ?? defaultChannels;
  const resample = o.resample ?? 'pil-bilinear';
  if (!RESAMPLES.includes(resample)) throw new RangeError(`resample must be one of ${RESAMPLES.join(', ')}, got ${String(resample)}`);
  const preprocess = { size, channels, resample };
  checkPreprocessOptions(preprocess);
  const onError = o.onError ?? 'throw';
  if (onError !== 'throw' && onError !== 'skip') throw new RangeError(`onError must be 'throw' or 'skip', got ${String(onError)}`);
  const verify = o.verify ?? 'header';
  if (!['exists', 'header', 'decode'].includes(verify)) throw new RangeError(`verify must be 'exists', 'header' or 'decode', got ${String(verify)}`);
  const axis = o.axis ?? 2;
  if (axis !== 0 && axis !== 1 && axis !== 2) throw new RangeError(`axis must be 0, 1 or 2, got ${String(axis)}`);
  const window = o.dicomWindow ?? 'header';
  if (window !== 'header' && window !== 'minmax') throw new RangeError(`dicomWindow must be 'header' or 'minmax', got ${String(window)}`);
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1)) throw new RangeError(`limit must be a positive integer, got ${o.limit}`);
  const limits = resolveLimits({ maxDecodedBytes: o.maxDecodedBytes, maxPixels: o.maxPixels, nonFinite: o.nonFinite });
  return {
    dataset, root: o.root, onError, verify, frame: { axis, window, limits }, preprocess, seed, limit: o.limit,
    sortListings: o.sortListings ?? true, skipped: [], options: o,
  };
}

/** One file of a split, before it is checked and expanded into items. */
export interface FileCandidate {
  /** Item id (frames and slices get `#<k>` appended). */
  id: string;
  path: string;
  label: Label;
  format: FileFormat;
  /** The item's mask file, when it has one. */
  mask?: { path: string; format: FileFormat };
  /** Multi-frame files with a mask: label each frame by whether its mask frame has foreground. */
  labelFromMask?: boolean;
}

/** Handles a bad file per the error policy: throws, or records it and returns false. */
export function reject(ctx: LoadContext, split: SplitName, path: string, reason: string, cause?: unknown): false {
  if (ctx.onError === 'skip') {
    ctx.skipped.push({ split, path, reason });
    return false;
  }
  throw new DatasetError(`${ctx.dataset}: ${split} file ${path}: ${reason} (pass onError: 'skip' to leave such files out)`, ctx.dataset, path, { cause });
}

async function checkExists(path: string): Promise<void> {
  const s = await stat(path);
  if (!s.isFile()) throw Object.assign(new Error('not a regular file'), { code: s.isDirectory() ? 'EISDIR' : undefined });
}

/** Checks each file per `ctx.verify` and expands it into split items, in candidate order. */
export async function expandFiles(ctx: LoadContext, split: SplitName, files: readonly FileCandidate[]): Promise<SourceItem[]> {
  // Volumes and multi-frame files are parsed whole to count their frames: keep few in memory.
  const limit = files.some((f) => f.format !== 'image') ? 2 : 16;
  const groups = await mapLimit(files, limit, async (f): Promise<SourceItem[]> => {
    let frames = 1;
    let size: { width: number; height: number } | undefined;
    try {
      if (ctx.verify === 'exists' && f.format === 'image') await checkExists(f.path);
      else {
        const info = await probeFile(f.path, f.format, ctx.frame);
        frames = info.frames;
        size = info;
      }
    } catch (err) {
      reject(ctx, split, f.path, reasonOf(err), err);
      return [];
    }
    const mask = f.mask;
    if (mask) {
      try {
        if (ctx.verify === 'exists' && mask.format === 'image') await checkExists(mask.path);
        else {
          const m = await probeFile(mask.path, mask.format, ctx.frame);
          if (size && (m.width !== size.width || m.height !== size.height || m.frames !== frames)) {
            throw new MaskSizeError(
              `${ctx.dataset}: mask ${mask.path} is ${m.width}×${m.height}${m.frames > 1 ? ` × ${m.frames} frames` : ''} but its image ${f.path} is ` +
                `${size.width}×${size.height}${frames > 1 ? ` × ${frames} frames` : ''}; a mask must have its image's pixel size`,
              ctx.dataset,
              mask.path,
            );
          }
        }
      } catch (err) {
        if (err instanceof MaskSizeError) throw err;
        reject(ctx, split, mask.path, `mask of ${f.path}: ${reasonOf(err)}`, err);
        return [];
      }
    }
    const items: SourceItem[] = [];
    const multi = frames > 1;
    // One pass over the mask volume (not one read per slice: the volume cache is small).
    const foreground = mask && f.labelFromMask && multi ? await foregroundFrames(mask.path, mask.format, ctx.frame) : undefined;
    for (let k = 0; k < frames; k++) {
      const label: Label = foreground ? (foreground[k] ? 1 : 0) : f.label;
      items.push({
        id: multi ? `${f.id}#${k}` : f.id,
        path: multi ? `${f.path}#${k}` : f.path,
        label,
        read: async () => {
          const image = await readFrame(f.path, f.format, k, ctx.frame);
          if (!mask) return { image };
          return { image, mask: await readMaskFrame(mask.path, mask.format, k, ctx.frame), maskPath: mask.path };
        },
      });
    }
    return items;
  });
  return groups.flat();
}

/** A seeded, label-stratified subset of at most `limit` items, in split order. */
export function applyLimit(items: SourceItem[], limit: number | undefined, seed: number, split: SplitName): SourceItem[] {
  if (limit === undefined || items.length <= limit) return items;
  const rand = seededRandom(seed ^ (split === 'train' ? 0x5eed : 0x7e57));
  const normal = items.map((s, i) => (s.label === 0 ? i : -1)).filter((i) => i >= 0);
  const abnormal = items.map((s, i) => (s.label === 1 ? i : -1)).filter((i) => i >= 0);
  let kAb = Math.round((limit * abnormal.length) / items.length);
  if (abnormal.length > 0 && normal.length > 0) kAb = Math.min(Math.max(kAb, 1), limit - 1);
  const kNo = limit - kAb;
  const keep = [...sampleIndices(normal.length, kNo, rand).map((j) => normal[j]!), ...sampleIndices(abnormal.length, kAb, rand).map((j) => abnormal[j]!)];
  keep.sort((a, b) => a - b);
  return keep.map((i) => items[i]!);
}

/** Under `verify: 'decode'`, decodes every item now (dropping bad ones under `skip`). */
async function decodeNow(ctx: LoadContext, split: SplitName, items: SourceItem[], hasMasks: boolean): Promise<SourceItem[]> {
  if (ctx.verify !== 'decode') return items;
  const spec = { dataset: ctx.dataset, name: split, hasMasks, preprocess: ctx.preprocess };
  const done = await mapLimit(items, 8, async (s) => {
    try {
      return { ...s, prepared: await prepareItem(spec, s) };
    } catch (err) {
      if (err instanceof MaskSizeError) throw err;
      reject(ctx, split, s.path, reasonOf(err), err);
      return undefined;
    }
  });
  return done.filter((s): s is SourceItem & { prepared: NonNullable<SourceItem['prepared']> } => s !== undefined);
}

export interface DatasetParts {
  title: string;
  modality: Modality;
  source: string;
  train: SourceItem[];
  /** Absent when the source has no test data (a plain folder of normal images): the test split is then empty. */
  test?: SourceItem[];
  hasMasks: boolean;
  expected?: ExpectedCounts;
  options?: Record<string, unknown>;
}

/** Checks the splits, applies `limit` and `verify: 'decode'`, and assembles the Dataset and its report. */
export async function assemble(ctx: LoadContext, parts: DatasetParts): Promise<Dataset> {
  const warnings: string[] = [];
  const splits: Record<SplitName, Split> = {} as Record<SplitName, Split>;
  for (const name of ['train', 'test'] as const) {
    const source = parts[name];
    if (source === undefined) {
      splits[name] = createSplit({ dataset: ctx.dataset, name, items: [], hasMasks: false, preprocess: ctx.preprocess });
      continue;
    }
    let items = applyLimit(source, ctx.limit, ctx.seed, name);
    const hasMasks = name === 'test' && parts.hasMasks;
    items = await decodeNow(ctx, name, items, hasMasks);
    if (items.length === 0) {
      const skipped = ctx.skipped.filter((s) => s.split === name).length;
      throw new DatasetError(
        `${ctx.dataset}: the ${name} split is empty (source ${parts.source}` +
          (skipped ? `; all ${skipped} files were skipped as unreadable` : '') + ')',
        ctx.dataset,
        parts.source,
      );
    }
    if (name === 'train' && items.some((s) => s.label !== 0)) {
      throw new DatasetError(`${ctx.dataset}: the train split must hold normal images only`, ctx.dataset, parts.source);
    }
    splits[name] = createSplit({ dataset: ctx.dataset, name, items, hasMasks, preprocess: ctx.preprocess });
  }
  if (parts.test === undefined) {
    warnings.push(`${ctx.dataset}: no test split (${parts.source} holds training images only), so nothing can be tested; give test data with testPath (CLI --test-path): a folder with normal/ and abnormal/, or a CSV path,label[,mask]`);
  } else {
    if (splits.test.counts.abnormal === 0) warnings.push(`${ctx.dataset}: the test split has no abnormal items, so detection metrics are undefined`);
    if (splits.test.counts.normal === 0) warnings.push(`${ctx.dataset}: the test split has no normal items, so detection metrics are undefined`);
  }
  if (parts.expected && ctx.limit === undefined) {
    const e = parts.expected;
    const got = { train: splits.train.length, testNormal: splits.test.counts.normal, testAbnormal: splits.test.counts.abnormal };
    for (const k of ['train', 'testNormal', 'testAbnormal'] as const) {
      if (got[k] !== e[k]) warnings.push(`${ctx.dataset}: ${k} has ${got[k]} images, the published split has ${e[k]}`);
    }
  }
  if (ctx.skipped.length) warnings.push(`${ctx.dataset}: ${ctx.skipped.length} unreadable file(s) skipped (see info.skipped)`);
  const info: DatasetInfo = {
    name: ctx.dataset,
    title: parts.title,
    modality: parts.modality,
    source: parts.source,
    channels: ctx.preprocess.channels,
    size: ctx.preprocess.size,
    resample: ctx.preprocess.resample,
    hasMasks: parts.hasMasks,
    counts: { train: splits.train.counts, test: splits.test.counts },
    warnings,
    skipped: ctx.skipped,
    options: { seed: ctx.seed, verify: ctx.verify, onError: ctx.onError, ...(ctx.limit !== undefined ? { limit: ctx.limit } : {}), ...parts.options },
  };
  if (parts.expected) info.expected = parts.expected;
  return { name: ctx.dataset, train: splits.train, test: splits.test, info };
}
