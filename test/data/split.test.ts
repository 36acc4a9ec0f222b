// Split behaviour: lazy decode, caching, packing, batches, copies, errors, `limit`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { createSplit, type SourceItem } from '../../src/data/split.js';
import { applyLimit } from '../../src/data/loaders/common.js';
import { list, load, dataRoot } from '../../src/data/index.js';
import { tempDir, writeBytes, writeImage, pattern } from './helpers/files.js';

function sources(n: number, reads: number[], failFirst = -1): SourceItem[] {
  let failed = false;
  return Array.from({ length: n }, (_, i): SourceItem => ({
    id: `s${i}`,
    path: `/mem/s${i}`,
    label: i % 3 === 2 ? 1 : 0,
    read: async () => {
      reads[i] = (reads[i] ?? 0) + 1;
      if (i === failFirst && !failed) {
        failed = true;
        throw new Error('transient failure');
      }
      return {
        image: { width: 4, height: 4, channels: 1, data: new Uint8Array(16).fill(i * 10) },
        ...(i % 3 === 2 ? { mask: { width: 4, height: 4, channels: 1 as const, data: new Uint8Array(16).fill(255) } } : {}),
      };
    },
  }));
}

const norm = (u: number) => Math.fround((Math.fround(u / 255) - 0.5) / 0.5);

test('items decode once, are cached, and come back as copies', async () => {
  const reads: number[] = [];
  const s = createSplit({ dataset: 'mem', name: 'test', items: sources(5, reads), hasMasks: true, preprocess: { size: 2, channels: 1, resample: 'pil-bilinear' } });
  assert.is(reads.length, 0); // lazy
  assert.equal(Array.from(s.labels), [0, 0, 1, 0, 0]);
  assert.equal(s.counts, { normal: 4, abnormal: 1 });
  const [a, b] = await Promise.all([s.item(1), s.item(1)]);
  assert.is(reads[1], 1);
  assert.equal(Array.from(a.image), new Array(4).fill(norm(10)));
  a.image.fill(0);
  assert.equal(Array.from(b.image), new Array(4).fill(norm(10)));
  assert.equal(Array.from((await s.item(1)).image), new Array(4).fill(norm(10)));
  assert.is(reads[1], 1);
  assert.equal(Array.from((await s.item(0)).mask!), [0, 0, 0, 0]);
  assert.equal(Array.from((await s.item(2)).mask!), [1, 1, 1, 1]);
  try {
    await s.item(5);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, RangeError);
    assert.match((e as Error).message, /item index 5 out of range \[0, 5\)/);
  }
});

test('images() and masks() pack [n, C, S, S] once; later items come from the pack', async () => {
  const reads: number[] = [];
  const s = createSplit({ dataset: 'mem', name: 'test', items: sources(4, reads), hasMasks: true, preprocess: { size: 2, channels: 3, resample: 'pil-bilinear' } });
  const [imgs, imgs2] = await Promise.all([s.images(), s.images()]);
  assert.ok(imgs === imgs2);
  assert.is(imgs.length, 4 * 3 * 4);
  assert.equal(Array.from(imgs.subarray(36, 48)), new Array(12).fill(norm(30)));
  const masks = (await s.masks())!;
  assert.equal(Array.from(masks), [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0]);
  assert.equal(reads, [1, 1, 1, 1]);
  const it = await s.item(2);
  assert.equal(Array.from(it.mask!), [1, 1, 1, 1]);
  assert.equal(reads, [1, 1, 1, 1]);
  const batch = await s.batch([3, 2]);
  assert.equal(batch.ids, ['s3', 's2']);
  assert.equal(Array.from(batch.labels), [0, 1]);
  assert.equal(Array.from(batch.images.subarray(0, 12)), new Array(12).fill(norm(30)));
  assert.equal(Array.from(batch.masks!), [0, 0, 0, 0, 1, 1, 1, 1]);
});

test('a failed read names dataset, split and file, and can be retried', async () => {
  const reads: number[] = [];
  const s = createSplit({ dataset: 'mem', name: 'train', items: sources(2, reads, 1), hasMasks: false, preprocess: { size: 2, channels: 1, resample: 'pil-bilinear' } });
  try {
    await s.images();
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /mem: cannot load train item s1 from \/mem\/s1: transient failure/);
  }
  assert.is((await s.images()).length, 8);
  assert.is(reads[0], 1); // item 0 stayed cached across the failed pack
});

test('limit: a seeded, label-stratified subset in split order', () => {
  const items = sources(30, []);
  const a = applyLimit(items, 9, 1, 'test');
  const b = applyLimit(items, 9, 1, 'test');
  const c = applyLimit(items, 9, 2, 'test');
  assert.is(a.length, 9);
  assert.equal(a.map((s) => s.id), b.map((s) => s.id));
  assert.not.equal(a.map((s) => s.id), c.map((s) => s.id));
  assert.is(a.filter((s) => s.label === 1).length, 3);
  const idx = a.map((s) => Number(s.id.slice(1)));
  assert.equal(idx, [...idx].sort((x, y) => x - y));
  assert.is(applyLimit(items, 100, 1, 'test'), items);
});

test('list(): every name, presence under the root, options required; MEDIANOMALY_DATA sets the root', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await writeImage(join(dir, 'RSNA', 'images', 'a.png'), pattern(4, 4, 1), 4, 4, 1);
    writeBytes(join(dir, 'RSNA', 'data.json'), JSON.stringify({ train: { '0': ['a.png'] }, test: { '0': ['a.png'], '1': ['a.png'] } }));
    const all = await list({ root: dir });
    const names = all.map((d) => d.name);
    for (const n of ['rsna', 'vincxr', 'brain-tumor', 'lag', 'isic2018', 'camelyon16', 'brats2021', 'mnist', 'fashion-mnist', 'folder', 'dicom', 'nifti']) {
      assert.ok(names.includes(n), `list() lacks ${n}`);
    }
    const rsna = all.find((d) => d.name === 'rsna')!;
    assert.ok(rsna.present);
    assert.is(rsna.location, join(dir, 'RSNA'));
    assert.is(rsna.kind, 'reference');
    const brats = all.find((d) => d.name === 'brats2021')!;
    assert.not.ok(brats.present);
    assert.ok(brats.hasMasks);
    assert.match(brats.howToGet, /12677223/);
    assert.equal(all.find((d) => d.name === 'folder')!.requires, ['path']);
    assert.is(all.find((d) => d.name === 'camelyon16')!.channels, 3);
    const prev = process.env.MEDIANOMALY_DATA;
    process.env.MEDIANOMALY_DATA = dir;
    try {
      assert.is(dataRoot(), dir);
      const ds = await load('rsna', { size: 4 });
      assert.is(ds.info.source, join(dir, 'RSNA'));
    } finally {
      if (prev === undefined) delete process.env.MEDIANOMALY_DATA;
      else process.env.MEDIANOMALY_DATA = prev;
    }
  } finally {
    cleanup();
  }
});

test.run();
