// train(): the run folder it writes, refusing to overwrite, abort after a checkpoint and
// resume to the end, and testRun on the saved model.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RunInterrupted } from '../../src/harness/interrupted.js';
import { newRunFile, readLog, readRunFile, writeRunFile } from '../../src/harness/run-folder.js';
import { loadDataset, testRun, train } from '../../src/harness/train.js';
import { createMethod } from '../../src/methods/registry.js';
import { TINY, TINY_AE, rejection, tempDir } from './helpers.js';

const root = tempDir();

test('a run folder holds run.json, config.json, model.safetensors, log, metrics.json and scores.json', async () => {
  const dir = join(root, 'plain');
  const epochs: number[] = [];
  const out = await train({ method: 'ae', dataset: TINY, options: TINY_AE, dir }, { onEpoch: (l) => epochs.push(l.epoch) });
  assert.equal(epochs, [1, 2]);
  assert.equal(readdirSync(dir).sort(), ['calibration.json', 'config.json', 'log', 'metrics.json', 'model.safetensors', 'run.json', 'scores.json']);
  const log = readLog(dir);
  assert.is(log.length, 2);
  for (const l of log) {
    assert.ok(Number.isFinite(l.loss) && l.seconds > 0 && l.imagesPerSecond > 0, JSON.stringify(l));
  }
  const run = readRunFile(dir);
  assert.is(run.status, 'complete');
  assert.is(run.options.size, 32); // from the dataset spec
  assert.is(run.options.epochs, 2);
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
  assert.equal(metrics, out.metrics);
  assert.ok(metrics.image.auroc >= 0 && metrics.image.auroc <= 1);
  assert.ok(metrics.pixel, 'synthetic test sets have masks and the AE maps');
  const scores = JSON.parse(readFileSync(join(dir, 'scores.json'), 'utf8'));
  assert.is(scores.scores.length, 12);
  assert.equal(scores.labels, [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  // No temporary files are left behind.
  assert.not.ok(readdirSync(dir).some((f) => f.includes('.tmp')));

  // Testing the saved model again gives the same metrics.
  assert.equal(await testRun(dir), metrics);

  // An existing run is not overwritten without resume; with resume nothing is redone.
  const err = await rejection(() => train({ method: 'ae', dataset: TINY, options: TINY_AE, dir }));
  assert.match(err.message, /already holds a run .*--resume/);
  const again = await train({ method: 'ae', dataset: TINY, options: TINY_AE, dir, resume: true });
  assert.ok(again.reused);
});

test('abort stops after a checkpoint; resume finishes with one log line per epoch', async () => {
  const dir = join(root, 'aborted');
  const ctl = new AbortController();
  const opts = { ...TINY_AE, epochs: 3 };
  const err = await rejection(() =>
    train({ method: 'ae', dataset: TINY, options: opts, dir }, { signal: ctl.signal, onEpoch: (l) => l.epoch === 1 && ctl.abort() }),
  );
  assert.instance(err, RunInterrupted);
  const ri = err as RunInterrupted;
  assert.is(ri.stage, 'training');
  assert.is(ri.epochsDone, 1);
  assert.is(ri.epochs, 3);
  assert.match(ri.message, /after 1 of 3 epochs/);
  assert.is(readRunFile(dir).status, 'training');
  assert.ok(existsSync(join(dir, 'checkpoint')));
  assert.not.ok(existsSync(join(dir, 'metrics.json')));

  const epochs: number[] = [];
  const out = await train({ method: 'ae', dataset: TINY, options: opts, dir, resume: true }, { onEpoch: (l) => epochs.push(l.epoch) });
  assert.equal(epochs, [2, 3]); // epoch 1 came from the checkpoint
  assert.equal(readLog(dir).map((l) => l.epoch), [1, 2, 3]);
  assert.ok(out.metrics);
  assert.is(readRunFile(dir).status, 'complete');
  assert.not.ok(existsSync(join(dir, 'checkpoint')), 'the checkpoint goes once the model is saved');

  // The resumed run ends where an uninterrupted one does.
  const straight = await train({ method: 'ae', dataset: TINY, options: opts, dir: join(root, 'straight') });
  assert.equal(out.fit!.lossCurve, straight.fit!.lossCurve);
  assert.equal(out.metrics, straight.metrics);
});

test('bad specs: unknown method, unknown dataset, another run in the folder', async () => {
  assert.match((await rejection(() => train({ method: 'nope', dataset: TINY, dir: join(root, 'x') }))).message, /unknown method "nope"; known methods: ae/);
  assert.match((await rejection(() => train({ method: 'ae', dataset: { name: 'nope' }, dir: join(root, 'y') }))).message, /unknown dataset 'nope'; known datasets: .*synth-brain/);
  const other = await rejection(() => train({ method: 'ae-l1', dataset: TINY, options: TINY_AE, dir: join(root, 'plain'), resume: true }));
  assert.match(other.message, /holds a run of ae on synth-brain, not ae-l1/);
  assert.match((await rejection(() => testRun(root))).message, /is not a medianomaly run folder: no run\.json; it holds: .*plain/);
});

test('bad options fail before the folder exists; a run that never finished an epoch is replaced by a rerun, one with an epoch is not', async () => {
  const dir = join(root, 'never');
  const bad = await rejection(() => train({ method: 'dae', dataset: TINY, options: { ...TINY_AE, hidden: undefined, size: 40 }, dir }));
  assert.match(bad.message, /dae: size must be a multiple of 16 and at least 32/);
  assert.not.ok(existsSync(dir), 'validated before the folder is made');

  // What an older version (or a kill in the first epoch) left: run.json "training", nothing else.
  mkdirSync(dir);
  const stale = newRunFile({ method: 'ae', options: {}, dataset: TINY, status: 'training', started: 'then', backend: 'ts', library: '0', owner: { pid: deadPid(), host: hostname() } });
  await writeRunFile(dir, stale);
  const out = await train({ method: 'ae', dataset: TINY, options: TINY_AE, dir });
  assert.is(readRunFile(dir).status, 'complete');
  assert.ok(out.metrics);

  // A run with a finished epoch is kept: a rerun without resume is refused.
  const partial = join(root, 'partial');
  const ctl = new AbortController();
  await rejection(() => train({ method: 'ae', dataset: TINY, options: { ...TINY_AE, epochs: 3 }, dir: partial }, { signal: ctl.signal, onEpoch: () => ctl.abort() }));
  assert.match((await rejection(() => train({ method: 'ae', dataset: TINY, options: TINY_AE, dir: partial }))).message, /already holds a run .*pass --resume/);

  // One owned by another live process (it may be in its first epoch right now) is refused too.
  const busy = join(root, 'busy');
  mkdirSync(busy);
  const child = spawn('sleep', ['30']);
  try {
    await writeRunFile(busy, { ...stale, owner: { pid: child.pid!, host: hostname() } });
    assert.match((await rejection(() => train({ method: 'ae', dataset: TINY, options: TINY_AE, dir: busy }))).message, /already holds a run/);
  } finally {
    child.kill();
  }
});

test('plan and scoring hooks: what is trained, then images scored of the total', async () => {
  const plans: unknown[] = [];
  const scored: Array<{ done: number; total: number }> = [];
  await train({ method: 'ae', dataset: TINY, options: TINY_AE, dir: join(root, 'hooks') }, { onPlan: (p) => plans.push(p), onScore: (p) => scored.push(p) });
  assert.equal(plans, [{ dataset: 'synth-brain', trainImages: 24, testImages: 12, epochs: 2, startEpoch: 0, size: 32, batchSize: 8 }]);
  assert.equal(scored.map(({ done, total }) => [done, total]), [[12, 12]]);
});

test('stopped in its first epoch: the message says nothing was kept, and the same call starts over', async () => {
  const dir = join(root, 'first-epoch');
  const ctl = new AbortController();
  const err = await rejection(() => train({ method: 'ae', dataset: TINY, options: TINY_AE, dir }, { signal: ctl.signal, onProgress: () => ctl.abort() }));
  assert.instance(err, RunInterrupted);
  assert.match(err.message, /training stopped during its first epoch \(no checkpoint yet: the run starts over\)/);
  assert.is(readRunFile(dir).status, 'training');
  const again = await train({ method: 'ae', dataset: TINY, options: TINY_AE, dir });
  assert.is(again.fit!.epochs, 2);
  assert.is(readRunFile(dir).status, 'complete');
});

test('validation before the folder changes no number: a run gives the losses and weights of a bare fit', async () => {
  for (const method of ['ae', 'dae', 'vae']) {
    const options = method === 'ae' ? TINY_AE : { epochs: 2, batchSize: 8, seed: 1 };
    const dir = join(root, `same-${method}`);
    const run = await train({ method, dataset: TINY, options, dir, evaluate: false });
    const data = await loadDataset(TINY, 32);
    const bare = createMethod(method, { ...run.options });
    const fit = await bare.fit(data.train);
    assert.equal(run.fit!.lossCurve, fit.lossCurve, method);
    await bare.save(join(root, `bare-${method}`));
    assert.ok(readFileSync(join(dir, 'model.safetensors')).equals(readFileSync(join(root, `bare-${method}`, 'model.safetensors'))), `${method}: same weights`);
  }
});

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync('true');
  return r.pid!;
}

test.run();
