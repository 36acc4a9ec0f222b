// Conformance with scikit-learn (fixtures from scripts/make-sklearn-fixtures.py): image
// AUROC / AP / F1-max, pooled pixel AUROC / AP, the reference ⌈Dice⌉ procedure and the
// MVTec AUPRO definition, all to 1e-9.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  aupro,
  auroc,
  averagePrecision,
  bestDice,
  f1Max,
  pixelAp,
  pixelAuroc,
  pixelMetrics,
} from '../../src/metrics/index.js';
import { lcgContinuous, lcgTied } from './lcg.js';

const TOL = 1e-9;
const dir = new URL('../fixtures/sklearn/', import.meta.url);
const load = (name: string) => JSON.parse(readFileSync(new URL(name, dir), 'utf8'));

function close(actual: number, expected: number, what: string, tol = TOL): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected}`);
}

interface ImageCase {
  name: string;
  float32: boolean;
  scores: number[];
  labels: number[];
  auroc: number;
  ap: number;
  f1Max: number;
  f1Threshold: number;
}

const image = load('image.json') as { cases: ImageCase[] };

test('image fixtures exist and cover the required shapes of data', () => {
  assert.ok(image.cases.length >= 10);
  const names = image.cases.map((c) => c.name).join('|');
  for (const word of ['ties', 'all equal', 'perfect', 'inverted', 'two items']) assert.ok(names.includes(word), word);
});

for (const c of image.cases) {
  test(`image: ${c.name}`, () => {
    const inputs: [ArrayLike<number>, ArrayLike<number> | boolean[]][] = [
      [c.scores, c.labels],
      [c.float32 ? Float32Array.from(c.scores) : Float64Array.from(c.scores), Uint8Array.from(c.labels)],
      [c.scores, c.labels.map((y) => y === 1)],
    ];
    for (const [s, y] of inputs) {
      close(auroc(s, y), c.auroc, 'auroc');
      close(averagePrecision(s, y), c.ap, 'ap');
      const f = f1Max(s, y, { fitOnTest: true });
      close(f.f1, c.f1Max, 'f1Max');
      close(f.threshold, c.f1Threshold, 'f1 threshold');
    }
  });
}

const large = load('large.json') as {
  cases: { seed: number; kind: string; n: number; positives: number; scoreSum: number; auroc: number; ap: number; f1Max: number; f1Threshold: number }[];
};

for (const c of large.cases) {
  test(`large LCG set (${c.kind}, n = ${c.n})`, () => {
    const { scores, labels } = c.kind === 'tied' ? lcgTied(c.seed, c.n) : lcgContinuous(c.seed, c.n);
    // The generator is the same as Python's: same positives and same score sum.
    assert.is(labels.reduce((a, b) => a + b, 0), c.positives);
    let sum = 0;
    for (const v of scores) sum += v;
    close(sum, c.scoreSum, 'score sum', 1e-6);
    close(auroc(scores, labels), c.auroc, 'auroc');
    close(averagePrecision(scores, labels), c.ap, 'ap');
    const f = f1Max(scores, labels, { fitOnTest: true });
    close(f.f1, c.f1Max, 'f1Max');
    close(f.threshold, c.f1Threshold, 'f1 threshold');
  });
}

interface PixelCase {
  name: string;
  height: number;
  width: number;
  maps: number[][];
  masks: string[];
  pixelAuroc: number;
  pixelAp: number;
  diceAll: { dice: number; threshold: number };
  dice: Record<string, { dice: number; threshold: number; thresholds: number }>;
  aupro: Record<string, number>;
}

const pixel = load('pixel.json') as { cases: PixelCase[] };

for (const c of pixel.cases) {
  const maps = c.maps.map((m) => Float32Array.from(m));
  const masks = c.masks.map((m) => Uint8Array.from(m, (ch) => (ch === '1' ? 1 : 0)));
  test(`pixel: ${c.name}: pooled AUROC and AP`, () => {
    close(pixelAuroc(maps, masks), c.pixelAuroc, 'pixelAuroc');
    close(pixelAp(maps, masks), c.pixelAp, 'pixelAp');
    // Number arrays (float64 path) give the same answer.
    close(pixelAuroc(c.maps, masks), c.pixelAuroc, 'pixelAuroc (number[])');
    close(pixelAp(c.maps, masks), c.pixelAp, 'pixelAp (number[])');
  });
  test(`pixel: ${c.name}: reference ⌈Dice⌉ and exact F1-max`, () => {
    for (const [q, want] of Object.entries(c.dice)) {
      const got = bestDice(maps, masks, { quantiles: Number(q), fitOnTest: true });
      close(got.dice, want.dice, `dice q=${q}`);
      assert.is(got.threshold, want.threshold, `threshold q=${q}`);
      assert.is(got.thresholds, want.thresholds, `threshold count q=${q}`);
      assert.is(got.oracle, true);
    }
    const all = bestDice(maps, masks, { quantiles: 'all', fitOnTest: true });
    close(all.dice, c.diceAll.dice, 'dice all');
    assert.is(all.threshold, c.diceAll.threshold);
    const together = pixelMetrics(maps, masks, { bestDice: { quantiles: 200 }, fitOnTest: true });
    close(together.auroc, c.pixelAuroc, 'pixelMetrics auroc');
    close(together.ap, c.pixelAp, 'pixelMetrics ap');
    close(together.bestDice!.dice, c.dice['200'].dice, 'pixelMetrics dice');
  });
  test(`pixel: ${c.name}: AUPRO (MVTec definition)`, () => {
    for (const [limit, want] of Object.entries(c.aupro)) {
      close(aupro(maps, masks, { fprLimit: Number(limit), width: c.width }), want, `aupro ${limit}`);
    }
  });
}

test.run();
