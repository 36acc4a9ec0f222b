// evaluate / metricsOf: the metrics.json object from scores and maps, against the metric
// functions themselves and against hand-checked cases.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSplit, type SourceItem } from '../../src/data/index.js';
import { metricsOf, evaluate } from '../../src/harness/evaluate.js';
import { auroc, averagePrecision } from '../../src/metrics/index.js';
import type { Method, ScoreResult } from '../../src/methods/types.js';

/** A 4 × 4 test split: items 0–2 normal, 3–5 abnormal with a mask over the left half. */
function split(withMasks: boolean) {
  const items: SourceItem[] = Array.from({ length: 6 }, (_, i) => ({
    id: `t${i}`,
    path: `/mem/t${i}`,
    label: i >= 3 ? 1 : 0,
    read: async () => ({
      image: { width: 4, height: 4, channels: 1 as const, data: new Uint8Array(16).fill(40 * i) },
      ...(withMasks ? { mask: { width: 4, height: 4, channels: 1 as const, data: Uint8Array.from({ length: 16 }, (_, k) => (i >= 3 && k % 4 < 2 ? 255 : 0)) } } : {}),
    }),
  }));
  return createSplit({ dataset: 'mem', name: 'test', items, hasMasks: withMasks, preprocess: { size: 4, channels: 1, resample: 'pil-bilinear' } });
}

const scores = Float32Array.from([0.1, 0.4, 0.2, 0.35, 0.9, 0.8]);

test('image metrics equal the metric functions; F1-max is marked as an oracle', async () => {
  const s = split(false);
  const m = await metricsOf({ scores }, s);
  assert.is(m.image.auroc, auroc(scores, s.labels));
  assert.is(m.image.ap, averagePrecision(scores, s.labels));
  // Hand-checked: 8 of 9 (abnormal, normal) pairs ordered right.
  assert.ok(Math.abs(m.image.auroc - 8 / 9) < 1e-12);
  // Best F1: threshold 0.35 flags 0.4, 0.35, 0.9, 0.8 → TP 3, FP 1 → 6/7.
  assert.ok(Math.abs(m.image.f1max - 6 / 7) < 1e-12);
  assert.ok(Math.abs(m.image.f1maxThreshold - 0.35) < 1e-6);
  assert.equal(m.counts, { normal: 3, abnormal: 3 });
  assert.equal(m.oracle, ['image.f1max']);
  assert.is(m.pixel, undefined);
});

test('pixel metrics appear with maps and masks: a map equal to the mask is perfect', async () => {
  const s = split(true);
  const masks = (await s.masks())!;
  const maps = Array.from({ length: 6 }, (_, i) => Float32Array.from(masks.subarray(i * 16, (i + 1) * 16), (v, k) => v + 0.01 * k));
  const m = await metricsOf({ scores, maps }, s);
  assert.ok(m.pixel);
  assert.is(m.pixel!.auroc, 1);
  assert.is(m.pixel!.ap, 1);
  assert.is(m.pixel!.bestDice, 1);
  assert.ok(Math.abs(m.pixel!.aupro - 1) < 1e-9);
  assert.is(m.pixel!.size, 4);
  assert.is(m.pixel!.diceThresholds, 'all'); // 96 pixels: fewer than the reference's 200 quantiles
  assert.equal(m.oracle, ['image.f1max', 'pixel.bestDice']);
  // Without maps (a method with image scores only) there is no pixel block.
  assert.is((await metricsOf({ scores }, s)).pixel, undefined);
});

async function rejects(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.match((e as Error).message, pattern);
    return;
  }
  assert.unreachable('expected a rejection');
}

test('a score count that differs from the split is an error naming both', async () => {
  await rejects(() => metricsOf({ scores: new Float32Array(5) }, split(false)), /5 scores for 6 test images/);
  const s = split(true);
  await rejects(() => metricsOf({ scores, maps: Array.from({ length: 6 }, () => new Float32Array(9)) }, s), /maps are not 6 maps of 4 × 4/);
});

test('evaluate scores the split with the method and returns its metrics', async () => {
  const s = split(false);
  let calls = 0;
  const method = {
    score: async (input: unknown): Promise<ScoreResult> => {
      calls++;
      assert.is(input, s);
      return { scores };
    },
  } as unknown as Method;
  const m = await evaluate(method, s);
  assert.is(calls, 1);
  assert.ok(Math.abs(m.image.auroc - 8 / 9) < 1e-12);
});

test.run();
