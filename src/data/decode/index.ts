// One entry point for every file format: which format a path is, how many 2-D frames it
// holds (1 for an image, the frame count of a DICOM, the slices of a NIfTI volume along
// the chosen axis), and frame k as a RawImage. Parsed DICOM data sets and NIfTI volumes
// are kept in a small cache because consecutive items usually come from the same file.

import { open } from 'node:fs/promises';
import { type RawImage, toGrayPlane } from '../raw.js';
import { DecodeError } from '../errors.js';
import { IMAGE_EXTENSIONS, decodeImage, probeImage } from './image.js';
import { DICOM_EXTENSIONS, type DicomImage, type DicomWindow, dicomFrame, hasDicomMagic, parseDicom } from './dicom.js';
import { NIFTI_EXTENSIONS, type Volume, normalizedSlice, readNifti, sliceOf } from './nifti.js';
import { DEFAULT_LIMITS, type DecodeLimits, checkBytes } from '../limits.js';

export type FileFormat = 'image' | 'dicom' | 'nifti';

export interface FrameOptions {
  /** NIfTI slicing axis. */
  axis: 0 | 1 | 2;
  /** DICOM VOI: header window when present (else min–max), or always min–max. */
  window: DicomWindow;
  /** Decode caps and the non-finite policy (../limits.ts); defaults when absent. */
  limits?: DecodeLimits;
}

export const DEFAULT_FRAME_OPTIONS: FrameOptions = { axis: 2, window: 'header', limits: DEFAULT_LIMITS };

/** The format a file name implies, or undefined for names we do not read. */
export function formatOf(path: string): FileFormat | undefined {
  const lower = path.toLowerCase();
  if (NIFTI_EXTENSIONS.some((e) => lower.endsWith(e))) return 'nifti';
  if (DICOM_EXTENSIONS.some((e) => lower.endsWith(e))) return 'dicom';
  if (IMAGE_EXTENSIONS.some((e) => lower.endsWith(e))) return 'image';
  return undefined;
}

/** True for a file that starts like a Part 10 DICOM file (for extension-less DICOM). */
export async function sniffDicom(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(132);
    const { bytesRead } = await fh.read(buf, 0, 132, 0);
    return bytesRead === 132 && hasDicomMagic(buf);
  } finally {
    await fh.close();
  }
}

/** Reads a whole file, refusing one larger than maxDecodedBytes before reading it. */
export async function readCapped(path: string, limits: DecodeLimits = DEFAULT_LIMITS): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    checkBytes((await fh.stat()).size, 'the file', path, limits);
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

type Container = { kind: 'dicom'; dicom: DicomImage } | { kind: 'nifti'; volume: Volume };

const CACHE_SIZE = 3;
const cache = new Map<string, Promise<Container>>();

async function container(path: string, format: 'dicom' | 'nifti', limits: DecodeLimits = DEFAULT_LIMITS): Promise<Container> {
  // The limits are part of the key: a file refused (or clamped) under one set is not served under another.
  const key = `${format}:${limits.maxDecodedBytes}:${limits.maxPixels}:${limits.nonFinite}:${path}`;
  let p = cache.get(key);
  if (p) {
    cache.delete(key);
    cache.set(key, p); // most recently used last
    return p;
  }
  p = readCapped(path, limits).then((buf): Container =>
    format === 'dicom' ? { kind: 'dicom', dicom: parseDicom(buf, path, limits) } : { kind: 'nifti', volume: readNifti(buf, path, limits) },
  );
  cache.set(key, p);
  p.catch(() => cache.delete(key));
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return p;
}

/** Forgets cached containers (tests; or to free memory after a load). */
export function clearDecodeCache(): void {
  cache.clear();
}

export interface FrameInfo {
  frames: number;
  width: number;
  height: number;
}

// PNG and JPEG headers sit at the start; a JPEG with a large EXIF block falls back to the whole file.
const HEAD_BYTES = 64 * 1024;

/** Reads enough of a file to know its frame count and frame size; throws for unreadable or corrupt headers. */
export async function probeFile(path: string, format: FileFormat, o: FrameOptions = DEFAULT_FRAME_OPTIONS): Promise<FrameInfo> {
  if (format === 'image') {
    const fh = await open(path, 'r');
    let head: Uint8Array;
    let whole = false;
    try {
      const size = (await fh.stat()).size;
      head = new Uint8Array(Math.min(size, HEAD_BYTES));
      await fh.read(head, 0, head.length, 0);
      whole = size <= HEAD_BYTES;
    } finally {
      await fh.close();
    }
    let h;
    try {
      h = await probeImage(head, path, o.limits);
    } catch (err) {
      if (whole || err instanceof DecodeError && /\bmax(Pixels|DecodedBytes)\b/.test(err.message)) throw err;
      h = await probeImage(await readCapped(path, o.limits), path, o.limits); // header beyond the first chunk (large EXIF)
    }
    return { frames: 1, width: h.width, height: h.height };
  }
  const c = await container(path, format, o.limits);
  if (c.kind === 'dicom') return { frames: c.dicom.frames, width: c.dicom.columns, height: c.dicom.rows };
  const [nx, ny, nz] = c.volume.dims;
  const frames = c.volume.dims[o.axis];
  const [width, height] = o.axis === 2 ? [nx, ny] : o.axis === 1 ? [nx, nz] : [ny, nz];
  return { frames, width, height };
}

/** Frame (DICOM frame, NIfTI slice) k of a file; k = 0 for plain images. */
export async function readFrame(path: string, format: FileFormat, k: number, o: FrameOptions = DEFAULT_FRAME_OPTIONS): Promise<RawImage> {
  if (format === 'image') {
    if (k !== 0) throw new RangeError(`${path}: an image file has one frame, asked for frame ${k}`);
    return decodeImage(await readCapped(path, o.limits), path, o.limits);
  }
  const c = await container(path, format, o.limits);
  if (c.kind === 'dicom') return dicomFrame(c.dicom, k, o.window);
  const s = normalizedSlice(c.volume, o.axis, k);
  return { width: s.width, height: s.height, channels: 1, data: s.data };
}

/**
 * Frame k of a mask file with its values as stored (no windowing or min–max), so that the
 * > 0 binarisation sees the labels themselves.
 */
export async function readMaskFrame(path: string, format: FileFormat, k: number, o: FrameOptions = DEFAULT_FRAME_OPTIONS): Promise<RawImage> {
  if (format === 'image') return readFrame(path, format, k, o);
  const c = await container(path, format, o.limits);
  if (c.kind === 'dicom') return dicomFrame(c.dicom, k, 'none');
  const s = sliceOf(c.volume, o.axis, k);
  return { width: s.width, height: s.height, channels: 1, data: s.data };
}

/** For every frame/slice of a mask file, whether it has any foreground (> 0) pixel. */
export async function foregroundFrames(path: string, format: FileFormat, o: FrameOptions = DEFAULT_FRAME_OPTIONS): Promise<boolean[]> {
  if (format === 'image') {
    const f = await readMaskFrame(path, format, 0, o);
    // Pillow's L conversion decides what counts as foreground in an RGB mask.
    return [(f.channels === 3 ? toGrayPlane(f) : f.data).some((v) => v > 0)];
  }
  // Hold the parsed file for the whole pass rather than going back to the small cache per frame.
  const c = await container(path, format, o.limits);
  if (c.kind === 'dicom') {
    return Array.from({ length: c.dicom.frames }, (_, k) => {
      const f = dicomFrame(c.dicom, k, 'none');
      return (f.channels === 3 ? toGrayPlane(f) : f.data).some((v) => v > 0);
    });
  }
  return Array.from({ length: c.volume.dims[o.axis] }, (_, k) => sliceOf(c.volume, o.axis, k).data.some((v) => v > 0));
}
