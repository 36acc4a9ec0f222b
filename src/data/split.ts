// A Split over a fixed list of sources: items are decoded and preprocessed on first use and
// cached; `images()` / `masks()` pack everything into one array once and serve later items
// from it. Any loader (and the synthetic datasets) can build its splits with `createSplit`.

import type { Batch, Item, Label, LabelCounts, Split, SplitName } from './types.js';
import type { RawImage } from './raw.js';
import { type PreprocessOptions, checkPreprocessOptions, preprocessImage, preprocessMask } from './preprocess.js';
import { DatasetError, MaskSizeError, reasonOf } from './errors.js';
import { mapLimit } from './util.js';

/** What a split needs to know about one item before decoding it. */
export interface SourceItem {
  id: string;
  /** Source path (`<file>#<k>` for a frame, slice or record). */
  path: string;
  label: Label;
  /** Decodes the image and, when the item has one, its mask (same pixel size as the image). */
  read(): Promise<{ image: RawImage; mask?: RawImage; maskPath?: string }>;
  /** Already preprocessed (C × S × S image, S × S mask): skips `read`. */
  prepared?: PreparedItem;
  /** Produces the preprocessed item directly (generated data): skips `read` and preprocessing. */
  prepare?: () => PreparedItem;
}

export interface PreparedItem {
  image: Float32Array;
  mask?: Uint8Array;
}

export interface SplitSpec {
  dataset: string;
  name: SplitName;
  items: readonly SourceItem[];
  /** True when test items carry masks; items whose `read` returns no mask get an all-zero one. */
  hasMasks: boolean;
  preprocess: PreprocessOptions;
  /** Items decoded at once by `images()` / `batch()` (default 8). */
  concurrency?: number;
}

/** Decodes and preprocesses one source; errors name the dataset, split and file. */
export async function prepareItem(spec: Pick<SplitSpec, 'dataset' | 'name' | 'hasMasks' | 'preprocess'>, src: SourceItem): Promise<PreparedItem> {
  if (src.prepared) return src.prepared;
  if (src.prepare) return src.prepare();
  let decoded: Awaited<ReturnType<SourceItem['read']>>;
  try {
    decoded = await src.read();
  } catch (err) {
    throw new DatasetError(`${spec.dataset}: cannot load ${spec.name} item ${src.id} from ${src.path}: ${reasonOf(err)}`, spec.dataset, src.path, { cause: err });
  }
  const { image, mask, maskPath } = decoded;
  let prepared: Float32Array;
  try {
    prepared = await preprocessImage(image, spec.preprocess);
  } catch (err) {
    throw new DatasetError(`${spec.dataset}: cannot preprocess ${src.path}: ${reasonOf(err)}`, spec.dataset, src.path, { cause: err });
  }
  if (!spec.hasMasks) return { image: prepared };
  const S = spec.preprocess.size;
  if (!mask) return { image: prepared, mask: new Uint8Array(S * S) };
  if (mask.width !== image.width || mask.height !== image.height) {
    const where = maskPath ?? `the mask of ${src.path}`;
    throw new MaskSizeError(
      `${spec.dataset}: mask ${where} is ${mask.width}×${mask.height} but its image ${src.path} is ${image.width}×${image.height}; ` +
        'a mask must have its image\'s pixel size',
      spec.dataset,
      maskPath ?? src.path,
    );
  }
  return { image: prepared, mask: preprocessMask(mask, S) };
}

interface Packed {
  images: Float32Array;
  masks?: Uint8Array;
}

function countLabels(labels: Uint8Array): LabelCounts {
  let abnormal = 0;
  for (const l of labels) abnormal += l;
  return { normal: labels.length - abnormal, abnormal };
}

class SourceSplit implements Split {
  readonly dataset: string;
  readonly name: SplitName;
  readonly length: number;
  readonly channels: number;
  readonly size: number;
  readonly ids: readonly string[];
  readonly paths: readonly string[];
  readonly labels: Uint8Array;
  readonly hasMasks: boolean;
  readonly counts: LabelCounts;
  readonly #spec: SplitSpec;
  readonly #cache = new Map<number, Promise<PreparedItem>>();
  #packing?: Promise<Packed>;
  #packed?: Packed;

  constructor(spec: SplitSpec) {
    checkPreprocessOptions(spec.preprocess);
    this.#spec = spec;
    this.dataset = spec.dataset;
    this.name = spec.name;
    this.length = spec.items.length;
    this.channels = spec.preprocess.channels;
    this.size = spec.preprocess.size;
    this.ids = Object.freeze(spec.items.map((s) => s.id));
    this.paths = Object.freeze(spec.items.map((s) => s.path));
    this.labels = Uint8Array.from(spec.items, (s) => s.label);
    this.hasMasks = spec.hasMasks;
    this.counts = countLabels(this.labels);
  }

  #check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new RangeError(`${this.dataset} ${this.name}: item index ${i} out of range [0, ${this.length})`);
    }
  }

  /** The cached preprocessed item (views into the packed arrays once they exist). */
  async #prepared(i: number): Promise<PreparedItem> {
    const packed = this.#packed;
    if (packed) {
      const n = this.channels * this.size * this.size;
      const m = this.size * this.size;
      const image = packed.images.subarray(i * n, (i + 1) * n);
      return packed.masks ? { image, mask: packed.masks.subarray(i * m, (i + 1) * m) } : { image };
    }
    let p = this.#cache.get(i);
    if (!p) {
      p = prepareItem(this.#spec, this.#spec.items[i]!);
      this.#cache.set(i, p);
      p.catch(() => this.#cache.delete(i)); // a failed read can be retried
    }
    return p;
  }

  async item(i: number): Promise<Item> {
    this.#check(i);
    const p = await this.#prepared(i);
    const src = this.#spec.items[i]!;
    // Copies: a caller that augments in place must not corrupt the cache.
    const item: Item = { id: src.id, path: src.path, label: src.label, image: p.image.slice() };
    if (p.mask) item.mask = p.mask.slice();
    return item;
  }

  async batch(indices: ArrayLike<number>): Promise<Batch> {
    const idx = Array.from(indices);
    for (const i of idx) this.#check(i);
    const n = this.channels * this.size * this.size;
    const m = this.size * this.size;
    const images = new Float32Array(idx.length * n);
    const masks = this.hasMasks ? new Uint8Array(idx.length * m) : undefined;
    await mapLimit(idx, this.#spec.concurrency ?? 8, async (i, b) => {
      const p = await this.#prepared(i);
      images.set(p.image, b * n);
      if (masks && p.mask) masks.set(p.mask, b * m);
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

  #pack(): Promise<Packed> {
    if (this.#packed) return Promise.resolve(this.#packed);
    if (!this.#packing) {
      const n = this.channels * this.size * this.size;
      const m = this.size * this.size;
      this.#packing = (async () => {
        const images = new Float32Array(this.length * n);
        const masks = this.hasMasks ? new Uint8Array(this.length * m) : undefined;
        await mapLimit(this.#spec.items, this.#spec.concurrency ?? 8, async (_s, i) => {
          const p = await this.#prepared(i);
          images.set(p.image, i * n);
          if (masks && p.mask) masks.set(p.mask, i * m);
        });
        const packed: Packed = masks ? { images, masks } : { images };
        this.#packed = packed;
        this.#cache.clear(); // the packed arrays now hold every item
        return packed;
      })();
      // A failed attempt is forgotten (items already decoded stay cached) so it can be retried.
      this.#packing.catch(() => (this.#packing = undefined));
    }
    return this.#packing;
  }

  async images(): Promise<Float32Array> {
    return (await this.#pack()).images;
  }

  async masks(): Promise<Uint8Array | undefined> {
    if (!this.hasMasks) return undefined;
    return (await this.#pack()).masks;
  }
}

/** Builds a lazily decoded, cached Split over `spec.items`, in that order. */
export function createSplit(spec: SplitSpec): Split {
  return new SourceSplit(spec);
}
