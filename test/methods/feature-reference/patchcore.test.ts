// PatchCore end to end at 32 px on a random-weight resnet18 (the backbone is an option; the
// embedding itself is checked against the reference code in patchcore-embed.test.ts): presets,
// the re-weighted score on a hand example, the memory plan and its refusal, fit → score on
// grey and colour input, save → load gives identical scores, same seed → same bank; the
// float16 bank (bankPrecision): the rounded float32 bank, scores within the rounding bound,
// F16 on disk, save → load identical, its plan and the refusal that names it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMethod, loadMethod } from '../../../src/methods/index.js';
import { PatchCore, memoryRefusal, patchcoreMemoryPlan, patchcoreSettings } from '../../../src/methods/feature-reference/patchcore.js';
import { reweightedScore, type BankSearch } from '../../../src/methods/feature-reference/patchcore-score.js';
import { halfFromFloat, halfToFloat } from '../../../src/engine/index.js';
import { readSafetensors } from '../../../src/nn/safetensors.js';
import { resolveOptions } from '../../../src/methods/training/options.js';
import { methods } from '../../../src/methods/registry.js';
import { arraySplit, fastestBackend, rejects, toyHeads } from '../helpers.js';

fastestBackend();
const quiet = { onMessage: () => {} };
const SMALL = { backbone: 'resnet18', weights: 'random', size: 32, channels: 1, batchSize: 8, coresetRatio: 0.25 } as const;
const data = toyHeads({ train: 6, normal: 3, abnormal: 3, size: 32, seed: 3 });

test('presets: official = adaptive/adaptive/squared/max/bilinear/scipy; anomalib = avgpool/concat/euclidean/reweighted/nearest/torch; a row option overrides its preset', () => {
  const info = methods.info('patchcore');
  const off = patchcoreSettings(resolveOptions(info, {}));
  assert.equal([off.aggregation, off.merge, off.distance, off.imageScore, off.upsample, off.blur, off.coresetStart], ['adaptive', 'adaptive', 'squared', 'max', 'bilinear', 'scipy', 'official']);
  assert.equal([off.layers, off.pretrainDim, off.targetDim, off.coresetRatio, off.coresetProjection, off.sigma], [['layer2', 'layer3'], 1024, 1024, 0.1, 128, 4]);
  const ano = patchcoreSettings(resolveOptions(info, { preset: 'anomalib' }));
  assert.equal([ano.aggregation, ano.merge, ano.distance, ano.imageScore, ano.reweightNeighbours, ano.upsample, ano.blur, ano.coresetStart], ['avgpool', 'concat', 'euclidean', 'reweighted', 9, 'nearest', 'torch', 'anomalib']);
  const mixed = patchcoreSettings(resolveOptions(info, { preset: 'anomalib', distance: 'squared', imageScore: 'max' }));
  assert.equal([mixed.distance, mixed.imageScore, mixed.merge], ['squared', 'max', 'concat']);
});

/** Exact search over a small bank (squared distances, ties to the lower index). */
function bruteForce(bank: number[][]): BankSearch & { flat: Float32Array } {
  const d = bank[0].length;
  return {
    flat: Float32Array.from(bank.flat()),
    ntotal: bank.length,
    search(q: Float32Array, k: number) {
      const all = bank.map((v, i) => ({ i, s: v.reduce((a, x, t) => a + (x - q[t]) ** 2, 0) }));
      all.sort((a, b) => a.s - b.s || a.i - b.i);
      const top = all.slice(0, k);
      void d;
      return { distances: Float32Array.from(top.map((t) => t.s)), indices: Int32Array.from(top.map((t) => t.i)) };
    },
  };
}

test('re-weighted score (paper eq. 7): w = 1 − softmax(‖x − n_j‖)₀ over the b neighbours of m*, times s*', () => {
  // bank on a line: 0, 1, 3, 10; test patch at 0.5 → m* = bank[0] (distance 0.5; tie with bank[1] goes to the lower index)
  const bank = bruteForce([[0], [1], [3], [10]]);
  const x = Float32Array.of(0.5);
  // b = 3 neighbours of m* = [0]: bank 0, 1, 3 → D = ‖0.5 − (0, 1, 3)‖ = 0.5, 0.5, 2.5
  const D = [0.5, 0.5, 2.5];
  const soft0 = Math.exp(D[0]) / D.reduce((a, v) => a + Math.exp(v), 0);
  const s = 0.5; // the patch score (Euclidean)
  assert.ok(Math.abs(reweightedScore(x, s, 0, bank.flat, bank, 3) - (1 - soft0) * s) < 1e-12);
  // b larger than the bank: all four
  const D4 = [0.5, 0.5, 2.5, 9.5];
  const soft4 = Math.exp(D4[0]) / D4.reduce((a, v) => a + Math.exp(v), 0);
  assert.ok(Math.abs(reweightedScore(x, s, 0, bank.flat, bank, 9) - (1 - soft4) * s) < 1e-12);
  // a lone bank vector: softmax₀ = 1, the score is 0
  const one = bruteForce([[2]]);
  assert.is(reweightedScore(Float32Array.of(5), 3, 0, one.flat, one, 9), 0);
});

test('memory plan: full bank + projection + kept bank; a refusal names the sizes and a coreset ratio that fits', () => {
  const plan = patchcoreMemoryPlan(1000, 100, { coresetRatio: 0.1, coresetProjection: 128 }, 1e6);
  assert.is(plan.fullBank, 400_000);
  assert.is(plan.projection, 1000 * (128 * 2 + 4)); // projected points (float16, the coreset's default) + one distance each
  assert.is(plan.keptVectors, 100);
  assert.is(plan.keptBank, 100 * 100 * 4 + 400);
  assert.is(plan.peak, 400_000 + 260_000 + 40_400);
  const msg = memoryRefusal('patchcore', { ...plan, budget: 689_000 }, 10, 100, { coresetRatio: 0.1 });
  assert.match(msg, /1000 patch vectors = 10 images × 100 patches/);
  assert.match(msg, /coresetRatio 0\.07\d*/);
  assert.match(msg, /memoryBudget/);
});

test('a memoryBudget too small is refused before the bank is built, naming the option', async () => {
  const m = createMethod('patchcore', { ...SMALL, memoryBudget: 1e-6 });
  await rejects(() => m.fit(data.train, quiet), /more than memoryBudget .*memoryBudget 0\.\d+/);
});

test('fit → score on grey images: maps at the input size, finite scores, lesions score higher; progress in batches', async () => {
  const m = createMethod('patchcore', SMALL);
  const reports: number[] = [];
  const lines: string[] = [];
  const fit = await m.fit(data.train, { onProgress: (p) => reports.push(p.step), onMessage: (t) => lines.push(t) });
  assert.is(fit.epochs, 1);
  assert.equal(reports, [1]); // 6 images, batch 8: one batch, reported once at the end
  assert.match(lines[0], /memory bank: 96 vectors \(6 images × 4×4 patches\) × d 1024/);
  const pc = m as PatchCore;
  assert.is(pc.memoryBank.count, 24); // 25 % of 96
  const r = await m.score(data.test);
  assert.is(r.scores.length, 6);
  assert.is(r.maps!.length, 6);
  assert.is(r.maps![0].length, 32 * 32);
  for (const s of r.scores) assert.ok(Number.isFinite(s) && s >= 0);
  // a training image is at distance 0 from itself only when all its patches are kept; scores are not negative
  const meanN = (r.scores[0] + r.scores[1] + r.scores[2]) / 3;
  const meanA = (r.scores[3] + r.scores[4] + r.scores[5]) / 3;
  assert.ok(meanA > meanN, `abnormal mean ${meanA} ≤ normal mean ${meanN}`);
});

test('official image score is the max patch score; reweighted ≤ max', async () => {
  const base = { ...SMALL, sigma: 0, upsample: 'nearest' } as const;
  const m = createMethod('patchcore', base);
  await m.fit(data.train, quiet);
  const r = await m.score(data.test);
  for (let i = 0; i < r.scores.length; i++) {
    const mx = r.maps![i].reduce((a, v) => Math.max(a, v), -Infinity);
    assert.is(r.scores[i], mx);
  }
  const w = createMethod('patchcore', { ...base, imageScore: 'reweighted' });
  await w.fit(data.train, quiet);
  const rw = await w.score(data.test);
  for (let i = 0; i < r.scores.length; i++) assert.ok(rw.scores[i] <= r.scores[i] + 1e-6);
});

test('save → load gives identical scores and maps; the config records the weights SHA-256 (null: random) and the bank size', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'patchcore-'));
  try {
    const m = createMethod('patchcore', { ...SMALL, preset: 'anomalib' });
    await m.fit(data.train, quiet);
    const before = await m.score(data.test);
    await m.save(dir);
    const back = await loadMethod(dir);
    assert.is(back.options.preset, 'anomalib');
    const after = await back.score(data.test);
    assert.equal(Array.from(after.scores), Array.from(before.scores));
    for (let i = 0; i < before.maps!.length; i++) assert.equal(Array.from(after.maps![i]), Array.from(before.maps![i]));
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.is(cfg.featureReference.backbone, 'resnet18');
    assert.is(cfg.featureReference.weightsSha256, null);
    assert.is(cfg.featureReference.fitted.bankVectors, 24);
    assert.is(cfg.featureReference.fitted.dim, 128 + 256);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('same seed → same bank; another seed → another coreset', async () => {
  const bank = async (seed: number) => {
    const m = createMethod('patchcore', { ...SMALL, seed }) as PatchCore;
    await m.fit(data.train, quiet);
    return Array.from(m.memoryBank.vectors);
  };
  const a = await bank(1);
  assert.equal(await bank(1), a);
  assert.not.equal(await bank(2), a);
});

test('colour (3-channel) input works; grey input equals the same image replicated to three channels', async () => {
  const grey = await data.train.images();
  const n = data.train.length;
  const per = 32 * 32;
  const rgb = new Float32Array(n * 3 * per);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) rgb.set(grey.subarray(i * per, (i + 1) * per), (i * 3 + c) * per);
  const colour = arraySplit('train', rgb, new Uint8Array(n), 3, 32);
  const g = createMethod('patchcore', SMALL) as PatchCore;
  const c = createMethod('patchcore', { ...SMALL, channels: 3 }) as PatchCore;
  await g.fit(data.train, quiet);
  await c.fit(colour, quiet);
  assert.equal(Array.from(c.memoryBank.vectors), Array.from(g.memoryBank.vectors));
});

test('bankPrecision float16: the plan counts the kept bank at 2 B per value (the full bank stays float32); a refusal names bankPrecision float16 when it fits', () => {
  const half = patchcoreMemoryPlan(1000, 100, { coresetRatio: 0.1, coresetProjection: 128, bankPrecision: 'float16' }, 1e6);
  assert.equal([half.fullBank, half.projection, half.keptVectors, half.bytesPerValue], [400_000, 260_000, 100, 2]);
  assert.is(half.keptBank, 100 * (100 * 2 + 4)); // half values + one float32 norm per vector
  assert.is(half.peak, 400_000 + 260_000 + 20_400);
  // coresetRatio 1: the index holds a copy of the full bank, alive with it until the full bank is dropped
  const all32 = patchcoreMemoryPlan(1000, 100, { coresetRatio: 1, coresetProjection: 128 }, 1e6);
  const all16 = patchcoreMemoryPlan(1000, 100, { coresetRatio: 1, coresetProjection: 128, bankPrecision: 'float16' }, 1e6);
  assert.equal([all32.projection, all32.keptBank, all32.peak], [0, 1000 * 404, 400_000 + 404_000]);
  assert.equal([all16.keptBank, all16.peak], [1000 * 204, 400_000 + 204_000]);
  // float32 over budget, float16 under: both fixes named
  const f32 = patchcoreMemoryPlan(1000, 100, { coresetRatio: 0.1, coresetProjection: 128 }, 689_000);
  const msg = memoryRefusal('patchcore', f32, 10, 100, { coresetRatio: 0.1 });
  assert.match(msg, /kept bank \(100 vectors, float32\)/);
  assert.match(msg, /coresetRatio 0\.07\d*/);
  assert.match(msg, /bankPrecision float16 \(peak 0\.7 MB\)/);
  // neither fits alone: float16 allows a larger ratio than float32 does
  const tight = memoryRefusal('patchcore', { ...f32, budget: 670_000 }, 10, 100, { coresetRatio: 0.1 });
  assert.match(tight, /coresetRatio 0\.0247 \(or smaller\)/); // 10 000 B left / (100 × 4 + 4) B / 1000 vectors
  assert.match(tight, /bankPrecision float16 with coresetRatio 0\.049 \(or smaller\)/); // / (100 × 2 + 4) B
  // already float16: not suggested again
  const already = memoryRefusal('patchcore', { ...half, budget: 670_000 }, 10, 100, { coresetRatio: 0.1 });
  assert.match(already, /kept bank \(100 vectors, float16\)/);
  assert.not.match(already, /bankPrecision float16 (\(|with)/);
});

test('a memoryBudget between the float16 and float32 peaks: float32 is refused naming bankPrecision float16, which then fits', async () => {
  // 96 vectors × d 1024: full 393 216 B + projection 96 × 260 B + 24 kept × (1024 × 4 + 4) = 516 576 B; float16: 467 424 B
  const budget = { ...SMALL, memoryBudget: 0.0005 };
  await rejects(() => createMethod('patchcore', budget).fit(data.train, quiet), /more than memoryBudget .*bankPrecision float16 \(peak 0\.5 MB\)/);
  const lines: string[] = [];
  await createMethod('patchcore', { ...budget, bankPrecision: 'float16' }).fit(data.train, { onMessage: (t) => lines.push(t) });
  assert.match(lines[0], /keeps 24 \(0\.0 MB float16\)/);
});

test('bankPrecision float16: the bank is float32\'s rounded to half (same coreset picks); scores within the rounding bound', async () => {
  // official: squared distances; anomalib with the max image score: Euclidean (the re-weighted
  // score is not bounded this way: a near tie of top patches or of m* may swap)
  for (const variant of [{ preset: 'official' }, { preset: 'anomalib', imageScore: 'max' }] as const) {
    const a = createMethod('patchcore', { ...SMALL, ...variant }) as PatchCore;
    const h = createMethod('patchcore', { ...SMALL, ...variant, bankPrecision: 'float16' }) as PatchCore;
    await a.fit(data.train, quiet);
    await h.fit(data.train, quiet);
    const b32 = a.memoryBank;
    const b16 = h.memoryBank;
    assert.is(b16.precision, 'float16');
    assert.is(b16.count, b32.count);
    assert.equal(Array.from(b16.vectors), Array.from(halfToFloat(halfFromFloat(b32.vectors))));
    // ‖b̃ − b‖ ≤ 2^-11 ‖b‖ (round to nearest, normal halves; the values here are far from subnormal),
    // so each Euclidean distance, hence each min over the bank and max over patches, moves by at
    // most δ = 2^-11 max‖b‖; squared distances by δ(2√s + δ). Plus a float32 allowance for the
    // ‖q‖² + ‖b‖² − 2 q·b expansion.
    let maxNorm = 0;
    for (let i = 0; i < b32.count; i++) {
      let n2 = 0;
      for (let t = 0; t < b32.dim; t++) n2 += b32.vectors[i * b32.dim + t] ** 2;
      maxNorm = Math.max(maxNorm, Math.sqrt(n2));
    }
    const delta = maxNorm / 2048;
    const r32 = await a.score(data.test);
    const r16 = await h.score(data.test);
    for (let i = 0; i < r32.scores.length; i++) {
      const s = r32.scores[i];
      const bound = variant.preset === 'official' ? delta * (2 * Math.sqrt(s) + delta) : delta;
      assert.ok(Math.abs(r16.scores[i] - s) <= bound + 1e-4 * (1 + s), `${variant.preset} image ${i}: float16 ${r16.scores[i]} vs float32 ${s}, bound ${bound}`);
    }
  }
});

test('bankPrecision float16: model.safetensors holds the bank as F16 (half the bytes); save → load gives identical scores, maps and bank bits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'patchcore16-'));
  const dir32 = mkdtempSync(join(tmpdir(), 'patchcore32-'));
  try {
    const m = createMethod('patchcore', { ...SMALL, preset: 'anomalib', bankPrecision: 'float16' }) as PatchCore; // re-weighted: reads half rows
    await m.fit(data.train, quiet);
    const before = await m.score(data.test);
    await m.save(dir);
    const f = readSafetensors(join(dir, 'model.safetensors')).tensors.get('memory_bank')!;
    assert.is(f.dtype, 'F16');
    assert.equal(f.shape, [24, 384]);
    const m32 = createMethod('patchcore', { ...SMALL, preset: 'anomalib' });
    await m32.fit(data.train, quiet);
    await m32.save(dir32);
    const size = (d: string) => statSync(join(d, 'model.safetensors')).size;
    assert.ok(Math.abs(size(dir) - size(dir32) / 2) < 1024, `F16 ${size(dir)} B vs F32 ${size(dir32)} B`);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.is(cfg.featureReference.fitted.bankPrecision, 'float16');
    const back = (await loadMethod(dir)) as PatchCore;
    assert.is(back.options.bankPrecision, 'float16');
    assert.equal(Array.from(back.memoryBank.vectors), Array.from(m.memoryBank.vectors));
    const after = await back.score(data.test);
    assert.equal(Array.from(after.scores), Array.from(before.scores));
    for (let i = 0; i < before.maps!.length; i++) assert.equal(Array.from(after.maps![i]), Array.from(before.maps![i]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(dir32, { recursive: true, force: true });
  }
});

test('bad options are refused naming the option', () => {
  assert.throws(() => createMethod('patchcore', { ...SMALL, layers: 'layer2,layer9' }).validate!(), /resnet18 has no layer "layer9"/);
  assert.throws(() => createMethod('patchcore', { ...SMALL, patchSize: 4 }).validate!(), /"patchSize" must be odd/);
  assert.throws(() => createMethod('patchcore', { ...SMALL, channels: 2 }).validate!(), /"channels" must be 1 or 3/);
  assert.throws(() => createMethod('patchcore', { ...SMALL, bankPrecision: 'int8' as never }), /bankPrecision/);
});

test.run();
