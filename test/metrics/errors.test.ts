// Undefined cases throw an error naming the metric and the argument — never a silent
// 0.5, 0 or NaN.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  aupro,
  auroc,
  averagePrecision,
  atThreshold,
  bestDice,
  f1Max,
  pixelAp,
  pixelAtThreshold,
  pixelAuroc,
  pixelMetrics,
  f1MaxThreshold,
} from '../../src/metrics/index.js';

/** Asserts fn throws and the message matches every pattern. */
function throwsWith(fn: () => unknown, ...patterns: RegExp[]): void {
  let message = '';
  try {
    fn();
  } catch (e) {
    message = (e as Error).message;
  }
  assert.ok(message !== '', 'expected an error');
  for (const p of patterns) assert.match(message, p);
}

const imageMetrics: [string, (s: ArrayLike<number>, y: ArrayLike<number>) => unknown][] = [
  ['auroc', auroc],
  ['averagePrecision', averagePrecision],
  ['f1Max', (s, y) => f1Max(s, y, { fitOnTest: true })],
  ['atThreshold', (s, y) => atThreshold(s, y, 0.5)],
];

for (const [name, fn] of imageMetrics) {
  test(`${name}: one class, empty, NaN, ±Infinity, length mismatch, non-binary labels`, () => {
    throwsWith(() => fn([0.1, 0.2, 0.3], [0, 0, 0]), new RegExp(`^${name}:`), /labels/, /one class/);
    throwsWith(() => fn([0.1, 0.2, 0.3], [1, 1, 1]), new RegExp(`^${name}:`), /labels/, /one class/);
    throwsWith(() => fn([], []), new RegExp(`^${name}:`), /scores is empty/);
    throwsWith(() => fn([0.1, NaN, 0.3], [0, 1, 0]), /scores\[1\] is NaN/);
    throwsWith(() => fn(Float32Array.from([0.1, 0.2, Infinity]), [0, 1, 0]), /scores\[2\] is Infinity/);
    throwsWith(() => fn([0.1, 0.2, -Infinity], [0, 1, 0]), /scores\[2\] is -Infinity/);
    throwsWith(() => fn([0.1, 0.2, 0.3], [0, 1]), /labels has 2 entries but the scores have 3/);
    throwsWith(() => fn([0.1, 0.2, 0.3], [0, 255, 0]), /labels\[1\] is 255/, /0\/1/);
    throwsWith(() => fn(null as unknown as number[], [0, 1]), /scores must be an array/);
  });
}

const pixelMetricsList: [string, (m: ArrayLike<number>[], g: ArrayLike<number>[]) => unknown][] = [
  ['pixelAuroc', pixelAuroc],
  ['pixelAp', pixelAp],
  ['bestDice', (m, g) => bestDice(m, g, { fitOnTest: true })],
  ['aupro', aupro],
  ['pixelAtThreshold', (m, g) => pixelAtThreshold(m, g, 0.5)],
  ['pixelMetrics', pixelMetrics],
  ['pixelAuroc (streaming)', (m, g) => pixelAuroc(m, g, { mode: 'streaming' })],
];

const map = () => Float32Array.from([0.1, 0.2, 0.3, 0.4]);
const mask = () => Uint8Array.from([0, 1, 0, 0]);

for (const [name, fn] of pixelMetricsList) {
  test(`${name}: map/mask count and size mismatches, NaN, non-binary masks, one class`, () => {
    throwsWith(() => fn([map(), map()], [mask()]), /maps has 2 images but masks has 1/);
    throwsWith(() => fn([map()], [Uint8Array.from([0, 1, 0])]), /maps\[0\] has 4 pixels but masks\[0\] has 3/);
    throwsWith(() => fn([], []), /maps is empty/);
    throwsWith(() => fn([map(), Float32Array.from([0.1, NaN, 0, 0])], [mask(), mask()]), /maps\[1\]\[1\] is NaN/);
    throwsWith(() => fn([map()], [Uint8Array.from([0, 255, 0, 0])]), /masks\[0\]\[1\] is 255/, /mask > 0/);
    throwsWith(() => fn([map()], [new Uint8Array(4)]), /no anomalous pixel/);
    throwsWith(() => fn([map()], [new Uint8Array(4).fill(1)]), /no normal pixel/);
  });
}

test('oracle metrics run without a flag and say they are oracles', () => {
  const s = [0.1, 0.9, 0.4];
  const y = [0, 1, 0];
  const f = f1Max(s, y);
  assert.equal(f.oracle, true);
  assert.equal(f.f1, 1);
  assert.equal(bestDice([map()], [mask()], { quantiles: 2 }).oracle, true);
  // Fitting a threshold on the test split is what stays refused without the flag.
  throwsWith(() => f1MaxThreshold(s, y, { split: 'test' }), /fitOnTest/);
});

test('bad options are named', () => {
  throwsWith(() => bestDice([map()], [mask()], { quantiles: 0, fitOnTest: true }), /quantiles/);
  throwsWith(() => bestDice([map()], [mask()], { quantiles: 200, fitOnTest: true }), /only 4 pooled pixels for 200 quantiles/);
  throwsWith(() => pixelAuroc([map()], [mask()], { mode: 'fast' } as unknown as { mode: 'exact' }), /mode/);
  throwsWith(() => atThreshold([0.1, 0.9], [0, 1], NaN), /threshold/);
});

test.run();
