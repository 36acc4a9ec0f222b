// Shared fixtures for the generator tests: synth-brain / synth-cxr pictures as the
// uint8 / float PixelImages the generators take.
import { renderItem, type SyntheticName } from '../../src/data/synthetic/index.js';
import type { PixelImage } from '../../src/anomalies/image.js';

/** A synthetic normal image as uint8 grey (0–255). */
export function synthImage(name: SyntheticName, index: number, size = 64, seed = 0): PixelImage & { data: Uint8Array } {
  const r = renderItem(name, seed, 'train', index, size, 0);
  const d = new Uint8Array(size * size);
  for (let i = 0; i < d.length; i++) d[i] = Math.max(0, Math.min(255, Math.round((r.image[i]! + 1) * 127.5)));
  return { width: size, height: size, channels: 1, data: d };
}

export const bytes = (img: PixelImage): Buffer => Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);

/** Pixels whose mean absolute change over channels exceeds `tol` (0–255 scale for uint8, 0–1 for float). */
export function changed(a: PixelImage, b: PixelImage, tol = 0): Uint8Array {
  const n = a.width * a.height;
  const C = a.channels;
  const out = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.abs(a.data[p * C + c]! - b.data[p * C + c]!);
    out[p] = s / C > tol ? 1 : 0;
  }
  return out;
}

/** Sample mean and standard error. */
export function meanSe(xs: number[]): { mean: number; se: number } {
  const n = xs.length;
  const mean = xs.reduce((s, v) => s + v, 0) / n;
  const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1);
  return { mean, se: Math.sqrt(v / n) };
}
