// RD++ end to end at 32 px (pseudo-anomaly sides 10 to 20) on a resnet18 teacher with random weights (weights 'random': a
// test-only setting; the method's own numbers need the ImageNet file): the registry entry and
// its defaults, training with falling loss and every loss term reported, save → load giving
// identical maps, a resumed fit equal to an uninterrupted one with a gradient carried across
// the checkpoint (10 images at batch 4 = 3 batches per epoch, so the odd last batch's gradient
// is pending when each epoch's checkpoint is written), the fresh-field option, the ts backend
// scoring the saved weights like the cpu backend, and refused options.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends, setBackend } from '../../../src/engine/index.js';
import { createMethod, loadMethod } from '../../../src/methods/index.js';
// Registers rdpp even where builtin.ts does not list it yet (a module registers once).
import '../../../src/methods/feature-reconstruction/rdpp.js';
import { methods } from '../../../src/methods/registry.js';
import { resolveOptions } from '../../../src/methods/training/options.js';
import { readSafetensors } from '../../../src/nn/safetensors.js';
import { fastestBackend, toyHeads } from '../helpers.js';

const backend = fastestBackend();
const data = toyHeads({ train: 10, normal: 3, abnormal: 3, size: 32, seed: 4 });
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-rdpp-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const options = (extra: Record<string, unknown> = {}) => ({ backbone: 'resnet18', weights: 'random', size: 32, noisePatchMax: 20, batchSize: 4, epochs: 3, seed: 5, ...extra });
// Through the untyped overload: some options below are wrong on purpose.
const NAME: string = 'rdpp';
const rdpp = (extra: Record<string, unknown> = {}) => createMethod(NAME, options(extra));

test('registry: rdpp (RD++), feature-reconstruction, official defaults', () => {
  const info = methods.info('rdpp');
  assert.is(info.title, 'RD++');
  assert.is(info.family, 'feature-reconstruction');
  const o = resolveOptions(info, {});
  assert.equal(
    [o.backbone, o.size, o.epochs, o.batchSize, o.lr, o.projLr, o.beta1, o.beta2, o.projWeight, o.accumulate, o.noiseField, o.noiseStrength, o.noisePatchMin, o.noisePatchMax, o.combine, o.blur, o.sigma],
    ['wide_resnet50_2', 256, 200, 16, 0.005, 0.001, 0.5, 0.999, 0.2, 2, 'fixed', 0.2, 10, 31, 'add', 'scipy', 4],
  );
});

let trained: Awaited<ReturnType<typeof createMethod>>;
let fit: Awaited<ReturnType<Awaited<ReturnType<typeof createMethod>>['fit']>>;
const whole = join(tmp, 'whole');

test('trains at 32 px: loss falls over 3 epochs, every term reported, maps 32 × 32 and finite scores; save → load gives identical maps', async () => {
  trained = rdpp();
  const terms: Record<string, number>[] = [];
  fit = await trained.fit(data.train, { checkpointDir: whole, onProgress: (p) => p.epochDone && terms.push(p.terms!) });
  assert.is(fit.lossCurve.length, 3);
  assert.ok(fit.lossCurve[2] < fit.lossCurve[0], `loss ${fit.lossCurve}`);
  assert.equal(Object.keys(terms[0]).sort(), ['contrast', 'distill', 'proj', 'recon', 'ssot']);
  for (const t of terms) assert.ok(Math.abs(t.ssot) < 1e-6 && t.recon > 0 && t.distill > 0, JSON.stringify(t));
  const s = await trained.score(data.test);
  assert.is(s.maps!.length, 6);
  assert.is(s.maps![0].length, 32 * 32);
  for (let i = 0; i < 6; i++) assert.is(s.scores[i], Math.max(...s.maps![i]));
  const dir = join(tmp, 'saved');
  await trained.save(dir);
  const loaded = await loadMethod(dir);
  const s2 = await loaded.score(data.test);
  for (let i = 0; i < 6; i++) assert.equal(Array.from(s2.maps![i]), Array.from(s.maps![i]));
  assert.equal(Array.from(s2.scores), Array.from(s.scores));
});

test('resume: 1 epoch, then resumed to 3, equals the uninterrupted fit (a gradient pending in each checkpoint)', async () => {
  const dir = join(tmp, 'resume');
  await rdpp({ epochs: 1 }).fit(data.train, { checkpointDir: dir });
  // 3 batches per epoch with a step every 2: the third batch's gradient waits in the checkpoint.
  for (const opt of ['proj', 'distill']) {
    const names = [...readSafetensors(join(dir, 'epoch-0001', `optimizer-${opt}.safetensors`)).tensors.keys()];
    assert.ok(names.filter((n) => n.endsWith('.pending_grad')).length > 0, `${opt}: the checkpoint holds pending gradients`);
  }
  const resumed = rdpp();
  const r = await resumed.fit(data.train, { checkpointDir: dir, resume: true });
  assert.equal(r.lossCurve, fit.lossCurve);
  assert.is(r.steps, fit.steps);
  const [a, b] = await Promise.all([trained.score(data.test), resumed.score(data.test)]);
  for (let i = 0; i < 6; i++) assert.equal(Array.from(b.maps![i]), Array.from(a.maps![i]));
  assert.ok(existsSync(join(whole, 'checkpoint.json')));
});

test("noiseField 'fresh' and accumulate 1 train too, to different numbers", async () => {
  const m = rdpp({ epochs: 1, noiseField: 'fresh', accumulate: 1 });
  const r = await m.fit(data.train);
  assert.ok(Number.isFinite(r.lossCurve[0]) && r.lossCurve[0] !== fit.lossCurve[0]);
});

const cpu = backends().find((b) => b.name === 'cpu');
test('ts backend scores the saved weights like the cpu backend (≤ 1e-4 of the largest value)', async () => {
  if (!cpu?.available || backend !== 'cpu') return; // nothing to compare without the native addon
  const dir = join(tmp, 'saved');
  const onCpu = await (await loadMethod(dir)).score(data.test);
  setBackend('ts');
  try {
    const onTs = await (await loadMethod(dir)).score(data.test);
    let peak = 0;
    let worst = 0;
    for (let i = 0; i < 6; i++) for (const v of onCpu.maps![i]) peak = Math.max(peak, Math.abs(v));
    for (let i = 0; i < 6; i++) for (let j = 0; j < 32 * 32; j++) worst = Math.max(worst, Math.abs(onTs.maps![i][j] - onCpu.maps![i][j]));
    assert.ok(worst <= 1e-4 * peak, `maps differ by ${worst} of ${peak}`);
  } finally {
    setBackend(backend);
  }
});

test('bad options are refused naming the option', async () => {
  assert.throws(() => rdpp({ size: 48 }).validate!(), /option "size" must be a multiple of 32/);
  assert.throws(() => rdpp({ noisePatchMax: 31 }).validate!(), /noisePatchMax.*at most size − 2 = 30/);
  assert.throws(() => rdpp({ noisePatchMin: 20, noisePatchMax: 12 }).validate!(), /noisePatchMax.*≥ noisePatchMin/);
  assert.throws(() => rdpp({ noiseField: 'random' }), /option "noiseField" must be one of fixed, fresh/);
  assert.throws(() => rdpp({ accumulate: 0 }), /option "accumulate" must be ≥ 1/);
  assert.throws(() => rdpp({ backbone: 'vgg19' }), /option "backbone" must be one of wide_resnet50_2, resnet18/);
  assert.throws(() => rdpp({ projLr: -1 }), /option "projLr" must be ≥ 0/);
  assert.throws(() => rdpp({ channels: 2 }).validate!(), /option "channels" must be 1 or 3/);
});

test.run();
