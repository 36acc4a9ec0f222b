// Thresholds come from a declared split; fitting on the test split needs the explicit
// flag and yields an oracle; an F1 threshold without anomalous validation samples is
// refused instead of falling back to the minimum score.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  atThreshold,
  f1Max,
  f1MaxThreshold,
  givenThreshold,
  normalQuantileThreshold,
  pixelAtThreshold,
} from '../../src/metrics/index.js';

const valScores = [0.1, 0.2, 0.35, 0.4, 0.5, 0.55, 0.8, 0.9];
const valLabels = [0, 0, 0, 1, 0, 1, 1, 1];

test('F1-max threshold fitted on validation, applied to test', () => {
  const t = f1MaxThreshold(valScores, valLabels);
  // Descending: 0.9 (tp1) F1=2/5, 0.8 (tp2) 4/6, 0.55 (tp3) 6/7, 0.5 (fp1) 6/8,
  // 0.4 (tp4) 8/9 ← max, 0.35 (fp2) 8/10, lower ones smaller.
  assert.is(t.value, 0.4);
  assert.ok(Math.abs(t.f1! - 8 / 9) < 1e-15);
  assert.equal([t.rule, t.split, t.oracle], ['f1-max', 'validation', false]);
  const m = atThreshold([0.3, 0.45, 0.6, 0.39, 0.41], [0, 1, 1, 1, 0], t);
  // ≥ 0.4: 0.45 (tp), 0.6 (tp), 0.41 (fp); 0.39 is a missed anomaly; 0.3 a true negative.
  assert.equal([m.tp, m.fp, m.tn, m.fn], [2, 1, 1, 1]);
  assert.ok(Math.abs(m.sensitivity - 2 / 3) < 1e-15);
  assert.is(m.specificity, 0.5);
  assert.ok(Math.abs(m.precision - 2 / 3) < 1e-15);
  assert.ok(Math.abs(m.f1 - 4 / 6) < 1e-15);
  assert.is(m.fpr, 0.5);
  assert.is(m.accuracy, 0.6);
  assert.is(m.threshold, 0.4);
});

test('the oracle on test equals f1Max and is labelled', () => {
  assert.throws(() => f1MaxThreshold(valScores, valLabels, { split: 'test' }), /refusing to fit a threshold on the test split/);
  const t = f1MaxThreshold(valScores, valLabels, { split: 'test', fitOnTest: true });
  assert.is(t.oracle, true);
  const f = f1Max(valScores, valLabels, { fitOnTest: true });
  assert.equal([f.f1, f.threshold, f.oracle], [t.f1, t.value, true]);
});

test('no anomalous validation sample: refused, pointing to the normal-only rule', () => {
  assert.throws(() => f1MaxThreshold([0.1, 0.2, 0.3], [0, 0, 0]), /no anomalous sample.*normalQuantileThreshold/);
});

test('normal-quantile threshold (numpy linear interpolation)', () => {
  const normals = [5, 1, 3, 2, 4]; // sorted 1..5
  assert.is(normalQuantileThreshold(normals, 0.5).value, 3);
  assert.is(normalQuantileThreshold(normals, 0.9).value, 4.6); // 1 + 0.9·4 = 4.6 → between 4 and 5
  assert.is(normalQuantileThreshold(normals, 0).value, 1);
  assert.is(normalQuantileThreshold(normals, 1).value, 5);
  const t = normalQuantileThreshold(normals, 0.95, { split: 'train' });
  assert.equal([t.rule, t.split, t.q, t.oracle], ['normal-quantile', 'train', 0.95, false]);
  assert.throws(() => normalQuantileThreshold(normals, 1.5), /q must be/);
  assert.throws(() => normalQuantileThreshold([], 0.5), /normalScores is empty/);
});

test('given thresholds and plain numbers behave alike; precision is 0 when nothing is flagged', () => {
  const s = [0.1, 0.2, 0.3];
  const y = [0, 1, 0];
  assert.equal(atThreshold(s, y, givenThreshold(0.25)), atThreshold(s, y, 0.25));
  const none = atThreshold(s, y, 0.9);
  assert.equal([none.tp, none.fp, none.precision, none.f1, none.specificity], [0, 0, 0, 0, 1]);
  assert.throws(() => givenThreshold(Infinity), /finite/);
});

test('pixelAtThreshold: pooled counts, f1 is the global Dice', () => {
  const maps = [Float32Array.from([0.9, 0.1, 0.6, 0.2]), Float32Array.from([0.7, 0.1, 0.1, 0.1])];
  const masks = [Uint8Array.from([1, 1, 0, 0]), new Uint8Array(4)];
  const m = pixelAtThreshold(maps, masks, 0.5);
  // ≥ 0.5: 0.9 (tp), 0.6 (fp), 0.7 (fp, normal image); 0.1 in the mask missed.
  assert.equal([m.tp, m.fp, m.fn, m.tn], [1, 2, 1, 4]);
  assert.ok(Math.abs(m.f1 - 2 / 5) < 1e-15);
});

test.run();
