// The training batches of MedIAnomaly's two-stage SSL methods (methods.md §3.3, §6.2, §7.2,
// §7.3; reference: caiyu6666/MedIAnomaly ssl/two_stage/run_training.py, dataset.py,
// anatpaste.py), as a pure function of (settings, training images, global step), so that
// the same batch comes out inline, in a worker thread, or after a resume.
//
// Data order (the reference's DataLoader over `Repeat(train, 3000)`, shuffle = true,
// drop_last = true, iterated forever): a dataset of L items whose item i is training image
// i mod N, with L = 3000 (quirk `twoStageRepeat3000`: only the first 3000 images are ever
// used when N > 3000) or max(3000, N) without the quirk. Each pass over it is a fresh
// permutation, cut into ⌊L / B⌋ batches of B (the last L mod B items of a pass are dropped);
// the infinite iterator runs on across "epochs" (256 steps each), so global step s reads
// batch s mod ⌊L/B⌋ of pass ⌊s / ⌊L/B⌋⌋.
//
// One sample: the training image as Pillow `RGB` uint8 (grey replicated; the library's
// [-1, 1] values mapped back to 0–255 grey levels), whole-image ColorJitter(0.1, 0.1, 0.1,
// 0.1), then the variant's generator gives the views (original first). Each view goes
// through ToTensor + Normalize(0.5, 0.5). The batch is the views concatenated view by view
// (cut_paste_collate_fn then torch.cat): [V·B, 3, S, S], labels 0 for the B originals, 1 for
// the next B, 2 for the scars (3-way).
//
// Randomness: the permutation of pass p comes from Generator(key(seed, PERM, p)) and every
// draw of sample j of step s from Generator(key(seed, SAMPLE, s, j)): any batch can be made
// alone, in any order, by any thread, and a resumed run needs nothing but the step counter.
// (The reference is not reproducible at all: its workers' NumPy seeds come from torch's
// unseeded base seed; methods.md §3.3.)
import { Generator } from '../../engine/random.js';
import { splitmix32 } from '../../engine/xoshiro.js';
import type { PixelImage } from '../../anomalies/image.js';
import { colorJitter } from '../../anomalies/jitter.js';
import { normal as cutpasteNormal, scar as cutpasteScar } from '../../anomalies/cutpaste.js';
import { anatpaste } from '../../anomalies/anatpaste.js';

/** The view generators of the two-stage methods. */
export type TwoStageVariant = 'normal' | '3way' | 'anatpaste';

export const VIEW_COUNT: Readonly<Record<TwoStageVariant, number>> = { normal: 2, '3way': 3, anatpaste: 2 };

/** Everything a batch depends on besides the images (plain data: it crosses to worker threads). */
export interface ViewSettings {
  variant: TwoStageVariant;
  seed: number;
  /** Images per view per step (B). */
  batchSize: number;
  /** Quirk twoStageRepeat3000. */
  repeat3000: boolean;
  /** AnatPaste quirks (methods.md §7.3, §11). */
  anatPasteDarkRegion: boolean;
  anatPasteEmptyRange255: boolean;
}

const PERM = 0x7045524d;
const SAMPLE = 0x53414d50;

/** A 32-bit stream key from non-negative integers (splitmix32 chained; order matters). */
export function streamKey(...keys: number[]): number {
  let h = 0x2545f491;
  for (const k of keys) {
    h = splitmix32(h ^ (k >>> 0));
    h = splitmix32(h ^ (Math.floor(k / 0x100000000) >>> 0));
  }
  return h;
}

/** Length L of the repeated training set. */
export function repeatLength(n: number, repeat3000: boolean): number {
  return repeat3000 ? 3000 : Math.max(3000, n);
}

/** Batches per pass over the repeated set (drop_last). */
export function batchesPerPass(n: number, s: Pick<ViewSettings, 'batchSize' | 'repeat3000'>): number {
  return Math.floor(repeatLength(n, s.repeat3000) / s.batchSize);
}

/** The training-image indices of global step `step` (0-based) for N training images. */
export function stepIndices(n: number, s: Pick<ViewSettings, 'batchSize' | 'repeat3000' | 'seed'>, step: number, cache?: { pass: number; perm: Int32Array | null }): Int32Array {
  const L = repeatLength(n, s.repeat3000);
  const per = Math.floor(L / s.batchSize);
  if (per < 1) throw new RangeError(`two-stage SSL: batchSize ${s.batchSize} exceeds the ${L} items of the repeated training set`);
  const pass = Math.floor(step / per);
  let perm = cache && cache.pass === pass ? cache.perm : null;
  if (!perm) {
    perm = new Int32Array(L);
    for (let i = 0; i < L; i++) perm[i] = i;
    new Generator(streamKey(s.seed, PERM, pass)).shuffle(perm);
    if (cache) {
      cache.pass = pass;
      cache.perm = perm;
    }
  }
  const off = (step % per) * s.batchSize;
  const out = new Int32Array(s.batchSize);
  for (let j = 0; j < s.batchSize; j++) out[j] = perm[off + j] % n;
  return out;
}

/** Library image k of packed [n, C, S, S] values in [-1, 1] as the reference's Pillow `RGB` uint8 image (H × W × 3). */
export function toRgbUint8(images: Float32Array, k: number, channels: number, size: number): PixelImage & { data: Uint8Array } {
  const plane = size * size;
  const base = k * channels * plane;
  const data = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    const src = base + (channels === 1 ? 0 : c) * plane;
    for (let i = 0; i < plane; i++) {
      // [-1, 1] → 0–255 (the inverse of ToTensor + Normalize(0.5, 0.5)), rounded, clamped.
      const v = (images[src + i] + 1) * 127.5;
      data[i * 3 + c] = v <= 0 ? 0 : v >= 255 ? 255 : Math.floor(v + 0.5);
    }
  }
  return { width: size, height: size, channels: 3, data };
}

/** ToTensor + Normalize(0.5, 0.5) of an interleaved image into out[offset …] as 3 × S × S (grey replicated). */
export function normaliseInto(img: PixelImage, out: Float32Array, offset: number): void {
  const plane = img.width * img.height;
  const C = img.channels;
  const d = img.data;
  const u8 = d instanceof Uint8Array;
  for (let c = 0; c < 3; c++) {
    const cc = C === 1 ? 0 : c;
    const o = offset + c * plane;
    for (let i = 0; i < plane; i++) out[o + i] = u8 ? NORM8[d[i * C + cc]] : (d[i * C + cc] - 0.5) / 0.5;
  }
}

/** u → (u/255 − 0.5)/0.5 rounded as torchvision computes it in float32. */
const NORM8 = new Float32Array(256);
for (let u = 0; u < 256; u++) NORM8[u] = Math.fround((Math.fround(u / 255) - 0.5) / 0.5);

/** The views of one sample (original first): whole-image ColorJitter, then the variant's generator. */
export function sampleViews(img: PixelImage, s: ViewSettings, rng: Generator): PixelImage[] {
  const jittered = colorJitter(img, rng, { brightness: 0.1, contrast: 0.1, saturation: 0.1, hue: 0.1 });
  switch (s.variant) {
    case 'normal':
      return [jittered, cutpasteNormal(jittered, rng).image];
    case '3way':
      // CutPaste3Way: both augmentations from the same jittered original.
      return [jittered, cutpasteNormal(jittered, rng).image, cutpasteScar(jittered, rng).image];
    case 'anatpaste':
      return [jittered, anatpaste(jittered, rng, { anatPasteDarkRegion: s.anatPasteDarkRegion, anatPasteEmptyRange255: s.anatPasteEmptyRange255 }).image];
  }
}

/** One training batch: x [V·B, 3, S, S] (view-major) and its labels. */
export interface ViewBatch {
  step: number;
  views: number;
  /** V·B·3·S·S values. */
  x: Float32Array;
  labels: Int32Array;
  /** Training-image index of each of the B samples. */
  indices: Int32Array;
}

/** Caches that speed up consecutive steps on one thread (the current pass's permutation, uint8 RGB images). */
export interface BatchCache {
  pass: number;
  perm: Int32Array | null;
  rgb?: (PixelImage | undefined)[];
}

/**
 * Samples j ∈ [from, to) of global step `step` from the packed training images [n, C, S, S]
 * in [-1, 1]: [V, to − from, 3, S, S] (view-major), ready to scatter into the batch.
 */
export function makeSamples(images: Float32Array, n: number, channels: number, size: number, s: ViewSettings, step: number, from: number, to: number, cache?: BatchCache): Float32Array {
  const indices = stepIndices(n, s, step, cache);
  const V = VIEW_COUNT[s.variant];
  const m = to - from;
  const per = 3 * size * size;
  const out = new Float32Array(V * m * per);
  for (let j = from; j < to; j++) {
    const k = indices[j];
    let img = cache?.rgb?.[k];
    if (!img) {
      img = toRgbUint8(images, k, channels, size);
      if (cache?.rgb) cache.rgb[k] = img;
    }
    const views = sampleViews(img, s, new Generator(streamKey(s.seed, SAMPLE, step, j)));
    for (let v = 0; v < V; v++) normaliseInto(views[v], out, (v * m + (j - from)) * per);
  }
  return out;
}

/** Puts the chunk of samples [from, to) made by makeSamples into the batch x [V·B, 3, S, S]. */
export function scatterSamples(chunk: Float32Array, x: Float32Array, views: number, batchSize: number, per: number, from: number, to: number): void {
  const m = to - from;
  for (let v = 0; v < views; v++) x.set(chunk.subarray(v * m * per, (v + 1) * m * per), (v * batchSize + from) * per);
}

/** Labels of a batch: 0 for the B originals, then 1, then 2 (3-way). */
export function batchLabels(views: number, batchSize: number): Int32Array {
  const labels = new Int32Array(views * batchSize);
  for (let i = 0; i < labels.length; i++) labels[i] = Math.floor(i / batchSize);
  return labels;
}

/** The batch of global step `step` from the packed training images [n, C, S, S] in [-1, 1], on this thread. */
export function makeBatch(images: Float32Array, n: number, channels: number, size: number, s: ViewSettings, step: number, cache?: BatchCache): ViewBatch {
  const V = VIEW_COUNT[s.variant];
  const B = s.batchSize;
  const per = 3 * size * size;
  const x = new Float32Array(V * B * per);
  scatterSamples(makeSamples(images, n, channels, size, s, step, 0, B, cache), x, V, B, per, 0, B);
  return { step, views: V, x, labels: batchLabels(V, B), indices: stepIndices(n, s, step, cache) };
}
