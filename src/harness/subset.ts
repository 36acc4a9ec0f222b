// A Split made of some items of another split (same order as `indices`): for profiling one
// training step on exactly one batch, and for scoring a few report examples.
import type { Batch, Item, LabelCounts, Split } from '../data/types.js';

export function subsetSplit(split: Split, indices: readonly number[]): Split {
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= split.length) throw new RangeError(`subsetSplit: index ${i} is outside ${split.dataset} ${split.name} [0, ${split.length})`);
  }
  const idx = [...indices];
  const labels = Uint8Array.from(idx, (i) => split.labels[i]);
  let abnormal = 0;
  for (const l of labels) abnormal += l;
  const counts: LabelCounts = { normal: labels.length - abnormal, abnormal };
  let packed: Promise<Batch> | undefined;
  const all = () => (packed ??= split.batch(idx));
  return {
    dataset: split.dataset,
    name: split.name,
    length: idx.length,
    channels: split.channels,
    size: split.size,
    ids: idx.map((i) => split.ids[i]),
    paths: idx.map((i) => split.paths[i]),
    labels,
    hasMasks: split.hasMasks,
    counts,
    item: (k: number): Promise<Item> => {
      if (!Number.isInteger(k) || k < 0 || k >= idx.length) throw new RangeError(`subset of ${split.dataset} ${split.name}: item index ${k} out of range [0, ${idx.length})`);
      return split.item(idx[k]);
    },
    batch: (ks: ArrayLike<number>) => split.batch(Array.from(ks, (k) => idx[k])),
    images: async () => (await all()).images,
    masks: async () => (split.hasMasks ? (await all()).masks : undefined),
  };
}
