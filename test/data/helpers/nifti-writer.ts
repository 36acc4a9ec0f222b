// A minimal NIfTI-1 single-file (.nii) writer, gzip optional, for decoder tests.
import { gzipSync } from 'node:zlib';

export interface NiftiSpec {
  dims: number[]; // 2 or 3 (or more) sizes
  datatype: 'uint8' | 'int16' | 'uint16' | 'float32';
  data: ArrayLike<number>;
  slope?: number;
  inter?: number;
  gzip?: boolean;
}

const CODES = { uint8: [2, 8], int16: [4, 16], uint16: [512, 16], float32: [16, 32] } as const;

export function writeNifti(spec: NiftiSpec): Uint8Array {
  const [code, bitpix] = CODES[spec.datatype];
  const h = Buffer.alloc(352);
  h.writeInt32LE(348, 0);
  h.writeInt16LE(spec.dims.length, 40);
  for (let i = 0; i < 7; i++) h.writeInt16LE(spec.dims[i] ?? 1, 42 + 2 * i);
  h.writeInt16LE(code, 70);
  h.writeInt16LE(bitpix, 72);
  for (let i = 0; i < 8; i++) h.writeFloatLE(1, 76 + 4 * i);
  h.writeFloatLE(352, 108);
  h.writeFloatLE(spec.slope ?? 0, 112);
  h.writeFloatLE(spec.inter ?? 0, 116);
  h.write('n+1\0', 344, 'latin1');
  const n = spec.data.length;
  const d = Buffer.alloc(n * (bitpix / 8));
  for (let i = 0; i < n; i++) {
    const v = spec.data[i]!;
    if (spec.datatype === 'uint8') d.writeUInt8(v, i);
    else if (spec.datatype === 'int16') d.writeInt16LE(v, 2 * i);
    else if (spec.datatype === 'uint16') d.writeUInt16LE(v, 2 * i);
    else d.writeFloatLE(v, 4 * i);
  }
  const file = Buffer.concat([h, d]);
  return spec.gzip ? gzipSync(file) : file;
}
