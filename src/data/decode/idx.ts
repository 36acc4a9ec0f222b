// IDX files (the MNIST / Fashion-MNIST container): big-endian, magic 0x0000 <type> <ndim>,
// ndim big-endian uint32 sizes, then the data. Plain or gzip-compressed.

import { DecodeError } from '../errors.js';
import { type DecodeLimits, gunzipCapped, resolveLimits } from '../limits.js';

export interface IdxArray {
  dims: number[];
  /** Unsigned bytes (type 0x08), the only type MNIST-style files use. */
  data: Uint8Array;
}

const TYPE_NAMES: Record<number, string> = { 0x08: 'ubyte', 0x09: 'byte', 0x0b: 'short', 0x0c: 'int', 0x0d: 'float', 0x0e: 'double' };

export function parseIdx(buf: Uint8Array, path: string, limitOptions: Partial<DecodeLimits> = {}): IdxArray {
  // Gzip inflates under maxDecodedBytes; the data is used in place, so nothing else is allocated.
  const bytes = buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b ? gunzipCapped(buf, path, resolveLimits(limitOptions)) : buf;
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DecodeError(`${path} is not an IDX file (bad magic number)`, path);
  }
  const type = bytes[2]!;
  const ndim = bytes[3]!;
  if (type !== 0x08) {
    throw new DecodeError(`${path}: IDX element type ${TYPE_NAMES[type] ?? `0x${type.toString(16)}`} is not supported (ubyte only)`, path);
  }
  if (ndim < 1 || bytes.length < 4 + 4 * ndim) throw new DecodeError(`${path}: IDX header is truncated`, path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * ndim;
  if (bytes.length - start !== count) {
    throw new DecodeError(`${path}: IDX data holds ${bytes.length - start} bytes, dims ${dims.join('×')} need ${count} (truncated or corrupt)`, path);
  }
  return { dims, data: bytes.subarray(start, start + count) };
}
