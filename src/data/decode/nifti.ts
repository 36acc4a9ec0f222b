// NIfTI-1/2 volumes (.nii, .nii.gz) through nifti-reader-js, cut into 2-D slices.
//
// Intensities: scl_slope/scl_inter applied (slope 0 means "no scaling", per the standard),
// then min–max over the whole volume to [0, 1], so the slices of one volume stay comparable
// (a per-slice stretch would make an empty slice look like noise). Mask volumes are read
// the same way and binarised with > 0 later. Voxels are not reoriented: a slice shows the
// array as stored (first in-plane index across, second down).
//
// Files that lie are refused before they cost memory or poison a score (see readNifti and
// ../limits.ts): gzip inflates under a cap, dims are validated against the cap and the bytes
// present, and NaN/±Infinity voxels are an error unless `nonFinite: 'clamp'` is asked for.

import * as nifti from 'nifti-reader-js';
import { DecodeError } from '../errors.js';
import { type DecodeLimits, MAX_FRAMES, checkBytes, gunzipCapped, resolveLimits } from '../limits.js';

export const NIFTI_EXTENSIONS = ['.nii', '.nii.gz'];

export interface Volume {
  path: string;
  /** Sizes along the three array axes (i, j, k). */
  dims: [number, number, number];
  /** Scaled voxel values, i fastest. */
  data: Float32Array;
  min: number;
  max: number;
}

const FLT_MAX = 3.4028234663852886e38;

function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/** Datatype codes from nifti1.h → bytes per voxel and name. */
const DATATYPES: Record<number, { size: number; name: string }> = {
  2: { size: 1, name: 'uint8' }, 256: { size: 1, name: 'int8' }, 4: { size: 2, name: 'int16' }, 512: { size: 2, name: 'uint16' },
  8: { size: 4, name: 'int32' }, 768: { size: 4, name: 'uint32' }, 16: { size: 4, name: 'float32' }, 64: { size: 8, name: 'float64' },
};

function voxelGetter(v: DataView, base: number, code: number, little: boolean): (i: number) => number {
  return code === 2 ? (i) => v.getUint8(base + i)
    : code === 256 ? (i) => v.getInt8(base + i)
    : code === 4 ? (i) => v.getInt16(base + i * 2, little)
    : code === 512 ? (i) => v.getUint16(base + i * 2, little)
    : code === 8 ? (i) => v.getInt32(base + i * 4, little)
    : code === 768 ? (i) => v.getUint32(base + i * 4, little)
    : code === 16 ? (i) => v.getFloat32(base + i * 4, little)
    : (i) => v.getFloat64(base + i * 8, little);
}

/**
 * The header bytes only (up to vox_offset, so extensions parse), copied out so that
 * nifti-reader-js never gets an ArrayBuffer copy of the whole image.
 */
function headerBuffer(bytes: Uint8Array): ArrayBuffer {
  let end = Math.min(bytes.length, 544);
  if (bytes.length >= 348) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const le = v.getInt32(0, true), be = v.getInt32(0, false);
    const little = le === 348 || le === 540;
    const size = little ? le : be;
    let offset = NaN;
    if (size === 348) offset = v.getFloat32(108, little);
    else if (size === 540 && bytes.length >= 176) offset = Number(v.getBigInt64(168, little));
    if (Number.isFinite(offset) && offset > end) end = Math.min(bytes.length, Math.trunc(offset));
  }
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + end) as ArrayBuffer;
}

/**
 * Parses a .nii or .nii.gz buffer into a 3-D volume (2-D images become one-slice volumes).
 * The header is checked before anything is allocated: dims must be positive integers (at most
 * MAX_FRAMES each), the float32 volume must fit `maxDecodedBytes`, and the file must hold the
 * bytes the header declares. Voxels must be finite before and after scl_slope/scl_inter and
 * within float32 range.
 */
export function readNifti(buf: Uint8Array, path: string, limitOptions: Partial<DecodeLimits> = {}): Volume {
  const limits = resolveLimits(limitOptions);
  const gz = isGzip(buf);
  const bytes = gz ? gunzipCapped(buf, path, limits) : buf;
  const hab = headerBuffer(bytes);
  if (!nifti.isNIFTI(hab)) throw new DecodeError(`${path} is not a NIfTI-1/2 file (bad header size or magic)`, path);
  let header: nifti.NIFTI1 | nifti.NIFTI2;
  try {
    header = nifti.readHeader(hab);
  } catch (err) {
    throw new DecodeError(`cannot read NIfTI file ${path}: ${(err as Error).message}`, path, { cause: err });
  }
  const nd = header.dims[0]!;
  if (!Number.isInteger(nd) || nd < 2 || nd > 7) throw new DecodeError(`${path}: NIfTI dim[0] = ${nd} is invalid (2 to 7 dimensions)`, path);
  const d = [1, 1, 1, 1, 1, 1, 1];
  for (let i = 1; i <= nd; i++) {
    const x = header.dims[i]!;
    if (!Number.isInteger(x) || x < 1) {
      throw new DecodeError(`${path}: NIfTI dim[${i}] = ${x} is not a positive integer; the header is corrupt (dims ${header.dims.slice(1, nd + 1).join(', ')})`, path);
    }
    if (x > MAX_FRAMES) throw new DecodeError(`${path}: NIfTI dim[${i}] = ${x} is over the limit of ${MAX_FRAMES} per axis; the header is probably corrupt`, path);
    d[i - 1] = x;
  }
  if (d.slice(3).some((x) => x > 1)) {
    throw new DecodeError(`${path}: ${nd}-D NIfTI with dims ${d.slice(0, nd).join('×')} is not a single volume; extract one 3-D volume first`, path);
  }
  const dims: [number, number, number] = [d[0]!, d[1]!, d[2]!];
  const shape = `${dims.join('×')}`;
  const type = DATATYPES[header.datatypeCode];
  if (type === undefined) {
    throw new DecodeError(`${path}: NIfTI datatype ${header.datatypeCode} is not supported (uint8/int8/int16/uint16/int32/uint32/float32/float64 are)`, path);
  }
  const count = dims[0] * dims[1] * dims[2];
  checkBytes(count * 4, `the ${shape} volume as float32`, path, limits);
  const offset = Math.trunc(header.vox_offset);
  if (!Number.isFinite(header.vox_offset) || offset < 0 || offset > bytes.length) {
    throw new DecodeError(`${path}: NIfTI vox_offset = ${header.vox_offset} lies outside the ${bytes.length}-byte file`, path);
  }
  const declared = count * type.size;
  if (bytes.length - offset < declared) {
    throw new DecodeError(
      `${path}: the header declares ${shape} ${type.name} voxels = ${declared} bytes from offset ${offset}, but the file` +
        `${gz ? ' (decompressed)' : ''} holds ${bytes.length - offset} (truncated file, or a corrupt header)`,
      path,
    );
  }
  const get = voxelGetter(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset, header.datatypeCode, header.littleEndian);
  const slopeRaw = header.scl_slope;
  // Slope 0 (or NaN) means "not scaled" in the standard; an infinite one is a corrupt header.
  if (slopeRaw === Infinity || slopeRaw === -Infinity) throw new DecodeError(`${path}: NIfTI scl_slope = ${slopeRaw} is not a finite number; fix the header`, path);
  const scaled = Number.isFinite(slopeRaw) && slopeRaw !== 0;
  const interRaw = header.scl_inter;
  if (scaled && (interRaw === Infinity || interRaw === -Infinity)) throw new DecodeError(`${path}: NIfTI scl_inter = ${interRaw} is not a finite number; fix the header`, path);
  const slope = scaled ? slopeRaw : 1;
  const inter = scaled && Number.isFinite(interRaw) ? interRaw : 0;
  const data = new Float32Array(count);
  let min = Infinity, max = -Infinity;
  let bad = 0, firstBad = -1;
  for (let i = 0; i < count; i++) {
    const raw = get(i);
    if (!Number.isFinite(raw)) {
      if (bad++ === 0) firstBad = i;
      data[i] = raw;
      continue;
    }
    const x = raw * slope + inter;
    if (!(Math.abs(x) <= FLT_MAX)) {
      const where = `voxel ${voxelAt(i, dims)} = ${raw}`;
      if (scaled && Math.abs(raw) <= FLT_MAX) {
        throw new DecodeError(
          `${path}: scl_slope = ${slope}, scl_inter = ${inter} scale ${where} to ${x}, outside the float32 range (±3.4e38) volumes are held in; ` +
            'the header\'s scl_slope/scl_inter are probably corrupt (set them to the intended scale, e.g. with nibabel)',
          path,
        );
      }
      throw new DecodeError(`${path}: ${where} is outside the float32 range (±3.4e38) volumes are held in; rescale the data before loading`, path);
    }
    data[i] = x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (min === Infinity) { min = 0; max = 0; }
  if (bad > 0) {
    if (limits.nonFinite === 'error') {
      throw new DecodeError(
        `${path}: ${bad} voxel(s) are not finite (first: ${data[firstBad]} at voxel ${voxelAt(firstBad, dims)}); ` +
          "replace them in the file (e.g. with 0 or the background value), or pass the load option nonFinite: 'clamp' (--non-finite clamp on the command line) " +
          '(±Infinity → the largest/smallest finite value, NaN → the smallest)',
        path,
      );
    }
    for (let i = 0; i < count; i++) {
      const x = data[i]!;
      if (x === Infinity) data[i] = max;
      else if (!Number.isFinite(x)) data[i] = min;
    }
  }
  return { path, dims, data, min, max };
}

/** Index i (i fastest) → "(i, j, k)". */
function voxelAt(i: number, [nx, ny]: [number, number, number]): string {
  return `(${i % nx}, ${Math.floor(i / nx) % ny}, ${Math.floor(i / (nx * ny))})`;
}

/** Number of slices along an axis. */
export function sliceCount(vol: Volume, axis: 0 | 1 | 2): number {
  return vol.dims[axis];
}

/**
 * Slice k along `axis` as a width × height plane of raw (scaled, not normalised) values.
 * axis 2 → (i across, j down); axis 1 → (i, k); axis 0 → (j, k).
 */
export function sliceOf(vol: Volume, axis: 0 | 1 | 2, k: number): { width: number; height: number; data: Float32Array } {
  const [nx, ny, nz] = vol.dims;
  if (!Number.isInteger(k) || k < 0 || k >= vol.dims[axis]) {
    throw new RangeError(`${vol.path}: slice ${k} out of range [0, ${vol.dims[axis]}) along axis ${axis}`);
  }
  const src = vol.data;
  if (axis === 2) return { width: nx, height: ny, data: src.slice(k * nx * ny, (k + 1) * nx * ny) };
  if (axis === 1) {
    const out = new Float32Array(nx * nz);
    for (let z = 0; z < nz; z++) out.set(src.subarray(z * nx * ny + k * nx, z * nx * ny + k * nx + nx), z * nx);
    return { width: nx, height: nz, data: out };
  }
  const out = new Float32Array(ny * nz);
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) out[z * ny + y] = src[z * nx * ny + y * nx + k]!;
  return { width: ny, height: nz, data: out };
}

/** Slice k normalised with the volume's min–max to [0, 1]. */
export function normalizedSlice(vol: Volume, axis: 0 | 1 | 2, k: number): { width: number; height: number; data: Float32Array } {
  const s = sliceOf(vol, axis, k);
  const span = vol.max - vol.min;
  for (let i = 0; i < s.data.length; i++) s.data[i] = span > 0 ? (s.data[i]! - vol.min) / span : 0;
  return s;
}
