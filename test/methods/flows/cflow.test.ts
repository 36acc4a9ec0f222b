// CFlow-AD end to end at 64 px on a random-weight resnet18 (random backbone weights: these tests
// check the method's mechanics, not its detection quality; the numbers are checked against
// PyTorch in flow-fixtures.test.ts): presets, option refusals, the positional encoding's and
// likelihood's invariants, the learning-rate schedule, fiber batches, training with a falling
// loss and progress in optimiser steps, drop_last, save → load identical maps (without drawing
// the rotations the file replaces), the two map
// normalisations, ts and cpu backends agreeing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends, profile, setBackend, Tensor, zeros } from '../../../src/engine/index.js';
import { createMethod, loadMethod } from '../../../src/methods/index.js';
import { methods } from '../../../src/methods/registry.js';
import { resolveOptions } from '../../../src/methods/training/options.js';
import { cflowSettings } from '../../../src/methods/flows/cflow.js';
import { cflowLearningRate, cflowLogProb, cosineLr, fiberBatches, fiberLoss, gatherFibers } from '../../../src/methods/flows/cflow-train.js';
import { cflowMaps } from '../../../src/methods/flows/flow-maps.js';
import { fiberConditions, positionalEncoding2d } from '../../../src/methods/flows/positional.js';
import { randomRotateImages, rotatePlane } from '../../../src/methods/flows/augment.js';
import { Generator } from '../../../src/engine/index.js';
import type { Method, Progress } from '../../../src/methods/types.js';
import { arraySplit, fastestBackend, rejects, toyHeads } from '../helpers.js';

const backend = fastestBackend();
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-cflow-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
// Random resnet18 weights; hard permutations keep the flows quick to build (the rotations are
// checked in flow-fixtures.test.ts); 10 training images in batches of 4: two batches and a
// dropped partial one per pass; layer2/3/4 give 4·64, 4·16, 4·4 fibers → 16 + 4 + 1 steps of 16.
const SMALL = { backbone: 'resnet18', weights: 'random', size: 64, batchSize: 4, fiberBatch: 16, epochs: 3, subEpochs: 1, permute: 'hard', blocks: 4, seed: 5 } as const;
const data = toyHeads({ train: 10, normal: 4, abnormal: 4, size: 64, seed: 11 });

test('presets: official = soft/256/drop/2e-4 warm-up cosine/5°/drop_last/zeros/set; anomalib = hard/64/merge/1e-4 constant/0°/keep/none/batch; a row option overrides', () => {
  const info = methods.info('cflow');
  const off = cflowSettings(resolveOptions(info, {}));
  assert.equal(
    [off.permuteSoft, off.fiberBatch, off.remainder, off.lr, off.lrSchedule, off.rotation, off.dropLast, off.zeroGrad, off.mapNorm],
    [true, 256, 'drop', 2e-4, 'warmup-cosine', 5, true, 'zeros', 'set'],
  );
  assert.equal([off.layers, off.channels, off.strides], [['layer2', 'layer3', 'layer4'], [512, 1024, 2048], [8, 16, 32]]);
  const ano = cflowSettings(resolveOptions(info, { preset: 'anomalib' }));
  assert.equal(
    [ano.permuteSoft, ano.fiberBatch, ano.remainder, ano.lr, ano.lrSchedule, ano.rotation, ano.dropLast, ano.zeroGrad, ano.mapNorm],
    [false, 64, 'merge', 1e-4, 'constant', 0, false, 'none', 'batch'],
  );
  const mixed = cflowSettings(resolveOptions(info, { preset: 'anomalib', mapNorm: 'set', lr: 3e-4, backbone: 'resnet18' }));
  assert.equal([mixed.mapNorm, mixed.lr, mixed.fiberBatch, mixed.channels], ['set', 3e-4, 64, [128, 256, 512]]);
  const m = createMethod('cflow');
  assert.equal([m.info.defaultSize, m.info.family, m.options.backbone, m.options.epochs, m.options.batchSize, m.options.blocks, m.options.clamp, m.options.condition], [256, 'feature-reference', 'wide_resnet50_2', 200, 32, 8, 1.9, 128]);
});

test('bad options are refused naming the option', async () => {
  const v = (o: Record<string, unknown>) => () => createMethod('cflow', { weights: 'random', ...o } as never).validate!();
  assert.throws(v({ layers: 'layer2,layer5' }), /option "layers"/);
  assert.throws(v({ layers: 'layer3,layer2' }), /option "layers" must list distinct levels from shallow to deep/);
  assert.throws(v({ size: 240 }), /option "size" must be a multiple of 32/);
  assert.throws(v({ condition: 130 }), /option "condition" must be a multiple of 4/);
  assert.throws(v({ channels: 2 }), /option "channels" must be 1 or 3/);
  assert.throws(v({ backbone: 'resnet18', size: 64, batchSize: 2, fiberBatch: 16 }), /gives 8 fibers at layer4 .* fewer than fiberBatch 16; lower "fiberBatch"/);
  assert.throws(() => createMethod('cflow', { preset: 'freia' } as never), /option "preset" must be one of official, anomalib/);
  assert.throws(() => createMethod('cflow', { permute: 'random' } as never), /option "permute" must be one of soft, hard/);
  assert.throws(() => createMethod('cflow', { backbone: 'vgg19' } as never), /option "backbone" must be one of wide_resnet50_2, resnet18/);
  await rejects(() => createMethod('cflow', { ...SMALL, fiberBatch: 200 }).fit(data.train), /fewer than fiberBatch 200/);
});

test('positional encoding: channel 0 = 0 and 1 = 1 in column 0, channel 64 = 0 and 65 = 1 in row 0, sin² + cos² = 1; fibers in order (b, h, w)', () => {
  const H = 5;
  const W = 7;
  const p = positionalEncoding2d(128, H, W);
  const at = (c: number, y: number, x: number) => p[(c * H + y) * W + x];
  for (let y = 0; y < H; y++) {
    assert.is(at(0, y, 0), 0);
    assert.is(at(1, y, 0), 1);
  }
  for (let x = 0; x < W; x++) {
    assert.is(at(64, 0, x), 0);
    assert.is(at(65, 0, x), 1);
  }
  for (let i = 0; i < 64; i++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) assert.ok(Math.abs(at(2 * i, y, x) ** 2 + at(2 * i + 1, y, x) ** 2 - 1) < 1e-6);
  const rows = fiberConditions(128, 2, H, W);
  const e = 1 * H * W + 3 * W + 4; // image 1, row 3, column 4
  for (const c of [0, 3, 64, 127]) assert.is(rows[e * 128 + c], at(c, 3, 4));
  const f = Tensor.fromData(Float32Array.from({ length: 2 * 3 * H * W }, (_, i) => i), [2, 3, H, W]);
  assert.equal(Array.from(gatherFibers(f, Int32Array.of(e)).data), [1 * 3 * H * W + 3 * W + 4, (1 * 3 + 1) * H * W + 3 * W + 4, (1 * 3 + 2) * H * W + 3 * W + 4]);
});

test('likelihood: z = 0 and log-det 0 give log p̄ = −0.9189385 per dimension; the loss is softplus(−log p̄)', () => {
  const lp = cflowLogProb(zeros([3, 512]), zeros([3]));
  for (const v of lp.data) assert.ok(Math.abs(v + 0.9189385332046727) < 1e-6);
  const l = fiberLoss(Tensor.fromData(Float32Array.of(-2, 0, 30), [3])).item();
  assert.ok(Math.abs(l - (Math.log1p(Math.exp(2)) + Math.log(2) + Math.log1p(Math.exp(-30))) / 3) < 1e-6);
});

test('learning rate: warm-up from lr/10 over two meta-epochs to the cosine value of meta-epoch 2, then cosine down to lr·1e-3 scale; constant for anomalib', () => {
  const s = { lr: 2e-4, schedule: 'warmup-cosine' as const, subEpochs: 8, metaEpochs: 25, batchesPerPass: 10 };
  assert.ok(Math.abs(cflowLearningRate(s, 1, 0) - 2e-5) < 1e-15);
  const to = cosineLr(2e-4, 2, 25);
  // the last image batch of the warm-up: 159 of 160
  assert.ok(Math.abs(cflowLearningRate(s, 16, 9) - (2e-5 + (159 / 160) * (to - 2e-5))) < 1e-15);
  assert.is(cflowLearningRate(s, 17, 0), to);
  assert.is(cflowLearningRate(s, 17, 9), to); // one rate per meta-epoch after the warm-up
  assert.ok(cflowLearningRate(s, 200, 0) < cflowLearningRate(s, 100, 0));
  assert.ok(Math.abs(cosineLr(2e-4, 25, 25) - 2e-7) < 1e-18);
  assert.is(cflowLearningRate({ ...s, schedule: 'constant', lr: 1e-4 }, 7, 3), 1e-4);
});

test("fiber batches: E // N of N, the remainder dropped (official) or merged into the last (anomalib)", () => {
  assert.equal(fiberBatches(70, 32, 'drop'), [[0, 32], [32, 64]]);
  assert.equal(fiberBatches(70, 32, 'merge'), [[0, 32], [32, 70]]);
  assert.equal(fiberBatches(20, 32, 'merge'), []);
});

test("rotation: ±max degrees per image from the generator, black corners; 0 draws nothing", () => {
  const s = 16;
  const img = Float32Array.from({ length: 2 * s * s }, (_, i) => (i % 7) / 7);
  const g = new Generator(3);
  const out = randomRotateImages(img, 2, 1, s, 5, g);
  const g2 = new Generator(3);
  const a0 = (g2.uniform() * 2 - 1) * 5;
  const plane = new Float32Array(s * s);
  rotatePlane(img.subarray(0, s * s), plane, s, a0);
  assert.equal(Array.from(out.subarray(0, s * s)), Array.from(plane));
  const g3 = new Generator(3);
  assert.is(randomRotateImages(img, 2, 1, s, 0, g3), img);
  assert.is(g3.uniform(), new Generator(3).uniform());
  const corner = new Float32Array(s * s);
  rotatePlane(new Float32Array(s * s).fill(0.5), corner, s, 45);
  assert.is(corner[0], -1);
});

let trained: Method;

test('trains at 64 px: the loss falls, progress counts optimiser steps (fiber batches), the partial image batch is dropped', async () => {
  const m = createMethod('cflow', SMALL);
  const reports: Progress[] = [];
  const r = await m.fit(data.train, { onProgress: (p) => reports.push(p) });
  // per image batch of 4: 256/16 + 64/16 + 16/16 = 21 steps; 2 full batches per pass (the third, of 2 images, is dropped)
  assert.is(r.steps, 3 * 2 * 21);
  assert.equal(reports.filter((p) => p.epoch === 1).map((p) => [p.step, p.stepsPerEpoch]), [[21, 42], [42, 42], [42, 42]]);
  assert.is(r.lossCurve.length, 3);
  assert.ok(r.lossCurve[2] < r.lossCurve[0], `loss ${r.lossCurve}`);
  const last = reports.filter((p) => p.epoch === 1);
  assert.ok(Math.abs(last[2].loss - last[1].loss) < 1e-12, 'the dropped batch leaves the epoch mean unchanged');
  assert.ok(['layer2', 'layer3', 'layer4'].every((k) => Number.isFinite(last[2].terms![k])));
  trained = m;
});

test('scores: maps normalised over the set (max of the set = 0 floor); save → load gives identical maps; batch normalisation = scoring each batch alone', async () => {
  const res = await trained.score(data.test);
  assert.is(res.maps!.length, 8);
  assert.is(res.maps![0].length, 64 * 64);
  let min = Infinity;
  for (const mp of res.maps!) for (const v of mp) min = Math.min(min, v);
  assert.ok(Math.abs(min) < 1e-12, 'the most likely pixel of the set has map value 0');
  res.scores.forEach((s, i) => assert.is(s, Math.max(...res.maps![i])));
  const dir = join(tmp, 'cflow');
  await trained.save(dir);
  const back = await loadMethod(dir);
  const again = await back.score(data.test);
  assert.equal(Array.from(again.scores), Array.from(res.scores));
  again.maps!.forEach((mp, i) => assert.ok(mp.every((v, j) => v === res.maps![i][j]), `map ${i}`));
  // 'set': a score depends on the set it is scored with (the maxima of one half are not the set's)
  const imgs = await data.test.images();
  let changed = false;
  for (const start of [0, 4]) {
    const half = await trained.score({ n: 4, channels: 1, size: 64, images: imgs.slice(start * 4096, (start + 4) * 4096) });
    changed ||= half.scores.some((s, i) => s !== res.scores[start + i]);
  }
  assert.ok(changed, 'scoring half the set changes some scores');
  // 'batch' (anomalib): per scoring batch — the same as scoring each batch on its own
  const byBatch = await loadMethod(dir);
  // (options are fixed at creation; the test switches them on the loaded object directly)
  (byBatch.options as Record<string, unknown>).mapNorm = 'batch';
  (byBatch.options as Record<string, unknown>).scoreBatchSize = 4;
  const b = await byBatch.score(data.test);
  for (const start of [0, 4]) {
    const alone = await back.score({ n: 4, channels: 1, size: 64, images: imgs.slice(start * 4096, (start + 4) * 4096) });
    assert.equal(Array.from(b.scores.subarray(start, start + 4)), Array.from(alone.scores));
  }
});

test('soft permutation: fit draws one rotation per block; load draws none (the file holds them) and gives identical maps', async () => {
  const rotations = (): number => profile.report().find((r) => r.kernel === 'couplingRotation')?.calls ?? 0;
  const m = createMethod('cflow', { ...SMALL, permute: 'soft', blocks: 2, epochs: 1 });
  profile.reset();
  profile.enable();
  try {
    await m.fit(data.train);
    assert.is(rotations(), 3 * 2, 'three levels of two blocks');
    const res = await m.score(data.test);
    const dir = join(tmp, 'cflow-soft');
    await m.save(dir);
    profile.reset();
    const back = await loadMethod(dir);
    assert.is(rotations(), 0, 'load runs no rotation kernel');
    const again = await back.score(data.test);
    assert.equal(Array.from(again.scores), Array.from(res.scores));
    again.maps!.forEach((mp, i) => assert.ok(mp.every((v, j) => v === res.maps![i][j]), `map ${i}`));
  } finally {
    profile.disable();
    profile.reset();
  }
});

test('the maps of a hand example: set normalisation in float64, align-corners upsampling, max − sum', () => {
  // one level 2×2 for two images, upsampled to 3×3: the centre is the mean of the four
  const lv = { height: 2, width: 2, values: Float32Array.of(0, -1, -2, -3, -1, -1, -1, -1) };
  const { maps, scores } = cflowMaps([lv], 2, 3, 'set');
  const p = [1, Math.exp(-1), Math.exp(-2), Math.exp(-3)];
  assert.ok(Math.abs(maps[0][4] - (1 - p.reduce((a, b) => a + b) / 4)) < 1e-7);
  assert.ok(Math.abs(maps[1][0] - (1 - Math.exp(-1))) < 1e-7);
  assert.ok(Math.abs(scores[0] - (1 - Math.exp(-3))) < 1e-7);
  const perBatch = cflowMaps([lv], 2, 3, 'batch', 1);
  assert.ok(perBatch.maps[1].every((v) => v === 0), 'a constant image alone maps to 0');
});

const cpu = backends().find((b) => b.name === 'cpu');
test(`ts and cpu backends score the same weights alike${cpu?.available ? '' : ' (skipped: no cpu backend)'}`, async () => {
  if (!cpu?.available) return;
  const dir = join(tmp, 'cflow');
  const few = arraySplit('test', (await data.test.images()).slice(0, 3 * 4096), new Uint8Array(3), 1, 64);
  setBackend('cpu');
  const onCpu = await (await loadMethod(dir)).score(few);
  setBackend('ts');
  try {
    const onTs = await (await loadMethod(dir)).score(few);
    const scale = Math.max(...onCpu.scores);
    onTs.scores.forEach((s, i) => assert.ok(Math.abs(s - onCpu.scores[i]) <= 1e-4 * scale, `score ${i}: ${s} vs ${onCpu.scores[i]}`));
    const mapScale = Math.max(...onCpu.maps![1]);
    onTs.maps![1].forEach((v, j) => assert.ok(Math.abs(v - onCpu.maps![1][j]) <= 1e-4 * mapScale));
  } finally {
    setBackend(backend);
  }
});

test.run();
