// Decode limits: what one file may make us allocate, checked from its header before the
// allocation happens, and a bound on decompression so that a small file cannot inflate into
// gigabytes (a 498 KB .nii.gz used to peak at 4.1 GB). Every limit is an option of `load`
// with a default, and every refusal names the option and how to raise it.

import { gunzipSync, inflateRawSync } from 'node:zlib';
import { DecodeError } from './errors.js';

export type NonFinitePolicy = 'error' | 'clamp';

export interface DecodeLimits {
  /**
   * Bytes one file may decode into, checked separately for each buffer: the file as read, the decompressed
   * stream (gzip NIfTI/IDX, deflated DICOM), a decoded volume (voxels × 4, float32), a decoded
   * frame or image (pixels × samples × bytes, and pixels × 8 for DICOM's float64 values).
   */
  maxDecodedBytes: number;
  /** Pixels (width × height) of one 2-D image or DICOM frame; sharp's own default. */
  maxPixels: number;
  /** NaN/±Infinity voxels (NIfTI float data): an error (default), or clamped (opt-in). */
  nonFinite: NonFinitePolicy;
}

export const DEFAULT_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxDecodedBytes: 2 ** 30, // 1 GiB
  maxPixels: 0x3fff * 0x3fff, // 268,402,689 = 16383², sharp's default limitInputPixels
  nonFinite: 'error',
});

/**
 * Frames of one file (DICOM Number of Frames, NIfTI slices along any axis): every frame
 * becomes an item, so a header claiming billions of them must not reach the item list.
 * Not an option: no file this library reads legitimately comes near it.
 */
export const MAX_FRAMES = 65535;

/** Fills defaults and checks the values (RangeError naming the option). */
export function resolveLimits(o: Partial<DecodeLimits> = {}): DecodeLimits {
  const maxDecodedBytes = o.maxDecodedBytes ?? DEFAULT_LIMITS.maxDecodedBytes;
  const maxPixels = o.maxPixels ?? DEFAULT_LIMITS.maxPixels;
  const nonFinite = o.nonFinite ?? DEFAULT_LIMITS.nonFinite;
  if (!Number.isSafeInteger(maxDecodedBytes) || maxDecodedBytes < 1) {
    throw new RangeError(`maxDecodedBytes must be a positive integer (bytes), got ${maxDecodedBytes}`);
  }
  if (!Number.isSafeInteger(maxPixels) || maxPixels < 1) throw new RangeError(`maxPixels must be a positive integer, got ${maxPixels}`);
  if (nonFinite !== 'error' && nonFinite !== 'clamp') throw new RangeError(`nonFinite must be 'error' or 'clamp', got ${String(nonFinite)}`);
  return { maxDecodedBytes, maxPixels, nonFinite };
}

/** 1073741824 → "1 GiB", 600 → "600 bytes". */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let u = 0;
  let v = n;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${n} bytes`;
  return `${Number.isInteger(v) ? v : v.toPrecision(3)} ${units[u]}`;
}

const RAISE_BYTES =
  'raise it with the load option maxDecodedBytes (e.g. { maxDecodedBytes: 4 * 2 ** 30 }; on the command line --max-decoded-bytes) if the file is genuine';
const RAISE_PIXELS = 'raise it with the load option maxPixels (on the command line --max-pixels) if the file is genuine';

/** Throws when `bytes` (what `what` would allocate) exceeds the cap. */
export function checkBytes(bytes: number, what: string, path: string, limits: DecodeLimits): void {
  if (!(bytes <= limits.maxDecodedBytes)) {
    throw new DecodeError(
      `${path}: ${what} would take ${Number.isFinite(bytes) && bytes < 2 ** 63 ? `${bytes} bytes (${formatBytes(bytes)})` : 'more bytes than can be counted'}, ` +
        `over the decode cap maxDecodedBytes = ${formatBytes(limits.maxDecodedBytes)}; ${RAISE_BYTES}`,
      path,
    );
  }
}

/** Throws when a width × height image or frame has more pixels than the cap. */
export function checkPixels(width: number, height: number, what: string, path: string, limits: DecodeLimits): void {
  if (!(width * height <= limits.maxPixels)) {
    throw new DecodeError(
      `${path}: ${what} is ${width}×${height} = ${width * height} pixels, over the cap maxPixels = ${limits.maxPixels}; ${RAISE_PIXELS}`,
      path,
    );
  }
}

function tooLarge(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 'ERR_BUFFER_TOO_LARGE';
}

/**
 * Decompresses with zlib's maxOutputLength = the cap, so peak memory stays within it (zlib
 * stops with ERR_BUFFER_TOO_LARGE as soon as the running total passes it).
 */
function capped(inflate: (b: Uint8Array, o: { maxOutputLength: number }) => Buffer, buf: Uint8Array, what: string, path: string, limits: DecodeLimits): Buffer {
  try {
    return inflate(buf, { maxOutputLength: limits.maxDecodedBytes });
  } catch (err) {
    if (tooLarge(err)) {
      throw new DecodeError(
        `${path}: ${what} inflates to more than the decode cap maxDecodedBytes = ${formatBytes(limits.maxDecodedBytes)} ` +
          `(from ${buf.length} compressed bytes); ${RAISE_BYTES}`,
        path,
        { cause: err },
      );
    }
    throw new DecodeError(`cannot decompress ${path}: ${(err as Error).message}`, path, { cause: err });
  }
}

export function gunzipCapped(buf: Uint8Array, path: string, limits: DecodeLimits): Buffer {
  return capped(gunzipSync, buf, 'the gzip stream', path, limits);
}

export function inflateRawCapped(buf: Uint8Array, path: string, limits: DecodeLimits): Buffer {
  return capped(inflateRawSync, buf, 'the deflated data set', path, limits);
}
