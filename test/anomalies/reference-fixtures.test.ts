// The generators' deterministic sub-steps against scikit-image 0.19 / Pillow 9.4 / OpenCV 4.6 /
// torchvision 0.14 (test/fixtures/anomalies/reference.json, made by
// scripts/make-anomaly-fixtures.py): CLAHE, Otsu, the AnatPaste anatomy mask, Pillow's
// GaussianBlur, rotate(expand), ColorJitter pieces, medianBlur, INTER_LINEAR resize, median disk(5).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { anatomyMask, clahe, otsuThreshold, pilGaussianBlur } from '../../src/anomalies/anatpaste.js';
import { rotateExpand } from '../../src/anomalies/cutpaste.js';
import { applyColorJitter } from '../../src/anomalies/jitter.js';
import { diskOffsets, medianBlurBinary, medianFilterFootprint, resizeLinear, toGrey } from '../../src/anomalies/image.js';

const fx = JSON.parse(readFileSync(new URL('../fixtures/anomalies/reference.json', import.meta.url), 'utf8'));
const u8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));
const f64 = (s: string): Float64Array => {
  const b = Buffer.from(s, 'base64');
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const f32 = (s: string): Float32Array => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const mismatches = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
};

test('CLAHE (equalize_adapthist, clip 0.01, 256 bins) and Otsu match scikit-image', () => {
  for (const c of fx.anatomy) {
    const g = clahe(u8(c.image), c.width, c.height);
    const ref = f32(c.clahe);
    let worst = 0;
    for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i]! - ref[i]!));
    assert.ok(worst < 1e-6, `${c.width}×${c.height}: max |Δ| ${worst}`);
    const t = otsuThreshold(g);
    assert.ok(Math.abs(t - c.otsu) < 1e-9, `otsu ${t} vs ${c.otsu}`);
  }
});

test('anatomy mask (LungSegment: dark-region quirk and its fix) matches scikit-image pixel for pixel', () => {
  for (const c of fx.anatomy) {
    const dark = anatomyMask(u8(c.image), c.width, c.height, { darkRegion: true });
    const bright = anatomyMask(u8(c.image), c.width, c.height, { darkRegion: false });
    assert.is(mismatches(dark, u8(c.maskDark)), 0, 'dark');
    assert.is(mismatches(bright, u8(c.maskBright)), 0, 'bright');
    assert.ok(dark.some((v) => v === 1), 'the dark region (lungs) is found');
  }
});

test("Pillow GaussianBlur (three extended box blurs) matches", () => {
  const { width, height, src, out } = fx.blur;
  [0, 1, 2, 3, 5, 8, 14].forEach((r, k) => {
    const got = pilGaussianBlur(u8(src), width, height, r);
    assert.is(mismatches(got, u8(out[k])), 0, `radius ${r}`);
  });
});

test('Pillow rotate(expand=True, NEAREST) of an RGBA patch: size, pixels and alpha match', () => {
  const { width, height, src, cases } = fx.rotate;
  for (const c of cases) {
    const r = rotateExpand({ width, height, channels: 3, data: u8(src) }, c.deg);
    assert.equal([r.image.width, r.image.height], [c.width, c.height], `${c.deg}°`);
    const ref = u8(c.rgba);
    let bad = 0;
    for (let p = 0; p < c.width * c.height; p++) {
      if (r.alpha[p] !== ref[4 * p + 3]) bad++;
      else if (ref[4 * p + 3]) for (let k = 0; k < 3; k++) if (r.image.data[3 * p + k] !== ref[4 * p + k]) bad++;
    }
    assert.is(bad, 0, `${c.deg}°`);
  }
});

test('ColorJitter pieces on uint8 RGB match Pillow ImageEnhance / convert("L") / torchvision adjust_hue', () => {
  const j = fx.jitter;
  const img = { width: j.width, height: j.height, channels: 3 as const, data: u8(j.src) };
  assert.is(mismatches(toGrey(img).data, u8(j.L)), 0, 'L');
  const one = (k: 'brightness' | 'contrast' | 'saturation' | 'hue', f: number) =>
    applyColorJitter(img, { order: [0, 1, 2, 3], brightness: null, contrast: null, saturation: null, hue: null, [k]: f }).data;
  for (const f of [0.9, 0.95, 1.07, 1.1]) {
    assert.is(mismatches(one('brightness', Math.fround(f)), u8(j[`brightness_${f}`])), 0, `brightness ${f}`);
    assert.is(mismatches(one('contrast', Math.fround(f)), u8(j[`contrast_${f}`])), 0, `contrast ${f}`);
    assert.is(mismatches(one('saturation', Math.fround(f)), u8(j[`saturation_${f}`])), 0, `saturation ${f}`);
  }
  for (const h of [-0.1, -0.037, 0.02, 0.1]) assert.is(mismatches(one('hue', h), u8(j[`hue_${h}`])), 0, `hue ${h}`);
});

test('OpenCV medianBlur 5/7 on a binary mask, INTER_LINEAR resize (±1 level), scikit-image median over disk(5)', () => {
  const m = fx.median;
  assert.is(mismatches(medianBlurBinary(u8(m.src), m.width, m.height, 5), u8(m.k5)), 0);
  assert.is(mismatches(medianBlurBinary(u8(m.src), m.width, m.height, 7), u8(m.k7)), 0);
  const d = fx.diskMedian;
  const got = medianFilterFootprint(f64(d.src), d.width, d.height, diskOffsets(5));
  assert.is(mismatches(got, f64(d.out)), 0);
  const r = fx.resize;
  for (const c of r.cases) {
    const out = resizeLinear({ width: r.width, height: r.height, channels: 1, data: u8(r.src) }, c.width, c.height).data;
    const ref = u8(c.out);
    let worst = 0;
    for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(out[i]! - ref[i]!));
    assert.ok(worst <= 1, `${c.width}×${c.height}: ${worst}`);
  }
});

test.run();
