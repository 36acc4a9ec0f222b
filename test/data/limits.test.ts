// Decode limits on every path (issue 7): images through sharp (maxPixels, maxDecodedBytes),
// gzip IDX files, the preprocessing guard against non-finite values, and the options reaching
// the decoders through `load`. Caps are made tiny here so that nothing large is allocated.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, probeImage } from '../../src/data/decode/image.js';
import { parseIdx } from '../../src/data/decode/idx.js';
import { preprocessImage } from '../../src/data/preprocess.js';
import { DatasetError, DecodeError } from '../../src/data/errors.js';
import { clearDecodeCache } from '../../src/data/decode/index.js';
import { load } from '../../src/data/index.js';
import { pattern, tempDir, writeBytes, writeIdx, writeImage } from './helpers/files.js';
import { writeNifti } from './helpers/nifti-writer.js';

const { dir, cleanup } = tempDir();

async function rejects(p: Promise<unknown>, cls: Function, ...patterns: RegExp[]) {
  try {
    await p;
  } catch (err) {
    assert.instance(err, cls);
    for (const re of patterns) assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable('expected a rejection');
}

test('images: maxPixels and maxDecodedBytes are checked from the header, before decoding', async () => {
  await writeImage(join(dir, 'p.png'), pattern(20, 10, 3), 20, 10, 3);
  const buf = readFileSync(join(dir, 'p.png'));
  await rejects(decodeImage(buf, 'p.png', { maxPixels: 199 }), DecodeError, /p\.png/, /20×10/, /maxPixels/);
  await rejects(probeImage(buf, 'p.png', { maxPixels: 199 }), DecodeError, /maxPixels/);
  // 20×10 RGB 8-bit = 600 bytes decoded.
  await rejects(decodeImage(buf, 'p.png', { maxDecodedBytes: 599 }), DecodeError, /p\.png/, /600 bytes/, /maxDecodedBytes/);
  assert.is((await decodeImage(buf, 'p.png', { maxPixels: 200, maxDecodedBytes: 600 })).width, 20);
});

test('gzip IDX files inflate under the cap', () => {
  const path = join(dir, 'idx', 'imgs-idx3-ubyte.gz');
  writeIdx(path, [16, 28, 28], new Uint8Array(16 * 28 * 28), true);
  const buf = readFileSync(path);
  assert.throws(() => parseIdx(buf, path, { maxDecodedBytes: 4096 }), (e: Error) => e instanceof DecodeError && /imgs-idx3-ubyte\.gz/.test(e.message) && /maxDecodedBytes/.test(e.message));
  assert.equal(parseIdx(buf, path).dims, [16, 28, 28]);
});

test('preprocessing refuses non-finite float pixels (a guard behind every decoder)', async () => {
  const img = { width: 2, height: 1, channels: 1 as const, data: new Float32Array([0.5, NaN]) };
  await rejects(preprocessImage(img, { size: 2, channels: 1, resample: 'pil-bilinear' }), RangeError, /not finite/);
});

test('load: a NIfTI volume with an infinite voxel fails naming the file; the options reach the decoder', async () => {
  const root = join(dir, 'nifti-ds');
  const vol = (v: number[]) => writeNifti({ dims: [2, 2, 2], datatype: 'float32', data: v });
  writeBytes(join(root, 'train', 'good', 'a.nii'), vol([0, 1, 2, 3, 4, 5, 6, 7]));
  writeBytes(join(root, 'test', 'good', 'b.nii'), vol([0, 1, 2, 3, 4, 5, 6, 7]));
  writeBytes(join(root, 'test', 'bad', 'c.nii'), vol([0, 1, 2, -Infinity, 4, 5, 6, 7]));
  clearDecodeCache();
  await rejects(load('nifti', { path: root, size: 4 }), DatasetError, /c\.nii/, /not finite/);
  clearDecodeCache();
  const ds = await load('nifti', { path: root, size: 4, nonFinite: 'clamp' });
  for (const v of await ds.test.images()) assert.ok(Number.isFinite(v));
  clearDecodeCache();
  await rejects(load('nifti', { path: root, size: 4, maxDecodedBytes: 16 }), DatasetError, /a\.nii/, /maxDecodedBytes/);
  clearDecodeCache();
  await rejects(load('nifti', { path: root, maxPixels: 0 }), RangeError, /maxPixels/);
});

test.after(cleanup);
test.run();
