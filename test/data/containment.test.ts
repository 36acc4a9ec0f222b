// Paths read from index files (data.json, the ISIC CSVs) must stay inside their folders
// (issue 7): `../` or absolute entries would read any file on the machine. They are refused
// with an error naming the entry and the index file, whatever the error policy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { load } from '../../src/data/index.js';
import { DatasetError } from '../../src/data/errors.js';
import { pattern, tempDir, writeBytes, writeImage } from './helpers/files.js';

const { dir: root, cleanup } = tempDir();

async function refused(p: Promise<unknown>, ...patterns: RegExp[]) {
  try {
    await p;
  } catch (err) {
    assert.instance(err, DatasetError);
    for (const re of patterns) assert.match((err as Error).message, re);
    return;
  }
  assert.unreachable('expected a DatasetError');
}

test.before(async () => {
  // A readable image outside the dataset folder: the traversal target.
  await writeImage(join(root, 'secret.png'), pattern(8, 8, 1), 8, 8, 1);
  await writeImage(join(root, 'RSNA', 'images', 'a.png'), pattern(8, 8, 1), 8, 8, 1);
  await writeImage(join(root, 'RSNA', 'images', 'sub', 'b.png'), pattern(8, 8, 1, 2), 8, 8, 1);
});

const dataJson = (train: string[]) => writeBytes(join(root, 'RSNA', 'data.json'), JSON.stringify({ train: { '0': train }, test: { '0': ['a.png'], '1': ['sub/b.png'] } }));

test('data.json: `../` entries are refused, naming the entry and data.json', async () => {
  dataJson(['a.png', '../../secret.png']);
  await refused(load('rsna', { root, size: 4 }), /"\.\.\/\.\.\/secret\.png"/, /train\["0"\]\[1\]/, /data\.json/, /outside/);
  // Not even under onError: 'skip' (the index itself is untrustworthy).
  await refused(load('rsna', { root, size: 4, onError: 'skip' }), /secret\.png/);
});

test('data.json: absolute entries are refused', async () => {
  dataJson([join(root, 'secret.png')]);
  await refused(load('rsna', { root, size: 4 }), /secret\.png/, /absolute/, /data\.json/);
});

test('data.json: entries in a subfolder of images/ are fine, and so is `x/../y` that stays inside', async () => {
  dataJson(['sub/b.png', 'sub/../a.png']);
  const ds = await load('rsna', { root, size: 4 });
  assert.equal(ds.train.ids, ['b', 'a']);
});

test('ISIC CSV: an image name that climbs out of the input folder is refused, naming the CSV line', async () => {
  const dir = join(root, 'ISIC2018_Task3');
  const header = 'image,MEL,NV,BCC,AKIEC,BKL,DF,VASC';
  writeBytes(join(dir, 'ISIC2018_Task3_Training_GroundTruth', 'ISIC2018_Task3_Training_GroundTruth.csv'), `${header}\n../../secret,0,1,0,0,0,0,0\n`);
  writeBytes(join(dir, 'ISIC2018_Task3_Test_GroundTruth', 'ISIC2018_Task3_Test_GroundTruth.csv'), `${header}\nx,0,1,0,0,0,0,0\n`);
  await refused(load('isic2018', { root, size: 4 }), /"\.\.\/\.\.\/secret"/, /ISIC2018_Task3_Training_GroundTruth\.csv/, /line 2/, /outside/);
});

test.after(cleanup);
test.run();
