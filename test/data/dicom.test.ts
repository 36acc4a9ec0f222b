// DICOM decoding: rescale, VOI window, MONOCHROME1, bit depths, signedness, multi-frame,
// big endian, RLE, and clear errors for compressed or truncated files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dicomFrame, parseDicom } from '../../src/data/decode/dicom.js';
import { TS, rleEncode, writeDicom } from './helpers/dicom-writer.js';

const near = (a: ArrayLike<number>, b: number[], tol = 1e-6) => {
  assert.is(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

test('16-bit MONOCHROME2 without window: rescale then min–max to [0, 1]', () => {
  const buf = writeDicom({ rows: 2, columns: 2, pixels: new Uint16Array([0, 100, 200, 400]), slope: 2, intercept: -1024 });
  const img = parseDicom(buf, 'a.dcm');
  assert.is(img.slope, 2);
  assert.is(img.intercept, -1024);
  const f = dicomFrame(img, 0);
  assert.is(f.channels, 1);
  assert.ok(f.data instanceof Float32Array);
  near(f.data, [0, 0.25, 0.5, 1]);
});

test('window centre/width (LINEAR) applies to the rescaled values and clips', () => {
  // HU = raw − 1000; window 40/400 → [−160, 240] maps to [0, 1].
  const raw = [840, 1000, 1040, 1240, 2000];
  const buf = writeDicom({ rows: 1, columns: 5, pixels: new Uint16Array(raw), slope: 1, intercept: -1000, windowCenter: 40, windowWidth: 400 });
  const f = dicomFrame(parseDicom(buf, 'w.dcm'), 0);
  const lin = (x: number) => (x <= 40 - 0.5 - 399 / 2 ? 0 : x > 40 - 0.5 + 399 / 2 ? 1 : (x - 39.5) / 399 + 0.5);
  near(f.data, raw.map((r) => lin(r - 1000)));
  assert.is(f.data[0], 0);
  assert.is(f.data[4], 1);
  // minmax ignores the window
  const g = dicomFrame(parseDicom(buf, 'w.dcm'), 0, 'minmax');
  near(g.data, raw.map((r) => (r - 840) / (2000 - 840)));
});

test('LINEAR_EXACT and SIGMOID VOI functions', () => {
  const px = new Uint16Array([0, 50, 100]);
  const e = dicomFrame(parseDicom(writeDicom({ rows: 1, columns: 3, pixels: px, windowCenter: 50, windowWidth: 100, voiLutFunction: 'LINEAR_EXACT' }), 'e'), 0);
  near(e.data, [0, 0.5, 1]);
  const s = dicomFrame(parseDicom(writeDicom({ rows: 1, columns: 3, pixels: px, windowCenter: 50, windowWidth: 100, voiLutFunction: 'SIGMOID' }), 's'), 0);
  near(s.data, [1 / (1 + Math.exp(2)), 0.5, 1 / (1 + Math.exp(-2))]);
});

test('MONOCHROME1 is inverted so that bright means dense', () => {
  const buf = writeDicom({ rows: 1, columns: 3, pixels: new Uint16Array([0, 50, 100]), photometric: 'MONOCHROME1' });
  near(dicomFrame(parseDicom(buf, 'm1'), 0).data, [1, 0.5, 0]);
});

test('8-bit and signed 16-bit with Bits Stored < Bits Allocated', () => {
  const b8 = writeDicom({ rows: 1, columns: 4, bitsAllocated: 8, pixels: new Uint8Array([10, 20, 30, 50]) });
  near(dicomFrame(parseDicom(b8, 'b8'), 0).data, [0, 0.25, 0.5, 1]);
  // 12 bits stored, signed: 0xFFF is −1, 0x800 is −2048; high garbage bits must be masked off.
  const s = writeDicom({ rows: 1, columns: 3, bitsStored: 12, pixelRepresentation: 1, pixels: new Uint16Array([0xf000 | 0xfff, 0x800, 0x7ff]) });
  const img = parseDicom(s, 's12');
  assert.ok(img.signed);
  near(dicomFrame(img, 0).data, [2047 / 4095, 0, 1]);
});

test('multi-frame: each frame decodes on its own', () => {
  const px = new Uint16Array([0, 1, 2, 3, /* frame 1 */ 10, 10, 10, 30]);
  const img = parseDicom(writeDicom({ rows: 2, columns: 2, frames: 2, pixels: px }), 'mf');
  assert.is(img.frames, 2);
  near(dicomFrame(img, 0).data, [0, 1 / 3, 2 / 3, 1]);
  near(dicomFrame(img, 1).data, [0, 0, 0, 1]);
  assert.throws(() => dicomFrame(img, 2), /frame 2 out of range \[0, 2\)/);
});

test('explicit VR big endian', () => {
  const img = parseDicom(writeDicom({ rows: 1, columns: 3, pixels: new Uint16Array([256, 512, 1024]), bigEndian: true }), 'be');
  near(dicomFrame(img, 0).data, [0, 1 / 3, 1]);
});

test('RGB (both planar configurations) stays 8-bit RGB', () => {
  const inter = new Uint8Array([255, 0, 0, 0, 255, 0]);
  const a = dicomFrame(parseDicom(writeDicom({ rows: 1, columns: 2, bitsAllocated: 8, samplesPerPixel: 3, pixels: inter }), 'rgb'), 0);
  assert.is(a.channels, 3);
  assert.equal(Array.from(a.data), Array.from(inter));
  const planar = new Uint8Array([255, 0, 0, 255, 0, 0]);
  const b = dicomFrame(parseDicom(writeDicom({ rows: 1, columns: 2, bitsAllocated: 8, samplesPerPixel: 3, planarConfiguration: 1, pixels: planar }), 'rgbp'), 0);
  assert.equal(Array.from(b.data), Array.from(inter));
});

test('RLE Lossless frames decode (16-bit, two frames)', () => {
  const f0 = new Uint16Array(300).map((_, i) => i * 100);
  const f1 = new Uint16Array(300).map((_, i) => 30000 - i * 50);
  const buf = writeDicom({ rows: 15, columns: 20, frames: 2, transferSyntax: TS.rle, fragments: [rleEncode(f0, 1), rleEncode(f1, 1)] });
  const img = parseDicom(buf, 'rle');
  const d0 = dicomFrame(img, 0, 'minmax').data;
  const d1 = dicomFrame(img, 1, 'minmax').data;
  near(d0, Array.from(f0, (v) => v / (299 * 100)));
  near(d1, Array.from(f1, (v) => (v - (30000 - 299 * 50)) / (299 * 50)));
});

test('compressed transfer syntax: error names it', () => {
  const buf = writeDicom({ rows: 2, columns: 2, transferSyntax: TS.jpegBaseline, fragments: [new Uint8Array([0xff, 0xd8, 0xff, 0xd9])] });
  assert.throws(() => parseDicom(buf, 'x.dcm'), (e: Error) => /x\.dcm/.test(e.message) && /JPEG Baseline/.test(e.message) && /1\.2\.840\.10008\.1\.2\.4\.50/.test(e.message));
  const j2k = writeDicom({ rows: 2, columns: 2, transferSyntax: TS.jpeg2000, fragments: [new Uint8Array(4)] });
  assert.throws(() => parseDicom(j2k, 'y.dcm'), /JPEG 2000/);
});

test('truncated pixel data, missing pixel data and garbage are errors naming the file', () => {
  const full = writeDicom({ rows: 4, columns: 4, pixels: new Uint16Array(16) });
  assert.throws(() => parseDicom(full.subarray(0, full.length - 10), 'trunc.dcm'), /trunc\.dcm/);
  assert.throws(() => parseDicom(writeDicom({ rows: 4, columns: 4, noPixelData: true }), 'nopix.dcm'), /nopix\.dcm: DICOM file has no Pixel Data/);
  assert.throws(() => parseDicom(new Uint8Array(300).fill(7), 'junk.dcm'), /cannot parse DICOM file junk\.dcm/);
});

test.run();
