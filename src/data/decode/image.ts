// PNG / JPEG / TIFF / WebP / GIF through sharp (libvips), returned with Pillow's semantics:
// alpha dropped without compositing (Pillow's RGBA → RGB/L), no EXIF rotation and no ICC
// colour management (Pillow applies neither on open/convert). 8-bit samples stay 8-bit;
// 16-bit samples become Float32 in [0, 1].
// Size is checked from the header before decoding (maxPixels, maxDecodedBytes), and sharp's
// own limitInputPixels is set to the same maxPixels for the decode, so libvips refuses as
// well (the header read runs without it, so that our error, naming the option, comes first).

import sharp, { type Metadata } from 'sharp';
import type { RawImage } from '../raw.js';
import { DecodeError } from '../errors.js';
import { type DecodeLimits, checkBytes, checkPixels, resolveLimits } from '../limits.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp', '.gif'];

export interface ImageHeader {
  width: number;
  height: number;
  /** Colour bands without alpha: 1 or 3. */
  channels: 1 | 3;
  bits: 8 | 16;
}

function headerOf(meta: Metadata, path: string, limits: DecodeLimits): ImageHeader {
  const { width, height, depth } = meta;
  if (!width || !height) throw new DecodeError(`cannot read the image size of ${path}`, path);
  checkPixels(width, height, 'the image', path, limits);
  let bits: 8 | 16;
  if (depth === 'uchar' || depth === 'char') bits = 8;
  else if (depth === 'ushort' || depth === 'short') bits = 16;
  else throw new DecodeError(`${path}: unsupported sample format '${depth}' (8- and 16-bit images are supported)`, path);
  const bands = (meta.channels ?? 1) - (meta.hasAlpha ? 1 : 0);
  const gray = bands === 1 && !meta.isPalette;
  // What the raw decode allocates: every band sharp hands back (alpha included), at its depth.
  checkBytes(width * height * Math.max(meta.channels ?? 1, gray ? 1 : 3) * (bits / 8), `the decoded ${width}×${height} image`, path, limits);
  return { width, height, channels: gray ? 1 : 3, bits };
}

function wrap(err: unknown, path: string): DecodeError {
  if (err instanceof DecodeError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new DecodeError(`cannot decode ${path}: ${msg}`, path, { cause: err });
}

/** Reads only the header (size, bands, depth). */
export async function probeImage(buf: Uint8Array, path: string, limitOptions: Partial<DecodeLimits> = {}): Promise<ImageHeader> {
  const limits = resolveLimits(limitOptions);
  try {
    return headerOf(await sharp(buf, { ignoreIcc: true, limitInputPixels: false }).metadata(), path, limits);
  } catch (err) {
    throw wrap(err, path);
  }
}

/** Decodes the whole image (first page of multi-page files, as Pillow does). */
export async function decodeImage(buf: Uint8Array, path: string, limitOptions: Partial<DecodeLimits> = {}): Promise<RawImage> {
  const limits = resolveLimits(limitOptions);
  try {
    const h = headerOf(await sharp(buf, { ignoreIcc: true, limitInputPixels: false }).metadata(), path, limits);
    const space = h.channels === 1 ? (h.bits === 8 ? 'b-w' : 'grey16') : h.bits === 8 ? 'srgb' : 'rgb16';
    const { data, info } = await sharp(buf, { ignoreIcc: true, limitInputPixels: limits.maxPixels })
      .toColourspace(space)
      .raw({ depth: h.bits === 8 ? 'uchar' : 'ushort' })
      .toBuffer({ resolveWithObject: true });
    const n = info.width * info.height;
    const stride = info.channels;
    const keep = h.channels;
    if (stride < keep) throw new DecodeError(`${path}: decoder returned ${stride} bands, expected ${keep}`, path);
    if (h.bits === 8) {
      if (stride === keep) return { width: info.width, height: info.height, channels: keep, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
      const out = new Uint8Array(n * keep);
      for (let i = 0; i < n; i++) for (let c = 0; c < keep; c++) out[i * keep + c] = data[i * stride + c]!;
      return { width: info.width, height: info.height, channels: keep, data: out };
    }
    const u16 = new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
    const out = new Float32Array(n * keep);
    for (let i = 0; i < n; i++) for (let c = 0; c < keep; c++) out[i * keep + c] = u16[i * stride + c]! / 65535;
    return { width: info.width, height: info.height, channels: keep, data: out };
  } catch (err) {
    throw wrap(err, path);
  }
}
