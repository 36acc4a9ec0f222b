// IDX parsing and the one-class MNIST / Fashion-MNIST benchmarks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIdx } from '../../src/data/decode/idx.js';
import { load } from '../../src/data/index.js';
import { tempDir, writeBytes, writeIdx } from './helpers/files.js';

const { dir, cleanup } = tempDir();

function writeSet(folder: string, gzip: boolean) {
  const z = gzip ? '.gz' : '';
  // 6 training images of 4×4 with classes 0,1,0,2,1,0; 5 test images with classes 1,0,2,0,1.
  const train = new Uint8Array(6 * 16).map((_, i) => (i * 11) & 0xff);
  const test = new Uint8Array(5 * 16).map((_, i) => (i * 7) & 0xff);
  writeIdx(join(folder, `train-images-idx3-ubyte${z}`), [6, 4, 4], train, gzip);
  writeIdx(join(folder, `train-labels-idx1-ubyte${z}`), [6], new Uint8Array([0, 1, 0, 2, 1, 0]), gzip);
  writeIdx(join(folder, `t10k-images-idx3-ubyte${z}`), [5, 4, 4], test, gzip);
  writeIdx(join(folder, `t10k-labels-idx1-ubyte${z}`), [5], new Uint8Array([1, 0, 2, 0, 1]), gzip);
  return { train, test };
}

test('parseIdx: dims, data, gzip, bad magic, truncation', () => {
  const p = join(dir, 'x.idx');
  writeIdx(p, [2, 3], new Uint8Array([1, 2, 3, 4, 5, 6]));
  const a = parseIdx(readFileSync(p), p);
  assert.equal(a.dims, [2, 3]);
  assert.equal(Array.from(a.data), [1, 2, 3, 4, 5, 6]);
  writeIdx(p + '.gz', [2, 3], new Uint8Array([1, 2, 3, 4, 5, 6]), true);
  assert.equal(Array.from(parseIdx(readFileSync(p + '.gz'), p).data), [1, 2, 3, 4, 5, 6]);
  assert.throws(() => parseIdx(new Uint8Array([1, 2, 3, 4]), 'm.idx'), /m\.idx is not an IDX file/);
  assert.throws(() => parseIdx(readFileSync(p).subarray(0, 13), 't.idx'), /t\.idx: IDX data holds 1 bytes, dims 2×3 need 6/);
});

test('mnist under <root>/MNIST/raw: one class normal, the rest abnormal', async () => {
  const { train, test: testImgs } = writeSet(join(dir, 'MNIST', 'raw'), false);
  const ds = await load('mnist', { root: dir, normalClass: 0, size: 4 });
  assert.equal(ds.train.ids, ['train-00000', 'train-00002', 'train-00005']);
  assert.equal(ds.test.ids, ['t10k-00000', 't10k-00001', 't10k-00002', 't10k-00003', 't10k-00004']);
  assert.equal(Array.from(ds.test.labels), [1, 0, 1, 0, 1]);
  assert.equal(ds.info.options.normalClass, 0);
  const it = await ds.train.item(1);
  assert.equal(Array.from(it.image), Array.from(train.subarray(32, 48), (v) => Math.fround((Math.fround(v / 255) - 0.5) / 0.5)));
  const t = await ds.test.item(4);
  assert.is(t.image[0], Math.fround((Math.fround(testImgs[64]! / 255) - 0.5) / 0.5));
  const c1 = await load('mnist', { root: dir, normalClass: 1, size: 4 });
  assert.equal(c1.train.ids, ['train-00001', 'train-00004']);
  assert.equal(Array.from(c1.test.labels), [0, 1, 1, 1, 0]);
});

test('fashion-mnist (.gz) via `path`; normalClass checked; missing files name the folders searched', async () => {
  writeSet(join(dir, 'fm'), true);
  const ds = await load('fashion-mnist', { root: dir, path: join(dir, 'fm'), normalClass: 2, size: 4 });
  assert.equal(ds.train.ids, ['train-00003']);
  assert.is(ds.info.options.normalClassName, 'Pullover');
  try {
    await load('fashion-mnist', { root: dir, path: join(dir, 'fm'), normalClass: 10 });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /normalClass must be an integer in \[0, 9\]/);
  }
  try {
    await load('mnist', { root: join(dir, 'empty') });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /mnist: dataset not found; looked in .*empty\/MNIST\/raw/);
  }
  writeBytes(join(dir, 'bad', 'train-images-idx3-ubyte'), new Uint8Array([0, 0, 8, 3, 0, 0]));
  for (const f of ['train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) writeBytes(join(dir, 'bad', f), new Uint8Array(4));
  try {
    await load('mnist', { root: dir, path: join(dir, 'bad') });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /mnist: cannot read .*bad\/train-images-idx3-ubyte: .*truncated/);
  }
});

const debian = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz';
(existsSync(debian) ? test : test.skip)("Debian's dataset-fashion-mnist package is found without a root", async () => {
  const ds = await load('fashion-mnist', { root: join(dir, 'nothing-here'), normalClass: 0, size: 8, limit: 20 });
  assert.is(ds.info.source, '/usr/share/datasets/fashion-mnist');
  assert.is(ds.train.length, 20);
  assert.is(ds.test.length, 20);
  assert.ok(ds.test.counts.abnormal > 0 && ds.test.counts.normal > 0);
});

test.after(cleanup);
test.run();
