// Synthetic datasets behind the Dataset / Split contract (../types.ts).
//
// Items are generated on first access from (seed, name, stream, index) and cached;
// `images()` / `masks()` pack a whole split once. The train split holds normal
// images only; the test split lists its normals first, then its abnormals (the
// reference code's order), and every test item carries a mask (all zero for normals).

import type { Batch, Dataset, DatasetDescriptor, DatasetEntry, DatasetInfo, Item, Label, LabelCounts, LoadOptions, Split, SplitName } from '../types.js';
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

interface Generated {
  image: Float32Array;
  mask?: Uint8Array;
}

class SyntheticSplit implements Split {
  readonly dataset: string;
  readonly length: number;
  readonly channels: number;
  readonly size: number;
  readonly ids: readonly string[];
  readonly paths: readonly string[];
  readonly labels: Uint8Array;
  readonly hasMasks: boolean;
  readonly counts: LabelCounts;
  readonly #r: Resolved;
  readonly #entries: readonly Entry[];
  readonly #cache = new Map<number, Generated>();
  #packed?: { images: Float32Array; masks?: Uint8Array };

  constructor(
    r: Resolved,
    readonly name: SplitName,
    entries: Entry[],
  ) {
    this.#r = r;
    this.#entries = entries;
    this.dataset = r.name;
    this.length = entries.length;
    this.channels = r.channels;
    this.size = r.size;
    this.ids = Object.freeze(entries.map((e) => e.id));
    this.paths = Object.freeze(entries.map((e) => e.path));
    this.labels = Uint8Array.from(entries, (e) => e.label);
    this.hasMasks = name === 'test';
    let abnormal = 0;
    for (const l of this.labels) abnormal += l;
    this.counts = { normal: this.length - abnormal, abnormal };
  }

  #check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new RangeError(`${this.dataset} ${this.name}: item index ${i} out of range [0, ${this.length})`);
    }
  }

  /** The generated item (views into the packed arrays once they exist). */
  #generated(i: number): Generated {
    const S = this.size;
    const n = this.channels * S * S;
    if (this.#packed) {
      const { images, masks } = this.#packed;
      const image = images.subarray(i * n, (i + 1) * n);
      return masks ? { image, mask: masks.subarray(i * S * S, (i + 1) * S * S) } : { image };
    }
    let g = this.#cache.get(i);
    if (!g) {
      g = this.#generate(i);
      this.#cache.set(i, g);
    }
    return g;
  }

  #generate(i: number): Generated {
    const e = this.#entries[i]!;
    const r = this.#r;
    const S = r.size;
    const out = renderItem(r.name, r.seed, e.stream, e.index, S, r.difficulty);
    let image = out.image;
    if (r.channels === 3) {
      image = new Float32Array(3 * S * S);
      for (let c = 0; c < 3; c++) image.set(out.image, c * S * S);
    }
    if (!this.hasMasks) return { image };
    return { image, mask: out.mask ?? new Uint8Array(S * S) };
  }

  async item(i: number): Promise<Item> {
    this.#check(i);
    const g = this.#generated(i);
    const e = this.#entries[i]!;
    // Copies: a caller that augments in place must not corrupt the cache.
    const item: Item = { id: e.id, path: e.path, label: e.label, image: g.image.slice() };
    if (g.mask) item.mask = g.mask.slice();
    return item;
  }

  async batch(indices: ArrayLike<number>): Promise<Batch> {
    const idx = Array.from(indices);
    for (const i of idx) this.#check(i);
    const n = this.channels * this.size * this.size;
    const m = this.size * this.size;
    const images = new Float32Array(idx.length * n);
    const masks = this.hasMasks ? new Uint8Array(idx.length * m) : undefined;
    idx.forEach((i, b) => {
      const g = this.#generated(i);
      images.set(g.image, b * n);
      if (masks && g.mask) masks.set(g.mask, b * m);
    });
    const batch: Batch = {
      n: idx.length,
      channels: this.channels,
      size: this.size,
      ids: idx.map((i) => this.ids[i]!),
      labels: Uint8Array.from(idx, (i) => this.labels[i]!),
      images,
    };
    if (masks) batch.masks = masks;
    return batch;
  }

  #pack(): { images: Float32Array; masks?: Uint8Array } {
    if (!this.#packed) {
      const n = this.channels * this.size * this.size;
      const m = this.size * this.size;
      const images = new Float32Array(this.length * n);
      const masks = this.hasMasks ? new Uint8Array(this.length * m) : undefined;
      for (let i = 0; i < this.length; i++) {
        const g = this.#generated(i);
        images.set(g.image, i * n);
        if (masks && g.mask) masks.set(g.mask, i * m);
      }
      this.#packed = masks ? { images, masks } : { images };
      this.#cache.clear(); // the packed arrays now hold every item
    }
    return this.#packed;
  }

  async images(): Promise<Float32Array> {
    return this.#pack().images;
  }

  async masks(): Promise<Uint8Array | undefined> {
    return this.hasMasks ? this.#pack().masks : undefined;
  }
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
  const train = new SyntheticSplit(r, 'train', entries(r, 'train', r.counts.train, 0));
  const test = new SyntheticSplit(r, 'test', [
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
