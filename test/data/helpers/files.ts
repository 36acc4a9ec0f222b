// Small image files and folders for loader tests, written with sharp into a temp dir.
import sharp from 'sharp';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export function tempDir(prefix = 'medianomaly-data-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function writeBytes(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

/** Deterministic test pattern: value(x, y, c) in 0..255. */
export function pattern(w: number, h: number, c: number, seed = 1): Uint8Array {
  const out = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = (x * 7 + y * 13 + k * 50 + seed * 31 + ((x * y) % 17)) & 0xff;
  return out;
}

export type Encoding = 'png' | 'jpeg' | 'tiff';

/** Writes an 8-bit gray (c = 1), RGB (3) or RGBA (4) image. */
export async function writeImage(path: string, data: Uint8Array, w: number, h: number, c: 1 | 3 | 4, enc: Encoding = 'png'): Promise<void> {
  let s = sharp(data, { raw: { width: w, height: h, channels: c } });
  if (c === 1) s = s.toColourspace('b-w');
  s = enc === 'png' ? s.png() : enc === 'jpeg' ? s.jpeg({ quality: 95 }) : s.tiff({ compression: 'lzw' });
  writeBytes(path, await s.toBuffer());
}

/** Writes a 16-bit gray (c = 1) or RGB (c = 3) PNG or TIFF. */
export async function writeImage16(path: string, data: Uint16Array, w: number, h: number, c: 1 | 3, enc: 'png' | 'tiff' = 'png'): Promise<void> {
  let s = sharp(data, { raw: { width: w, height: h, channels: c } }).toColourspace(c === 1 ? 'grey16' : 'rgb16');
  s = enc === 'png' ? s.png() : s.tiff({ compression: 'lzw' });
  writeBytes(path, await s.toBuffer());
}

/** A gray PNG filled with one value (masks, quick fixtures). */
export async function writeFlat(path: string, w: number, h: number, value: number): Promise<void> {
  await writeImage(path, new Uint8Array(w * h).fill(value), w, h, 1);
}

/** An IDX ubyte file (optionally gzip-compressed). */
export function writeIdx(path: string, dims: number[], data: Uint8Array, gzip = false): void {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  const file = Buffer.concat([head, data]);
  writeBytes(path, gzip ? gzipSync(file) : file);
}
