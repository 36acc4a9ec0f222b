// `train --dataset folder --path DIR [--test-path DIR|CSV]`: a plain folder of normal images
// trains with no test split (and says why there are no metrics); test data comes from a
// second folder or a CSV; mistakes are errors naming the folder or file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, tempDir } from './helpers.js';
import { pattern, writeBytes, writeImage } from '../data/helpers/files.js';

const root = tempDir();
const FLAGS = ['--method', 'ae', '--dataset', 'folder', '--size', '16', '--epochs', '1', '--batch-size', '4', '--opt', 'hidden=16'];

async function images(dir: string, names: string[], seed: number): Promise<void> {
  for (const [i, n] of names.entries()) await writeImage(join(dir, n), pattern(12, 12, 1, seed + i), 12, 12, 1);
}

test('a plain folder trains without a test split; the output says why there are no metrics', async () => {
  await images(join(root, 'normals'), ['a.png', 'b.png', 'sub/c.png', 'sub/d.png'], 1);
  const r = cli(['train', ...FLAGS, '--path', 'normals', '--out', 'run-plain'], root);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /trained: .*run-plain \(1 epoch,/);
  assert.match(r.stdout, /not tested: folder at .*normals has no test split, so there are no metrics; give test data with --test-path/);
  assert.ok(existsSync(join(root, 'run-plain', 'model.safetensors')));
  assert.not.ok(existsSync(join(root, 'run-plain', 'metrics.json')));
  assert.is(JSON.parse(readFileSync(join(root, 'run-plain', 'run.json'), 'utf8')).status, 'trained');
});

test('--test-path: a folder with normal/ and abnormal/, or a CSV, gives metrics', async () => {
  await images(join(root, 'tests', 'normal'), ['n1.png', 'n2.png'], 10);
  await images(join(root, 'tests', 'abnormal'), ['x1.png', 'x2.png'], 20);
  const f = cli(['train', ...FLAGS, '--path', 'normals', '--test-path', 'tests', '--out', 'run-folder'], root);
  assert.is(f.code, 0, f.stderr);
  assert.match(f.stdout, /image {2}AUROC \d+\.\d%/);
  assert.is(JSON.parse(readFileSync(join(root, 'run-folder', 'scores.json'), 'utf8')).ids.length, 4);

  writeBytes(join(root, 'tests', 'list.csv'), 'path,label\nnormal/n1.png,normal\nabnormal/x1.png,abnormal\n');
  const c = cli(['train', ...FLAGS, '--path', 'normals', '--test-path', 'tests/list.csv', '--out', 'run-csv'], root);
  assert.is(c.code, 0, c.stderr);
  assert.equal(JSON.parse(readFileSync(join(root, 'run-csv', 'scores.json'), 'utf8')).labels, [0, 1]);
});

test('test --run of a run trained without test data: says how to give some; --test-path tests it', () => {
  const t = cli(['test', '--run', 'run-plain'], root);
  assert.is(t.code, 1);
  assert.match(t.stderr, /has no test split, so there are no metrics; give test data with --test-path/);
  const ok = cli(['test', '--run', 'run-plain', '--test-path', 'tests', '--json'], root);
  assert.is(ok.code, 0, ok.stderr);
  assert.type(JSON.parse(ok.stdout).image.auroc, 'number');
  assert.ok(existsSync(join(root, 'run-plain', 'metrics.json')));
});

test('mistakes name the folder or file and what to do', async () => {
  writeBytes(join(root, 'empty', 'readme.txt'), 'x');
  const e = cli(['train', ...FLAGS, '--path', 'empty', '--out', 'run-empty'], root);
  assert.is(e.code, 1);
  assert.match(e.stderr, /empty holds no image files .*searched recursively.*Put the normal training images there/);

  writeBytes(join(root, 'tests', 'nolabel.csv'), 'path,class\nnormal/n1.png,0\n');
  const n = cli(['train', ...FLAGS, '--path', 'normals', '--test-path', 'tests/nolabel.csv', '--out', 'run-nolabel'], root);
  assert.is(n.code, 1);
  assert.match(n.stderr, /nolabel\.csv: no 'label' column/);

  const s = cli(['train', '--method', 'ae', '--dataset', 'synth-brain', '--test-path', 'tests', '--epochs', '1'], root);
  assert.is(s.code, 1);
  assert.match(s.stderr, /--test-path applies to the folder, dicom and nifti datasets; "synth-brain" has its own test split/);
});

test.run();
