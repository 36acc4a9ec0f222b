// Streaming (histogram) mode: every result lies within its stated bound of the exact
// value, the bound tightens with more bins, and it is small for continuous scores.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PixelHistogram, aupro, bestDice, pixelAp, pixelAuroc, scoreRange } from '../../src/metrics/index.js';
import { Lcg } from './lcg.js';

type Maker = (g: Lcg, mask: Uint8Array, i: number) => Float32Array;

const W = 48;
function dataset(seed: number, images: number, make: Maker) {
  const g = new Lcg(seed);
  const maps: Float32Array[] = [];
  const masks: Uint8Array[] = [];
  for (let k = 0; k < images; k++) {
    const mask = new Uint8Array(W * W);
    if (k % 2 === 1) {
      const cy = 8 + ((g.next() >>> 24) % 32);
      const cx = 8 + ((g.next() >>> 24) % 32);
      const r = 2 + ((g.next() >>> 24) % 7);
      for (let y = 0; y < W; y++) for (let x = 0; x < W; x++) if ((y - cy) ** 2 + (x - cx) ** 2 <= r * r) mask[y * W + x] = 1;
    }
    masks.push(mask);
    maps.push(make(g, mask, k));
  }
  return { maps, masks };
}

const u = (g: Lcg) => g.next() / 4294967296;
const distributions: Record<string, Maker> = {
  'continuous scores': (g, mask) => Float32Array.from(mask, (m) => u(g) + 0.7 * m * u(g)),
  'heavy ties (16 levels)': (g, mask) => Float32Array.from(mask, (m) => Math.floor((u(g) + 0.5 * m) * 16) / 16),
  'zero background, skewed': (g, mask) =>
    Float32Array.from(mask, (m, j) => ((j % W) < 6 ? 0 : Math.exp(4 * u(g)) * (m ? 2.5 * u(g) + 0.3 : 0.4))),
};

const within = (approx: { value: number; errorBound: number }, exact: number, what: string) =>
  assert.ok(
    Math.abs(approx.value - exact) <= approx.errorBound + 1e-12,
    `${what}: |${approx.value} − ${exact}| = ${Math.abs(approx.value - exact)} > bound ${approx.errorBound}`,
  );

for (const [name, make] of Object.entries(distributions)) {
  const { maps, masks } = dataset(name.length * 101, 24, make);
  const exact = {
    auroc: pixelAuroc(maps, masks),
    ap: pixelAp(maps, masks),
    dice: bestDice(maps, masks, { fitOnTest: true }).dice,
    diceAll: bestDice(maps, masks, { quantiles: 'all', fitOnTest: true }).dice,
    dice37: bestDice(maps, masks, { quantiles: 37, fitOnTest: true }).dice,
    aupro: aupro(maps, masks),
    aupro05: aupro(maps, masks, { fprLimit: 0.05 }),
  };
  test(`${name}: streaming results within their bounds, bounds shrink with bins`, () => {
    let previous: Record<string, number> | null = null;
    for (const bins of [16, 256, 4096, 65536]) {
      const o = { mode: 'streaming' as const, bins };
      const r = {
        auroc: pixelAuroc(maps, masks, o),
        ap: pixelAp(maps, masks, o),
        dice: bestDice(maps, masks, { ...o, fitOnTest: true }),
        diceAll: bestDice(maps, masks, { ...o, quantiles: 'all', fitOnTest: true }),
        dice37: bestDice(maps, masks, { ...o, quantiles: 37, fitOnTest: true }),
        aupro: aupro(maps, masks, o),
        aupro05: aupro(maps, masks, { ...o, fprLimit: 0.05 }),
      };
      for (const key of Object.keys(r) as (keyof typeof r)[]) within(r[key], exact[key], `${key} @ ${bins} bins`);
      const bounds = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.errorBound]));
      if (previous) {
        // Bins of 65536 nest inside those of 4096 etc. only approximately (float
        // rounding), so allow a hair of slack.
        for (const k of ['auroc', 'ap', 'aupro']) assert.ok(bounds[k] <= previous[k] * 1.001 + 1e-15, `${k} bound grew at ${bins}`);
      }
      previous = bounds;
    }
  });
}

test('continuous scores with 65536 bins: bounds below 1e-3', () => {
  const { maps, masks } = dataset(3, 24, distributions['continuous scores']);
  const o = { mode: 'streaming' as const, bins: 65536 };
  for (const r of [pixelAuroc(maps, masks, o), pixelAp(maps, masks, o), aupro(maps, masks, o), bestDice(maps, masks, { ...o, quantiles: 'all', fitOnTest: true })]) {
    assert.ok(r.errorBound < 1e-3, `bound ${r.errorBound}`);
    assert.is(r.bins, 65536);
  }
});

test('histogram fed image by image equals the one-call streaming mode', () => {
  const { maps, masks } = dataset(11, 10, distributions['continuous scores']);
  const range = scoreRange(maps);
  const h = new PixelHistogram({ ...range, bins: 1000 });
  maps.forEach((m, i) => h.add(m, masks[i]));
  assert.equal(h.auroc(), pixelAuroc(maps, masks, { mode: 'streaming', bins: 1000 }));
  assert.equal(h.ap(), pixelAp(maps, masks, { mode: 'streaming', bins: 1000, range }));
  assert.is(h.images, 10);
});

test('scores outside the histogram range, bad bins and non-square maps without width are refused', () => {
  const { maps, masks } = dataset(11, 4, distributions['continuous scores']);
  const h = new PixelHistogram({ min: 0, max: 0.5 });
  assert.throws(() => h.add(maps[0], masks[0]), /outside the histogram range/);
  assert.throws(() => new PixelHistogram({ min: 1, max: 0 }), /min ≤ max/);
  assert.throws(() => pixelAuroc(maps, masks, { mode: 'streaming', bins: 0 }), /bins/);
  const h2 = new PixelHistogram({ min: 0, max: 1 });
  h2.add(Float32Array.from([0.1, 0.9, 0.2, 0.3, 0.5, 0.2]), Uint8Array.from([0, 1, 0, 0, 0, 0]));
  assert.throws(() => h2.aupro(), /width/);
  assert.ok(Math.abs(h2.auroc().value - 1) < 1e-12); // other metrics still work
  const h3 = new PixelHistogram({ min: 0, max: 1, width: 3 });
  h3.add(Float32Array.from([0.1, 0.9, 0.2, 0.3, 0.5, 0.2]), Uint8Array.from([0, 1, 0, 0, 0, 0]));
  assert.ok(Math.abs(h3.aupro().value - 1) < 1e-12);
});

test('constant maps: one bin, still exact ties', () => {
  const maps = [new Float32Array(16).fill(2), new Float32Array(16).fill(2)];
  const masks = [new Uint8Array(16), Uint8Array.from({ length: 16 }, (_, i) => (i < 3 ? 1 : 0))];
  const r = pixelAuroc(maps, masks, { mode: 'streaming' });
  assert.is(r.value, 0.5);
  within(r, pixelAuroc(maps, masks), 'constant');
});

test.run();
