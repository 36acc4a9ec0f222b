// Shared pieces of the method tests: a small seeded "head with lesions" dataset built in
// memory (so the tests depend on no loader), a minimal Split over it, the fastest
// available backend, and small network settings.
import { Generator, backends, setBackend } from '../../src/engine/index.js';
import type { Batch, Item, Split, SplitName } from '../../src/data/types.js';

/** A Split over packed arrays (the contract of src/data/types.ts, nothing lazy). */
export function arraySplit(name: SplitName, images: Float32Array, labels: Uint8Array, channels: number, size: number): Split {
  const per = channels * size * size;
  const n = labels.length;
  if (images.length !== n * per) throw new Error('arraySplit: images and labels disagree');
  const ids = Array.from({ length: n }, (_, i) => `${name}-${i}`);
  const item = async (i: number): Promise<Item> => {
    if (!(i >= 0 && i < n)) throw new RangeError(`item ${i} outside [0, ${n})`);
    return { id: ids[i], path: ids[i], label: labels[i] as 0 | 1, image: images.slice(i * per, (i + 1) * per) };
  };
  const abnormal = labels.reduce((a, b) => a + b, 0);
  return {
    dataset: 'toy-heads',
    name,
    length: n,
    channels,
    size,
    ids,
    paths: ids,
    labels,
    hasMasks: false,
    counts: { normal: n - abnormal, abnormal },
    item,
    async batch(indices: ArrayLike<number>): Promise<Batch> {
      const idx = Array.from(indices);
      const out = new Float32Array(idx.length * per);
      idx.forEach((k, j) => out.set(images.subarray(k * per, (k + 1) * per), j * per));
      return { n: idx.length, channels, size, ids: idx.map((k) => ids[k]), labels: Uint8Array.from(idx.map((k) => labels[k])), images: out };
    },
    images: async () => images,
    masks: async () => undefined,
  };
}

/**
 * One toy head: a dark background, a bright textured ellipse with jittered centre and
 * radii; an abnormal one adds a very bright round lesion inside the ellipse.
 */
function drawHead(out: Float32Array, size: number, g: Generator, abnormal: boolean): void {
  const cx = size / 2 + (g.uniform() - 0.5) * size * 0.1;
  const cy = size / 2 + (g.uniform() - 0.5) * size * 0.1;
  const rx = size * (0.3 + 0.06 * g.uniform());
  const ry = size * (0.38 + 0.06 * g.uniform());
  const fx = 1 + 2 * g.uniform();
  const fy = 1 + 2 * g.uniform();
  const ph = 6.283 * g.uniform();
  const lx = cx + (g.uniform() - 0.5) * rx;
  const ly = cy + (g.uniform() - 0.5) * ry;
  const lr = size * (0.08 + 0.04 * g.uniform());
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = (x - cx) / rx;
      const dy = (y - cy) / ry;
      let v = -0.9;
      if (dx * dx + dy * dy < 1) v = 0.0 + 0.15 * Math.sin((fx * x) / size * 6.283 + ph) * Math.cos((fy * y) / size * 6.283);
      if (abnormal && (x - lx) ** 2 + (y - ly) ** 2 < lr * lr) v = 0.9;
      out[y * size + x] = v + 0.02 * g.normal();
    }
  }
}

export interface ToyData {
  train: Split;
  test: Split;
}

/** A train split of normal heads and a test split with `normal` then `abnormal` heads (one channel). */
export function toyHeads(opts: { train: number; normal: number; abnormal: number; size: number; seed: number }): ToyData {
  const { size } = opts;
  const per = size * size;
  const g = new Generator(opts.seed);
  const make = (labels: number[]) => {
    const images = new Float32Array(labels.length * per);
    labels.forEach((l, i) => drawHead(images.subarray(i * per, (i + 1) * per), size, g, l === 1));
    return images;
  };
  const trainLabels = new Array(opts.train).fill(0);
  const testLabels = [...new Array(opts.normal).fill(0), ...new Array(opts.abnormal).fill(1)];
  return {
    train: arraySplit('train', make(trainLabels), new Uint8Array(trainLabels), 1, size),
    test: arraySplit('test', make(testLabels), new Uint8Array(testLabels), 1, size),
  };
}

/** Switches to the native cpu backend when it is built (much faster); returns the backend used. */
export function fastestBackend(): string {
  const cpu = backends().find((b) => b.name === 'cpu');
  const name = cpu?.available ? 'cpu' : 'ts';
  setBackend(name);
  return name;
}

/** Small network settings for tests: 32 px, narrow convolutions, small MLPs. */
export const SMALL = { size: 32, width: 8, hidden: 64, latent: 8, batchSize: 16 } as const;

/** Asserts that `fn` rejects (or throws) with an error whose message matches `re` (or that passes `check`). */
export async function rejects(fn: () => unknown, expected: RegExp | ((e: Error) => boolean)): Promise<void> {
  let error: unknown = null;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  if (!error) throw new Error(`expected a rejection matching ${String(expected)}, but it resolved`);
  const e = error as Error;
  const ok = expected instanceof RegExp ? expected.test(e.message) : expected(e);
  if (!ok) throw new Error(`the rejection "${e.name}: ${e.message}" does not match ${String(expected)}`);
}
