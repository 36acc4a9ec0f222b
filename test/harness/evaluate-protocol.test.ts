// A method's pixel-metric protocol (Method.pixelProtocol) reaching metricsOf / evaluate:
// the one-stage SSL ⌈Dice⌉ on 100 quantiles after SciPy's zoom of maps (order 3) and masks
// (order 0) to 64 × 64 (quirk sslDiceZoom64), against the reference procedure run in
// Python on SciPy's zoom (test/fixtures/zoom/zoom.json, scripts/make-zoom-fixtures.py).
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSplit, type SourceItem } from '../../src/data/index.js';
import { evaluate, metricsOf } from '../../src/harness/evaluate.js';
import { createMethod } from '../../src/methods/index.js';
import type { Method, ScoreResult } from '../../src/methods/types.js';
import { Lcg } from '../metrics/lcg.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/zoom/zoom.json', import.meta.url), 'utf8')) as {
  dice: { size: number; out: number; quantiles: number; seeds: number[]; dice: number; threshold: number; dice256: number; threshold256: number };
};

/** scripts/make-zoom-fixtures.py dice_map: a soft blob over a rectangle plus LCG noise, 16-px zero border. */
function diceMap(seed: number, size: number): { map: Float32Array; mask: Uint8Array } {
  const g = new Lcg(seed);
  const y0 = 40 + ((g.next() >>> 24) % 100);
  const x0 = 40 + ((g.next() >>> 24) % 100);
  const h = 20 + ((g.next() >>> 24) % 60);
  const w = 20 + ((g.next() >>> 24) % 60);
  const mask = new Uint8Array(size * size);
  if (seed % 4 !== 0) for (let y = y0; y < y0 + h; y++) mask.fill(1, y * size + x0, y * size + x0 + w);
  const n = new Lcg(seed + 1000);
  const map = new Float32Array(size * size);
  for (let i = 0; i < map.length; i++) {
    const y = Math.floor(i / size);
    const x = i % size;
    const noise = (n.next() >>> 8) / 16777216;
    const border = y < 16 || y >= size - 16 || x < 16 || x >= size - 16;
    map[i] = border ? 0 : 0.6 * mask[i] + 0.5 * noise;
  }
  return { map, mask };
}

const { size, seeds } = fixture.dice;
const cases = seeds.map((s) => diceMap(s, size));

function split() {
  const items: SourceItem[] = cases.map((c, i) => ({
    id: `t${i}`,
    path: `/mem/t${i}`,
    label: c.mask.some((v) => v > 0) ? 1 : 0,
    read: async () => ({
      image: { width: size, height: size, channels: 1 as const, data: new Uint8Array(size * size) },
      mask: { width: size, height: size, channels: 1 as const, data: Uint8Array.from(c.mask, (v) => v * 255) },
    }),
  }));
  return createSplit({ dataset: 'mem', name: 'test', items, hasMasks: true, preprocess: { size, channels: 1, resample: 'pil-bilinear' } });
}

const result: ScoreResult = { scores: Float32Array.from(cases, (_, i) => i), maps: cases.map((c) => c.map) };

test('one-stage protocol: ⌈Dice⌉ after the 64-px zoom on 100 quantiles equals the reference (SciPy) value', async () => {
  const m = await metricsOf(result, split(), { diceQuantiles: 100, diceZoom: 64 });
  assert.ok(m.pixel);
  assert.is(m.pixel!.diceSize, 64);
  assert.is(m.pixel!.size, 256);
  assert.is(m.pixel!.diceThresholds, 100);
  assert.ok(Math.abs(m.pixel!.bestDice - fixture.dice.dice) < 1e-12, `${m.pixel!.bestDice} vs ${fixture.dice.dice}`);
  assert.is(m.pixel!.bestDiceThreshold, Math.fround(fixture.dice.threshold));
});

test('quirk off (no zoom): ⌈Dice⌉ at the maps\' 256 px on 100 quantiles; AP_pix and AUPRO do not depend on the zoom', async () => {
  const s = split();
  const native = await metricsOf(result, s, { diceQuantiles: 100, diceZoom: null });
  const zoomed = await metricsOf(result, s, { diceQuantiles: 100, diceZoom: 64 });
  assert.is(native.pixel!.diceSize, 256);
  assert.ok(Math.abs(native.pixel!.bestDice - fixture.dice.dice256) < 1e-12, `${native.pixel!.bestDice} vs ${fixture.dice.dice256}`);
  assert.is(native.pixel!.bestDiceThreshold, Math.fround(fixture.dice.threshold256));
  assert.ok(Math.abs(native.pixel!.bestDice - zoomed.pixel!.bestDice) > 0.01); // the quirk matters on these maps
  assert.is(native.pixel!.ap, zoomed.pixel!.ap);
  assert.is(native.pixel!.auroc, zoomed.pixel!.auroc);
  assert.is(native.pixel!.aupro, zoomed.pixel!.aupro);
  // No protocol: the reconstruction sub-project's 200 quantiles at the maps' side.
  const plain = await metricsOf(result, s);
  assert.is(plain.pixel!.diceThresholds, 200);
  assert.is(plain.pixel!.diceSize, 256);
});

test('evaluate takes the protocol from the method', async () => {
  const s = split();
  const method = { score: async () => result, pixelProtocol: () => ({ diceQuantiles: 100, diceZoom: 64 }) } as unknown as Method;
  const m = await evaluate(method, s);
  assert.is(m.pixel!.diceSize, 64);
  assert.ok(Math.abs(m.pixel!.bestDice - fixture.dice.dice) < 1e-12);
});

test('the one-stage methods ask for 100 quantiles at 64 px by default; sslDiceZoom64 false keeps the maps\' side', () => {
  for (const name of ['cutpaste', 'fpi', 'pii', 'nsa']) {
    const on = createMethod(name, {});
    assert.is(on.options.sslDiceZoom64, true, name);
    assert.equal(on.pixelProtocol?.(), { diceQuantiles: 100, diceZoom: 64 }, name);
    assert.equal(createMethod(name, { sslDiceZoom64: false }).pixelProtocol?.(), { diceQuantiles: 100, diceZoom: null }, name);
  }
  // A reconstruction method keeps the default protocol.
  assert.is(createMethod('ae', {}).pixelProtocol, undefined);
});

test('a bad protocol from a method is named', async () => {
  try {
    await metricsOf(result, split(), { diceZoom: 0 });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /diceZoom must be a positive integer or null, got 0/);
  }
});

test.run();
