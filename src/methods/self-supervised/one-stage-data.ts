// The data side of the one-stage SSL methods (methods.md §3.2, §6.1): the geometry rule,
// the reference's training and test transforms on 8-bit images, and one synthetic training
// sample. Pure functions of their inputs and a Generator, shared by the inline path and
// the worker threads (./sample-pool.ts), which therefore make the same samples.
//
// Geometry. The reference loads every image with its shorter side Lanczos-resized to 256
// and trains on 224 crops. Here a dataset is loaded square at `size` S (the method asks
// for Lanczos, `pilResample`; square sources give the reference's pixels, non-square ones
// are squashed rather than cropped), and the network sees `crop` C × C inputs:
//   C  = the `crop` option, or by default the largest multiple of 32 ≤ round(224·S/256)
//        (224 at 256, 96 at 128, 64 at 80, 32 at 64): the decoder needs a multiple of 32;
//   C₀ = min(S, C + round(6·S/256)), the centre crop before the random crop (230 at 256).
// Training transform T: RandomRotation(±3°, nearest, fill 0, no expand) on the S × S image
// → CenterCrop(C₀) → RandomCrop(C). Test transform: CenterCrop(C); the C × C prediction is
// zero-padded back to S × S (16 px a side at 256, quirk sslZeroPad256).
//
// Rotation follows Pillow's Image.rotate (what torchvision's RandomRotation calls on a PIL
// image): the inverse affine map about the centre (w/2, h/2) with cos/sin rounded to 15
// decimals, evaluated in 16.16 fixed point from pixel centres (libImaging's affine_fixed,
// NEAREST), out-of-image pixels set to the fill 0. CenterCrop's offset is
// int(round((S − C)/2)) with Python's half-to-even round, as torchvision computes it.
import { Generator } from '../../engine/random.js';
import { patchEx, type PatchExOptions } from '../../anomalies/index.js';
import type { PixelImage } from '../../anomalies/index.js';

export interface OneStageGeometry {
  /** Side of the loaded (square) images, S. */
  size: number;
  /** Network input side C (a multiple of 32). */
  crop: number;
  /** Centre crop before the random crop, C₀. */
  preCrop: number;
  /** Offset of the test crop (and of the map inside the padded S × S map). */
  offset: number;
}

/** Python's round(): half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The geometry rule above; throws a named error for sizes the network cannot take. */
export function oneStageGeometry(method: string, size: number, crop: number | null): OneStageGeometry {
  if (!Number.isInteger(size) || size < 32) throw new RangeError(`${method}: size must be an integer ≥ 32 (the network input is a multiple of 32), got ${size}`);
  const c = crop ?? 32 * Math.floor(Math.round((224 * size) / 256) / 32);
  if (!Number.isInteger(c) || c < 32 || c % 32 !== 0) throw new RangeError(`${method}: crop must be a positive multiple of 32 (the decoder doubles a 1/32 map five times), got ${c}`);
  if (c > size) throw new RangeError(`${method}: crop ${c} is larger than the image size ${size}; choose crop ≤ size`);
  const preCrop = Math.min(size, c + Math.round((6 * size) / 256));
  return { size, crop: c, preCrop, offset: Math.trunc(roundHalfEven((size - c) / 2)) };
}

/** A [-1, 1] float plane (the datasets' scale) → 8-bit grey levels, round((v + 1)·127.5) clipped: exact inverse of ToTensor + Normalize on 8-bit data. */
export function toBytes(src: Float32Array, from: number, n: number, out: Uint8Array = new Uint8Array(n)): Uint8Array {
  for (let i = 0; i < n; i++) {
    const v = Math.round((src[from + i]! + 1) * 127.5);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

const FIX = (v: number): number => Math.floor(v * 65536 + 0.5);
const round15 = (v: number): number => Number(v.toFixed(15));

/**
 * Pillow's `img.rotate(angle, NEAREST, expand=False, fillcolor=0)` of an 8-bit w × h plane
 * (angle in degrees, counter-clockwise).
 */
export function rotateNearest(src: Uint8Array, w: number, h: number, angleDeg: number, out: Uint8Array = new Uint8Array(w * h)): Uint8Array {
  const angle = ((angleDeg % 360) + 360) % 360;
  if (angle === 0) {
    out.set(src.subarray(0, w * h));
    return out;
  }
  const rad = -(angle * Math.PI) / 180;
  const a = round15(Math.cos(rad));
  const b = round15(Math.sin(rad));
  const d = round15(-Math.sin(rad));
  const e = round15(Math.cos(rad));
  const cx = w / 2;
  const cy = h / 2;
  let c = a * -cx + b * -cy;
  let f = d * -cx + e * -cy;
  c += cx;
  f += cy;
  // libImaging affine_fixed (16.16), sampled at pixel centres.
  const a0 = FIX(a);
  const a1 = FIX(b);
  const a3 = FIX(d);
  const a4 = FIX(e);
  let a2 = FIX(c + a * 0.5 + b * 0.5);
  let a5 = FIX(f + d * 0.5 + e * 0.5);
  for (let y = 0; y < h; y++) {
    let xx = a2;
    let yy = a5;
    const row = y * w;
    for (let x = 0; x < w; x++) {
      const xin = xx >> 16;
      const yin = yy >> 16;
      out[row + x] = xin >= 0 && xin < w && yin >= 0 && yin < h ? src[yin * w + xin]! : 0;
      xx += a0;
      yy += a3;
    }
    a2 += a1;
    a5 += a4;
  }
  return out;
}

/** The c × c window at (top, left) of a w-wide plane. */
export function cropPlane(src: Uint8Array, w: number, top: number, left: number, c: number, out: Uint8Array = new Uint8Array(c * c)): Uint8Array {
  for (let y = 0; y < c; y++) out.set(src.subarray((top + y) * w + left, (top + y) * w + left + c), y * c);
  return out;
}

/**
 * The training transform T of one S × S image: rotation by U(−3°, 3°), centre crop C₀,
 * random crop C (top drawn before left, as torchvision). Draws: angle, top, left.
 */
export function trainTransform(img: Uint8Array, g: OneStageGeometry, rng: Generator): Uint8Array {
  const S = g.size;
  const angle = -3 + 6 * rng.uniform();
  const rotated = rotateNearest(img, S, S, angle);
  const t0 = Math.trunc(roundHalfEven((S - g.preCrop) / 2));
  const top = t0 + rng.int(g.preCrop - g.crop + 1);
  const left = t0 + rng.int(g.preCrop - g.crop + 1);
  return cropPlane(rotated, S, top, left, g.crop);
}

/** The test transform: the centre C × C window. */
export function testTransform(img: Uint8Array, g: OneStageGeometry): Uint8Array {
  return cropPlane(img, g.size, g.offset, g.offset, g.crop);
}

/**
 * The Generator of one training sample, from (seed, epoch, position in the epoch) only: a
 * sample is the same whichever thread makes it and whenever it is made.
 */
export function sampleGenerator(seed: number, epoch: number, position: number): Generator {
  const mix = (x: number): number => {
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
    return (x ^ (x >>> 16)) >>> 0;
  };
  const lo = seed >>> 0;
  const hi = Math.floor(seed / 4294967296) >>> 0;
  const h0 = mix(lo ^ 0x243f6a88);
  const h1 = mix(h0 ^ Math.imul(epoch + 1, 0x9e3779b1) ^ hi);
  const h2 = mix(h1 ^ Math.imul(position + 1, 0x85ebca77));
  const h3 = mix(h2 ^ 0x13198a2e);
  const g = new Generator(0);
  g.setState({ s: [h0 | 0, h1 | 0, h2 | 0, (h3 | 1) | 0], spareNormal: null });
  return g;
}

/** What one synthetic training sample needs besides the images. */
export interface SampleJob {
  /** Index of the image x is made from. */
  index: number;
  /** Index of the source image p; −1: a random other training image, drawn first from the sample's Generator. Ignored by presets with `same`. */
  source: number;
  epoch: number;
  /** Position of the sample in the epoch's order. */
  position: number;
}

/**
 * The jobs of step `step` of an epoch: positions [step·B, (step + 1)·B) of `order`. Source of
 * position k (previousRule, quirk sslSourcePreviousSample): order[k − 1], and `prev0` for
 * k = 0; otherwise −1 (a random other image, drawn by the sample).
 */
export function sampleJobs(epoch: number, order: ArrayLike<number>, step: number, batchSize: number, prev0: number, previousRule: boolean): SampleJob[] {
  const out: SampleJob[] = [];
  const end = Math.min(order.length, (step + 1) * batchSize);
  for (let pos = step * batchSize; pos < end; pos++) {
    out.push({ index: order[pos]!, source: previousRule ? (pos === 0 ? prev0 : order[pos - 1]!) : -1, epoch, position: pos });
  }
  return out;
}

export interface SampleSettings {
  seed: number;
  geometry: OneStageGeometry;
  patch: PatchExOptions;
}

/**
 * One training sample (§6.1 steps 1–5) written into `input` and `label` (C × C each, at
 * `at`): x = T(I_index), p = T(I_source) with fresh draws, (x̃, y) = patchEx(x, p), input
 * x̃/255. `images` holds the S × S 8-bit training images back to back. Draws, all from the
 * sample's own Generator: the source index (when −1), T(x), T(p) (skipped when the preset
 * pastes from the image itself), then patchEx's.
 */
export function makeSample(images: Uint8Array, job: SampleJob, s: SampleSettings, input: Float32Array, label: Float32Array, at: number): void {
  const g = s.geometry;
  const plane = g.size * g.size;
  const count = images.length / plane;
  if (!(job.index >= 0 && job.index < count) || !(job.source >= -1 && job.source < count)) {
    throw new RangeError(`one-stage sample: image ${job.index} / source ${job.source} outside the ${count} training images`);
  }
  const rng = sampleGenerator(s.seed, job.epoch, job.position);
  let source = job.source;
  if (source < 0) source = count > 1 ? (job.index + 1 + rng.int(count - 1)) % count : job.index;
  const x = trainTransform(images.subarray(job.index * plane, (job.index + 1) * plane), g, rng);
  const dst: PixelImage = { width: g.crop, height: g.crop, channels: 1, data: x };
  let src: PixelImage | null = null;
  if (!s.patch.same) src = { width: g.crop, height: g.crop, channels: 1, data: trainTransform(images.subarray(source * plane, (source + 1) * plane), g, rng) };
  const r = patchEx(dst, src, s.patch, rng);
  const n = g.crop * g.crop;
  const d = r.image.data;
  const o = at * n;
  for (let i = 0; i < n; i++) input[o + i] = d[i]! / 255;
  label.set(r.label, o);
}
