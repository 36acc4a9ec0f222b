// Synthetic datasets behind the Dataset / Split contract (../types.ts).
//
// Items are generated on first access from (seed, name, stream, index) and cached;
// `images()` / `masks()` pack a whole split once. The train split holds normal
// images only; the test split lists its normals first, then its abnormals (the
// reference code's order), and every test item carries a mask (all zero for normals).

import type { Dataset, DatasetDescriptor, DatasetEntry, DatasetInfo, Label, LoadOptions, Split, SplitName } from '../types.js';
import { createSplit, type SourceItem } from '../split.js';
import { type Difficulty, difficultyValue } from './difficulty.js';
import { GENERATORS, isSyntheticName, renderItem, type Stream, SYNTHETIC_NAMES, type SyntheticName } from './generators.js';

export interface SyntheticCounts {
  /** Normal training images. */
  train: number;
  testNormal: number;
  testAbnormal: number;
}

export const DEFAULT_COUNTS: Readonly<SyntheticCounts> = { train: 400, testNormal: 100, testAbnormal: 100 };

export interface SyntheticOptions {
  /** Split sizes; missing fields take DEFAULT_COUNTS. A number sets the training count alone. */
  count?: number | Partial<SyntheticCounts>;
  /** Image side in pixels (default 64). */
  size?: number;
  /** Every random draw derives from it (default 0). */
  seed?: number;
  /** Lesion contrast and size: 'easy' | 'medium' | 'hard' or a number in [0, 1] (default 'medium'). */
  difficulty?: Difficulty;
  /** 1 (default) or 3 (the grey channel replicated, for RGB networks). */
  channels?: 1 | 3;
  /** Keep at most this many items per split (the test split keeps its normal/abnormal ratio). */
  limit?: number;
}

const MIN_SIZE = 16;
const MAX_SIZE = 1024;

function checkCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new RangeError(`synthetic: ${what} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

function resolveCounts(count: SyntheticOptions['count'], limit: number | undefined): SyntheticCounts {
  let c: SyntheticCounts;
  if (count === undefined) c = { ...DEFAULT_COUNTS };
  else if (typeof count === 'number') c = { ...DEFAULT_COUNTS, train: checkCount(count, 'count') };
  else if (typeof count === 'object' && count !== null) {
    for (const key of Object.keys(count)) {
      if (!(key in DEFAULT_COUNTS)) throw new RangeError(`synthetic: unknown count field '${key}'; use train, testNormal, testAbnormal`);
    }
    c = {
      train: checkCount(count.train ?? DEFAULT_COUNTS.train, 'count.train'),
      testNormal: checkCount(count.testNormal ?? DEFAULT_COUNTS.testNormal, 'count.testNormal'),
      testAbnormal: checkCount(count.testAbnormal ?? DEFAULT_COUNTS.testAbnormal, 'count.testAbnormal'),
    };
  } else throw new RangeError('synthetic: count must be a number or { train, testNormal, testAbnormal }');
  if (limit !== undefined) {
    checkCount(limit, 'limit');
    // Items are independent draws, so the first k are as good as a random subset of k.
    c.train = Math.min(c.train, limit);
    const test = c.testNormal + c.testAbnormal;
    if (test > limit) {
      const normal = Math.floor((limit * c.testNormal) / test);
      c = { train: c.train, testNormal: normal, testAbnormal: limit - normal };
    }
  }
  return c;
}

interface Resolved {
  name: SyntheticName;
  counts: SyntheticCounts;
  size: number;
  seed: number;
  difficulty: number;
  channels: 1 | 3;
}

function resolve(name: string, options: SyntheticOptions): Resolved {
  if (!isSyntheticName(name)) {
    throw new RangeError(`synthetic: unknown dataset '${name}'; available: ${SYNTHETIC_NAMES.join(', ')}`);
  }
  const size = options.size ?? 64;
  if (!Number.isInteger(size) || size < MIN_SIZE || size > MAX_SIZE) {
    throw new RangeError(`synthetic: size must be an integer in [${MIN_SIZE}, ${MAX_SIZE}], got ${String(size)}`);
  }
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`synthetic: seed must be a non-negative safe integer, got ${String(seed)}`);
  const channels = options.channels ?? 1;
  if (channels !== 1 && channels !== 3) throw new RangeError(`synthetic: channels must be 1 or 3, got ${String(channels)}`);
  return { name, counts: resolveCounts(options.count, options.limit), size, seed, difficulty: difficultyValue(options.difficulty), channels };
}

interface Entry {
  id: string;
  path: string;
  label: Label;
  stream: Stream;
  index: number;
}

/** One split as createSplit sources: each item rendered on first access from (seed, stream, index). */
function splitOf(r: Resolved, name: SplitName, list: Entry[]): Split {
  const S = r.size;
  const hasMasks = name === 'test';
  const items: SourceItem[] = list.map((e) => ({
    id: e.id,
    path: e.path,
    label: e.label,
    read: () => Promise.reject(new Error('synthetic items are generated, not read')),
    prepare: () => {
      const out = renderItem(r.name, r.seed, e.stream, e.index, S, r.difficulty);
      let image = out.image;
      if (r.channels === 3) {
        image = new Float32Array(3 * S * S);
        for (let c = 0; c < 3; c++) image.set(out.image, c * S * S);
      }
      if (!hasMasks) return { image };
      return { image, mask: out.mask ?? new Uint8Array(S * S) };
    },
  }));
  // Rendered directly at the requested size: the preprocess settings only state the geometry.
  return createSplit({ dataset: r.name, name, items, hasMasks, preprocess: { size: S, channels: r.channels, resample: 'pil-bilinear' } });
}

function entries(r: Resolved, stream: Stream, count: number, label: Label): Entry[] {
  const width = Math.max(4, String(Math.max(0, count - 1)).length);
  const query = `seed=${r.seed}&size=${r.size}&difficulty=${r.difficulty}`;
  const out: Entry[] = [];
  for (let index = 0; index < count; index++) {
    const id = `${stream}-${String(index).padStart(width, '0')}`;
    out.push({ id, path: `synth://${r.name}/${stream}/${index}?${query}`, label, stream, index });
  }
  return out;
}

/** A synthetic dataset, generated on demand (nothing is read from disk). */
export function syntheticDataset(name: string, options: SyntheticOptions = {}): Dataset {
  const r = resolve(name, options);
  const g = GENERATORS[r.name];
  const train = splitOf(r, 'train', entries(r, 'train', r.counts.train, 0));
  const test = splitOf(r, 'test', [
    ...entries(r, 'test-normal', r.counts.testNormal, 0),
    ...entries(r, 'test-abnormal', r.counts.testAbnormal, 1),
  ]);
  const info: DatasetInfo = {
    name: r.name,
    title: g.title,
    modality: g.modality,
    source: '(generated)',
    channels: r.channels,
    size: r.size,
    // Rendered directly at the requested size: no resampling happens.
    resample: 'pil-bilinear',
    hasMasks: true,
    counts: { train: train.counts, test: test.counts },
    warnings: [],
    skipped: [],
    options: { seed: r.seed, difficulty: r.difficulty, counts: { ...r.counts }, synthetic: true, description: g.description },
  };
  return { name: r.name, train, test, info };
}

/** Options the catalogue passes through `load()`, plus the synthetic-only ones. */
type EntryLoadOptions = LoadOptions & { root: string } & Pick<SyntheticOptions, 'count' | 'difficulty'>;

function describe(name: SyntheticName): DatasetDescriptor {
  const g = GENERATORS[name];
  return {
    name,
    title: g.title,
    modality: g.modality,
    kind: 'synthetic',
    channels: 1,
    hasMasks: true,
    present: true,
    requires: [],
    howToGet: 'Built in: generated on the fly from a seed, nothing to download.',
  };
}

/** The synthetic datasets as catalogue entries (what `load('synth-brain', ...)` uses). */
export const syntheticEntries: DatasetEntry[] = SYNTHETIC_NAMES.map((name) => ({
  name,
  describe: () => describe(name),
  load: async (o: EntryLoadOptions) => {
    const opts: SyntheticOptions = { count: o.count, size: o.size, seed: o.seed, difficulty: o.difficulty, channels: o.channels, limit: o.limit };
    return syntheticDataset(name, opts);
  },
}));
