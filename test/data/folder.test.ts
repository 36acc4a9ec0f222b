// Folder / MVTec AD layout for images, DICOM (multi-frame, extension-less) and NIfTI volumes with masks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { load } from '../../src/data/index.js';
import { pattern, tempDir, writeBytes, writeImage } from './helpers/files.js';
import { writeDicom } from './helpers/dicom-writer.js';
import { writeNifti } from './helpers/nifti-writer.js';

const { dir, cleanup } = tempDir();

test('MVTec layout: train/good, test/good, test/<defect> sorted, masks from ground_truth/<defect>/<stem>_mask.png', async () => {
  const p = join(dir, 'bottle');
  for (const n of ['001.png', '000.png']) await writeImage(join(p, 'train', 'good', n), pattern(8, 8, 3, 1), 8, 8, 3);
  await writeImage(join(p, 'test', 'good', '000.png'), pattern(8, 8, 3, 2), 8, 8, 3);
  await writeImage(join(p, 'test', 'crack', '000.png'), pattern(8, 8, 3, 3), 8, 8, 3);
  await writeImage(join(p, 'test', 'broken', '000.png'), pattern(8, 8, 3, 4), 8, 8, 3);
  const m = new Uint8Array(64);
  m.fill(255, 0, 32);
  await writeImage(join(p, 'ground_truth', 'crack', '000_mask.png'), m, 8, 8, 1);
  await writeImage(join(p, 'ground_truth', 'broken', '000_mask.png'), new Uint8Array(64).fill(255), 8, 8, 1);
  const ds = await load('folder', { path: p, size: 4, channels: 3 });
  assert.equal(ds.train.ids, ['good/000', 'good/001']);
  assert.equal(ds.test.ids, ['good/000', 'broken/000', 'crack/000']);
  assert.equal(Array.from(ds.test.labels), [0, 1, 1]);
  assert.ok(ds.test.hasMasks);
  const masks = (await ds.test.masks())!;
  assert.equal(Array.from(masks.subarray(0, 16)), new Array(16).fill(0));
  assert.equal(Array.from(masks.subarray(16, 32)), new Array(16).fill(1));
  assert.equal(Array.from(masks.subarray(32, 48)), [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  assert.is((await ds.test.images()).length, 3 * 3 * 16);
  assert.is(ds.info.source, p);
});

test('folder: `path` is required, the layout is checked, and an abnormal image without a mask is an error', async () => {
  try {
    await load('folder', {});
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /folder: the `path` option is required/);
  }
  try {
    await load('folder', { path: join(dir, 'nowhere') });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /nowhere not found; `path` must be a folder of normal training images .*or the MVTec layout <path>\/train\/good\//);
  }
  const p = join(dir, 'bottle');
  await writeImage(join(p, 'test', 'crack', '001.png'), pattern(8, 8, 3, 5), 8, 8, 3);
  try {
    await load('folder', { path: p });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /crack\/001\.png: no mask in .*ground_truth\/crack \(expected 001_mask\.<ext>\)/);
  }
  const skipped = await load('folder', { path: p, onError: 'skip', size: 4 });
  assert.equal(skipped.test.ids, ['good/000', 'broken/000', 'crack/000']);
  assert.is(skipped.info.skipped.length, 1);
});

test('dicom: extension-less and multi-frame files become one item per frame', async () => {
  const p = join(dir, 'dcm');
  const px = (v: number[]) => new Uint16Array(v.flatMap((x) => new Array(16).fill(x).map((y, i) => y + i)));
  writeBytes(join(p, 'train', 'good', 'IM0001'), writeDicom({ rows: 4, columns: 4, pixels: px([100]) }));
  writeBytes(join(p, 'train', 'good', 'cine.dcm'), writeDicom({ rows: 4, columns: 4, frames: 3, pixels: px([0, 50, 100]) }));
  writeBytes(join(p, 'train', 'good', 'notes.txt'), 'ignored');
  writeBytes(join(p, 'test', 'good', 'a.dcm'), writeDicom({ rows: 4, columns: 4, pixels: px([7]), photometric: 'MONOCHROME1' }));
  writeBytes(join(p, 'test', 'lesion', 'b.dcm'), writeDicom({ rows: 4, columns: 4, pixels: px([9]) }));
  const ds = await load('dicom', { path: p, size: 4 });
  assert.equal(ds.train.ids, ['good/IM0001', 'good/cine#0', 'good/cine#1', 'good/cine#2']);
  assert.equal(ds.train.paths[2], join(p, 'train', 'good', 'cine.dcm#1'));
  const a = await ds.test.item(0);
  // MONOCHROME1 over values 7..22: the darkest stored value becomes the brightest pixel.
  assert.is(a.image[0], 1);
  assert.is(a.image[15], -1);
  assert.equal(Array.from(ds.test.labels), [0, 1]);
});

test('nifti: volumes sliced along the axis; slice labels from the mask volume', async () => {
  const p = join(dir, 'nii');
  const [nx, ny, nz] = [6, 5, 3];
  const volume = (seed: number) => Array.from({ length: nx * ny * nz }, (_, i) => (i * seed) % 200);
  writeBytes(join(p, 'train', 'good', 'sub1.nii.gz'), writeNifti({ dims: [nx, ny, nz], datatype: 'int16', data: volume(3), gzip: true }));
  writeBytes(join(p, 'test', 'good', 'sub2.nii'), writeNifti({ dims: [nx, ny, nz], datatype: 'int16', data: volume(5) }));
  writeBytes(join(p, 'test', 'tumor', 'sub3.nii.gz'), writeNifti({ dims: [nx, ny, nz], datatype: 'float32', data: volume(7), gzip: true }));
  // Tumour only in slice z = 1.
  const seg = new Array(nx * ny * nz).fill(0);
  seg[nx * ny * 1 + 7] = 2;
  writeBytes(join(p, 'ground_truth', 'tumor', 'sub3_mask.nii.gz'), writeNifti({ dims: [nx, ny, nz], datatype: 'uint8', data: seg, gzip: true }));
  const ds = await load('nifti', { path: p, size: 5 });
  assert.equal(ds.train.ids, ['good/sub1#0', 'good/sub1#1', 'good/sub1#2']);
  assert.equal(ds.test.ids, ['good/sub2#0', 'good/sub2#1', 'good/sub2#2', 'tumor/sub3#0', 'tumor/sub3#1', 'tumor/sub3#2']);
  assert.equal(Array.from(ds.test.labels), [0, 0, 0, 0, 1, 0]);
  const t = await ds.test.item(4);
  assert.is(t.mask!.reduce((a, b) => a + b, 0), 1);
  const along0 = await load('nifti', { path: p, size: 5, axis: 0 });
  assert.is(along0.train.length, nx);
  assert.equal(along0.info.options.axis, 0);
  // A mask volume of another size is an error.
  writeBytes(join(p, 'ground_truth', 'tumor', 'sub3_mask.nii.gz'), writeNifti({ dims: [nx, ny, nz + 1], datatype: 'uint8', data: new Array(nx * ny * (nz + 1)).fill(0), gzip: true }));
  try {
    await load('nifti', { path: p });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /sub3_mask\.nii\.gz is 6×5 × 4 frames but its image .*sub3\.nii\.gz is 6×5 × 3 frames/);
  }
});

test.after(cleanup);
test.run();
