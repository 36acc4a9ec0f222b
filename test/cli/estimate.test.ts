// The time estimate: given once the first steps are measured (three, or sooner when a step
// is slow), the total at the measured rate, and shorter settings only for a long run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { estimator } from '../../src/cli/estimate.js';
import type { TrainPlan } from '../../src/harness/train.js';
import type { Progress } from '../../src/methods/types.js';

// issue 8: dae at its default 128 px, 400 synthetic images, 250 epochs, 0.5 img/s.
const DAE: TrainPlan = { dataset: 'synth-brain', trainImages: 400, testImages: 200, epochs: 250, startEpoch: 0, size: 128, batchSize: 64 };

function report(step: number, ips: number, plan = DAE): Progress {
  const seen = Math.min(step * plan.batchSize, plan.trainImages);
  return {
    epoch: plan.startEpoch + 1, epochs: plan.epochs, step, stepsPerEpoch: Math.ceil(plan.trainImages / plan.batchSize), loss: 1,
    imagesPerSecond: ips, etaSeconds: ((plan.epochs - plan.startEpoch) * plan.trainImages - seen) / ips, epochDone: seen === plan.trainImages,
  };
}

test('a slow run: the estimate comes after the first step (over 20 s), with the settings that shorten it', () => {
  const e = estimator(DAE, { synthetic: true });
  const { lines, seconds } = e.observe(report(1, 0.5))!; // 64 images at 0.5 img/s: 128 s measured
  assert.is(Math.round(seconds), 200_000);
  assert.ok(lines, 'given after one slow step');
  assert.is(lines[0], 'estimated training time 55:33:20 (250 epochs × 400 images at 128 px; 0.50 img/s measured on the first 1 step), then testing 200 images');
  assert.is(lines[1], '  shorter: --epochs 25 (about 5:33:20), --size 64 (a quarter of the pixels: roughly 4× faster), --train-count 100 (about 13:53:20)');
  assert.is(e.observe(report(2, 0.5)), null, 'given once');
});

test('a fast run: the estimate waits for three steps and gives no advice; real data suggests --limit', () => {
  const plan: TrainPlan = { ...DAE, size: 32, epochs: 2, trainImages: 24, testImages: 12, batchSize: 8 };
  const e = estimator(plan, { synthetic: true });
  assert.is(e.observe(report(1, 500, plan)), null);
  assert.is(e.observe(report(2, 500, plan)), null);
  const { lines } = e.observe(report(3, 500, plan))!;
  assert.equal(lines, ['estimated training time 0:00 (2 epochs × 24 images at 32 px; 500 img/s measured on the first 3 steps), then testing 12 images']);
  const real = estimator({ ...DAE, dataset: 'fashion-mnist', trainImages: 6000, size: 64, startEpoch: 10 }, { synthetic: false });
  const r = real.observe(report(1, 0.9, { ...DAE, trainImages: 6000, size: 64, startEpoch: 10 }))!.lines;
  assert.match(r[0], /^estimated training time \d+:\d\d:\d\d \(240 epochs left × 6000 images at 64 px; 0\.90 img\/s/);
  assert.match(r[1], /--size 32 .*--limit 1500 \(about /);
});

test.run();
