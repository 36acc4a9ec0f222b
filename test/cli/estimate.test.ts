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

// A two-stage SSL run (Method.epochPlan): epochs of 256 steps of 2 views × 64 images whatever
// the training-set size; the advice shortens the epoch, not the image count.
test('fixed-length epochs (cutpaste-2stage): the text says steps × views × images, the advice stepsPerEpoch', async () => {
  const { createMethod } = await import('../../src/methods/registry.js');
  const epoch = createMethod('cutpaste-2stage', { variant: 'normal' }).epochPlan!();
  assert.equal(epoch, { steps: 256, stepImages: 128, stepsOption: 'stepsPerEpoch', stepText: '2 views × 64 images' });
  assert.equal(createMethod('cutpaste-2stage', {}).epochPlan!().stepImages, 192); // 3-way: 3 views
  assert.equal(createMethod('anatpaste', { batchSize: 8, stepsPerEpoch: 3 }).epochPlan!(), { steps: 3, stepImages: 16, stepsOption: 'stepsPerEpoch', stepText: '2 views × 8 images' });
  assert.is(createMethod('fpi', {}).epochPlan, undefined); // one pass over the training images

  const plan: TrainPlan = { dataset: 'synth-brain', trainImages: 400, testImages: 200, epochs: 100, startEpoch: 0, size: 224, batchSize: 64, epoch };
  const ips = 8; // 128 images a step: 16 s a step
  const per = 256 * 128;
  const p = (step: number): Progress => ({
    epoch: 1, epochs: 100, step, stepsPerEpoch: 256, loss: 1, imagesPerSecond: ips, etaSeconds: (100 * per - step * 128) / ips, epochDone: false,
  });
  const e = estimator(plan, { synthetic: true });
  assert.is(e.observe(p(1)), null); // 1 step: 16 s measured (the old count, 64 images, said 8 s)
  const got = e.observe(p(2))!; // 2 steps: 32 s measured (over 20 s)
  assert.is(got.seconds, (100 * per) / ips); // 409,600 s: the whole run, 400 training images or not
  assert.is(got.lines[0], 'estimated training time 113:46:40 (100 epochs × 256 steps of 2 views × 64 images at 224 px; 8.00 img/s measured on the first 2 steps), then testing 200 images');
  assert.is(got.lines[1], '  shorter: --epochs 10 (about 11:22:40), --size 112 (a quarter of the pixels: roughly 4× faster), --opt stepsPerEpoch=64 (about 28:26:40)');
  assert.not.match(got.lines.join('\n'), /--train-count|--limit/);
});

test.run();
