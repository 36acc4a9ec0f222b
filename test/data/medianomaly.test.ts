// The seven MedIAnomaly layouts on tiny fixtures built in a temp dir: order, ids, labels,
// masks, published-count warnings and every bad-input path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { load } from '../../src/data/index.js';
import { pattern, tempDir, writeBytes, writeFlat, writeImage } from './helpers/files.js';

const { dir: root, cleanup } = tempDir();
const W = 12, H = 10;

async function img(path: string, seed: number, c: 1 | 3 = 1, enc: 'png' | 'jpeg' = 'png') {
  await writeImage(path, pattern(W, H, c, seed), W, H, c, enc);
}

async function dataJsonDataset(dir: string, ext: 'png' | 'jpg', json: unknown, files: string[]) {
  let seed = 0;
  for (const f of files) await img(join(dir, 'images', f), seed++, 1, ext === 'png' ? 'png' : 'jpeg');
  writeBytes(join(dir, 'data.json'), JSON.stringify(json));
}

const rsnaJson = { train: { '0': ['n1.png', 'n2.png', 'n3.png'], unlabeled: { '0': [], '1': [] } }, test: { '0': ['t0a.png', 't0b.png'], '1': ['t1a.png', 't1b.png'] } };

test.before(async () => {
  await dataJsonDataset(join(root, 'RSNA'), 'png', rsnaJson, ['n1.png', 'n2.png', 'n3.png', 't0a.png', 't0b.png', 't1a.png', 't1b.png']);
  await dataJsonDataset(join(root, 'BrainTumor'), 'jpg', { train: { '0': ['Tr-no_0001.jpg'] }, test: { '0': ['Te-noTr_0000.jpg'], '1': ['Te-glTr_0000.jpg'] } }, ['Tr-no_0001.jpg', 'Te-noTr_0000.jpg', 'Te-glTr_0000.jpg']);
});

test('data.json layout (RSNA): order, ids, labels, shapes, published-count warnings', async () => {
  const ds = await load('rsna', { root, size: 8 });
  assert.is(ds.name, 'rsna');
  assert.equal(ds.train.ids, ['n1', 'n2', 'n3']);
  assert.equal(ds.test.ids, ['t0a', 't0b', 't1a', 't1b']);
  assert.equal(Array.from(ds.test.labels), [0, 0, 1, 1]);
  assert.equal(ds.info.counts, { train: { normal: 3, abnormal: 0 }, test: { normal: 2, abnormal: 2 } });
  assert.is(ds.info.channels, 1);
  assert.is(ds.info.modality, 'chest-xray');
  assert.is(ds.test.hasMasks, false);
  assert.equal(ds.info.expected, { train: 3851, testNormal: 1000, testAbnormal: 1000 });
  assert.is(ds.info.warnings.length, 3);
  assert.match(ds.info.warnings[0]!, /train has 3 images, the published split has 3851/);
  const it = await ds.test.item(2);
  assert.is(it.id, 't1a');
  assert.is(it.label, 1);
  assert.is(it.path, join(root, 'RSNA', 'images', 't1a.png'));
  assert.is(it.image.length, 64);
  assert.is(it.mask, undefined);
  const all = await ds.train.images();
  assert.is(all.length, 3 * 64);
  for (const v of all) assert.ok(v >= -1 && v <= 1);
});

test('resample and verify options reach the pipeline', async () => {
  const pil = await load('rsna', { root, size: 5, verify: 'exists' });
  const sh = await load('rsna', { root, size: 5, resample: 'sharp' });
  const lz = await load('rsna', { root, size: 5, resample: 'pil-lanczos' });
  assert.is(sh.info.resample, 'sharp');
  const [a, b, c] = await Promise.all([pil.train.images(), sh.train.images(), lz.train.images()]);
  assert.is(a.length, b.length);
  assert.not.equal(Array.from(a), Array.from(c)); // different filters, different pixels
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i]! - b[i]!));
  assert.ok(maxDiff < 0.5, `sharp vs Pillow bilinear differ by ${maxDiff}`);
});

test('JPEG data.json dataset (BrainTumor) and the reference id rule', async () => {
  const ds = await load('brain-tumor', { root: '/nonexistent', path: join(root, 'BrainTumor'), size: 8 });
  assert.equal(ds.test.ids, ['Te-noTr_0000', 'Te-glTr_0000']);
  assert.equal(ds.train.paths, [join(root, 'BrainTumor', 'images', 'Tr-no_0001.jpg')]);
});

test('missing dataset: error names the expected path and Zenodo record 12677223', async () => {
  try {
    await load('vincxr', { root });
    assert.unreachable();
  } catch (e) {
    const m = (e as Error).message;
    assert.match(m, join(root, 'VinCXR', 'data.json'));
    assert.match(m, /12677223/);
    assert.match(m, /VinCXR\.tar\.gz/);
  }
  try {
    await load('isic2018', { root });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /ISIC/);
  }
});

test('data.json listing a file not on disk: error naming file and dataset; skip records it', async () => {
  const dir = join(root, 'LAG');
  await dataJsonDataset(dir, 'jpg', { train: { '0': ['a.jpg', 'gone.jpg'] }, test: { '0': ['b.jpg'], '1': ['c.jpg'] } }, ['a.jpg', 'b.jpg', 'c.jpg']);
  try {
    await load('lag', { root });
    assert.unreachable();
  } catch (e) {
    const m = (e as Error).message;
    assert.match(m, /^lag: /);
    assert.match(m, join(dir, 'images', 'gone.jpg'));
    assert.match(m, /file not found/);
  }
  const ds = await load('lag', { root, onError: 'skip', size: 8 });
  assert.equal(ds.train.ids, ['a']);
  assert.equal(ds.info.skipped, [{ split: 'train', path: join(dir, 'images', 'gone.jpg'), reason: 'file not found' }]);
  assert.ok(ds.info.warnings.some((w) => /1 unreadable file\(s\) skipped/.test(w)));
});

test('malformed data.json: invalid JSON and missing keys are clear errors', async () => {
  const dir = join(root, 'VinCXR');
  writeBytes(join(dir, 'data.json'), '{"train": ');
  try {
    await load('vincxr', { root });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /data\.json is not valid JSON/);
  }
  writeBytes(join(dir, 'data.json'), JSON.stringify({ train: { '0': [] }, test: { '0': [] } }));
  try {
    await load('vincxr', { root });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /must have test\["1"\] as a list of file names/);
  }
});

test('empty split is an error', async () => {
  const dir = join(root, 'VinCXR');
  await img(join(dir, 'images', 'x.png'), 1);
  writeBytes(join(dir, 'data.json'), JSON.stringify({ train: { '0': [] }, test: { '0': ['x.png'], '1': ['x.png'] } }));
  try {
    await load('vincxr', { root });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /vincxr: the train split is empty/);
  }
});

test('corrupt files: header corruption stops the load (or is skipped); pixel corruption fails at decode or under verify: decode', async () => {
  const dir = join(root, 'VinCXR');
  await img(join(dir, 'images', 'ok1.png'), 1);
  await img(join(dir, 'images', 'ok2.png'), 2);
  await img(join(dir, 'images', 'ok3.png'), 3);
  writeBytes(join(dir, 'images', 'junk.png'), 'not a png at all');
  const { readFileSync } = await import('node:fs');
  const good = readFileSync(join(dir, 'images', 'ok3.png'));
  writeBytes(join(dir, 'images', 'trunc.png'), good.subarray(0, good.length - 30));
  writeBytes(join(dir, 'data.json'), JSON.stringify({ train: { '0': ['ok1.png', 'junk.png'] }, test: { '0': ['ok2.png'], '1': ['ok3.png', 'trunc.png'] } }));
  try {
    await load('vincxr', { root });
    assert.unreachable();
  } catch (e) {
    const m = (e as Error).message;
    assert.match(m, /^vincxr: train file .*junk\.png/);
  }
  const ds = await load('vincxr', { root, onError: 'skip', size: 8 });
  assert.equal(ds.train.ids, ['ok1']);
  assert.equal(ds.test.ids, ['ok2', 'ok3', 'trunc']); // the truncated file has a valid header
  try {
    await ds.test.item(2);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /vincxr: cannot load test item trunc from .*trunc\.png/);
  }
  const strict = await load('vincxr', { root, onError: 'skip', verify: 'decode', size: 8 });
  assert.equal(strict.test.ids, ['ok2', 'ok3']);
  assert.equal(strict.info.skipped.map((s) => s.path.split('/').pop()), ['junk.png', 'trunc.png']);
});

test('ISIC2018: official CSVs, NV = normal, normals first in CSV order', async () => {
  const dir = join(root, 'ISIC2018_Task3');
  const header = 'image,MEL,NV,BCC,AKIEC,BKL,DF,VASC';
  writeBytes(join(dir, 'ISIC2018_Task3_Training_GroundTruth', 'ISIC2018_Task3_Training_GroundTruth.csv'),
    `${header}\r\nISIC_0000001,0.0,1.0,0.0,0.0,0.0,0.0,0.0\r\nISIC_0000002,1.0,0.0,0.0,0.0,0.0,0.0,0.0\r\nISIC_0000003,0.0,1.0,0.0,0.0,0.0,0.0,0.0\r\n`);
  writeBytes(join(dir, 'ISIC2018_Task3_Test_GroundTruth', 'ISIC2018_Task3_Test_GroundTruth.csv'),
    `${header}\nISIC_0000010,0,0,1,0,0,0,0\nISIC_0000011,0,1,0,0,0,0,0\nISIC_0000012,0,0,0,0,0,0,1\n`);
  for (const n of ['ISIC_0000001', 'ISIC_0000003']) await img(join(dir, 'ISIC2018_Task3_Training_Input', `${n}.jpg`), 4, 3, 'jpeg');
  for (const n of ['ISIC_0000010', 'ISIC_0000011', 'ISIC_0000012']) await img(join(dir, 'ISIC2018_Task3_Test_Input', `${n}.jpg`), 5, 3, 'jpeg');
  const ds = await load('isic2018', { root, size: 8 });
  assert.equal(ds.train.ids, ['ISIC_0000001', 'ISIC_0000003']);
  assert.equal(ds.test.ids, ['ISIC_0000011', 'ISIC_0000010', 'ISIC_0000012']);
  assert.equal(Array.from(ds.test.labels), [0, 1, 1]);
  assert.is(ds.info.channels, 1); // grayscale, like the reference (quirk reconGrayscaleIsic)
  const rgb = await load('isic2018', { root, size: 8, channels: 3 });
  assert.is((await rgb.test.item(0)).image.length, 3 * 64);
});

test('Camelyon16: train/good, test/good then test/Ungood, sorted, RGB by default', async () => {
  const dir = join(root, 'Camelyon16');
  for (const n of ['b.png', 'a.png']) await img(join(dir, 'train', 'good', n), 6, 3);
  await img(join(dir, 'test', 'good', 'g.png'), 7, 3);
  for (const n of ['z.png', 'y.png']) await img(join(dir, 'test', 'Ungood', n), 8, 3);
  writeBytes(join(dir, 'test', 'Ungood', '.DS_Store'), 'x');
  const ds = await load('camelyon16', { root, size: 8 });
  assert.equal(ds.train.ids, ['a', 'b']);
  assert.equal(ds.test.ids, ['g', 'y', 'z']);
  assert.is(ds.info.channels, 3);
  const b = await ds.test.batch([2, 0]);
  assert.equal([b.n, b.channels, b.size, b.images.length], [2, 3, 8, 2 * 3 * 64]);
  assert.equal(Array.from(b.labels), [1, 0]);
});

test('BraTS2021: masks from test/annotation by the flair → seg rule; normals get zero masks', async () => {
  const dir = join(root, 'BraTS2021');
  await img(join(dir, 'train', 'BraTS2021_00000_flair_60.png'), 9);
  await img(join(dir, 'test', 'normal', 'BraTS2021_00001_flair_10.png'), 10);
  await img(join(dir, 'test', 'tumor', 'BraTS2021_00002_flair_70.png'), 11);
  const mask = new Uint8Array(W * H);
  for (let y = 0; y < H / 2; y++) for (let x = 0; x < W / 2; x++) mask[y * W + x] = 255;
  await writeImage(join(dir, 'test', 'annotation', 'BraTS2021_00002_seg_70.png'), mask, W, H, 1);
  const ds = await load('brats2021', { root, size: 4 });
  assert.ok(ds.info.hasMasks);
  assert.ok(ds.test.hasMasks);
  assert.not.ok(ds.train.hasMasks);
  assert.equal(ds.test.ids, ['BraTS2021_00001_flair_10', 'BraTS2021_00002_flair_70']);
  const normal = await ds.test.item(0);
  assert.equal(Array.from(normal.mask!), new Array(16).fill(0));
  const tumor = await ds.test.item(1);
  // NEAREST 12×10 → 4×4 samples columns 1, 4, 7, 10 and rows 1, 3, 6, 8.
  assert.equal(Array.from(tumor.mask!), [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const masks = await ds.test.masks();
  assert.equal(Array.from(masks!.subarray(16)), Array.from(tumor.mask!));
  assert.is(await ds.train.masks(), undefined);
});

test('BraTS2021: a mask whose size differs from its image, and a missing mask, are errors', async () => {
  const dir = join(root, 'BraTS2021');
  await writeFlat(join(dir, 'test', 'annotation', 'BraTS2021_00002_seg_70.png'), W + 1, H, 255);
  try {
    await load('brats2021', { root });
    assert.unreachable();
  } catch (e) {
    const m = (e as Error).message;
    assert.match(m, /BraTS2021_00002_seg_70\.png is 13×10 but its image .*BraTS2021_00002_flair_70\.png is 12×10/);
  }
  // Same under onError: 'skip' (a size mismatch is not a broken file).
  try {
    await load('brats2021', { root, onError: 'skip' });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /is 13×10 but its image/);
  }
  const { rmSync } = await import('node:fs');
  rmSync(join(dir, 'test', 'annotation', 'BraTS2021_00002_seg_70.png'));
  try {
    await load('brats2021', { root });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /BraTS2021_00002_seg_70\.png: mask of .*file not found/);
  }
});

test('bad options are errors naming the option', async () => {
  for (const [o, re] of [
    [{ size: 0 }, /size must be/],
    [{ channels: 2 }, /channels must be 1 or 3/],
    [{ resample: 'cubic' }, /resample must be one of/],
    [{ onError: 'ignore' }, /onError must be/],
  ] as const) {
    try {
      await load('rsna', { root, ...(o as object) });
      assert.unreachable();
    } catch (e) {
      assert.match((e as Error).message, re);
    }
  }
  try {
    await load('no-such-set', { root });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /unknown dataset 'no-such-set'; known datasets: rsna, vincxr/);
  }
});

test.after(cleanup);
test.run();
