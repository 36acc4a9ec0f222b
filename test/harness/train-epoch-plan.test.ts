// The plan a run reports before its first step carries the method's own epoch when it is not
// one pass over the training images (Method.epochPlan: the two-stage SSL methods), so the
// CLI's estimate (src/cli/estimate.ts) describes and shortens it right.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { RunInterrupted } from '../../src/harness/interrupted.js';
import { train, type TrainPlan } from '../../src/harness/train.js';
import { TINY, rejection, tempDir } from './helpers.js';

const root = tempDir();

test('cutpaste-2stage: the plan says 5 steps of 2 views × 4 images per epoch (stopped before training)', async () => {
  const plans: TrainPlan[] = [];
  const ctl = new AbortController();
  const options = { variant: 'normal', size: 32, batchSize: 4, stepsPerEpoch: 5, epochs: 2, workers: 0 };
  const err = await rejection(() =>
    train({ method: 'cutpaste-2stage', dataset: TINY, options, dir: join(root, 'two-stage') }, { signal: ctl.signal, onPlan: (p) => { plans.push(p); ctl.abort(); } }),
  );
  assert.instance(err, RunInterrupted);
  assert.is(plans.length, 1);
  assert.equal(plans[0].epoch, { steps: 5, stepImages: 8, stepsOption: 'stepsPerEpoch', stepText: '2 views × 4 images' });
  assert.is(plans[0].epochs, 2);
});

test.run();
