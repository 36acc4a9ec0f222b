// NIfTI-1/2 volumes (.nii, .nii.gz) through nifti-reader-js, cut into 2-D slices.
//
// Intensities: scl_slope/scl_inter applied (slope 0 means "no scaling", per the standard),
// then min–max over the whole volume to [0, 1], so the slices of one volume stay comparable
// (a per-slice stretch would make an empty slice look like noise). Mask volumes are read
// the same way and binarised with > 0 later. Voxels are not reoriented: a slice shows the
// array as stored (first in-plane index across, second down).

import * as nifti from 'nifti-reader-js';
import { gunzipSync } from 'node:zlib';
import { DecodeError } from '../errors.js';

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

function toArrayBuffer(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}

function isGzip(buf: Uint8Array): boolean {
  return buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
}

/** Voxels of one datatype → numbers. Codes from nifti1.h. */
function readVoxels(ab: ArrayBuffer, code: number, little: boolean, count: number, path: string): Float32Array {
  const sizes: Record<number, number> = { 2: 1, 256: 1, 4: 2, 512: 2, 8: 4, 768: 4, 16: 4, 64: 8 };
  const size = sizes[code];
  if (size === undefined) {
    throw new DecodeError(`${path}: NIfTI datatype ${code} is not supported (uint8/int8/int16/uint16/int32/uint32/float32/float64 are)`, path);
  }
  if (ab.byteLength < count * size) {
    throw new DecodeError(`${path}: NIfTI image data holds ${ab.byteLength} bytes, ${count} voxels × ${size} bytes expected (truncated file)`, path);
  }
  const v = new DataView(ab);
  const out = new Float32Array(count);
  const get: (i: number) => number =
    code === 2 ? (i) => v.getUint8(i)
    : code === 256 ? (i) => v.getInt8(i)
    : code === 4 ? (i) => v.getInt16(i * 2, little)
    : code === 512 ? (i) => v.getUint16(i * 2, little)
    : code === 8 ? (i) => v.getInt32(i * 4, little)
    : code === 768 ? (i) => v.getUint32(i * 4, little)
    : code === 16 ? (i) => v.getFloat32(i * 4, little)
    : (i) => v.getFloat64(i * 8, little);
  for (let i = 0; i < count; i++) out[i] = get(i);
  return out;
}

/** Parses a .nii or .nii.gz buffer into a 3-D volume (2-D images become one-slice volumes). */
export function readNifti(buf: Uint8Array, path: string): Volume {
  let bytes = buf;
  if (isGzip(buf)) {
    try {
      bytes = gunzipSync(buf);
    } catch (err) {
      throw new DecodeError(`cannot decompress ${path}: ${(err as Error).message}`, path, { cause: err });
    }
  }
  const ab = toArrayBuffer(bytes);
  if (!nifti.isNIFTI(ab)) throw new DecodeError(`${path} is not a NIfTI-1/2 file (bad header size or magic)`, path);
  let header: nifti.NIFTI1 | nifti.NIFTI2;
  let image: ArrayBuffer;
  try {
    header = nifti.readHeader(ab);
    image = nifti.readImage(header, ab);
  } catch (err) {
    throw new DecodeError(`cannot read NIfTI file ${path}: ${(err as Error).message}`, path, { cause: err });
  }
  const nd = header.dims[0]!;
  if (nd < 2 || nd > 7) throw new DecodeError(`${path}: NIfTI dim[0] = ${nd} is invalid`, path);
  const d = [1, 1, 1, 1, 1, 1, 1].map((one, i) => (i < nd ? Math.max(1, header.dims[i + 1]!) : one));
  if (d.slice(3).some((x) => x > 1)) {
    throw new DecodeError(`${path}: ${nd}-D NIfTI with dims ${d.slice(0, nd).join('×')} is not a single volume; extract one 3-D volume first`, path);
  }
  const dims: [number, number, number] = [d[0]!, d[1]!, d[2]!];
  const count = dims[0] * dims[1] * dims[2];
  const data = readVoxels(image, header.datatypeCode, header.littleEndian, count, path);
  const slope = header.scl_slope;
  const inter = Number.isFinite(header.scl_inter) ? header.scl_inter : 0;
  if (Number.isFinite(slope) && slope !== 0 && (slope !== 1 || inter !== 0)) {
    for (let i = 0; i < count; i++) data[i] = data[i]! * slope + inter;
  }
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < count; i++) {
    const x = data[i]!;
    if (Number.isNaN(x)) { data[i] = 0; continue; }
    if (x < min) min = x;
    if (x > max) max = x;
  }
  if (min === Infinity) { min = 0; max = 0; }
  return { path, dims, data, min, max };
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
