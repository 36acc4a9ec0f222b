// PatchCore at the official setting (wide_resnet50_2 layer2 + layer3, d = 1024, 224 px, 10 %
// coreset) on synthetic images: fit images/s (backbone + embedding, then the coreset, timed
// apart), inference images/s (backbone + embedding + kNN against the kept bank + maps), and
// peak memory against the size of the bank before the coreset.
//
// Memory: a warm-up fit on one batch first (backbone weights, activations, allocator pools),
// then the peak resident set of the real fit above that warm-up peak; the plan's figure (full
// bank + coreset projection + kept bank) is printed beside it. Backbone weights: the cached
// torchvision file when there is one, else random weights (said in the output: speed and
// memory do not depend on the weights, scores do).
//
//   node --import tsx bench/patchcore.ts [--images 200] [--size 224] [--backbone wide_resnet50_2] [--ratio 0.1] [--test 50] [--preset official]
import { resourceUsage } from 'node:process';
import { backends, setBackend } from '../src/engine/index.js';
import { syntheticDataset } from '../src/data/synthetic/index.js';
import { createMethod } from '../src/methods/registry.js';
import type { PatchCore } from '../src/methods/feature-reference/patchcore.js';
import { resolveWeights } from '../src/weights/index.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};
const images = Number(arg('images', '200'));
const size = Number(arg('size', '224'));
const backbone = arg('backbone', 'wide_resnet50_2');
const ratio = Number(arg('ratio', '0.1'));
const testCount = Number(arg('test', '50'));
const preset = arg('preset', 'official');

const cpu = backends().find((b) => b.name === 'cpu');
if (cpu?.available) setBackend('cpu');
let weights: string | null = null;
try {
  resolveWeights(backbone as 'wide_resnet50_2', null);
} catch {
  weights = 'random';
}
const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;
const maxRss = () => resourceUsage().maxRSS * 1024;

const data = syntheticDataset('synth-brain', { size, channels: 3, count: { train: images, testNormal: Math.ceil(testCount / 2), testAbnormal: Math.floor(testCount / 2) } });
await data.train.images();
await data.test.images();
const opts = { backbone, weights, size, channels: 3, batchSize: 8, coresetRatio: ratio, preset, seed: 0 } as Record<string, unknown>;

// Warm-up: one batch, so that the backbone's weights and activations are in the baseline peak.
const warm = syntheticDataset('synth-brain', { size, channels: 3, count: { train: 8, testNormal: 1, testAbnormal: 1 } });
await createMethod('patchcore', opts).fit(warm.train, { onMessage: () => {} });
(globalThis as { gc?: () => void }).gc?.();
const baseline = maxRss();

const m = createMethod('patchcore', opts) as PatchCore;
const lines: string[] = [];
let extractEnd = 0;
const t0 = performance.now();
await m.fit(data.train, {
  onMessage: (t) => {
    lines.push(t);
    if (t.startsWith('coreset') && !extractEnd) extractEnd = performance.now();
  },
});
const t1 = performance.now();
const peak = maxRss();
const bank = m.memoryBank;
const plan = lines.find((l) => l.startsWith('memory bank')) ?? '';
const fullVectors = Number(/memory bank: (\d+) vectors/.exec(plan)?.[1] ?? 0);
const fullBytes = fullVectors * bank.dim * 4;

const s0 = performance.now();
await m.score(data.test);
const s1 = performance.now();

const extractS = ((extractEnd || t1) - t0) / 1000;
const coresetS = extractEnd ? (t1 - extractEnd) / 1000 : 0;
console.log(`PatchCore ${preset}, ${backbone} (${weights === 'random' ? 'RANDOM weights: no cached torchvision file' : 'cached torchvision weights'}), ${images} images at ${size} px, coreset ${ratio}, backend ${cpu?.available ? 'cpu' : 'ts'}`);
for (const l of lines) console.log(`  ${l}`);
console.log(`fit: ${(images / ((t1 - t0) / 1000)).toFixed(2)} images/s overall (${((t1 - t0) / 1000).toFixed(1)} s: extraction ${extractS.toFixed(1)} s = ${(images / extractS).toFixed(2)} images/s, coreset ${coresetS.toFixed(1)} s)`);
console.log(`inference: ${(testCount / ((s1 - s0) / 1000)).toFixed(2)} images/s (${testCount} images against ${bank.count} × ${bank.dim} bank)`);
console.log(`memory: bank before coreset ${mb(fullBytes)}, kept ${mb(bank.count * bank.dim * 4)}; peak RSS ${mb(peak)}, warm-up peak ${mb(baseline)}, peak above warm-up ${mb(peak - baseline)} = ${((peak - baseline) / fullBytes * 100).toFixed(0)} % of the full bank (target ≤ 125 %)`);
