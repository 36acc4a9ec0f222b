// Test helpers: writes torch.save-shaped checkpoints from TypeScript (a stored zip with
// <archive>/data.pkl, <archive>/data/<key>, <archive>/version; the pickle protocol-2 opcodes
// torch emits), and hand-made pickles, so tests can build large or hostile files without
// Python and without committing them.
import { crc32 } from '../../src/weights/pth/zip.js';
import * as zlib from 'node:zlib';

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const enc = new TextEncoder();

/** Pickle opcodes as byte builders. */
export const P = {
  proto: (v = 2) => Uint8Array.of(0x80, v),
  stop: () => Uint8Array.of(0x2e),
  mark: () => Uint8Array.of(0x28),
  tuple: () => Uint8Array.of(0x74),
  emptyTuple: () => Uint8Array.of(0x29),
  tuple1: () => Uint8Array.of(0x85),
  reduce: () => Uint8Array.of(0x52),
  setitems: () => Uint8Array.of(0x75),
  emptyDict: () => Uint8Array.of(0x7d),
  newfalse: () => Uint8Array.of(0x89),
  newtrue: () => Uint8Array.of(0x88),
  none: () => Uint8Array.of(0x4e),
  build: () => Uint8Array.of(0x62),
  /** Python 2's str, as pickles written by Python 2 hold their names. */
  py2str: (s: string) => concat([Uint8Array.of(0x55, s.length), enc.encode(s)]),
  binpersid: () => Uint8Array.of(0x51),
  global: (module: string, name: string) => concat([Uint8Array.of(0x63), enc.encode(`${module}\n${name}\n`)]),
  stackGlobal: () => Uint8Array.of(0x93),
  str: (s: string) => {
    const b = enc.encode(s);
    const h = new Uint8Array(5);
    h[0] = 0x58;
    new DataView(h.buffer).setUint32(1, b.length, true);
    return concat([h, b]);
  },
  int: (n: number) => {
    const h = new Uint8Array(5);
    h[0] = 0x4a;
    new DataView(h.buffer).setInt32(1, n, true);
    return h;
  },
};

export interface TensorSpec {
  dtype?: 'F32' | 'F16' | 'I64';
  shape: number[];
  /** Raw little-endian bytes of the storage (row-major, contiguous). */
  bytes: Uint8Array;
  /** Strides to pickle (default: row-major for the shape). */
  stride?: number[];
}

const STORAGE: Record<string, string> = { F32: 'FloatStorage', F16: 'HalfStorage', I64: 'LongStorage' };
const ITEM: Record<string, number> = { F32: 4, F16: 2, I64: 8 };

/** data.pkl of an OrderedDict state dict, one storage per tensor (key = its index), as torch 1.13 writes it. */
export function stateDictPickle(tensors: [string, TensorSpec][], opts: { inject?: Uint8Array } = {}): Uint8Array {
  const parts: Uint8Array[] = [P.proto(), P.global('collections', 'OrderedDict'), P.emptyTuple(), P.reduce(), P.mark()];
  tensors.forEach(([name, t], i) => {
    const dtype = t.dtype ?? 'F32';
    const numel = t.bytes.length / ITEM[dtype];
    const strides: number[] = [];
    let s = 1;
    for (let d = t.shape.length - 1; d >= 0; d--) {
      strides.unshift(s);
      s *= t.shape[d];
    }
    parts.push(
      P.str(name),
      P.global('torch._utils', '_rebuild_tensor_v2'),
      P.mark(),
      P.mark(),
      P.str('storage'),
      P.global('torch', STORAGE[dtype]),
      P.str(String(i)),
      P.str('cpu'),
      P.int(numel),
      P.tuple(),
      P.binpersid(),
      P.int(0),
      P.mark(),
      ...t.shape.map(P.int),
      P.tuple(),
      P.mark(),
      ...(t.stride ?? strides).map(P.int),
      P.tuple(),
      P.newfalse(),
      P.global('collections', 'OrderedDict'),
      P.emptyTuple(),
      P.reduce(),
      P.tuple(),
      P.reduce(),
    );
    if (i === 0 && opts.inject) parts.push(opts.inject);
  });
  parts.push(P.setitems(), P.stop());
  return concat(parts);
}

export interface ZipInput {
  name: string;
  data: Uint8Array;
  deflate?: boolean;
}

/** A zip archive (stored or deflated entries, no zip64), as Python's zipfile / torch's miniz write them. */
export function writeZip(entries: ZipInput[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const body = e.deflate ? new Uint8Array(zlib.deflateRawSync(e.data)) : e.data;
    const crc = crc32(e.data);
    const lh = new Uint8Array(30);
    const lv = new DataView(lh.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, e.deflate ? 8 : 0, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, e.data.length, true);
    lv.setUint16(26, name.length, true);
    locals.push(lh, name, body);
    const ch = new Uint8Array(46);
    const cv = new DataView(ch.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, e.deflate ? 8 : 0, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, e.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    centrals.push(ch, name);
    offset += 30 + name.length + body.length;
  }
  const cd = concat(centrals);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cd.length, true);
  ev.setUint32(16, offset, true);
  return concat([...locals, cd, eocd]);
}

/** A torch.save-shaped zip checkpoint holding `tensors` (or a custom data.pkl). */
export function writePth(tensors: [string, TensorSpec][], opts: { pickle?: Uint8Array; archive?: string } = {}): Uint8Array {
  const a = opts.archive ?? 'archive';
  return writeZip([
    { name: `${a}/data.pkl`, data: opts.pickle ?? stateDictPickle(tensors) },
    ...tensors.map(([, t], i) => ({ name: `${a}/data/${i}`, data: t.bytes })),
    { name: `${a}/version`, data: enc.encode('3\n') },
  ]);
}

export function f32bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
