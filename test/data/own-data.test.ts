// Own data as people hold it: a plain folder of normal images trains (no test split needed);
// test data is a second folder (normal/ + abnormal/) or a CSV of path,label[,mask].
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { load } from '../../src/data/index.js';
import { pattern, tempDir, writeBytes, writeFlat, writeImage } from './helpers/files.js';

const { dir } = tempDir();

async function img(path: string, seed: number): Promise<void> {
  await writeImage(path, pattern(8, 8, 1, seed), 8, 8, 1);
}

/** Runs `fn`, which must throw; returns the message. */
async function message(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    return (e as Error).message;
  }
  assert.unreachable('expected an error');
  return '';
}

test('a plain folder of images, searched recursively, is the train split; there is no test split', async () => {
  const p = join(dir, 'plain');
  await img(join(p, 'b.png'), 1);
  await img(join(p, 'a.png'), 2);
  await img(join(p, 'patient1', 'slice0.png'), 3);
  writeBytes(join(p, 'notes.txt'), 'not an image');
  writeBytes(join(p, '.hidden.png'), 'hidden files are left out');
  const ds = await load('folder', { path: p, size: 4 });
  assert.equal(ds.train.ids, ['a', 'b', 'patient1/slice0']);
  assert.equal(Array.from(ds.train.labels), [0, 0, 0]);
  assert.is(ds.test.length, 0);
  assert.ok(ds.info.warnings.some((w) => /no test split/.test(w) && /testPath/.test(w)), ds.info.warnings.join('\n'));
  assert.not.ok(ds.info.warnings.some((w) => /detection metrics are undefined/.test(w)));
  assert.is((await ds.train.images()).length, 3 * 16);
});

test('an empty folder, or one holding no images, is an error naming it', async () => {
  const empty = join(dir, 'empty');
  writeBytes(join(empty, 'readme.txt'), 'x');
  const m = await message(() => load('folder', { path: empty }));
  assert.match(m, /empty.*holds no image files/);
  assert.match(m, /searched recursively/);
  assert.match(await message(() => load('folder', { path: join(dir, 'nowhere') })), /nowhere not found/);
});

test('a training folder that holds abnormal/ or an incomplete MVTec layout is refused, not trained on', async () => {
  const p = join(dir, 'mixed');
  await img(join(p, 'normal', 'a.png'), 1);
  await img(join(p, 'abnormal', 'b.png'), 2);
  assert.match(await message(() => load('folder', { path: p })), /abnormal\/.*normal images only.*testPath/);
  const q = join(dir, 'half-mvtec');
  await img(join(q, 'test', 'good', 'a.png'), 1);
  assert.match(await message(() => load('folder', { path: q })), /half-mvtec\/train\/good not found/);
});

test('an unreadable image names the file and the way out', async () => {
  const p = join(dir, 'bad');
  await img(join(p, 'a.png'), 1);
  writeBytes(join(p, 'broken.png'), 'not a png at all');
  assert.match(await message(() => load('folder', { path: p })), /train file .*bad\/broken\.png: .*onError: 'skip'/);
  const ds = await load('folder', { path: p, onError: 'skip', size: 4 });
  assert.equal(ds.train.ids, ['a']);
});

test('testPath: a folder with normal/ and abnormal/ (searched recursively) is the test split', async () => {
  const train = join(dir, 't1', 'train');
  await img(join(train, 'a.png'), 1);
  const tests = join(dir, 't1', 'tests');
  await img(join(tests, 'normal', 'n1.png'), 2);
  await img(join(tests, 'abnormal', 'x', 'a1.png'), 3);
  await img(join(tests, 'abnormal', 'a0.png'), 4);
  const ds = await load('folder', { path: train, testPath: tests, size: 4 });
  assert.equal(ds.test.ids, ['normal/n1', 'abnormal/a0', 'abnormal/x/a1']);
  assert.equal(Array.from(ds.test.labels), [0, 1, 1]);
  assert.not.ok(ds.test.hasMasks);
  assert.equal(ds.info.warnings, []);
  assert.is(ds.info.options.testPath, tests);
});

test('testPath folder: other entries, or neither subfolder, are errors saying what is expected', async () => {
  const train = join(dir, 't1', 'train');
  const stray = join(dir, 't2');
  await img(join(stray, 'normal', 'n.png'), 1);
  await img(join(stray, 'tumour', 't.png'), 2);
  assert.match(await message(() => load('folder', { path: train, testPath: stray })), /t2: unexpected tumour\/.*normal\/ and abnormal\//);
  const flat = join(dir, 't3');
  await img(join(flat, 'n.png'), 1);
  assert.match(await message(() => load('folder', { path: train, testPath: flat })), /t3.*normal\/ and abnormal\/ subfolders, or a \.csv file/);
  const empty = join(dir, 't4');
  writeBytes(join(empty, 'normal', 'x.txt'), 'x');
  writeBytes(join(empty, 'abnormal', 'y.txt'), 'y');
  assert.match(await message(() => load('folder', { path: train, testPath: empty })), /t4.*holds no image files/);
});

test('testPath: a CSV of path,label[,mask], paths relative to its folder, masks optional', async () => {
  const train = join(dir, 'c1', 'train');
  await img(join(train, 'a.png'), 1);
  const base = join(dir, 'c1', 'eval');
  await img(join(base, 'imgs', 'n.png'), 2);
  await img(join(base, 'imgs', 'x.png'), 3);
  await img(join(base, 'imgs', 'y.png'), 4);
  await writeFlat(join(base, 'masks', 'x.png'), 8, 8, 255);
  writeBytes(join(base, 'plain.csv'), 'path,label\nimgs/n.png,normal\nimgs/x.png,1\r\n"imgs/y.png",Abnormal\n\n');
  const ds = await load('folder', { path: train, testPath: join(base, 'plain.csv'), size: 4 });
  assert.equal(ds.test.ids, ['imgs/n', 'imgs/x', 'imgs/y']);
  assert.equal(Array.from(ds.test.labels), [0, 1, 1]);
  assert.not.ok(ds.test.hasMasks);

  writeBytes(join(base, 'masked.csv'), 'label,path,mask\n0,imgs/n.png,\n1,imgs/x.png,masks/x.png\n');
  const dm = await load('folder', { path: train, testPath: join(base, 'masked.csv'), size: 4 });
  assert.ok(dm.test.hasMasks);
  const masks = (await dm.test.masks())!;
  assert.equal(Array.from(masks), [...new Array(16).fill(0), ...new Array(16).fill(1)]);

  // An abnormal row without a mask, when the column exists: an error, or skipped.
  writeBytes(join(base, 'missing-mask.csv'), 'path,label,mask\nimgs/n.png,0,\nimgs/x.png,1,masks/x.png\nimgs/y.png,1,\n');
  assert.match(await message(() => load('folder', { path: train, testPath: join(base, 'missing-mask.csv') })), /imgs\/y\.png: no mask .*line 4/);
  const skipped = await load('folder', { path: train, testPath: join(base, 'missing-mask.csv'), onError: 'skip', size: 4 });
  assert.equal(skipped.test.ids, ['imgs/n', 'imgs/x']);
});

test('testPath CSV: bad headers, labels, paths and escapes are errors naming the file and line', async () => {
  const train = join(dir, 'c1', 'train');
  const base = join(dir, 'c1', 'eval');
  const csv = (name: string, text: string) => {
    writeBytes(join(base, name), text);
    return () => load('folder', { path: train, testPath: join(base, name) });
  };
  assert.match(await message(csv('nolabel.csv', 'path,class\nimgs/n.png,0\n')), /nolabel\.csv: no 'label' column .*header line/);
  assert.match(await message(csv('nopath.csv', 'file,label\nimgs/n.png,0\n')), /nopath\.csv: no 'path' column/);
  assert.match(await message(csv('badlabel.csv', 'path,label\nimgs/n.png,0\nimgs/x.png,maybe\n')), /badlabel\.csv line 3: label "maybe" .*0, 1, normal, abnormal/);
  assert.match(await message(csv('escape.csv', 'path,label\n../train/a.png,0\n')), /escape\.csv line 2: path "\.\.\/train\/a\.png" resolves to .*outside/);
  assert.match(await message(csv('abs.csv', `path,label\n${join(base, 'imgs', 'n.png')},0\n`)), /abs\.csv line 2: path .* is an absolute path/);
  assert.match(await message(csv('maskescape.csv', 'path,label,mask\nimgs/x.png,1,../../m.png\n')), /maskescape\.csv line 2: mask .*outside/);
  assert.match(await message(csv('empty.csv', 'path,label\n')), /empty\.csv has no rows/);
  assert.match(await message(csv('notimage.csv', 'path,label\nimgs/n.txt,0\n')), /notimage\.csv line 2: .*n\.txt is not a supported image/);
  assert.match(await message(csv('dup.csv', 'path,label\nimgs/n.png,0\nimgs/n.png,1\n')), /dup\.csv line 3: imgs\/n\.png is listed again \(first on line 2\)/);
  assert.match(await message(csv('gone.csv', 'path,label\nimgs/gone.png,0\n')), /test file .*gone\.png: file not found/);
  assert.match(await message(() => load('folder', { path: train, testPath: join(base, 'nothing.csv') })), /nothing\.csv not found/);
  assert.match(await message(() => load('folder', { path: train, testPath: join(base, 'imgs', 'n.png') })), /n\.png: expected a folder with normal\/ and abnormal\/ subfolders, or a \.csv file/);
});

test('a file in both the training folder and the test data is refused (it would leak)', async () => {
  const p = join(dir, 'leak');
  await img(join(p, 'a.png'), 1);
  await img(join(p, 'b.png'), 2);
  writeBytes(join(p, 'tests.csv'), 'path,label\na.png,0\nb.png,1\n');
  assert.match(await message(() => load('folder', { path: p, testPath: join(p, 'tests.csv') })), /leak\/a\.png is both a training image .* and a test image/);
});

test('testPath replaces the test split of an MVTec layout; other datasets refuse it', async () => {
  const p = join(dir, 'mv');
  await img(join(p, 'train', 'good', 'a.png'), 1);
  await img(join(p, 'test', 'good', 'b.png'), 2);
  await img(join(p, 'test', 'crack', 'c.png'), 3);
  const tests = join(dir, 'mv-tests');
  await img(join(tests, 'normal', 'n.png'), 4);
  await img(join(tests, 'abnormal', 'x.png'), 5);
  const ds = await load('folder', { path: p, testPath: tests, size: 4 });
  assert.equal(ds.train.ids, ['good/a']);
  assert.equal(ds.test.ids, ['normal/n', 'abnormal/x']);
  assert.match(await message(() => load('synth-brain', { testPath: tests })), /testPath applies to the folder, dicom and nifti datasets/);
});

test.run();
