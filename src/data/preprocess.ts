// The reference preprocessing (methods.md §2.6, reconstruction sub-project): Pillow `L`
// (or `RGB`) conversion, resize to S × S (aspect ratio not kept), ToTensor (÷255) and
// Normalize(0.5, 0.5) → [-1, 1]. Masks: Pillow `L`, NEAREST resize, binarised with > 0.

import type { RawImage } from './raw.js';
import { checkRaw, toGrayPlane } from './raw.js';
import { pilResizeNearest, resizeImage } from './resize.js';
import type { Resample } from './types.js';

export interface PreprocessOptions {
  size: number;
  channels: 1 | 3;
  resample: Resample;
}

/**
 * value → [-1, 1] exactly as torchvision computes it in float32: ToTensor divides by 255,
 * Normalize subtracts 0.5 and divides by 0.5 (each step rounded to float32).
 */
const NORM8 = new Float32Array(256);
for (let u = 0; u < 256; u++) NORM8[u] = Math.fround((Math.fround(u / 255) - 0.5) / 0.5);

function normalizeInto(src: Uint8Array | Float32Array, out: Float32Array, offset: number): void {
  if (src instanceof Uint8Array) {
    for (let i = 0; i < src.length; i++) out[offset + i] = NORM8[src[i]!]!;
  } else {
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      // Float sources are [0, 1]; Lanczos can overshoot, so clip as Pillow's 8-bit path would.
      out[offset + i] = (v <= 0 ? 0 : v >= 1 ? 1 : v) * 2 - 1;
    }
  }
}

/**
 * A guard behind every decoder: one NaN or ±Infinity pixel would spread through the resize and
 * the network into a NaN score. Decoders refuse such files themselves (naming the file);
 * this catches any source that does not (prepareItem adds the file to the message).
 */
function checkFinite(img: RawImage): void {
  const d = img.data;
  if (d instanceof Uint8Array) return;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) {
      throw new RangeError(`image value ${d[i]} at pixel ${Math.floor(i / img.channels)} is not finite; decoded images must hold finite values`);
    }
  }
}

export function checkPreprocessOptions(o: PreprocessOptions): void {
  if (!Number.isInteger(o.size) || o.size < 1 || o.size > 8192) {
    throw new RangeError(`size must be an integer in [1, 8192], got ${o.size}`);
  }
  if (o.channels !== 1 && o.channels !== 3) throw new RangeError(`channels must be 1 or 3, got ${String(o.channels)}`);
}

/** A decoded image → C × S × S Float32Array in [-1, 1]. */
export async function preprocessImage(img: RawImage, o: PreprocessOptions): Promise<Float32Array> {
  checkRaw(img);
  checkFinite(img);
  const S = o.size;
  const plane = S * S;
  const out = new Float32Array(o.channels * plane);
  if (o.channels === 1 || img.channels === 1) {
    // Gray output, or a gray source replicated to RGB (Pillow's L → RGB copies the band, and
    // resizing three equal bands gives three equal results).
    const gray: RawImage = { width: img.width, height: img.height, channels: 1, data: toGrayPlane(img) };
    const r = await resizeImage(gray, S, S, o.resample);
    normalizeInto(r.data, out, 0);
    for (let c = 1; c < o.channels; c++) out.copyWithin(c * plane, 0, plane);
    return out;
  }
  const r = await resizeImage(img, S, S, o.resample);
  const tmp = r.data instanceof Uint8Array ? new Uint8Array(plane) : new Float32Array(plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0, j = c; i < plane; i++, j += 3) tmp[i] = r.data[j]!;
    normalizeInto(tmp, out, c * plane);
  }
  return out;
}

/** A decoded mask → S × S Uint8Array of 0/1 (Pillow `L`, NEAREST, > 0). */
export function preprocessMask(mask: RawImage, size: number): Uint8Array {
  checkRaw(mask);
  const gray = toGrayPlane(mask);
  const r = pilResizeNearest(gray, mask.width, mask.height, size, size);
  const out = new Uint8Array(size * size);
  for (let i = 0; i < out.length; i++) out[i] = r[i]! > 0 ? 1 : 0;
  return out;
}
