// CutPaste-Normal, CutPaste-Scar (methods.md §7.2), AnatPaste (§7.3) and ColorJitter: labels vs
// changed pixels, size laws, determinism, grey / RGB / float, quirks, hostile inputs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normal, scar } from '../../src/anomalies/cutpaste.js';
import { anatpaste } from '../../src/anomalies/anatpaste.js';
import { colorJitter, colorJitterDraw } from '../../src/anomalies/jitter.js';
import { toFloat32, toRgb, type PixelImage } from '../../src/anomalies/image.js';
import { Generator } from '../../src/engine/random.js';
import { throwsMatching } from '../assert-throws.js';
import { bytes, changed, meanSe, synthImage } from './helpers.js';

const S = 96;
const cxr = toRgb(synthImage('synth-cxr', 0, S));
const brainGrey = synthImage('synth-brain', 2, S);

test('CutPaste-Normal: changed pixels ⊆ label = the pasted rectangle; area fraction in [0.02, 0.15]·(1 ± rounding); mean aspect law', () => {
  const g = new Generator(1);
  const areas: number[] = [];
  const logAspects: number[] = [];
  for (let i = 0; i < 400; i++) {
    const r = normal(cxr, g);
    const ch = changed(cxr, r.image);
    for (let p = 0; p < ch.length; p++) if (ch[p]) assert.is(r.label[p], 1);
    let n = 0;
    for (const v of r.label) n += v;
    assert.is(n, r.to.width * r.to.height, 'square image: the patch never leaves it');
    areas.push((r.to.width * r.to.height) / (S * S));
    logAspects.push(Math.log(r.to.width / r.to.height));
  }
  assert.ok(areas.every((a) => a > 0.015 && a < 0.17), `${Math.min(...areas)} … ${Math.max(...areas)}`);
  const { mean, se } = meanSe(areas);
  assert.ok(Math.abs(mean - 0.085) < 4 * se + 0.004, `mean area ${mean}`); // U(0.02, 0.15), rounding of the sides
  const la = meanSe(logAspects);
  assert.ok(Math.abs(la.mean) < 4 * la.se + 0.02, `mean log aspect ${la.mean}`); // log-uniform, symmetric
});

test('CutPaste-Scar: changed pixels ⊆ label; strip area small (≤ 16 × 25 before rotation); rotations both ways', () => {
  const g = new Generator(2);
  for (let i = 0; i < 200; i++) {
    const r = scar(cxr, g);
    const ch = changed(cxr, r.image);
    let n = 0;
    for (let p = 0; p < ch.length; p++) {
      if (ch[p]) assert.is(r.label[p], 1);
      n += r.label[p]!;
    }
    assert.ok(n > 0 && n <= 17 * 26, `label area ${n}`);
    assert.ok(r.from.width >= 2 && r.from.width <= 17 && r.from.height >= 10 && r.from.height <= 26, JSON.stringify(r.from));
  }
});

test('AnatPaste: label = blend mask / 255 ∈ [0, 1), changed pixels ⊆ label support, centre in the anatomy mask, grey content', () => {
  const g = new Generator(3);
  let nonEmpty = 0;
  for (let i = 0; i < 30; i++) {
    const r = anatpaste(cxr, g);
    assert.ok(r.label.every((v) => v >= 0 && v < 1));
    const ch = changed(cxr, r.image);
    for (let p = 0; p < ch.length; p++) if (ch[p]) assert.ok(r.label[p]! > 0, `pixel ${p}`);
    // RGB in, grey content pasted: a changed pixel has equal channels when the original had
    for (let p = 0; p < ch.length; p++) if (ch[p]) assert.ok(r.image.data[3 * p] === r.image.data[3 * p + 1] && r.image.data[3 * p + 1] === r.image.data[3 * p + 2]);
    if (!r.emptyAnatomy) nonEmpty++;
  }
  assert.ok(nonEmpty > 20, `anatomy found in ${nonEmpty} of 30`);
});

test('AnatPaste quirks: empty anatomy → centre in {0..254} (anatPasteEmptyRange255) or in the image; anatPasteDarkRegion switches the region', () => {
  const flat: PixelImage = { width: 64, height: 64, channels: 1, data: new Uint8Array(64 * 64).fill(90) };
  let outside = 0;
  for (let s = 0; s < 40; s++) {
    const r = anatpaste(flat, new Generator(s));
    assert.ok(r.emptyAnatomy);
    assert.ok(r.center.x >= 0 && r.center.x <= 254 && r.center.y >= 0 && r.center.y <= 254);
    if (r.center.x >= 64 || r.center.y >= 64) outside++;
    const f = anatpaste(flat, new Generator(s), { anatPasteEmptyRange255: false });
    assert.ok(f.center.x < 64 && f.center.y < 64);
  }
  assert.ok(outside > 20, 'the 255 range puts most centres outside a 64-px image');
  const dark = anatpaste(cxr, new Generator(5));
  const bright = anatpaste(cxr, new Generator(5), { anatPasteDarkRegion: false });
  assert.not.equal(dark.center, bright.center);
});

test('determinism, grey and float inputs', () => {
  for (const gen of [
    (im: PixelImage, g: Generator) => normal(im, g),
    (im: PixelImage, g: Generator) => scar(im, g),
    (im: PixelImage, g: Generator) => anatpaste(im, g),
  ]) {
    const a = gen(cxr, new Generator(7));
    const b = gen(cxr, new Generator(7));
    const c = gen(cxr, new Generator(8));
    assert.ok(bytes(a.image).equals(bytes(b.image)));
    assert.equal(Array.from(a.label), Array.from(b.label));
    assert.not.ok(bytes(a.image).equals(bytes(c.image)));
    const grey = gen(brainGrey, new Generator(7));
    assert.is(grey.image.channels, 1);
    const fl = gen(toFloat32(cxr), new Generator(7));
    assert.ok(fl.image.data instanceof Float32Array);
    assert.ok(fl.image.data.every((v) => v >= 0 && v <= 1));
    // same geometry as uint8
    let agree = 0;
    for (let p = 0; p < a.label.length; p++) agree += (a.label[p]! > 0) === (fl.label[p]! > 0) ? 1 : 0;
    assert.ok(agree / a.label.length > 0.98, `${agree}`);
  }
});

test('ColorJitter: factors in range, torchvision order draw, identity at 0, grey untouched by saturation/hue', () => {
  const g = new Generator(9);
  for (let i = 0; i < 200; i++) {
    const d = colorJitterDraw(g, { brightness: 0.1, contrast: 0.1, saturation: 0.1, hue: 0.1 });
    assert.equal([...d.order].sort(), [0, 1, 2, 3]);
    for (const f of [d.brightness!, d.contrast!, d.saturation!]) assert.ok(f >= 0.9 && f <= 1.1);
    assert.ok(d.hue! >= -0.1 && d.hue! <= 0.1);
  }
  assert.ok(bytes(colorJitter(cxr, new Generator(1), { brightness: 0, contrast: 0, saturation: 0, hue: 0 })).equals(bytes(cxr)));
  const gj = colorJitter(brainGrey, new Generator(1), { saturation: 0.5, hue: 0.5 });
  assert.ok(bytes(gj).equals(bytes(brainGrey)));
  const fj = colorJitter(toFloat32(cxr), new Generator(1));
  assert.ok(fj.data instanceof Float32Array && fj.data.every((v) => v >= 0 && v <= 1));
  throwsMatching(() => colorJitter(cxr, new Generator(1), { hue: 0.7 }), /hue/);
});

test('hostile inputs: tiny images never hang, bad options and images are named', () => {
  const tiny: PixelImage = { width: 6, height: 6, channels: 3, data: new Uint8Array(108).fill(100) };
  for (let s = 0; s < 20; s++) {
    normal(tiny, new Generator(s));
    scar(tiny, new Generator(s)); // the strip is larger than the image: clipped, as Pillow pastes
  }
  throwsMatching(() => anatpaste(tiny, new Generator(0)), /anatpaste/, /6 × 6/, /at least 8 × 8/);
  throwsMatching(() => normal({ ...cxr, channels: 4 as never }, new Generator(0)), /1 \(grey\) or 3 \(RGB\)/);
  throwsMatching(() => normal(cxr, new Generator(0), { areaRatio: [0.2, 0.1] }), /areaRatio/);
  throwsMatching(() => scar(cxr, new Generator(0), { width: [-1, 3] }), /width/);
  throwsMatching(() => anatpaste(cxr, new Generator(0), { maskRatio: [200, 300] }), /maskRatio/);
  throwsMatching(() => normal(cxr, {} as never), /rng must be/);
});

test.run();
