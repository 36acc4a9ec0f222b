// fitInWorker / testInWorker: training runs in a worker thread while the main thread's
// event loop keeps ticking; progress and epoch lines come back; an AbortSignal stops the
// worker after a checkpoint.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { fitInWorker, testInWorker } from '../../src/harness/in-worker.js';
import { RunInterrupted } from '../../src/harness/interrupted.js';
import { readRunFile } from '../../src/harness/run-folder.js';
import { TINY, TINY_AE, tempDir } from './helpers.js';

const root = tempDir();

test('the main thread keeps ticking while a fit runs in the worker (counted, not timed)', async () => {
  // One step per epoch on 24 images of 64 × 64: each step takes tens of milliseconds of
  // the worker's time. Ticks are counted between consecutive steps: a fit that held the
  // main thread would leave no tick between its steps, however fast the machine. How long
  // the gaps are depends on the machine's load and is measured in bench/worker.ts.
  const dataset = { name: 'synth-brain', options: { size: 64, count: { train: 24, testNormal: 6, testAbnormal: 6 } } } as typeof TINY;
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const ticksAtStep: number[] = [];
  const epochs: number[] = [];
  const out = await fitInWorker(
    { method: 'ae', dataset, options: { ...TINY_AE, batchSize: 24, epochs: 8 }, dir: join(root, 'ticks') },
    { onProgress: () => ticksAtStep.push(ticks), onEpoch: (l) => epochs.push(l.epoch) },
  );
  clearInterval(timer);
  assert.is(ticksAtStep.length, 8);
  assert.equal(epochs, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.ok(out.metrics && out.fit && out.fit.epochs === 8);
  const between = ticksAtStep[ticksAtStep.length - 1] - ticksAtStep[0];
  assert.ok(between > 0, `no timer tick on the main thread between the first and the last of ${ticksAtStep.length} steps`);
  // The run folder is complete, and testInWorker reproduces its metrics.
  assert.is(readRunFile(out.dir).status, 'complete');
  assert.equal(await testInWorker(out.dir), out.metrics);
});

test('an AbortSignal stops the worker after the checkpoint of the running epoch', async () => {
  const ctl = new AbortController();
  const dir = join(root, 'abort');
  let err: unknown;
  try {
    await fitInWorker({ method: 'ae', dataset: TINY, options: { ...TINY_AE, epochs: 50 }, dir }, { signal: ctl.signal, onEpoch: (l) => l.epoch === 2 && ctl.abort() });
  } catch (e) {
    err = e;
  }
  assert.instance(err, RunInterrupted);
  const ri = err as RunInterrupted;
  assert.is(ri.stage, 'training');
  // Epoch 3 may have started before the abort arrived; it stops at its next step and is not checkpointed.
  assert.is(ri.epochsDone, 2);
  assert.is(ri.epochs, 50);
  assert.is(readRunFile(dir).status, 'training');
});

test('errors inside the worker come back with their message', async () => {
  let err: unknown;
  try {
    await fitInWorker({ method: 'ae', dataset: { name: 'synth-nothing' }, dir: join(root, 'bad') });
  } catch (e) {
    err = e;
  }
  assert.instance(err, Error);
  assert.match((err as Error).message, /unknown dataset 'synth-nothing'/);
});

test.run();
