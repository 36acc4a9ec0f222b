import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSafetensors, readSafetensors, serializeSafetensors, toFloat32, writeSafetensors, type RawTensor } from '../../src/nn/safetensors-format.js';
import { throwsMatching } from '../assert-throws.js';

const dir = mkdtempSync(join(tmpdir(), 'medianomaly-st-'));
const fixtures = new URL('../fixtures/torch/', import.meta.url).pathname;

/** Builds a file from a header object and a data section, exactly as given (for corruption cases). */
function rawFile(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const text = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return out;
}

test('round trip of every writable dtype, shapes incl. scalar and empty, metadata', () => {
  const tensors: Array<[string, RawTensor]> = [
    ['a.weight', { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, -2, 3.5, 4, 5, 6e-8]) }],
    ['count', { dtype: 'I64', shape: [], data: new BigInt64Array([42n]) }],
    ['d', { dtype: 'F64', shape: [2], data: new Float64Array([Math.PI, -1e300]) }],
    ['i', { dtype: 'I32', shape: [3], data: new Int32Array([-7, 0, 2 ** 31 - 1]) }],
    ['mask', { dtype: 'BOOL', shape: [1, 3], data: new Uint8Array([1, 0, 1]) }],
    ['u', { dtype: 'U8', shape: [1], data: new Uint8Array([255]) }],
    ['h', { dtype: 'F16', shape: [2], data: new Uint16Array([0x3c00, 0xc000]) }],
    ['empty', { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) }],
  ];
  const bytes = serializeSafetensors(tensors, { format: 'pt', note: 'x' });
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.is(headerLen % 8, 0, 'header padded to 8 bytes');
  const back = parseSafetensors(bytes);
  assert.equal(back.metadata, { format: 'pt', note: 'x' });
  assert.is(back.tensors.size, tensors.length);
  for (const [name, t] of tensors) {
    const r = back.tensors.get(name)!;
    assert.is(r.dtype, t.dtype, name);
    assert.equal(r.shape, t.shape, name);
    assert.equal([...r.data], [...t.data], name);
  }
});

test('float32 conversion of F16, BF16, I64, BOOL, F64', () => {
  const h = toFloat32({ dtype: 'F16', shape: [5], data: new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00]) });
  assert.equal([...h], [1, -2, 65504, 2 ** -24, Infinity]);
  const b = toFloat32({ dtype: 'BF16', shape: [3], data: new Uint16Array([0x3f80, 0xc0a0, 0x0000]) });
  assert.equal([...b], [1, -5, 0]);
  assert.equal([...toFloat32({ dtype: 'I64', shape: [2], data: new BigInt64Array([3n, -9n]) })], [3, -9]);
  assert.equal([...toFloat32({ dtype: 'BOOL', shape: [2], data: new Uint8Array([0, 1]) })], [0, 1]);
  assert.equal([...toFloat32({ dtype: 'F64', shape: [1], data: new Float64Array([0.5]) })], [0.5]);
});

test('atomic write leaves exactly the target file; reading it back works', () => {
  const path = join(dir, 'w.safetensors');
  writeSafetensors(path, new Map([['x', { dtype: 'F32' as const, shape: [1], data: new Float32Array([7]) }]]));
  writeSafetensors(path, new Map([['x', { dtype: 'F32' as const, shape: [2], data: new Float32Array([8, 9]) }]]));
  assert.equal(readdirSync(dir).filter((n) => n.startsWith('w.')), ['w.safetensors']);
  assert.equal([...readSafetensors(path).tensors.get('x')!.data], [8, 9]);
});

test('a failed write names the path and leaves no temp file', () => {
  const path = join(dir, 'missing-folder', 'w.safetensors');
  throwsMatching(() => writeSafetensors(path, []), /missing-folder\/w\.safetensors/, /cannot write/);
  assert.equal(readdirSync(dir).filter((n) => n.includes('tmp')), []);
});

test('writer rejects data whose size does not match dtype and shape', () => {
  throwsMatching(() => serializeSafetensors([['x', { dtype: 'F32', shape: [3], data: new Float32Array(2) }]]), /"x"/, /need 12/);
});

test('reads a file written by PyTorch-side tooling (fixtures), including I64 scalars', () => {
  const { tensors, metadata } = readSafetensors(join(fixtures, 'unified-ae.safetensors'));
  assert.is(metadata.format, 'pt');
  const nbt = tensors.get('init/enc.1.num_batches_tracked')!;
  assert.is(nbt.dtype, 'I64');
  assert.equal(nbt.shape, []);
  assert.is(toFloat32(nbt)[0], 0);
  assert.is(toFloat32(tensors.get('step/enc.1.num_batches_tracked')!)[0], 1);
  assert.equal(tensors.get('init/enc.0.weight')!.shape, [16, 1, 4, 4]);
});

// ---- corrupt files: each names the file and the problem ----

const goodData = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
const goodHeader = { x: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } };

test('sanity: the hand-built good file parses', () => {
  assert.equal([...parseSafetensors(rawFile(goodHeader, goodData)).tensors.get('x')!.data], [1, 2, 3, 4]);
});

test('corrupt: shorter than the 8-byte header length', () => {
  const path = join(dir, 'short.safetensors');
  writeFileSync(path, new Uint8Array([1, 2, 3]));
  throwsMatching(() => readSafetensors(path), /short\.safetensors/, /too short/);
});

test('corrupt: header length beyond the end of the file', () => {
  const f = rawFile(goodHeader, goodData);
  throwsMatching(() => parseSafetensors(f.subarray(0, 20), 'trunc.st'), /trunc\.st/, /past the end/);
});

test('corrupt: absurd header length', () => {
  const f = new Uint8Array(16);
  new DataView(f.buffer).setBigUint64(0, 2n ** 40n, true);
  throwsMatching(() => parseSafetensors(f, 'huge.st'), /huge\.st/, /exceeds/);
});

test('corrupt: header is not JSON', () => {
  throwsMatching(() => parseSafetensors(rawFile(null, goodData, '{"x": {"dtype": "F32",}}'), 'bad.st'), /bad\.st/, /not valid JSON/);
  throwsMatching(() => parseSafetensors(rawFile(null, goodData, '{"x": {"dtype": "F32",'), 'cut.st'), /cut\.st/, /does not end where its length/);
  const badUtf8 = rawFile(null, goodData, '{"x": "ab"}');
  badUtf8[8 + 7] = 0xff; // the 'a': 0xff is never valid UTF-8
  throwsMatching(() => parseSafetensors(badUtf8, 'utf.st'), /utf\.st/, /not valid UTF-8/);
});

test('corrupt: header is JSON but not an object', () => {
  throwsMatching(() => parseSafetensors(rawFile([1, 2], goodData), 'arr.st'), /arr\.st/, /does not start with '\{'/);
});

test('corrupt: data offsets beyond the data section (truncated data)', () => {
  const f = rawFile(goodHeader, goodData);
  throwsMatching(() => parseSafetensors(f.subarray(0, f.length - 4), 'cut.st'), /cut\.st/, /"x"/, /outside/);
});

test('corrupt: offsets with end before begin', () => {
  const h = { x: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } };
  throwsMatching(() => parseSafetensors(rawFile(h, goodData), 'rev.st'), /rev\.st/, /end before begin/);
});

test('corrupt: overlapping tensors', () => {
  const h = {
    a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
    b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
  };
  throwsMatching(() => parseSafetensors(rawFile(h, goodData), 'ovl.st'), /ovl\.st/, /"a"/, /"b"/, /overlap/);
});

test('corrupt: dtype and shape disagree with the byte range', () => {
  const h = { x: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } };
  throwsMatching(() => parseSafetensors(rawFile(h, goodData), 'size.st'), /size\.st/, /"x"/, /16 bytes/, /need 12/);
});

test('corrupt: unknown dtype, bad shape, bad offsets, bad metadata', () => {
  throwsMatching(() => parseSafetensors(rawFile({ x: { dtype: 'Q7', shape: [1], data_offsets: [0, 4] } }, goodData), 'dt.st'), /dt\.st/, /unsupported dtype/);
  throwsMatching(() => parseSafetensors(rawFile({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, goodData), 'sh.st'), /invalid shape/);
  throwsMatching(() => parseSafetensors(rawFile({ x: { dtype: 'F32', shape: [1], data_offsets: [0] } }, goodData), 'of.st'), /invalid data_offsets/);
  throwsMatching(() => parseSafetensors(rawFile({ __metadata__: { a: 1 }, ...goodHeader }, goodData), 'md.st'), /__metadata__\.a is not a string/);
});

test('missing file names the path', () => {
  throwsMatching(() => readSafetensors(join(dir, 'nope.safetensors')), /nope\.safetensors/, /cannot read/);
});

test('reads tensors at unaligned offsets', () => {
  // A U8 tensor of 1 byte first pushes the F32 tensor to an odd offset.
  const data = new Uint8Array(1 + 8);
  data[0] = 9;
  data.set(new Uint8Array(new Float32Array([1.5, -2]).buffer), 1);
  const h = { u: { dtype: 'U8', shape: [1], data_offsets: [0, 1] }, f: { dtype: 'F32', shape: [2], data_offsets: [1, 9] } };
  const t = parseSafetensors(rawFile(h, data)).tensors;
  assert.equal([...t.get('f')!.data], [1.5, -2]);
  assert.equal([...t.get('u')!.data], [9]);
});

// ---- files that parse but lie (issue 7): each of these loaded shifted or wrong data before ----

/** A real file from the writer whose header ends in space padding, as the reference writer pads. */
function paddedFile(): { bytes: Uint8Array; headerLen: number } {
  const bytes = serializeSafetensors([['w', { dtype: 'F32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }]]);
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.is(bytes[8 + headerLen - 1], 0x20, 'fixture: the header ends in padding');
  return { bytes, headerLen };
}

function withHeaderLen(bytes: Uint8Array, len: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setBigUint64(0, BigInt(len), true);
  return out;
}

test('lie: header length one byte short (header ends in padding) is refused, not read shifted', () => {
  const { bytes, headerLen } = paddedFile();
  throwsMatching(() => parseSafetensors(withHeaderLen(bytes, headerLen - 1), 'short-by-1.st'), /short-by-1\.st/, /1 trailing bytes/, /header length field is too short/);
});

test('lie: header length one byte long is refused, naming the header length', () => {
  const { bytes, headerLen } = paddedFile();
  // The first data byte (of 1.0f) is 0x00: the header would end inside the data.
  throwsMatching(() => parseSafetensors(withHeaderLen(bytes, headerLen + 1), 'long-by-1.st'), /long-by-1\.st/, /does not end where its length/);
  // A first data byte that is a space still parses as JSON: the data section is then short.
  const spaced = bytes.slice();
  spaced[8 + headerLen] = 0x20;
  throwsMatching(() => parseSafetensors(withHeaderLen(spaced, headerLen + 1), 'long-sp.st'), /long-sp\.st/, /"w"/, /header length is too long/);
});

test('lie: overlapping offsets, including an empty tensor inside another one', () => {
  const h = {
    a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
    e: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
  };
  throwsMatching(() => parseSafetensors(rawFile(h, goodData), 'ovl0.st'), /ovl0\.st/, /"a"/, /"e"/, /overlap/);
  const same = { a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] }, b: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } };
  throwsMatching(() => parseSafetensors(rawFile(same, goodData), 'same.st'), /same\.st/, /overlap/);
});

test('lie: a hole between tensors or at the start of the data', () => {
  const mid = { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } };
  throwsMatching(() => parseSafetensors(rawFile(mid, goodData), 'hole.st'), /hole\.st/, /hole of 4 bytes/, /"a"/, /"b"/);
  const start = { b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } };
  throwsMatching(() => parseSafetensors(rawFile(start, goodData), 'hole0.st'), /hole0\.st/, /hole of 8 bytes at the start/, /"b"/);
});

test('lie: trailing bytes after the last tensor', () => {
  const data = new Uint8Array(goodData.length + 3);
  data.set(goodData);
  throwsMatching(() => parseSafetensors(rawFile(goodHeader, data), 'trail.st'), /trail\.st/, /3 trailing bytes/);
  throwsMatching(() => parseSafetensors(rawFile({}, new Uint8Array(1)), 'empty.st'), /empty\.st/, /1 trailing bytes/);
});

test('lie: shape and byte length disagree, also when the shape product is beyond any file', () => {
  const h = { x: { dtype: 'F32', shape: [2, 1], data_offsets: [0, 16] } };
  throwsMatching(() => parseSafetensors(rawFile(h, goodData), 'shape.st'), /shape\.st/, /"x"/, /16 bytes/, /need 8/);
  const huge = { x: { dtype: 'F64', shape: [2 ** 30, 2 ** 30], data_offsets: [0, 16] } };
  throwsMatching(() => parseSafetensors(rawFile(huge, goodData), 'huge-shape.st'), /huge-shape\.st/, /"x"/, /too large/);
});

test('still valid: empty tensors at any seam, no tensors at all, whitespace padding', () => {
  const h = {
    e0: { dtype: 'F32', shape: [0], data_offsets: [0, 0] },
    a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    e1: { dtype: 'I64', shape: [0, 3], data_offsets: [8, 8] },
    b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
    e2: { dtype: 'U8', shape: [0], data_offsets: [16, 16] },
  };
  const t = parseSafetensors(rawFile(null, goodData, JSON.stringify(h) + '   ')).tensors;
  assert.equal([...t.get('b')!.data], [3, 4]);
  assert.is(t.get('e1')!.data.length, 0);
  assert.is(parseSafetensors(rawFile({ __metadata__: { k: 'v' } }, new Uint8Array(0))).tensors.size, 0);
});

test.run();
