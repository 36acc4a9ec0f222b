// The same method on the ts reference backend and on the native cpu backend: scoring the
// same weights agrees to float32 rounding, and training from the same seed ends close.
// Skipped (reported as such) when the native addon is not built.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends, setBackend } from '../../src/engine/index.js';
import { createMethod, loadMethod } from '../../src/methods/index.js';
import { toyHeads } from './helpers.js';

const cpu = backends().find((b) => b.name === 'cpu');
const skip = cpu?.available ? null : cpu?.reason ?? 'no cpu backend';
const test = suite(skip ? `ts vs cpu (skipped: ${skip})` : 'ts vs cpu');
const it = (title: string, fn: () => Promise<void>) => (skip ? test.skip(title, fn) : test(title, fn));

const data = toyHeads({ train: 24, normal: 6, abnormal: 6, size: 16, seed: 8 });
const options = { size: 16, width: 4, hidden: 32, latent: 4, batchSize: 8, epochs: 3, seed: 21 };
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-backends-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  return worst;
}

for (const name of ['ae', 'ae-ssim', 'ae-grad', 'memae', 'aeu']) {
  it(`${name}: the same weights score alike (≤ 1e-4 of the largest value); training from one seed ends within 0.5%`, async () => {
    setBackend('cpu');
    const m = createMethod(name, options);
    const fitCpu = await m.fit(data.train);
    const dir = join(tmp, name);
    await m.save(dir);
    const onCpu = await m.score(data.test);
    setBackend('ts');
    const onTs = await (await loadMethod(dir)).score(data.test);
    const scoreDiff = maxRelDiff(onTs.scores, onCpu.scores);
    assert.ok(scoreDiff <= 1e-4, `${name}: scores differ by ${scoreDiff}`);
    const mapDiff = maxRelDiff(onTs.maps![3], onCpu.maps![3]);
    assert.ok(mapDiff <= 1e-4, `${name}: maps differ by ${mapDiff}`);
    // Training: float32 rounding differs per kernel, so trajectories drift slightly apart.
    const t = createMethod(name, options);
    const fitTs = await t.fit(data.train);
    const lossDiff = maxRelDiff(fitTs.lossCurve, fitCpu.lossCurve);
    assert.ok(lossDiff <= 5e-3, `${name}: loss curves differ by ${lossDiff}`);
    const trainedDiff = maxRelDiff((await t.score(data.test)).scores, onCpu.scores);
    assert.ok(trainedDiff <= 5e-3, `${name}: scores after training on each backend differ by ${trainedDiff}`);
    if (process.env.SHOW) console.log(name, scoreDiff, mapDiff, lossDiff, trainedDiff);
  });
}

test.run();
