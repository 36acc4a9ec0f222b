// A minimal DICOM Part 10 writer (explicit VR little endian data set, optionally another
// transfer syntax UID in the meta header and encapsulated fragments), enough to build test
// files for the DICOM decoder without any external tool.

import { deflateRawSync } from 'node:zlib';

type VR = 'UI' | 'CS' | 'DS' | 'IS' | 'US' | 'UL' | 'OB' | 'OW' | 'LO';

interface El {
  group: number;
  element: number;
  vr: VR;
  value: Uint8Array;
  undefinedLength?: boolean;
}

const LONG_VRS = new Set(['OB', 'OW', 'UN', 'SQ', 'UT', 'OF']);

function str(s: string, pad: string): Uint8Array {
  const b = Buffer.from(s, 'latin1');
  return b.length % 2 ? Buffer.concat([b, Buffer.from(pad, 'latin1')]) : b;
}
const ui = (s: string) => str(s, '\0');
const cs = (s: string) => str(s, ' ');
function us(...v: number[]): Uint8Array {
  const b = Buffer.alloc(2 * v.length);
  v.forEach((x, i) => b.writeUInt16LE(x, 2 * i));
  return b;
}
function ul(v: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v, 0);
  return b;
}

function encode(el: El, littleEndian = true): Uint8Array {
  const long = LONG_VRS.has(el.vr);
  const head = Buffer.alloc(long ? 12 : 8);
  if (littleEndian) {
    head.writeUInt16LE(el.group, 0);
    head.writeUInt16LE(el.element, 2);
  } else {
    head.writeUInt16BE(el.group, 0);
    head.writeUInt16BE(el.element, 2);
  }
  head.write(el.vr, 4, 'latin1');
  const len = el.undefinedLength ? 0xffffffff : el.value.length;
  if (long) {
    if (littleEndian) head.writeUInt32LE(len, 8);
    else head.writeUInt32BE(len, 8);
  } else if (littleEndian) head.writeUInt16LE(len, 6);
  else head.writeUInt16BE(len, 6);
  return Buffer.concat([head, el.value]);
}

export interface DicomSpec {
  rows: number;
  columns: number;
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  pixelRepresentation?: 0 | 1;
  photometric?: string;
  samplesPerPixel?: 1 | 3;
  planarConfiguration?: 0 | 1;
  frames?: number;
  slope?: number;
  intercept?: number;
  windowCenter?: number;
  windowWidth?: number;
  voiLutFunction?: string;
  transferSyntax?: string;
  /** Native pixel data (frames concatenated), little-endian unless `bigEndian`. */
  pixels?: Uint8Array | Uint16Array | Int16Array;
  /** Encapsulated fragments (one per frame) for compressed syntaxes. */
  fragments?: Uint8Array[];
  /** Write the data set big-endian (transfer syntax 1.2.840.10008.1.2.2). */
  bigEndian?: boolean;
  /** Leave out the Pixel Data element. */
  noPixelData?: boolean;
  /** Deflate the data set after the meta header (transfer syntax 1.2.840.10008.1.2.1.99). */
  deflate?: boolean;
}

export const TS = {
  explicitLE: '1.2.840.10008.1.2.1',
  explicitBE: '1.2.840.10008.1.2.2',
  deflated: '1.2.840.10008.1.2.1.99',
  rle: '1.2.840.10008.1.2.5',
  jpegBaseline: '1.2.840.10008.1.2.4.50',
  jpeg2000: '1.2.840.10008.1.2.4.90',
};

function pixelBytes(p: Uint8Array | Uint16Array | Int16Array, bigEndian: boolean): Uint8Array {
  if (p instanceof Uint8Array) return p;
  const b = Buffer.alloc(p.length * 2);
  for (let i = 0; i < p.length; i++) {
    const v = p[i]! & 0xffff;
    if (bigEndian) b.writeUInt16BE(v, 2 * i);
    else b.writeUInt16LE(v, 2 * i);
  }
  return b;
}

function item(tagElement: number, value: Uint8Array): Uint8Array {
  const h = Buffer.alloc(8);
  h.writeUInt16LE(0xfffe, 0);
  h.writeUInt16LE(tagElement, 2);
  h.writeUInt32LE(value.length, 4);
  return Buffer.concat([h, value]);
}

export function writeDicom(spec: DicomSpec): Uint8Array {
  const ts = spec.transferSyntax ?? (spec.deflate ? TS.deflated : spec.bigEndian ? TS.explicitBE : TS.explicitLE);
  const meta: El[] = [
    { group: 2, element: 1, vr: 'OB', value: new Uint8Array([0, 1]) },
    { group: 2, element: 2, vr: 'UI', value: ui('1.2.840.10008.5.1.4.1.1.7') },
    { group: 2, element: 3, vr: 'UI', value: ui('1.2.3.4.5.6.7.8') },
    { group: 2, element: 0x10, vr: 'UI', value: ui(ts) },
  ];
  const metaBody = Buffer.concat(meta.map((e) => encode(e)));
  const groupLength = encode({ group: 2, element: 0, vr: 'UL', value: ul(metaBody.length) });
  const spp = spec.samplesPerPixel ?? 1;
  const ba = spec.bitsAllocated ?? 16;
  const ds: El[] = [
    { group: 0x28, element: 0x02, vr: 'US', value: us(spp) },
    { group: 0x28, element: 0x04, vr: 'CS', value: cs(spec.photometric ?? (spp === 3 ? 'RGB' : 'MONOCHROME2')) },
  ];
  if (spp === 3) ds.push({ group: 0x28, element: 0x06, vr: 'US', value: us(spec.planarConfiguration ?? 0) });
  if (spec.frames !== undefined) ds.push({ group: 0x28, element: 0x08, vr: 'IS', value: cs(String(spec.frames)) });
  ds.push(
    { group: 0x28, element: 0x10, vr: 'US', value: us(spec.rows) },
    { group: 0x28, element: 0x11, vr: 'US', value: us(spec.columns) },
    { group: 0x28, element: 0x100, vr: 'US', value: us(ba) },
    { group: 0x28, element: 0x101, vr: 'US', value: us(spec.bitsStored ?? ba) },
    { group: 0x28, element: 0x102, vr: 'US', value: us((spec.bitsStored ?? ba) - 1) },
    { group: 0x28, element: 0x103, vr: 'US', value: us(spec.pixelRepresentation ?? 0) },
  );
  if (spec.windowCenter !== undefined) ds.push({ group: 0x28, element: 0x1050, vr: 'DS', value: cs(String(spec.windowCenter)) });
  if (spec.windowWidth !== undefined) ds.push({ group: 0x28, element: 0x1051, vr: 'DS', value: cs(String(spec.windowWidth)) });
  if (spec.intercept !== undefined) ds.push({ group: 0x28, element: 0x1052, vr: 'DS', value: cs(String(spec.intercept)) });
  if (spec.slope !== undefined) ds.push({ group: 0x28, element: 0x1053, vr: 'DS', value: cs(String(spec.slope)) });
  if (spec.voiLutFunction !== undefined) ds.push({ group: 0x28, element: 0x1056, vr: 'CS', value: cs(spec.voiLutFunction) });
  const be = ts === TS.explicitBE;
  let pixelEl: Uint8Array = new Uint8Array(0);
  if (!spec.noPixelData) {
    if (spec.fragments) {
      const seq = Buffer.concat([item(0xe000, new Uint8Array(0)), ...spec.fragments.map((f) => item(0xe000, f.length % 2 ? Buffer.concat([f, Buffer.alloc(1)]) : f))]);
      const end = Buffer.alloc(8);
      end.writeUInt16LE(0xfffe, 0);
      end.writeUInt16LE(0xe0dd, 2);
      pixelEl = Buffer.concat([encode({ group: 0x7fe0, element: 0x10, vr: 'OB', value: new Uint8Array(0), undefinedLength: true }), seq, end]);
    } else {
      const bytes = pixelBytes(spec.pixels ?? new Uint8Array(0), be);
      const padded = bytes.length % 2 ? Buffer.concat([bytes, Buffer.alloc(1)]) : bytes;
      pixelEl = encode({ group: 0x7fe0, element: 0x10, vr: ba === 8 ? 'OB' : 'OW', value: padded }, !be);
    }
  }
  // US values were written little-endian; a big-endian data set needs them swapped.
  const swapped = ds.map((e) => (be && e.vr === 'US' ? { ...e, value: Buffer.from(e.value).swap16() } : e));
  const body = Buffer.concat([...swapped.map((e) => encode(e, !be)), pixelEl]);
  // Deflated Explicit VR Little Endian: the data set (not the meta header) is raw deflate.
  const payload = spec.deflate ? deflateRawSync(body) : body;
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), groupLength, metaBody, payload]);
}

/** RLE Lossless encoding of one frame (literal runs only: valid, if not compact). */
export function rleEncode(frame: Uint8Array | Uint16Array, spp: 1 | 3): Uint8Array {
  const bytesPerSample = frame instanceof Uint16Array ? 2 : 1;
  const pixels = frame.length / spp;
  const segments: Uint8Array[] = [];
  for (let s = 0; s < spp; s++) {
    for (let byte = bytesPerSample - 1; byte >= 0; byte--) {
      const raw = new Uint8Array(pixels);
      for (let i = 0; i < pixels; i++) raw[i] = (frame[i * spp + s]! >> (8 * byte)) & 0xff;
      const parts: number[] = [];
      for (let i = 0; i < pixels; i += 128) {
        const chunk = raw.subarray(i, Math.min(i + 128, pixels));
        parts.push(chunk.length - 1, ...chunk);
      }
      if (parts.length % 2) parts.push(0x80); // no-op padding byte
      segments.push(Uint8Array.from(parts));
    }
  }
  const header = Buffer.alloc(64);
  header.writeUInt32LE(segments.length, 0);
  let off = 64;
  segments.forEach((seg, i) => {
    header.writeUInt32LE(off, 4 + 4 * i);
    off += seg.length;
  });
  return Buffer.concat([header, ...segments]);
}
