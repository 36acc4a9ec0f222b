// predict through the CLI: decisions against the run's saved threshold (and --threshold /
// --threshold-quantile), --format table|csv|json (--json the same as --format json; CSV
// quoted), a warning column for an image unlike the training images, and a run without a
// calibration: it still predicts, says so, and `calibrate --run` fixes it without retraining.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { load } from '../../src/data/index.js';
import { TINY_FLAGS, cli, tempDir } from './helpers.js';

const root = tempDir();
const run = join(root, 'run');
const grey = join(root, 'scan, "one".png'); // a comma and quotes: CSV must quote the name
const photo = join(root, 'photo.png');

/** Parses CSV as RFC 4180 writes it (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++;
    else field += ch;
  }
  return rows;
}

test('setup: a tiny trained run and two inputs', async () => {
  const r = cli(['train', '--method', 'ae', '--dataset', 'synth-brain', '--epochs', '2', ...TINY_FLAGS, '--out', run], root);
  assert.is(r.code, 0, r.stderr);
  // A normal image of the same synthetic kind (as a grey PNG) and a colour gradient "photo".
  const data = await load('synth-brain', { size: 32, count: { train: 24, testNormal: 6, testAbnormal: 6 } });
  const item = await data.test.item(0);
  await sharp(Buffer.from(Array.from(item.image, (v) => Math.round((v + 1) * 127.5))), { raw: { width: 32, height: 32, channels: 1 } }).png().toFile(grey);
  const w = 48;
  const px = Buffer.alloc(w * w * 3);
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) px.set([5 * x, 5 * y, 255 - 2 * (x + y)], (y * w + x) * 3);
  await sharp(px, { raw: { width: w, height: w, channels: 3 } }).png().toFile(photo);
});

test('predict prints score, decision and warning; --json and --format json agree; the photo is flagged', () => {
  const threshold = JSON.parse(readFileSync(join(run, 'calibration.json'), 'utf8')).threshold.value as number;
  const j = cli(['predict', '--run', run, grey, photo, '--out', join(root, 'ov'), '--json'], root);
  assert.is(j.code, 0, j.stderr);
  const out = JSON.parse(j.stdout);
  assert.is(out.threshold.value, threshold);
  assert.is(out.threshold.rule, 'normal-quantile');
  assert.is(out.threshold.q, 0.99);
  for (const p of out.predictions) assert.is(p.decision, p.score >= threshold ? 'abnormal' : 'normal');
  assert.match(out.predictions[1].warning, /colour image .* trained on grey images/);
  assert.match(j.stderr, /warning: 1 of 2 images look unlike the training images/);
  const f = cli(['predict', '--run', run, grey, photo, '--out', join(root, 'ov'), '--format', 'json'], root);
  assert.equal(JSON.parse(f.stdout), out);

  const t = cli(['predict', '--run', run, grey, photo, '--out', join(root, 'ov')], root);
  assert.is(t.code, 0, t.stderr);
  assert.match(t.stdout, /^image +score +decision +overlay +warning$/m);
  assert.match(t.stdout, /photo\.png +\d\.\d+ +(normal|abnormal) +\S+photo-overlay\.png +colour image/);
  assert.match(t.stdout, /abnormal = score ≥ \S+ \(99th percentile of the 24 training images' scores, saved with the run\)/);
  assert.match(t.stdout, /overlay colours span map values \S+ \(blue\) to \S+ \(red\), fixed for this run/);
});

test('--format csv: one quoted row per image; --threshold and --threshold-quantile override the decision', () => {
  const c = cli(['predict', '--run', run, grey, photo, '--out', join(root, 'ov'), '--format', 'csv'], root);
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stdout, /^image,score,decision,threshold,warning,overlay\r\n"[^\r\n]*scan, ""one""\.png",/);
  const rows = parseCsv(c.stdout);
  assert.equal(rows[0], ['image', 'score', 'decision', 'threshold', 'warning', 'overlay']);
  assert.is(rows.length, 3);
  assert.is(rows[1]![0], grey);
  assert.is(rows[1]![4], '');
  assert.match(rows[2]![4]!, /colour image/);
  const scores = rows.slice(1).map((r) => Number(r[1]));

  const below = Math.min(...scores) - 1e-6;
  const low = parseCsv(cli(['predict', '--run', run, grey, photo, '--out', join(root, 'ov'), '--format', 'csv', '--threshold', String(below)], root).stdout);
  assert.equal(low.slice(1).map((r) => [r[2], Number(r[3])]), [['abnormal', below], ['abnormal', below]]);
  const high = parseCsv(cli(['predict', '--run', run, grey, photo, '--out', join(root, 'ov'), '--format', 'csv', '--threshold-quantile', '0'], root).stdout);
  const trainMin = Math.min(...JSON.parse(readFileSync(join(run, 'calibration.json'), 'utf8')).trainScores);
  assert.equal(high.slice(1).map((r) => Number(r[3])), [trainMin, trainMin]);

  const both = cli(['predict', '--run', run, grey, '--threshold', '1', '--threshold-quantile', '0.9'], root);
  assert.is(both.code, 2);
  assert.match(both.stderr, /mutually exclusive|threshold/);
});

test('a run trained before calibrations: scores only, a note with the fix; calibrate --run adds decisions', () => {
  const saved = readFileSync(join(run, 'calibration.json'), 'utf8');
  rmSync(join(run, 'calibration.json'));
  const r = cli(['predict', '--run', run, grey, '--out', join(root, 'ov'), '--format', 'csv'], root);
  assert.is(r.code, 0, r.stderr);
  assert.equal(parseCsv(r.stdout)[1]!.slice(2, 4), ['', '']);
  assert.match(r.stderr, /has no saved calibration .*no normal\/abnormal decisions .*medianomaly calibrate --run \S+run/);

  const c = cli(['calibrate', '--run', run], root);
  assert.is(c.code, 0, c.stderr);
  assert.match(c.stdout, /threshold \S+: the 99th percentile of the scores of 24 training images/);
  assert.match(c.stdout, /wrote \S+calibration\.json/);
  assert.is(readFileSync(join(run, 'calibration.json'), 'utf8'), saved);
  const again = parseCsv(cli(['predict', '--run', run, grey, '--out', join(root, 'ov'), '--format', 'csv'], root).stdout);
  assert.match(again[1]![2]!, /^(normal|abnormal)$/);
});

test.run();
