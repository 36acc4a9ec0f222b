// calibration.json: fitted at training time from the training split only (threshold at
// the 99th percentile of the training scores, the overlay scale, input statistics), then
// used by predictFiles for decisions, fixed overlay colours and warnings; runs without one
// still predict and say how to get one (calibrateRunFolder, no retraining).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { load } from '../../src/data/index.js';
import { loadMethod } from '../../src/methods/registry.js';
import { normalQuantileThreshold } from '../../src/metrics/threshold.js';
import { train } from '../../src/harness/train.js';
import { CALIBRATION_FILE, type Calibration, DEFAULT_QUANTILE, readCalibration, scoreWarning } from '../../src/harness/calibration.js';
import { calibrateRunFolder } from '../../src/harness/calibrate-run.js';
import { predictFiles } from '../../src/harness/predict.js';
import { TINY, TINY_AE, rejection, tempDir } from './helpers.js';

const root = tempDir();
const dir = join(root, 'run');

/** A test item of TINY as a grey PNG: the kind of image the model was trained on. */
async function itemPng(index: number, name: string): Promise<string> {
  const data = await load(TINY.name, TINY.options);
  const item = await data.test.item(index);
  const f = join(root, name);
  await sharp(Buffer.from(Array.from(item.image, (v) => Math.round((v + 1) * 127.5))), { raw: { width: 32, height: 32, channels: 1 } }).png().toFile(f);
  return f;
}

/** A smooth RGB gradient: a colour "photo", nothing like a grey brain MRI. */
async function photoPng(name: string): Promise<string> {
  const w = 64;
  const px = Buffer.alloc(w * w * 3);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < w; x++) px.set([4 * x, 4 * y, 255 - 2 * (x + y)], (y * w + x) * 3);
  }
  const f = join(root, name);
  await sharp(px, { raw: { width: w, height: w, channels: 3 } }).png().toFile(f);
  return f;
}

test('train writes calibration.json: the 99th percentile of the training scores, never the test split', async () => {
  await train({ method: 'ae', dataset: TINY, options: TINY_AE, dir });
  const c = readCalibration(dir)!;
  assert.ok(c, 'calibration.json written');
  const method = await loadMethod(dir);
  const data = await load(TINY.name, TINY.options);
  const trainScores = Array.from((await method.score(data.train)).scores);
  assert.equal(c.trainScores, trainScores);
  assert.is(DEFAULT_QUANTILE, 0.99);
  assert.equal(c.threshold, normalQuantileThreshold(trainScores, 0.99, { split: 'train' }));
  assert.is(c.threshold.oracle, false);
  assert.ok(c.mapScale && c.mapScale.hi > c.mapScale.lo);
  assert.is(c.input.channels, 1);
  assert.is(c.input.count, 24);
  assert.ok(c.input.mean.min <= c.input.mean.max && c.input.std.min > 0);
  assert.is(c.input.colour.max, 0); // generated grey images
});

test('predict: decisions against the saved threshold; --threshold and --threshold-quantile override it', async () => {
  const c = readCalibration(dir)!;
  const files = [await itemPng(0, 'normal.png'), await itemPng(11, 'abnormal.png')];
  const r = await predictFiles(dir, files);
  assert.is(r.threshold!.value, c.threshold.value);
  assert.is(r.threshold!.source, 'run');
  assert.match(r.threshold!.description, /99th percentile of the 24 training images' scores, saved with the run/);
  for (const p of r.predictions) assert.is(p.decision, p.score >= c.threshold.value ? 'abnormal' : 'normal');
  assert.equal(r.notes, []);

  // A threshold between the two scores splits them; one below both makes both abnormal.
  const [a, b] = r.predictions.map((p) => p.score);
  const mid = (a! + b!) / 2;
  const given = await predictFiles(dir, files, undefined, {}, { threshold: mid });
  assert.equal(given.predictions.map((p) => p.decision), [a! >= mid ? 'abnormal' : 'normal', b! >= mid ? 'abnormal' : 'normal']);
  assert.is(given.threshold!.rule, 'given');
  const low = await predictFiles(dir, files, undefined, {}, { threshold: Math.min(a!, b!) });
  assert.equal(low.predictions.map((p) => p.decision), ['abnormal', 'abnormal']);

  const q = await predictFiles(dir, files, undefined, {}, { thresholdQuantile: 0.5 });
  assert.is(q.threshold!.value, normalQuantileThreshold(c.trainScores, 0.5).value);
  assert.match(q.threshold!.description, /50th percentile of the 24 training images' scores$/);
  assert.match((await rejection(() => predictFiles(dir, files, undefined, {}, { threshold: 1, thresholdQuantile: 0.5 }))).message, /--threshold or --threshold-quantile, not both/);
  assert.match((await rejection(() => predictFiles(dir, files, undefined, {}, { thresholdQuantile: 1.5 }))).message, /--threshold-quantile must be in \[0, 1\]/);
});

test('overlays use the run\'s fixed scale: the same image gives the same PNG whatever else is in the call', async () => {
  const normal = join(root, 'normal.png');
  // An odd image with a huge map: it set the shared colour scale and flattened the others.
  const odd = await photoPng('odd.png');
  const alone = await predictFiles(dir, [normal], join(root, 'ov-alone'));
  const mixed = await predictFiles(dir, [normal, odd], join(root, 'ov-mixed'));
  assert.ok(readFileSync(alone.predictions[0]!.overlay!).equals(readFileSync(mixed.predictions[0]!.overlay!)));
  const c = readCalibration(dir)!;
  assert.equal(mixed.mapScale, { lo: c.mapScale!.lo, hi: c.mapScale!.hi, fixed: true });
  // The PNG carries a colour bar beside the 96-px overlay: jet's red at the top, blue at the bottom.
  const { data, info } = await sharp(alone.predictions[0]!.overlay!).raw().toBuffer({ resolveWithObject: true });
  assert.is(info.height, 96);
  assert.ok(info.width > 96 + 12);
  const px = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
  assert.equal(px(96 + 6, 4), [128, 0, 0]);
  assert.equal(px(96 + 6, 91), [0, 0, 128]);
});

test('warnings: a colour photo into the grey model is flagged, a training-like image is not', async () => {
  const r = await predictFiles(dir, [join(root, 'normal.png'), join(root, 'odd.png')]);
  assert.is(r.predictions[0]!.warning, null);
  assert.match(r.predictions[1]!.warning!, /colour image \(\d+ % coloured pixels\) but the model was trained on grey images/);
  // A grey image far darker and flatter than any training image.
  const flat = join(root, 'flat.png');
  await sharp(Buffer.alloc(32 * 32, 250), { raw: { width: 32, height: 32, channels: 1 } }).png().toFile(flat);
  const f = await predictFiles(dir, [flat]);
  assert.match(f.predictions[0]!.warning!, /mean intensity 0\.96 is far outside the training images'/);
  assert.match(f.predictions[0]!.warning!, /intensity spread \(std\) 0\.00 is far outside/);
});

test('a score far beyond every training score is flagged', () => {
  const c = { trainScores: [1, 2, 3, 4, 5] } as Calibration; // max 5, median 3: flagged above 5 + 10 × 2
  assert.is(scoreWarning(c, 24.9), undefined);
  assert.match(scoreWarning(c, 25.1)!, /score 25\.10 is far beyond every training image's \(max 5\.000\)/);
});

test('a run without calibration.json still predicts, says so and how to fit one; calibrate restores it exactly', async () => {
  const saved = readFileSync(join(dir, CALIBRATION_FILE), 'utf8');
  rmSync(join(dir, CALIBRATION_FILE));
  const files = [join(root, 'normal.png'), join(root, 'odd.png')];
  const r = await predictFiles(dir, files, join(root, 'ov-old'));
  assert.equal(r.predictions.map((p) => p.decision), [null, null]);
  assert.equal(r.predictions.map((p) => p.warning), [null, null]);
  assert.is(r.threshold, null);
  assert.equal(r.mapScale, { fixed: false });
  assert.is(r.notes.length, 1);
  assert.match(r.notes[0]!, /has no saved calibration .*give --threshold X.*medianomaly calibrate --run /);
  // Even without a run scale, each overlay has its own range, never one shared by the call.
  const alone = await predictFiles(dir, [files[0]!], join(root, 'ov-old-alone'));
  assert.ok(readFileSync(alone.predictions[0]!.overlay!).equals(readFileSync(r.predictions[0]!.overlay!)));
  // A quantile needs the saved scores.
  assert.match((await rejection(() => predictFiles(dir, files, undefined, {}, { thresholdQuantile: 0.9 }))).message, /no saved score distribution .*medianomaly calibrate --run/);

  await calibrateRunFolder(dir);
  assert.is(readFileSync(join(dir, CALIBRATION_FILE), 'utf8'), saved); // reproducible, from the training split alone
});

test('calibrate --val-path fits the threshold on held-out normal images instead', async () => {
  // Held-out normal images: three normal test items, in a folder of their own.
  const valDir = join(root, 'val');
  mkdirSync(valDir);
  for (const k of [1, 2, 3]) await itemPng(k, join('val', `val-${k}.png`));
  const c = await calibrateRunFolder(dir, { valPath: valDir, quantile: 0.9 });
  assert.is(c.validation!.scores.length, 3);
  assert.equal(c.threshold, normalQuantileThreshold(c.validation!.scores, 0.9));
  const r = await predictFiles(dir, [join(root, 'normal.png')]);
  assert.match(r.threshold!.description, /90th percentile of the 3 held-out normal images' scores/);
  await calibrateRunFolder(dir); // back to the default for the tests below
});

test('a corrupt or linked calibration.json is refused, naming the fix', async () => {
  const path = join(dir, CALIBRATION_FILE);
  const saved = readFileSync(path, 'utf8');
  writeFileSync(path, '{"format":"medianomaly-calibration","version":1}');
  assert.match((await rejection(() => predictFiles(dir, [join(root, 'normal.png')]))).message, /calibration\.json is not a valid calibration \(no finite threshold\); .*medianomaly calibrate --run/);
  rmSync(path);
  const elsewhere = join(root, 'elsewhere.json');
  writeFileSync(elsewhere, saved);
  symlinkSync(elsewhere, path);
  assert.match((await rejection(() => predictFiles(dir, [join(root, 'normal.png')]))).message, /calibration\.json is a symbolic link/);
  rmSync(path);
  writeFileSync(path, saved);
});

test.run();
