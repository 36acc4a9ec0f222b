// Honesty check of the difficulty scale: at 'easy' a trivial statistic separates
// abnormal from normal images almost perfectly; at 'hard' it does not, so a method
// has to model the anatomy to find the lesions.
//
// Statistics (no learning): synth-brain, the image's maximum intensity (easy lesions
// are the brightest thing on the slice); synth-cxr, the maximum intensity inside the
// lung fields (the organ map comes from the generator; over the whole film the spine
// and abdomen are brighter than any opacity, so the global maximum says nothing).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { renderItem, type SyntheticName } from '../../src/data/synthetic/index.js';
import type { Rendered } from '../../src/data/synthetic/render.js';

/** AUROC as the Mann–Whitney statistic: P(score of an abnormal > score of a normal), ties count half. */
function auroc(normal: number[], abnormal: number[]): number {
  let s = 0;
  for (const a of abnormal) for (const n of normal) s += a > n ? 1 : a === n ? 0.5 : 0;
  return s / (normal.length * abnormal.length);
}

const imageMax = (r: Rendered) => r.image.reduce((m, v) => Math.max(m, v), -Infinity);
const organMax = (r: Rendered) => r.image.reduce((m, v, p) => (r.region[p] ? Math.max(m, v) : m), -Infinity);

function score(name: SyntheticName, stat: (r: Rendered) => number, difficulty: number, n = 100): number {
  const normal: number[] = [];
  const abnormal: number[] = [];
  for (let k = 0; k < n; k++) {
    normal.push(stat(renderItem(name, 0, 'test-normal', k, 64, difficulty)));
    abnormal.push(stat(renderItem(name, 0, 'test-abnormal', k, 64, difficulty)));
  }
  return auroc(normal, abnormal);
}

test('auroc helper: perfect, reversed, chance, ties', () => {
  assert.is(auroc([0, 1], [2, 3]), 1);
  assert.is(auroc([2, 3], [0, 1]), 0);
  assert.is(auroc([1, 1], [1, 1]), 0.5);
  assert.is(auroc([0, 2], [1, 3]), 0.75);
});

for (const [name, stat, label] of [
  ['synth-brain', imageMax, 'image maximum'],
  ['synth-cxr', organMax, 'maximum inside the lungs'],
] as const) {
  test(`${name}: ${label} separates at easy, not at hard`, () => {
    const easy = score(name, stat, 0.15);
    const hard = score(name, stat, 0.85);
    console.log(`  ${name} AUROC of the ${label}: easy ${easy.toFixed(3)}, hard ${hard.toFixed(3)} (100 + 100 test images, 64 × 64)`);
    assert.ok(easy > 0.9, `easy AUROC ${easy}`);
    assert.ok(hard < 0.7, `hard AUROC ${hard}`);
  });
}

test.run();
