// The safetensors file format (https://github.com/huggingface/safetensors), without any
// tensor library: an 8-byte little-endian header length N, N bytes of JSON header
// { name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { str: str } },
// then the raw little-endian bytes, offsets relative to the end of the header.
//
// Reading validates everything a truncated, shifted or hand-edited file can get wrong and
// throws an Error that names the file and the problem; writing is atomic and verified
// (harness/atomic.ts), so a failed or interrupted save never leaves a cut file under the
// real name.
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
// A leaf module (node:fs only): the one verified atomic writer, shared with the harness.
import { writeFileAtomicSync, type AtomicWriteOptions } from '../io/atomic.js';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export type RawData = Float64Array | Float32Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** One stored tensor: its dtype, shape and values (F16/BF16 as raw 16-bit words). */
export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: RawData;
}

export interface SafetensorsContent {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

/** Bytes per element of each dtype (shared with the .pth reader, whose storages use the same names). */
export const ITEM_SIZE: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

// A header larger than this is not a safetensors file but garbage read as a length
// (the reference implementation uses the same 100 MB cap).
const MAX_HEADER_BYTES = 100_000_000;

function assertLittleEndianHost(): void {
  // Typed arrays use the host byte order; the format is little-endian.
  if (endianness() !== 'LE') throw new Error('safetensors: big-endian hosts are not supported');
}

function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function viewAs(dtype: SafetensorsDtype, bytes: Uint8Array): RawData {
  // Copy into a fresh, aligned buffer: a file's tensor may start at any byte. (Not
  // bytes.slice(): on a Node Buffer that is a view, not a copy.)
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return typedArrayOf(dtype, copy.buffer);
}

/** The typed array that holds `dtype` elements over `buf` (F16/BF16 as raw Uint16 bits). */
export function typedArrayOf(dtype: SafetensorsDtype, buf: ArrayBuffer): RawData {
  switch (dtype) {
    case 'F64':
      return new Float64Array(buf);
    case 'F32':
      return new Float32Array(buf);
    case 'F16':
    case 'BF16':
      return new Uint16Array(buf);
    case 'I64':
      return new BigInt64Array(buf);
    case 'I32':
      return new Int32Array(buf);
    case 'I16':
      return new Int16Array(buf);
    case 'I8':
      return new Int8Array(buf);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buf);
  }
}

// JSON's insignificant whitespace; the format pads the header with spaces.
const JSON_SPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * Parses a whole safetensors file held in memory. `source` names it in errors.
 *
 * Refuses everything the format forbids, because a file that is off by one byte still
 * parses into tensors, all shifted (scores all NaN, no error): the header must be one
 * JSON object ('{' first, then only space padding after its '}') ending exactly where its
 * length says; each tensor's byte range must match its dtype and shape; and the ranges,
 * sorted, must tile the data section from 0 to the end of the file with no hole, overlap
 * or trailing byte.
 */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsContent {
  assertLittleEndianHost();
  const fail = (problem: string): never => {
    throw new Error(`safetensors file ${source}: ${problem}`);
  };
  if (bytes.length < 8) fail(`too short for the 8-byte header length (${bytes.length} bytes): truncated or not a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen64 = view.getBigUint64(0, true);
  if (headerLen64 > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLen64} exceeds the ${MAX_HEADER_BYTES}-byte limit: not a safetensors file`);
  const headerLen = Number(headerLen64);
  if (8 + headerLen > bytes.length) fail(`header length ${headerLen} runs past the end of the file (${bytes.length} bytes): truncated`);
  const headerBytes = bytes.subarray(8, 8 + headerLen);
  if (headerBytes[0] !== 0x7b) fail(`header (${headerLen} bytes from byte 8) does not start with '{': not a safetensors file`);
  // Where the length field is off, the header ends inside the JSON or inside the data:
  // say so rather than report a JSON syntax error.
  let last = headerBytes.length - 1;
  while (last > 0 && JSON_SPACE.has(headerBytes[last])) last--;
  if (headerBytes[last] !== 0x7d) {
    const tail = [...headerBytes.subarray(Math.max(0, last - 3), last + 1)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
    fail(`header does not end where its length (${headerLen} bytes) says: it ends in ${tail} instead of '}' and space padding; the header length field is wrong or the file is corrupt`);
  }
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: Array<{ name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }> = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('__metadata__ is not an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`entry "${name}" is not an object`);
    const info = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = info.dtype as SafetensorsDtype;
    if (typeof dtype !== 'string' || !(dtype in ITEM_SIZE)) fail(`tensor "${name}" has unsupported dtype ${JSON.stringify(info.dtype)} (supported: ${Object.keys(ITEM_SIZE).join(', ')})`);
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    const offs = info.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as number[];
    if (end < begin) fail(`tensor "${name}" has data_offsets [${begin}, ${end}] with end before begin`);
    const expected = numel(shape as number[]) * ITEM_SIZE[dtype];
    if (!Number.isSafeInteger(expected)) fail(`tensor "${name}" has shape [${(shape as number[]).join(', ')}], too large for any file`);
    if (end - begin !== expected) {
      fail(`tensor "${name}" holds ${end - begin} bytes but dtype ${dtype} and shape [${(shape as number[]).join(', ')}] need ${expected}`);
    }
    if (end > dataLen) {
      fail(`tensor "${name}" data_offsets [${begin}, ${end}] lie outside the ${dataLen}-byte data section: the file is truncated, or its header length is too long`);
    }
    entries.push({ name, dtype, shape: (shape as number[]).slice(), begin, end });
  }
  // Sorted by range, the tensors must tile the data section exactly, as the reference
  // implementation requires: an overlap aliases bytes, a hole or trailing bytes mean the
  // header and the data disagree (a header length one byte short shows up as one trailing
  // byte, with every tensor read one byte early).
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: (typeof entries)[number] | null = null;
  for (const e of sorted) {
    if (e.begin < pos) {
      fail(`tensors "${prev!.name}" [${prev!.begin}, ${prev!.end}) and "${e.name}" [${e.begin}, ${e.end}) overlap`);
    }
    if (e.begin > pos) {
      const before = prev ? `after "${prev.name}" [${prev.begin}, ${prev.end})` : 'at the start of the data section';
      fail(`hole of ${e.begin - pos} bytes ${before}, before "${e.name}" [${e.begin}, ${e.end}): the header and the data disagree`);
    }
    pos = e.end;
    prev = e;
  }
  if (pos !== dataLen) {
    fail(
      `${dataLen - pos} trailing bytes: the tensors cover ${pos} bytes of the ${dataLen}-byte data section; ` +
        'the header length field is too short (every tensor would be read shifted) or bytes were appended',
    );
  }
  const tensors = new Map<string, RawTensor>();
  for (const e of entries) {
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: viewAs(e.dtype, bytes.subarray(dataStart + e.begin, dataStart + e.end)) });
  }
  return { tensors, metadata };
}

/** Reads and validates a safetensors file. */
export function readSafetensors(path: string): SafetensorsContent {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`safetensors file ${path}: cannot read it (${(e as Error).message})`);
  }
  return parseSafetensors(bytes, path);
}

/**
 * Serialises tensors in the given order. The header is padded with spaces to a multiple of
 * 8 bytes so that every 8-byte tensor is aligned in the file, as the reference writer does.
 */
export function serializeSafetensors(tensors: Iterable<[string, RawTensor]> | Map<string, RawTensor>, metadata?: Record<string, string>): Uint8Array {
  assertLittleEndianHost();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = { ...metadata };
  const list: Array<[string, RawTensor]> = [...tensors];
  // Largest items first keeps every tensor naturally aligned once the header is 8-aligned.
  list.sort((a, b) => ITEM_SIZE[b[1].dtype] - ITEM_SIZE[a[1].dtype]);
  let offset = 0;
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new Error('safetensors: "__metadata__" is reserved and cannot name a tensor');
    if (name in header) throw new Error(`safetensors: duplicate tensor name "${name}"`);
    const dtype = t.dtype;
    if (!(dtype in ITEM_SIZE)) throw new Error(`safetensors: tensor "${name}" has unsupported dtype ${dtype}`);
    const bytes = numel(t.shape) * ITEM_SIZE[dtype];
    if (t.data.byteLength !== bytes) {
      throw new Error(`safetensors: tensor "${name}" has ${t.data.byteLength} bytes of data but dtype ${dtype} and shape [${t.shape.join(', ')}] need ${bytes}`);
    }
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, t] of list) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

/**
 * Writes a safetensors file atomically and verified (temp file, every write's length
 * checked, fsync, size on disk checked, rename, folder fsync): a full disk or a file-size
 * limit throws an error naming the file, and nothing is left under `path` or as a temp file.
 */
export function writeSafetensors(
  path: string,
  tensors: Iterable<[string, RawTensor]> | Map<string, RawTensor>,
  metadata?: Record<string, string>,
  opts?: AtomicWriteOptions,
): void {
  writeFileAtomicSync(path, serializeSafetensors(tensors, metadata), opts);
}

/** IEEE half → float. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Converts any stored dtype to float32 values (the engine's only dtype). */
export function toFloat32(t: RawTensor): Float32Array {
  const d = t.data;
  if (t.dtype === 'F32') return d as Float32Array;
  const out = new Float32Array(d.length);
  if (t.dtype === 'F16') {
    for (let i = 0; i < d.length; i++) out[i] = halfToFloat((d as Uint16Array)[i]);
  } else if (t.dtype === 'BF16') {
    // bfloat16 is the top half of a float32.
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < d.length; i++) u[i] = (d as Uint16Array)[i] << 16;
  } else if (t.dtype === 'I64') {
    for (let i = 0; i < d.length; i++) out[i] = Number((d as BigInt64Array)[i]);
  } else if (t.dtype === 'BOOL') {
    for (let i = 0; i < d.length; i++) out[i] = d[i] ? 1 : 0;
  } else {
    for (let i = 0; i < d.length; i++) out[i] = d[i] as number;
  }
  return out;
}
