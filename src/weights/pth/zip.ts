// A strict reader for the zip archives torch.save writes (since PyTorch 1.6): entries stored
// uncompressed (deflate is read too, through node:zlib), zip64 records where present.
//
// Everything a cut or damaged file can get wrong is checked before a byte is used: the
// end-of-central-directory record must sit exactly at the end of the file, the central
// directory must lie inside the file and hold the count of entries it announces, every
// local header must agree with its central entry, every entry's data must lie inside the
// file, and its CRC-32 is verified when it is read. A failure throws an Error naming the
// file and the problem (a truncated download, a corrupt copy), never a half-read archive.
import * as zlib from 'node:zlib';

export interface ZipEntry {
  name: string;
  method: number; // 0 stored, 8 deflate
  crc32: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's data (after its local header) in the file. */
  dataOffset: number;
}

export interface ZipArchive {
  entries: Map<string, ZipEntry>;
  /** The uncompressed, CRC-checked bytes of one entry (a view into the file when stored). */
  read(name: string): Uint8Array;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;

/** Does the file start like a zip archive (a local header, or an empty archive's EOCD)? */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6));
}

let crcTable: Uint32Array | null = null;

function crc32Fallback(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32 (zlib's, where this Node has it: 20.15 and later). */
export function crc32(bytes: Uint8Array): number {
  const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  return native ? native(bytes) >>> 0 : crc32Fallback(bytes);
}

export function readZip(bytes: Uint8Array, source: string): ZipArchive {
  const fail = (problem: string): never => {
    throw new Error(`${source}: ${problem}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = bytes.length;
  const u16 = (o: number) => view.getUint16(o, true);
  const u32 = (o: number) => view.getUint32(o, true);
  const u64 = (o: number): number => {
    const v = view.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`a zip64 field holds ${v}, larger than any file: the archive is corrupt`);
    return Number(v);
  };
  const cut = 'the file is truncated (an interrupted download or copy?) or is not a zip archive';

  // The end-of-central-directory record: 22 bytes plus a comment of up to 65535 bytes.
  let eocd = -1;
  for (let p = len - 22; p >= Math.max(0, len - 22 - 0xffff); p--) {
    if (u32(p) === SIG_EOCD && p + 22 + u16(p + 20) === len) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) fail(`no end-of-central-directory record at the end of the archive (${len} bytes): ${cut}`);
  if (u16(eocd + 4) !== 0 || u16(eocd + 6) !== 0) fail('multi-disk (split) zip archives are not supported');
  let count = u16(eocd + 10);
  if (u16(eocd + 8) !== count) fail('the end-of-central-directory record disagrees with itself on the entry count: the archive is corrupt');
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);
  let cdEnd = eocd;
  if (eocd >= 20 && u32(eocd - 20) === SIG_ZIP64_LOCATOR) {
    const z = u64(eocd - 20 + 8);
    if (z + 56 > eocd - 20 || u32(z) !== SIG_ZIP64_EOCD) fail('the zip64 end-of-central-directory locator points outside the archive: the archive is corrupt');
    count = u64(z + 32);
    if (u64(z + 24) !== count) fail('the zip64 end-of-central-directory record disagrees with itself on the entry count: the archive is corrupt');
    cdSize = u64(z + 40);
    cdOffset = u64(z + 48);
    cdEnd = z;
  }
  if (cdOffset + cdSize > cdEnd) fail(`the central directory (${cdSize} bytes at ${cdOffset}) runs past its end record at ${cdEnd}: ${cut}`);

  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdOffset + cdSize || u32(p) !== SIG_CENTRAL) fail(`central directory entry ${i + 1} of ${count} is missing or damaged: the archive is corrupt`);
    const flags = u16(p + 8);
    const method = u16(p + 10);
    const crc = u32(p + 16);
    let compressedSize = u32(p + 20);
    let size = u32(p + 24);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    let localOffset = u32(p + 42);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > cdOffset + cdSize) fail(`central directory entry ${i + 1} runs past the directory: the archive is corrupt`);
    let name = '';
    try {
      name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    } catch {
      fail(`central directory entry ${i + 1} has a name that is not UTF-8: the archive is corrupt`);
    }
    // zip64 extended information: the 0xFFFFFFFF fields, in order, as 8-byte values.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = u16(e);
      const sz = u16(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const take = (): number => {
          if (q + 8 > e + 4 + sz) fail(`entry "${name}": its zip64 extra field is too short: the archive is corrupt`);
          const v = u64(q);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (compressedSize === 0xffffffff) compressedSize = take();
        if (localOffset === 0xffffffff) localOffset = take();
      }
      e += 4 + sz;
    }
    if (flags & 1) fail(`entry "${name}" is encrypted; torch.save never encrypts: not a PyTorch checkpoint`);
    if (method !== 0 && method !== 8) fail(`entry "${name}" uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    if (method === 0 && compressedSize !== size) fail(`entry "${name}" is stored uncompressed but its sizes differ (${compressedSize} vs ${size}): the archive is corrupt`);
    if (entries.has(name)) fail(`entry "${name}" appears twice: the archive is corrupt`);
    if (localOffset + 30 > cdOffset || u32(localOffset) !== SIG_LOCAL) fail(`entry "${name}": no local header at offset ${localOffset}: the archive is corrupt`);
    const localNameLen = u16(localOffset + 26);
    const localExtraLen = u16(localOffset + 28);
    const localName = bytes.subarray(localOffset + 30, localOffset + 30 + localNameLen);
    if (localNameLen !== nameLen || !localName.every((b, k) => b === bytes[p + 46 + k])) {
      fail(`entry "${name}": its local header names another file: the archive is corrupt`);
    }
    const dataOffset = localOffset + 30 + localNameLen + localExtraLen;
    if (dataOffset + compressedSize > cdOffset) {
      fail(`entry "${name}" (${compressedSize} bytes at ${dataOffset}) runs into the central directory at ${cdOffset}: the archive is corrupt`);
    }
    entries.set(name, { name, method, crc32: crc, compressedSize, size, dataOffset });
    p = next;
  }

  return {
    entries,
    read(name: string): Uint8Array {
      const e = entries.get(name);
      if (!e) return fail(`the archive has no entry "${name}"`);
      const raw = bytes.subarray(e.dataOffset, e.dataOffset + e.compressedSize);
      let data: Uint8Array = raw;
      if (e.method === 8) {
        try {
          data = zlib.inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
        } catch (err) {
          fail(`entry "${name}" does not inflate (${(err as Error).message}): the archive is corrupt`);
        }
        if (data.length !== e.size) fail(`entry "${name}" inflates to ${data.length} bytes, not the ${e.size} its header says: the archive is corrupt`);
      }
      const c = crc32(data);
      if (c !== e.crc32) {
        fail(`entry "${name}" fails its CRC-32 check (0x${c.toString(16).padStart(8, '0')}, expected 0x${e.crc32.toString(16).padStart(8, '0')}): the file is corrupt; download or copy it again`);
      }
      return data;
    },
  };
}
