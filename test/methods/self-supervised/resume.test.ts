// Resume equals an uninterrupted run for a one-stage SSL method (fpi: cosine rate per epoch,
// per-sample generators, the previous-sample source rule) and for DRAEM (MultiStepLR with a
// milestone after the interruption, Perlin/source draws): fit with a checkpoint folder,
// abort after an epoch, resume in a fresh method → the same loss curve, the same bits in
// every parameter and buffer, the same scores. Tiny budgets: a few steps each.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setBackend } from '../../../src/engine/index.js';
import { createMethod } from '../../../src/methods/index.js';
import type { Method } from '../../../src/methods/types.js';
import type { Module } from '../../../src/nn/module.js';
import { syntheticDataset } from '../../../src/data/synthetic/index.js';
import { fastestBackend, rejects } from '../helpers.js';

const backend = fastestBackend();
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-ssl-resume-'));
test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
  setBackend(backend);
});
const quiet = { onMessage: () => {} };

function state(m: Method): Map<string, number[]> {
  const net = (m as unknown as { network(): Module }).network();
  return new Map([...net.stateDict()].map(([k, t]) => [k, Array.from(t.data as ArrayLike<number>)]));
}

function sameState(a: Map<string, number[]>, b: Map<string, number[]>): void {
  assert.equal([...a.keys()], [...b.keys()]);
  for (const [k, v] of a) {
    const w = b.get(k)!;
    assert.ok(v.length === w.length && v.every((x, i) => Object.is(x, w[i])), `${k} differs after resume`);
  }
}

/** Uninterrupted vs aborted after epoch `stopAfter` and resumed: loss curves, every tensor, scores. */
async function resumeEqualsStraight(name: string, options: Record<string, unknown>, stopAfter: number, data: ReturnType<typeof syntheticDataset>, resumeOptions = options): Promise<void> {
  const straight = createMethod(name, options);
  const fit = await straight.fit(data.train, quiet);

  const ck = join(tmp, name);
  const ctl = new AbortController();
  const error = await createMethod(name, options)
    .fit(data.train, { ...quiet, checkpointDir: ck, signal: ctl.signal, onProgress: (p) => p.epoch === stopAfter && p.epochDone && ctl.abort() })
    .then(() => null, (e: Error) => e);
  assert.is(error?.name, 'AbortError', `${name}: the first fit stops`);
  assert.ok(readdirSync(ck).length > 0, 'a checkpoint was written');

  const resumed = createMethod(name, resumeOptions);
  const epochs = new Set<number>();
  const fit2 = await resumed.fit(data.train, { ...quiet, checkpointDir: ck, resume: true, onProgress: (p) => epochs.add(p.epoch) });
  // It continued from the checkpoint (a fresh run from the same seed would give the same numbers).
  assert.is(Math.min(...epochs), stopAfter + 1, `${name}: the resumed fit starts after the checkpointed epoch`);
  assert.equal(fit2.lossCurve, fit.lossCurve);
  assert.is(fit2.lossCurve.length, options.epochs);
  sameState(state(resumed), state(straight));
  const a = await straight.score(data.test);
  const b = await resumed.score(data.test);
  assert.equal(Array.from(b.scores), Array.from(a.scores));
  assert.ok(a.maps && b.maps && a.maps.every((m, i) => m.every((v, j) => Object.is(v, b.maps![i][j]))), 'same maps');
}

test('fpi: aborted after epoch 1 of 3 and resumed (samples from a worker thread) = uninterrupted (weights, BN statistics, scores, maps)', async () => {
  const data = syntheticDataset('synth-brain', { size: 64, count: { train: 12, testNormal: 2, testAbnormal: 2 }, seed: 4 });
  const o = { size: 64, epochs: 3, batchSize: 6, seed: 2, workers: 0 };
  await resumeEqualsStraight('fpi', o, 1, data, { ...o, workers: 1 });
  // workers changes no sample, so it may differ on resume; an option that changes numbers may not.
  await rejects(
    () => createMethod('fpi', { ...o, lr: 0.01 }).fit(data.train, { ...quiet, checkpointDir: join(tmp, 'fpi'), resume: true }),
    /different options \(lr: 0.001 there, 0.01 here\)/,
  );
});

test('draem: aborted after epoch 3 of 5 and resumed across the ×0.2 milestone = uninterrupted', async () => {
  const data = syntheticDataset('synth-brain', { size: 32, count: { train: 8, testNormal: 2, testAbnormal: 2 }, seed: 4 });
  await resumeEqualsStraight('draem', { size: 32, reconstructiveWidth: 2, discriminativeWidth: 2, batchSize: 4, epochs: 5, lr: 1e-3, perlinMaxScale: 4, scoreSmoothing: 3, seed: 1 }, 3, data);
});

test.run();
