// f-AnoGAN (methods.md §5.15) end to end at DIM 4 and 32 px: stage 1 lowers the critic
// objective, generator steps happen on every nCritic-th batch, stage 2 trains the encoder
// alone (G and D untouched) and lowers its loss, the score is image MSE + critic-feature
// MSE with the map (x − G(E(x)))², an interrupted run resumes in the stage where it
// stopped to the same numbers, and save → load gives identical scores. (The exactness of
// the gradient penalty is tested in test/models/fanogan-nets.test.ts.)
//
// Calibration (cpu backend; synth-brain 'easy' at 32 px, 64 training images, 20 + 20 test
// images; DIM 4, latent 16, batch 16, nCritic 1, 8 + 8 epochs): AUROC 0.253 / 0.820 / 0.273
// for seeds 0 / 1 / 2 (of the map mean alone: 0.698 / 0.782 / 0.565). A GAN does not learn
// the anatomy in a few dozen generator steps, and when the critic's features grow large the
// tanh encoder saturates (its loss stalls), so no AUROC is asserted at this budget.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad, Tensor } from '../../../src/engine/index.js';
import { createMethod, loadMethod, methods } from '../../../src/methods/index.js';
import type { Method, Progress } from '../../../src/methods/index.js';
import type { FAnoGAN } from '../../../src/models/fanogan-nets.js';
import { syntheticDataset } from '../../../src/data/synthetic/index.js';
import { readSafetensors } from '../../../src/nn/safetensors.js';
import { fastestBackend } from '../helpers.js';
import { assertReorderClose } from '../../float32-tolerance.js';

const backend = fastestBackend();
const data = syntheticDataset('synth-brain', { count: { train: 64, testNormal: 6, testAbnormal: 6 }, size: 32, seed: 1, difficulty: 'easy' });
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-fanogan-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const OPTIONS = { size: 32, dim: 4, latent: 16, batchSize: 16, epochs: 4, encoderEpochs: 3, nCritic: 2, seed: 1 };
/** The trained network inside a method (tests only). */
const netOf = (m: Method): FAnoGAN => (m as unknown as { net: FAnoGAN }).net;

let reference: { method: Method; lossCurve: number[]; scores: number[] } | null = null;

test('registered with the reference settings: 3000 + 300 epochs, DIM 64, latent 128, nCritic 5, λ 10', () => {
  const d = Object.fromEntries(methods.info('fanogan').options.map((o) => [o.name, o.default]));
  assert.equal([d.epochs, d.encoderEpochs, d.dim, d.latent, d.nCritic, d.gpWeight, d.lr, d.batchSize, d.size], [3000, 300, 64, 128, 5, 10, 1e-3, 64, 64]);
  assert.is(methods.info('fanogan').pixelMaps, true);
});

test(`two stages: critic objective falls, G steps on every 2nd batch, encoder alone in stage 2 [${backend}]`, async () => {
  const m = createMethod('fanogan', OPTIONS);
  const seen: Progress[] = [];
  const fit = await m.fit(data.train, { onProgress: (p) => p.epochDone && seen.push(p) });
  const net = netOf(m);
  assert.is(fit.epochs, 7);
  assert.is(fit.steps, 7 * 4);
  assert.is(fit.lossCurve.length, 7);
  assert.equal(seen.map((p) => [p.epoch, p.epochs]), [1, 2, 3, 4, 5, 6, 7].map((e) => [e, 7]));
  // Stage 1 reports the critic loss and its parts: L_D = dFake − dReal + 10·GP.
  const s1 = seen[3].terms!;
  assert.ok(Math.abs(s1.dFake - s1.dReal + 10 * s1.gp - fit.lossCurve[3]) < 1e-3 * Math.max(1, Math.abs(fit.lossCurve[3])), JSON.stringify(s1));
  assert.ok(fit.lossCurve[3] < fit.lossCurve[0], `critic loss ${fit.lossCurve[0]} → ${fit.lossCurve[3]}`);
  // Stage 2 reports image and feature terms, and lowers their sum.
  const s2 = seen[6].terms!;
  assert.ok(Math.abs(s2.img + s2.feat - fit.lossCurve[6]) < 1e-4 * Math.max(1, fit.lossCurve[6]), JSON.stringify(s2));
  assert.ok(fit.lossCurve[6] < fit.lossCurve[4], `encoder loss ${fit.lossCurve[4]} → ${fit.lossCurve[6]}`);
  // After fit every parameter trains again (stage 2 froze G and D only while it ran).
  assert.ok(net.parameters().every((p) => p.requiresGrad));

  // Scores: mean image MSE + mean critic-feature MSE, map (x − G(E(x)))² per pixel.
  const s = await m.score(data.test, { reconstructions: true });
  const images = await data.test.images();
  net.eval();
  for (const i of [0, 9]) {
    const x = Tensor.fromData(images.slice(i * 1024, (i + 1) * 1024), [1, 1, 32, 32]);
    const { xHat, featReal, featFake } = noGrad(() => net.forward(x));
    let img = 0;
    for (let k = 0; k < 1024; k++) {
      const e = (x.data[k] - xHat.data[k]) ** 2;
      img += e / 1024;
      assert.ok(Math.abs(s.maps![i][k] - e) <= 1e-5 * Math.max(1, e), `map ${i}[${k}]`);
    }
    let feat = 0;
    for (let k = 0; k < featReal.size; k++) feat += (featReal.data[k] - featFake.data[k]) ** 2 / featReal.size;
    assert.ok(Math.abs(s.scores[i] - (img + feat)) <= 1e-4 * (img + feat), `score ${i}: ${s.scores[i]} vs ${img} + ${feat}`);
    // The score batches 12 images, this forward one: the same sums in another GEMM
    // blocking (OpenBLAS picks its kernel by shape), so equal within the float32
    // reordering bound, not bitwise. About 20 layers; the longest reduction is the
    // encoder's fc over 4·4·8·DIM = 512 features.
    assertReorderClose(s.reconstructions![i], xHat.data, { depth: 20, reduction: 512 }, `reconstruction ${i}`);
  }
  reference = { method: m, lossCurve: fit.lossCurve, scores: Array.from(s.scores) };
});

test('stage 2 changes the encoder only', async () => {
  const one = createMethod('fanogan', { ...OPTIONS, encoderEpochs: 0 });
  await one.fit(data.train);
  if (!reference) return assert.unreachable('the two-stage test failed');
  const a = netOf(one).stateDict();
  const b = netOf(reference.method).stateDict();
  for (const [name, t] of a) {
    const same = t.data.every((v, i) => v === b.get(name)!.data[i]);
    if (name.startsWith('encoder.')) continue;
    // The generator's BN running statistics are untouched too: G ran in eval mode.
    assert.ok(same, `${name} changed in stage 2`);
  }
  assert.ok([...a].some(([name, t]) => name.startsWith('encoder.') && t.data.some((v, i) => v !== b.get(name)!.data[i])), 'the encoder trained');
});

test('an interrupted run resumes in its stage (wgan/, encoder/) to the same numbers; save → load identical', async () => {
  if (!reference) return assert.unreachable('the two-stage test failed');
  const dir = join(tmp, 'ckpt');
  const ctl = new AbortController();
  const first = createMethod('fanogan', OPTIONS);
  let error: Error | null = null;
  await first
    .fit(data.train, { checkpointDir: dir, signal: ctl.signal, onProgress: (p) => p.epoch === 5 && p.epochDone && ctl.abort() })
    .catch((e: Error) => (error = e));
  assert.is(error!.name, 'AbortError');
  assert.equal(readdirSync(dir).sort(), ['encoder', 'wgan']);
  const resumed = createMethod('fanogan', OPTIONS);
  const fit = await resumed.fit(data.train, { checkpointDir: dir, resume: true });
  assert.equal(fit.lossCurve, reference.lossCurve);
  const s = await resumed.score(data.test);
  assert.equal(Array.from(s.scores), reference.scores);

  const saved = join(tmp, 'saved');
  await resumed.save(saved);
  const names = [...readSafetensors(join(saved, 'model.safetensors')).tensors.keys()];
  assert.ok(names.includes('discriminator.rb1.bn1.weight') && names.includes('generator.rb4.conv_2.conv.bias') && names.includes('encoder.fc.weight'));
  const loaded = await loadMethod(saved);
  assert.equal(Array.from((await loaded.score(data.test)).scores), reference.scores);
});

test.run();
