// The reconstruction training loop: determinism, resumable checkpoints, abort, progress,
// and the batching rules of methods.md §3.1.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMethod } from '../../../src/methods/index.js';
import type { Progress } from '../../../src/methods/index.js';
import { referenceEpochs } from '../../../src/methods/reconstruction/options.js';
import { fastestBackend, rejects, SMALL, toyHeads } from '../helpers.js';

fastestBackend();
const data = toyHeads({ train: 40, normal: 6, abnormal: 6, size: 32, seed: 3 });
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-trainer-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const options = (extra: Record<string, unknown> = {}) => ({ ...SMALL, epochs: 4, seed: 11, ...extra });

test('same seed and backend give identical scores; another seed does not', async () => {
  const a = createMethod('ae', options());
  const b = createMethod('ae', options());
  const c = createMethod('ae', options({ seed: 12 }));
  const ra = await a.fit(data.train);
  const rb = await b.fit(data.train);
  await c.fit(data.train);
  assert.equal(ra.lossCurve, rb.lossCurve);
  const [sa, sb, sc] = await Promise.all([a.score(data.test), b.score(data.test), c.score(data.test)]);
  assert.equal(Array.from(sa.scores), Array.from(sb.scores));
  assert.not.equal(Array.from(sa.scores), Array.from(sc.scores));
});

test('4 epochs = 2 epochs, then resume to 4 from the checkpoint (ceae: augmentation draws included)', async () => {
  const dir = join(tmp, 'resume');
  const whole = createMethod('ceae', options());
  const wholeFit = await whole.fit(data.train);
  const first = createMethod('ceae', options({ epochs: 2 }));
  await first.fit(data.train, { checkpointDir: dir });
  assert.ok(existsSync(join(dir, 'checkpoint.json')));
  // Only the current epoch's folder is kept.
  assert.equal(readdirSync(dir).filter((f) => f.startsWith('epoch-')), ['epoch-0002']);
  const resumed = createMethod('ceae', options());
  const resumedFit = await resumed.fit(data.train, { checkpointDir: dir, resume: true });
  assert.is(resumedFit.steps, wholeFit.steps);
  assert.equal(resumedFit.lossCurve, wholeFit.lossCurve);
  const [sw, sr] = await Promise.all([whole.score(data.test), resumed.score(data.test)]);
  assert.equal(Array.from(sr.scores), Array.from(sw.scores));
});

test('resume refuses a checkpoint written with other options or by another method', async () => {
  const dir = join(tmp, 'mismatch');
  await createMethod('ae', options({ epochs: 1 })).fit(data.train, { checkpointDir: dir });
  await rejects(() => createMethod('ae', options({ latent: 4 })).fit(data.train, { checkpointDir: dir, resume: true }), /latent: 8 there, 4 here/);
  await rejects(() => createMethod('ae-l1', options()).fit(data.train, { checkpointDir: dir, resume: true }), /from method "ae"/);
  await rejects(() => createMethod('ae', options()).fit(data.train, { resume: true }), /resume needs checkpointDir/);
});

test('abort rejects with an AbortError at the next step; the last full epoch stays resumable', async () => {
  const dir = join(tmp, 'abort');
  const ctl = new AbortController();
  const m = createMethod('ae', options());
  let reports = 0;
  const p = m.fit(data.train, {
    checkpointDir: dir,
    signal: ctl.signal,
    onProgress: (q) => {
      reports++;
      if (q.epoch === 2 && q.step === 1) ctl.abort();
    },
  });
  const err = await p.then(
    () => null,
    (e: Error) => e,
  );
  assert.ok(err, 'fit should reject');
  assert.is(err!.name, 'AbortError');
  assert.is(reports, 4); // 3 steps of epoch 1, then the first of epoch 2
  assert.equal(readdirSync(dir).filter((f) => f.startsWith('epoch-')), ['epoch-0001']);
  await rejects(() => m.score(data.test), /not trained/);
  const pre = new AbortController();
  pre.abort();
  await rejects(() => createMethod('ae', options()).fit(data.train, { signal: pre.signal }), (e: Error) => e.name === 'AbortError');
});

test('progress: one report per step, epoch means, images/s and ETA; the last partial batch is kept', async () => {
  const seen: Progress[] = [];
  const m = createMethod('ae', options({ epochs: 2, batchSize: 16 }));
  const r = await m.fit(data.train, { onProgress: (p) => seen.push({ ...p }) });
  // 40 images at batch 16: 16, 16, 8 → 3 steps per epoch.
  assert.is(r.steps, 6);
  assert.is(seen.length, 6);
  assert.equal(
    seen.map((p) => [p.epoch, p.step, p.stepsPerEpoch, p.epochDone]),
    [
      [1, 1, 3, false],
      [1, 2, 3, false],
      [1, 3, 3, true],
      [2, 1, 3, false],
      [2, 2, 3, false],
      [2, 3, 3, true],
    ],
  );
  assert.ok(Math.abs(seen[2].loss - r.lossCurve[0]) < 1e-12);
  assert.ok(Math.abs(seen[5].loss - r.lossCurve[1]) < 1e-12);
  for (const p of seen) {
    assert.ok(p.imagesPerSecond > 0 && Number.isFinite(p.etaSeconds) && p.etaSeconds >= 0);
    assert.is(p.epochs, 2);
  }
  assert.is(seen[5].etaSeconds, 0);
});

test('a last batch of one image is refused before training (batch norm cannot train on it)', async () => {
  await rejects(() => createMethod('ae', options({ batchSize: 13 })).fit(data.train), /last batch of 1 image.*40 mod batchSize/);
});

test('fit checks the data geometry against size and channels', async () => {
  await rejects(() => createMethod('ae', options({ size: 64 })).fit(data.train), /32×32 images but the method was built for size 64/);
  await rejects(() => createMethod('ae', options({ channels: 3 })).fit(data.train), /1 channel\(s\) but the method was built for channels 3/);
});

test('referenceEpochs: 600 for Brain Tumor, 250 otherwise', () => {
  assert.is(referenceEpochs('brain-tumor'), 600);
  assert.is(referenceEpochs('brain'), 600);
  assert.is(referenceEpochs('BrainTumor'), 600);
  for (const d of ['rsna', 'vincxr', 'lag', 'brats2021', 'isic2018', 'camelyon16', 'synth-brain']) assert.is(referenceEpochs(d), 250, d);
});

test.run();
