// Decoding PNG/JPEG/TIFF through sharp with Pillow's semantics, and the reference
// preprocessing end to end against Pillow's own output for the same files.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, probeImage } from '../../src/data/decode/image.js';
import { preprocessImage, preprocessMask } from '../../src/data/preprocess.js';
import { pilResize } from '../../src/data/resize.js';
import { toGrayPlane } from '../../src/data/raw.js';
import { pattern, tempDir, writeImage, writeImage16 } from './helpers/files.js';

const fx = JSON.parse(readFileSync(new URL('./fixtures/pil-resize.json', import.meta.url), 'utf8'));
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const { dir, cleanup } = tempDir();

test('8-bit gray, RGB and RGBA PNG decode to Pillow L/RGB (alpha dropped)', async () => {
  const g = pattern(5, 4, 1);
  await writeImage(join(dir, 'g.png'), g, 5, 4, 1);
  const a = await decodeImage(readFileSync(join(dir, 'g.png')), 'g.png');
  assert.equal([a.width, a.height, a.channels], [5, 4, 1]);
  assert.equal(Array.from(a.data), Array.from(g));
  const rgba = pattern(3, 2, 4);
  await writeImage(join(dir, 'c.png'), rgba, 3, 2, 4);
  const c = await decodeImage(readFileSync(join(dir, 'c.png')), 'c.png');
  assert.is(c.channels, 3);
  assert.equal(Array.from(c.data), Array.from(rgba).filter((_, i) => i % 4 !== 3));
  assert.equal(await probeImage(readFileSync(join(dir, 'c.png')), 'c.png'), { width: 3, height: 2, channels: 3, bits: 8 });
});

test('16-bit PNG and TIFF keep their depth as floats in [0, 1]', async () => {
  const v = new Uint16Array([0, 1, 257, 32768, 65535, 12345]);
  await writeImage16(join(dir, 'g16.png'), v, 3, 2, 1);
  const a = await decodeImage(readFileSync(join(dir, 'g16.png')), 'g16.png');
  assert.ok(a.data instanceof Float32Array);
  assert.is(a.channels, 1);
  for (let i = 0; i < v.length; i++) assert.ok(Math.abs(a.data[i]! - v[i]! / 65535) < 1e-7);
  const rgb = new Uint16Array(12).map((_, i) => i * 5000);
  await writeImage16(join(dir, 'c16.tif'), rgb, 2, 2, 3, 'tiff');
  const b = await decodeImage(readFileSync(join(dir, 'c16.tif')), 'c16.tif');
  assert.is(b.channels, 3);
  for (let i = 0; i < rgb.length; i++) assert.ok(Math.abs(b.data[i]! - rgb[i]! / 65535) < 1e-7);
  assert.equal((await probeImage(readFileSync(join(dir, 'g16.png')), 'g16.png')).bits, 16);
});

test('8-bit TIFF and gray JPEG decode', async () => {
  const g = pattern(8, 8, 1);
  await writeImage(join(dir, 't.tif'), g, 8, 8, 1, 'tiff');
  assert.equal(Array.from((await decodeImage(readFileSync(join(dir, 't.tif')), 't.tif')).data), Array.from(g));
  await writeImage(join(dir, 'j.jpg'), g, 8, 8, 1, 'jpeg');
  const j = await decodeImage(readFileSync(join(dir, 'j.jpg')), 'j.jpg');
  assert.is(j.channels, 1);
  let err = 0;
  for (let i = 0; i < 64; i++) err = Math.max(err, Math.abs(j.data[i]! - g[i]!));
  assert.ok(err < 40, `JPEG round trip error ${err}`);
});

test('corrupt and truncated files are DecodeErrors naming the file', async () => {
  try {
    await decodeImage(new Uint8Array([1, 2, 3, 4, 5]), '/x/bad.png');
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /\/x\/bad\.png/);
  }
  const png = readFileSync(join(dir, 'g.png'));
  try {
    await decodeImage(png.subarray(0, png.length - 20), '/x/trunc.png');
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /cannot decode \/x\/trunc\.png/);
  }
});

test('files decoded by sharp and preprocessed match Pillow open → convert → resize(16, BILINEAR)', async () => {
  for (const f of fx.files) {
    const raw = await decodeImage(readFileSync(fixture(f.file)), f.file);
    const mode = f.mode as 'L' | 'RGB';
    const decoded = mode === 'L' ? toGrayPlane(raw) : raw.data;
    const pilDecoded = bytes(f.decoded);
    let maxDecode = 0;
    for (let i = 0; i < pilDecoded.length; i++) maxDecode = Math.max(maxDecode, Math.abs(decoded[i]! - pilDecoded[i]!));
    // PNG is lossless; both sides decode JPEG with libjpeg-turbo's default (islow) IDCT.
    assert.ok(maxDecode <= (f.file.endsWith('.png') ? 0 : 1), `${f.file} ${mode}: decode differs by ${maxDecode}`);
    const out = await preprocessImage(raw, { size: f.size, channels: mode === 'L' ? 1 : 3, resample: 'pil-bilinear' });
    const pil = bytes(f.output); // HWC uint8
    const C = mode === 'L' ? 1 : 3;
    const S = f.size;
    let maxOut = 0;
    for (let c = 0; c < C; c++)
      for (let i = 0; i < S * S; i++) {
        const expected = (pil[i * C + c]! / 255 - 0.5) / 0.5;
        maxOut = Math.max(maxOut, Math.abs(out[c * S * S + i]! - expected));
      }
    const tol = maxDecode === 0 ? 1e-6 : 2 / 255 + 1e-6;
    assert.ok(maxOut <= tol, `${f.file} ${mode}: preprocessed differs from Pillow by ${maxOut}`);
  }
});

test('preprocessing: [-1, 1] exactly as ToTensor + Normalize(0.5, 0.5) in float32; gray → 3 channels replicates', async () => {
  const data = new Uint8Array([0, 255, 128, 64]);
  const out = await preprocessImage({ width: 2, height: 2, channels: 1, data }, { size: 2, channels: 1, resample: 'pil-bilinear' });
  assert.equal(Array.from(out), [-1, 1, Math.fround((Math.fround(128 / 255) - 0.5) / 0.5), Math.fround((Math.fround(64 / 255) - 0.5) / 0.5)]);
  const three = await preprocessImage({ width: 2, height: 2, channels: 1, data }, { size: 2, channels: 3, resample: 'pil-bilinear' });
  assert.equal(Array.from(three.subarray(4, 8)), Array.from(out));
  assert.equal(Array.from(three.subarray(8, 12)), Array.from(out));
  const rgb = await preprocessImage({ width: 1, height: 1, channels: 3, data: new Uint8Array([255, 0, 128]) }, { size: 1, channels: 3, resample: 'pil-bilinear' });
  assert.equal(Array.from(rgb).slice(0, 2), [1, -1]);
  const gray = await preprocessImage({ width: 1, height: 1, channels: 3, data: new Uint8Array([255, 0, 0]) }, { size: 1, channels: 1, resample: 'pil-bilinear' });
  assert.is(gray[0], Math.fround((Math.fround(76 / 255) - 0.5) / 0.5)); // L24(255, 0, 0) = 76
  const f = await preprocessImage({ width: 2, height: 1, channels: 1, data: new Float32Array([0, 1]) }, { size: 2, channels: 1, resample: 'pil-lanczos' });
  for (const v of f) assert.ok(v >= -1 && v <= 1);
});

test('preprocessing resizes with the chosen resampler', async () => {
  const g = pattern(40, 30, 1);
  const img = { width: 40, height: 30, channels: 1 as const, data: g };
  const out = await preprocessImage(img, { size: 8, channels: 1, resample: 'pil-lanczos' });
  const ref = pilResize(g, 40, 30, 8, 8, 'lanczos');
  for (let i = 0; i < 64; i++) assert.ok(Math.abs(out[i]! - (ref[i]! / 255 - 0.5) / 0.5) < 1e-6);
  const s = await preprocessImage(img, { size: 8, channels: 1, resample: 'sharp' });
  assert.is(s.length, 64);
});

test('masks: NEAREST resize then > 0', () => {
  // A 4×4 mask with one foreground pixel at (1, 1) and value 3 at (3, 3); to 2×2 NEAREST
  // samples source pixels (1, 1), (3, 1), (1, 3), (3, 3).
  const m = new Uint8Array(16);
  m[1 * 4 + 1] = 255;
  m[3 * 4 + 3] = 3;
  assert.equal(Array.from(preprocessMask({ width: 4, height: 4, channels: 1, data: m }, 2)), [1, 0, 0, 1]);
  const f = preprocessMask({ width: 2, height: 1, channels: 1, data: new Float32Array([0, 0.2]) }, 2);
  assert.equal(Array.from(f), [0, 1, 0, 1]);
});

test.after(cleanup);
test.run();
