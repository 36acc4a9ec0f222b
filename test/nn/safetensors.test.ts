// State dicts and optimizer states refuse non-finite weights (issue 7: a model loaded with a
// NaN weight scores every image NaN, far from the file that caused it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor } from '../../src/engine/index.js';
import { Linear } from '../../src/nn/index.js';
import { Adam } from '../../src/nn/optim/index.js';
import { loadOptimizerStateFile, loadStateDictFile, readStateDict, saveOptimizerState, saveStateDict } from '../../src/nn/safetensors.js';
import { throwsMatching } from '../assert-throws.js';

const dir = mkdtempSync(join(tmpdir(), 'medianomaly-sd-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** A saved Linear(3, 2) whose weight holds `bad` at index 4. */
function savedWithWeight(bad: number, file: string): string {
  const net = new Linear(3, 2);
  net.weight.data[4] = bad;
  const path = join(dir, file);
  saveStateDict(net, path);
  return path;
}

for (const [label, bad] of [
  ['NaN', NaN],
  ['Inf', Infinity],
  ['-Inf', -Infinity],
] as const) {
  test(`a ${label} weight is refused, naming the file and the tensor`, () => {
    const path = savedWithWeight(bad, `w-${label}.safetensors`);
    throwsMatching(() => loadStateDictFile(new Linear(3, 2), path), new RegExp(`w-${label}\\.safetensors`), /"weight"/, /non-finite/, /index 4/);
    throwsMatching(() => readStateDict(path), /"weight"/, /non-finite/);
  });
}

test('allowNonFinite: true opts out (for inspecting a diverged run)', () => {
  const path = savedWithWeight(NaN, 'w-optout.safetensors');
  assert.ok(Number.isNaN(readStateDict(path, { allowNonFinite: true }).get('weight')!.data[4]));
  const net = new Linear(3, 2);
  loadStateDictFile(net, path, { allowNonFinite: true });
  assert.ok(Number.isNaN(net.weight.data[4]));
});

test('finite weights load as before', () => {
  const a = new Linear(3, 2);
  const path = join(dir, 'ok.safetensors');
  saveStateDict(a, path);
  const b = new Linear(3, 2);
  b.weight.data.fill(0);
  loadStateDictFile(b, path);
  assert.equal([...b.weight.data], [...a.weight.data]);
});

test('a NaN in an optimizer state is refused, naming the file and the tensor; opt-out works', () => {
  const p = tensor([1, 2], [2], { requiresGrad: true });
  const adam = new Adam([p]);
  p.grad = tensor([NaN, 1]);
  adam.step(); // exp_avg[0] becomes NaN
  const path = join(dir, 'adam-nan.safetensors');
  saveOptimizerState(adam, path);
  throwsMatching(() => loadOptimizerStateFile(new Adam([tensor([1, 2], [2], { requiresGrad: true })]), path), /adam-nan\.safetensors/, /"state\.0\.exp_avg"/, /non-finite/);
  loadOptimizerStateFile(new Adam([tensor([1, 2], [2], { requiresGrad: true })]), path, { allowNonFinite: true });
});

test.run();
