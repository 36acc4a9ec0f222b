// FastFlow end to end at 64 px on a random-weight resnet18 (random backbone weights: mechanics,
// not detection quality; numbers against PyTorch are in flow-fixtures.test.ts), and the
// parameter counts of both flows at their reference settings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends, Generator, setBackend } from '../../../src/engine/index.js';
import { createMethod, loadMethod } from '../../../src/methods/index.js';
import { CFlowHeads, FastFlowHeads } from '../../../src/models/flow-heads.js';
import type { Method } from '../../../src/methods/types.js';
import { arraySplit, fastestBackend, toyHeads } from '../helpers.js';

const backend = fastestBackend();
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-fastflow-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const SMALL = { weights: 'random', size: 64, batchSize: 4, epochs: 3, seed: 2 } as const;
const data = toyHeads({ train: 8, normal: 3, abnormal: 3, size: 64, seed: 4 });

const count = (m: { parameters(): { size: number }[] }) => m.parameters().reduce((n, p) => n + p.size, 0);

function fastflowCounts(arch: 'resnet18' | 'wide_resnet50_2', conv3x3Only: boolean): { flows: number; norms: number } {
  const ch = arch === 'resnet18' ? [64, 128, 256] : [256, 512, 1024];
  const heads = new FastFlowHeads({
    levels: ch.map((c, i) => ({ channels: c, height: 64 >> i, width: 64 >> i })),
    flowSteps: 8,
    clamp: 2,
    conv3x3Only,
    hiddenRatio: 1,
    generator: new Generator(0),
  });
  return { flows: count(heads.fast_flow_blocks), norms: count(heads.norms) };
}

test('parameter counts at 256 px: resnet18 alternating 2,593,024 + 917,504 LayerNorm; 3×3 only 4,657,408 + 917,504; wide_resnet50_2 41,337,856 + 3,670,016', () => {
  assert.equal(fastflowCounts('resnet18', false), { flows: 2_593_024, norms: 917_504 });
  assert.equal(fastflowCounts('resnet18', true), { flows: 4_657_408, norms: 917_504 });
  assert.equal(fastflowCounts('wide_resnet50_2', false), { flows: 41_337_856, norms: 3_670_016 });
});

test('CFlow flows on wide_resnet50_2 (8 blocks, P = 128): 5,523,456 / 17,074,176 / 59,049,984, total 81,647,616 (rotations are buffers, not counted)', () => {
  // One block per level (all eight are alike), so the 2048-channel rotations need not be drawn.
  const perBlock = [512, 1024, 2048].map((c) => count(new CFlowHeads({ channels: [c], condition: 128, blocks: 1, clamp: 1.9, permuteSoft: false, generator: new Generator(0) })));
  assert.equal(perBlock.map((n) => 8 * n), [5_523_456, 17_074_176, 59_049_984]);
  assert.is(8 * perBlock.reduce((a, b) => a + b), 81_647_616);
});

test('defaults and refusals', () => {
  const m = createMethod('fastflow');
  assert.equal(
    [m.options.backbone, m.options.size, m.options.batchSize, m.options.lr, m.options.weightDecay, m.options.flowSteps, m.options.clamp, m.options.conv3x3Only, m.options.hiddenRatio],
    ['resnet18', 256, 32, 1e-3, 1e-5, 8, 2, false, 1],
  );
  assert.is(m.info.family, 'feature-reference');
  const v = (o: Record<string, unknown>) => () => createMethod('fastflow', { weights: 'random', ...o } as never).validate!();
  assert.throws(v({ size: 72 }), /option "size" must be a multiple of 16/);
  assert.throws(v({ channels: 2 }), /option "channels" must be 1 or 3/);
  assert.throws(() => createMethod('fastflow', { backbone: 'vgg19' } as never), /option "backbone" must be one of resnet18, wide_resnet50_2/);
  assert.throws(() => createMethod('fastflow', { hiddenRatio: 0 } as never), /option "hiddenRatio"/);
});

let trained: Method;

test('trains at 64 px with a falling loss; maps in [−1, 0), score = max of the map', async () => {
  const m = createMethod('fastflow', SMALL);
  const r = await m.fit(data.train);
  assert.is(r.steps, 3 * 2);
  assert.ok(r.lossCurve[2] < r.lossCurve[0], `loss ${r.lossCurve}`);
  const res = await m.score(data.test);
  assert.is(res.maps!.length, 6);
  res.maps!.forEach((mp, i) => {
    assert.ok(mp.every((v) => v >= -1 && v < 0));
    assert.is(res.scores[i], Math.max(...mp));
  });
  trained = m;
});

test('save → load gives identical maps and scores', async () => {
  const dir = join(tmp, 'ff');
  await trained.save(dir);
  const a = await trained.score(data.test);
  const b = await (await loadMethod(dir)).score(data.test);
  assert.equal(Array.from(b.scores), Array.from(a.scores));
  b.maps!.forEach((mp, i) => assert.ok(mp.every((v, j) => v === a.maps![i][j]), `map ${i}`));
});

const cpu = backends().find((x) => x.name === 'cpu');
test(`ts and cpu backends score the same weights alike${cpu?.available ? '' : ' (skipped: no cpu backend)'}`, async () => {
  if (!cpu?.available) return;
  const dir = join(tmp, 'ff');
  const few = arraySplit('test', (await data.test.images()).slice(0, 2 * 4096), new Uint8Array(2), 1, 64);
  setBackend('cpu');
  const onCpu = await (await loadMethod(dir)).score(few);
  setBackend('ts');
  try {
    const onTs = await (await loadMethod(dir)).score(few);
    onTs.scores.forEach((s, i) => assert.ok(Math.abs(s - onCpu.scores[i]) <= 1e-4, `score ${i}: ${s} vs ${onCpu.scores[i]}`));
    onTs.maps![0].forEach((v, j) => assert.ok(Math.abs(v - onCpu.maps![0][j]) <= 1e-4));
  } finally {
    setBackend(backend);
  }
});

test.run();
