// What a method tells the harness about its data and its epochs:
// - Method.epochPlan: the plan a run reports before its first step carries the method's own
//   epoch when it is not one pass over the training images (two-stage SSL), so the CLI's
//   estimate (src/cli/estimate.ts) describes and shortens it right;
// - MethodInfo.loadChannels: the two-stage SSL methods (and resnet18-in) load Pillow RGB for
//   every dataset, the one-stage SSL methods grey, as their reference sub-projects (§2.6);
//   the caller's dataset channels or `channels` option win; run.json records the choice.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { RunInterrupted } from '../../src/harness/interrupted.js';
import { readRunFile } from '../../src/harness/run-folder.js';
import { train, type TrainPlan } from '../../src/harness/train.js';
import { methods } from '../../src/methods/registry.js';
import { TINY, rejection, tempDir } from './helpers.js';

const root = tempDir();
const TWO_STAGE = { variant: 'normal', size: 32, batchSize: 4, stepsPerEpoch: 2, epochs: 1, workers: 0, seed: 3 };

/** Starts a run, stops it at its plan (before training); returns the plan and run.json. */
async function planOf(method: string, options: Record<string, unknown>, name: string, dataset = TINY) {
  const plans: TrainPlan[] = [];
  const ctl = new AbortController();
  const dir = join(root, name);
  const err = await rejection(() => train({ method, dataset, options, dir }, { signal: ctl.signal, onPlan: (p) => { plans.push(p); ctl.abort(); } }));
  assert.instance(err, RunInterrupted);
  assert.is(plans.length, 1);
  return { plan: plans[0], run: readRunFile(dir) };
}

test('cutpaste-2stage: the plan says 5 steps of 2 views × 4 images per epoch (stopped before training)', async () => {
  const { plan } = await planOf('cutpaste-2stage', { ...TWO_STAGE, stepsPerEpoch: 5, epochs: 2 }, 'plan');
  assert.equal(plan.epoch, { steps: 5, stepImages: 8, stepsOption: 'stepsPerEpoch', stepText: '2 views × 4 images' });
  assert.is(plan.epochs, 2);
});

test('loadChannels: two-stage SSL and resnet18-in load RGB, one-stage SSL grey; the caller wins', async () => {
  assert.is(methods.info('cutpaste-2stage').loadChannels, 3);
  assert.is(methods.info('anatpaste').loadChannels, 3);
  assert.is(methods.info('resnet18-in').loadChannels, 3);
  for (const n of ['cutpaste', 'fpi', 'pii', 'nsa']) assert.is(methods.info(n).loadChannels, 1, n);
  assert.is(methods.info('ae').loadChannels, undefined); // reconstruction: the dataset's own

  const rgb = await planOf('cutpaste-2stage', TWO_STAGE, 'rgb');
  assert.is(rgb.run.dataset.options?.channels, 3);
  assert.is(rgb.run.options.channels, 3);
  // The caller's dataset channels, or the method's channels option, decide instead.
  const greyData = await planOf('cutpaste-2stage', TWO_STAGE, 'grey-data', { ...TINY, options: { ...TINY.options, channels: 1 } });
  assert.is(greyData.run.dataset.options?.channels, 1);
  assert.is(greyData.run.options.channels, 1);
  const greyOpt = await planOf('cutpaste-2stage', { ...TWO_STAGE, channels: 1 }, 'grey-option');
  assert.is(greyOpt.run.dataset.options?.channels, 1);
  assert.is(greyOpt.run.options.channels, 1);
});

test('two-stage on grey data: loaded RGB (the reference) or grey, the same scores (grey is replicated either way)', async () => {
  const scores = async (name: string, options: Record<string, unknown>) => {
    const dir = join(root, name);
    const out = await train({ method: 'cutpaste-2stage', dataset: TINY, options, dir });
    assert.is(out.fit!.steps, 2);
    return (JSON.parse(readFileSync(join(dir, 'scores.json'), 'utf8')) as { scores: number[] }).scores;
  };
  const rgb = await scores('fit-rgb', TWO_STAGE);
  const grey = await scores('fit-grey', { ...TWO_STAGE, channels: 1 });
  assert.is(readRunFile(join(root, 'fit-rgb')).options.channels, 3);
  assert.equal(rgb, grey);
});

test.run();
