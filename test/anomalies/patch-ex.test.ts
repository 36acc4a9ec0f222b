// patchEx (methods.md §7.1): labels agree with the pixels that changed, the patch count and
// half-size laws over many seeded draws, determinism, grey / RGB / float inputs, the
// patchMaskAssign quirk, and hostile inputs. Poisson modes: test/anomalies/patch-ex-poisson.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { patchEx, patchExPresets, type PatchExOptions } from '../../src/anomalies/patch-ex.js';
import { medianBlurBinary, toFloat32, toRgb, type PixelImage } from '../../src/anomalies/image.js';
import { gamma, roundHalfEven } from '../../src/anomalies/sampling.js';
import { Generator } from '../../src/engine/random.js';
import { throwsMatching } from '../assert-throws.js';
import { bytes, changed, meanSe, synthImage } from './helpers.js';

const brain = synthImage('synth-brain', 0, 96);
const brain2 = synthImage('synth-brain', 1, 96);
const cxr = synthImage('synth-cxr', 0, 96);
const cxr2 = synthImage('synth-cxr', 1, 96);
const sum = (m: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < m.length; i++) s += m[i]!;
  return s;
};
const union = { patchMaskAssign: false };

test('CutPaste (swap): with union masks, label = medianBlur5(pixels changed by more than tol) exactly; with the quirk, label ⊆ that', () => {
  for (const [dst, src] of [
    [brain, brain2],
    [cxr, cxr2],
  ] as const) {
    let placed = 0;
    for (let seed = 0; seed < 20; seed++) {
      for (const assign of [false, true]) {
        const r = patchEx(dst, src, { ...patchExPresets.cutpaste, patchMaskAssign: assign }, new Generator(seed));
        const expect = medianBlurBinary(changed(dst, r.image, 1), 96, 96, 5);
        for (let p = 0; p < expect.length; p++) {
          if (assign) assert.ok(r.label[p]! <= expect[p]!, `seed ${seed} pixel ${p}`);
          else assert.is(r.label[p], expect[p], `seed ${seed} pixel ${p}`);
        }
        // every label value is 0 or 1; the source (same image) was used: no pixel of src appears
        assert.ok(r.label.every((v) => v === 0 || v === 1));
        placed += r.patches.filter((q) => q.placed).length;
      }
    }
    assert.ok(placed > 40, `patches placed: ${placed}`);
  }
});

test('CutPaste: every changed pixel lies in a placed destination rectangle and takes the value of the same image', () => {
  const r = patchEx(cxr, null, patchExPresets.cutpaste, new Generator(5));
  const ch = changed(cxr, r.image);
  const rects = r.patches.filter((q) => q.placed).map((q) => q.dest!);
  assert.ok(rects.length >= 1);
  for (let p = 0; p < ch.length; p++) {
    if (!ch[p]) continue;
    const y = Math.floor(p / 96);
    const x = p % 96;
    assert.ok(rects.some((q) => y >= q.y0 && y < q.y1 && x >= q.x0 && x < q.x1), `pixel ${y},${x} changed outside every patch`);
  }
  // shift: destination rectangles have the source's size, and (here) another position
  for (const q of r.patches.filter((q) => q.placed)) {
    assert.is(q.dest!.y1 - q.dest!.y0, q.source!.y1 - q.source!.y0);
    assert.is(q.dest!.x1 - q.dest!.x0, q.source!.x1 - q.source!.x0);
  }
});

test('FPI (uniform): label ∈ {0, α}; inside it the pixel is floor((1 − α)·D + α·S); outside the patches nothing changes', () => {
  for (let seed = 0; seed < 10; seed++) {
    const r = patchEx(brain, brain2, { ...patchExPresets.fpi, ...union }, new Generator(seed));
    assert.ok(r.alpha >= 0.05 && r.alpha < 0.95);
    const a = Math.fround(r.alpha);
    assert.ok(r.label.every((v) => v === 0 || v === a), 'label values');
    const expect = medianBlurBinary(changed(brain, r.image, 1), 96, 96, 5);
    for (let p = 0; p < expect.length; p++) assert.is(r.label[p] !== 0 ? 1 : 0, expect[p]);
    // same coordinates: a pixel that changed is the α-blend of dst and src at the same place (one patch, or several: applied in turn)
    if (r.patches.filter((q) => q.placed).length === 1) {
      const q = r.patches.find((q) => q.placed)!;
      assert.equal(q.source, q.dest);
      const ch = changed(brain, r.image);
      for (let p = 0; p < ch.length; p++) {
        if (!ch[p]) continue;
        const d = brain.data[p]!;
        const s = brain2.data[p]!;
        assert.is(r.image.data[p], Math.floor(d - r.alpha * d + r.alpha * s));
      }
    }
  }
});

test('logistic-intensity and intensity labels: the logistic of the disk-median of |D − R| inside the binary label', () => {
  const opts: PatchExOptions = { ...patchExPresets.cutpaste, ...union, labelMode: 'logistic-intensity' };
  const r = patchEx(cxr, null, opts, new Generator(3));
  const rb = patchEx(cxr, null, { ...opts, labelMode: 'binary' }, new Generator(3));
  const ri = patchEx(cxr, null, { ...opts, labelMode: 'intensity' }, new Generator(3));
  assert.ok(bytes(r.image).equals(bytes(rb.image)), 'the label mode does not change the pixels');
  assert.ok(sum(rb.label) > 100);
  for (let p = 0; p < r.label.length; p++) {
    if (!rb.label[p]) {
      assert.is(r.label[p], 0);
      continue;
    }
    // intensity d here is the median over the whole plane of the masked difference
    assert.ok(Math.abs(r.label[p]! - 1 / (1 + Math.exp(-0.5 * (ri.label[p]! - 4)))) < 1e-6, `pixel ${p}`);
  }
});

test('patch count: first always, then each of the other two with probability ½ (mean 2, variance ½)', () => {
  const counts: number[] = [];
  const g = new Generator(11);
  const blank: PixelImage = { width: 32, height: 32, channels: 1, data: new Uint8Array(32 * 32).fill(100) };
  for (let i = 0; i < 3000; i++) counts.push(patchEx(blank, null, { mode: 'swap', same: true, skipBackground: null, resize: false }, g).patches.length);
  const { mean, se } = meanSe(counts);
  assert.ok(Math.abs(mean - 2) < 4 * se, `mean ${mean} ± ${se}`);
  const hist = [0, 0, 0, 0];
  for (const c of counts) hist[c]!++;
  assert.is(hist[0], 0);
  // 1, 2, 3 patches with probabilities ¼, ½, ¼
  for (const [k, p] of [
    [1, 0.25],
    [2, 0.5],
    [3, 0.25],
  ] as const) {
    const se = Math.sqrt((p * (1 - p)) / counts.length);
    assert.ok(Math.abs(hist[k]! / counts.length - p) < 4 * se, `P(${k}) = ${hist[k]! / counts.length}`);
  }
});

test('Gamma sampler: mean kθ, variance kθ² (shape 2, scale 0.03; and shape 0.5 through the boost)', () => {
  for (const [k, th] of [
    [2, 0.03],
    [0.5, 1],
    [7.5, 2],
  ] as const) {
    const g = new Generator(k * 100);
    const xs = Array.from({ length: 20000 }, () => gamma(g, k, th));
    assert.ok(xs.every((x) => x > 0));
    const { mean, se } = meanSe(xs);
    assert.ok(Math.abs(mean - k * th) < 4 * se, `mean ${mean} vs ${k * th}`);
    const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
    assert.ok(Math.abs(v / (k * th * th) - 1) < 0.08, `variance ${v} vs ${k * th * th}`);
  }
});

test('half-sizes: int(clip((0.05 + Gamma(2, 0.03))·size, round(0.03·size), round(0.4·size))): bounds and the law of the values', () => {
  const S = 100;
  const [minH, maxH] = [roundHalfEven(0.03 * S), roundHalfEven(0.4 * S)];
  assert.equal([minH, maxH], [3, 40]);
  const blank: PixelImage = { width: S, height: S, channels: 1, data: new Uint8Array(S * S).fill(100) };
  const g = new Generator(21);
  const hs: number[] = [];
  for (let i = 0; i < 800; i++) for (const q of patchEx(blank, null, { mode: 'swap', same: true, skipBackground: null, resize: false }, g).patches) hs.push(q.halfHeight, q.halfWidth);
  assert.ok(hs.every((h) => Number.isInteger(h) && h >= minH && h <= maxH));
  // Expected value: Σ_k k·P(trunc = k), with the Gamma(2, θ) CDF F(x) = 1 − e^(−x/θ)(1 + x/θ).
  const F = (x: number): number => (x <= 0 ? 0 : 1 - Math.exp(-x / 0.03) * (1 + x / 0.03));
  const Fv = (v: number): number => F(v / S - 0.05); // P((0.05 + g)·S < v)
  let expect = 0;
  for (let k = minH; k <= maxH; k++) {
    const lo = k === minH ? 0 : Fv(k);
    const hi = k === maxH ? 1 : Fv(k + 1);
    expect += k * (hi - lo);
  }
  const { mean, se } = meanSe(hs);
  assert.ok(Math.abs(mean - expect) < 4 * se, `mean half-size ${mean} ± ${se}, expected ${expect}`);
  // at 224, §7.1 b's "≈ 24.6 px" is the mean before int() and the clip, (0.05 + 2·0.03)·224 = 24.64;
  // after them it is 24.14
  let e224 = 0;
  const F224 = (v: number): number => F(v / 224 - 0.05);
  for (let k = 7; k <= 90; k++) e224 += k * ((k === 90 ? 1 : F224(k + 1)) - (k === 7 ? 0 : F224(k)));
  assert.ok(Math.abs(e224 - 24.14) < 0.01, `${e224}`);
});

test('source rectangles: centre in {min, …, size − min − 1}, half-size around it, clipped to the image; object fraction > 0.7', () => {
  const g = new Generator(4);
  for (let i = 0; i < 200; i++) {
    const r = patchEx(brain, brain2, { ...patchExPresets.fpi }, g);
    for (const q of r.patches.filter((q) => q.placed)) {
      const s = q.source!;
      assert.ok(s.y0 >= 0 && s.y1 <= 96 && s.x0 >= 0 && s.x1 <= 96);
      assert.ok(s.y1 - s.y0 <= 2 * q.halfHeight && s.x1 - s.x0 <= 2 * q.halfWidth);
      // a rectangle not touching a border is exactly 2·half wide
      if (s.y0 > 0 && s.y1 < 96) assert.is(s.y1 - s.y0, 2 * q.halfHeight);
      // object fraction of the source rectangle in brain2 (threshold 20 before the median blur: close to it)
      let obj = 0;
      for (let y = s.y0; y < s.y1; y++) for (let x = s.x0; x < s.x1; x++) obj += brain2.data[y * 96 + x]! > 20 ? 1 : 0;
      assert.ok(obj / ((s.y1 - s.y0) * (s.x1 - s.x0)) > 0.6, 'mostly object');
    }
  }
});

test('determinism: same seed → same bytes and label; another seed → different', () => {
  for (const preset of ['cutpaste', 'fpi'] as const) {
    const a = patchEx(cxr, cxr2, patchExPresets[preset], new Generator(9));
    const b = patchEx(cxr, cxr2, patchExPresets[preset], new Generator(9));
    const c = patchEx(cxr, cxr2, patchExPresets[preset], new Generator(10));
    assert.ok(bytes(a.image).equals(bytes(b.image)));
    assert.ok(Buffer.from(a.label.buffer).equals(Buffer.from(b.label.buffer)));
    assert.not.ok(bytes(a.image).equals(bytes(c.image)));
  }
  // the inputs are never modified
  const copy = cxr.data.slice();
  patchEx(cxr, null, patchExPresets.cutpaste, new Generator(1));
  assert.ok(Buffer.from(copy).equals(Buffer.from(cxr.data)));
});

test('float (0–1) input: same geometry as uint8; swap gives the uint8 result /255, uniform skips the floor (within one level)', () => {
  for (const preset of ['cutpaste', 'fpi'] as const) {
    const u = patchEx(brain, brain2, patchExPresets[preset], new Generator(2));
    const f = patchEx(toFloat32(brain), toFloat32(brain2), patchExPresets[preset], new Generator(2));
    assert.ok(f.image.data instanceof Float32Array);
    assert.equal(
      f.patches.map((q) => q.dest),
      u.patches.map((q) => q.dest),
    );
    let maxDiff = 0;
    for (let i = 0; i < u.image.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(f.image.data[i]! * 255 - u.image.data[i]!));
    if (preset === 'cutpaste') assert.ok(maxDiff < 1e-3, `${maxDiff}`);
    else assert.ok(maxDiff < 1 + 1e-3, `${maxDiff}`);
    let agree = 0;
    for (let p = 0; p < u.label.length; p++) agree += u.label[p] === f.label[p] ? 1 : 0;
    assert.ok(agree / u.label.length > 0.99, `labels agree on ${agree}`);
  }
});

test('RGB input: three channels out, object mask from the channel mean, label = medianBlur5(changed) with union masks', () => {
  const rgb = toRgb(cxr);
  const rgb2 = toRgb(cxr2);
  // tint the source so channels differ
  for (let i = 0; i < rgb2.data.length; i += 3) rgb2.data[i] = Math.min(255, rgb2.data[i]! + 40);
  for (const preset of ['cutpaste', 'fpi'] as const) {
    const r = patchEx(rgb, rgb2, { ...patchExPresets[preset], ...union }, new Generator(6));
    assert.is(r.image.channels, 3);
    assert.is(r.image.data.length, 96 * 96 * 3);
    assert.is(r.label.length, 96 * 96);
    const expect = medianBlurBinary(changed(rgb, r.image, 1), 96, 96, 5);
    for (let p = 0; p < expect.length; p++) assert.is(r.label[p] !== 0 ? 1 : 0, expect[p]);
    assert.ok(sum(expect) > 0);
  }
  // grey through RGB gives the same geometry as grey itself (the object mask is the channel mean)
  const g1 = patchEx(cxr, null, patchExPresets.cutpaste, new Generator(8));
  const g3 = patchEx(rgb, null, patchExPresets.cutpaste, new Generator(8));
  assert.equal(
    g1.patches.map((q) => q.dest),
    g3.patches.map((q) => q.dest),
  );
  assert.equal(Array.from(g1.label), Array.from(g3.label));
});

test('quirk patchMaskAssign: a later patch overwrites an earlier one inside its rectangle; union keeps both', () => {
  let found = false;
  for (let seed = 0; seed < 300 && !found; seed++) {
    const a = patchEx(brain, null, patchExPresets.cutpaste, new Generator(seed));
    const u = patchEx(brain, null, { ...patchExPresets.cutpaste, ...union }, new Generator(seed));
    assert.ok(bytes(a.image).equals(bytes(u.image)), 'same pixels');
    for (let p = 0; p < a.label.length; p++) assert.ok(a.label[p]! <= u.label[p]!);
    if (sum(u.label) > sum(a.label)) found = true;
  }
  assert.ok(found, 'some seed shows the overwrite');
});

test('all-background images: every patch given up after maxAttempts (bounded), image unchanged, label zero', () => {
  const black: PixelImage = { width: 64, height: 64, channels: 1, data: new Uint8Array(64 * 64) };
  for (const preset of ['cutpaste', 'fpi'] as const) {
    const r = patchEx(black, black, patchExPresets[preset], new Generator(1));
    assert.ok(r.patches.length >= 1);
    assert.ok(r.patches.every((q) => !q.placed && q.failure === 'source'));
    assert.ok(bytes(r.image).equals(bytes(black)));
    assert.ok(r.label.every((v) => v === 0));
  }
  // object only in the source: destination search fails (shift), still bounded
  const obj: PixelImage = { width: 64, height: 64, channels: 1, data: new Uint8Array(64 * 64).fill(200) };
  const r = patchEx(black, obj, { ...patchExPresets.cutpaste, same: false, maxAttempts: 50 }, new Generator(1));
  assert.ok(r.patches.every((q) => q.failure === 'destination'));
});

test('tiny images, patches as large as the image, mismatched inputs, bad options: clear errors or the documented fallback', () => {
  const tiny: PixelImage = { width: 5, height: 5, channels: 1, data: new Uint8Array(25).fill(128) };
  throwsMatching(() => patchEx(tiny, null, patchExPresets.cutpaste, new Generator(0)), /patchEx/, /5 × 5/, /at least 8 × 8/);
  // 8 × 8: bounds round to 0..3; swap still works or gives up, never hangs
  const small: PixelImage = { width: 8, height: 8, channels: 1, data: new Uint8Array(64).fill(128) };
  for (let s = 0; s < 50; s++) patchEx(small, null, patchExPresets.cutpaste, new Generator(s));
  // half-sizes bounded at half the image: the shifted destination range is empty → no patch, not a NumPy error
  const big: PixelImage = { width: 16, height: 16, channels: 1, data: new Uint8Array(256).fill(128) };
  const r = patchEx(big, null, { ...patchExPresets.cutpaste, widthBoundsPct: [[0.5, 0.5], [0.5, 0.5]], skipBackground: null }, new Generator(0));
  assert.ok(r.patches.every((q) => q.failure === 'size'));
  throwsMatching(() => patchEx(brain, cxr2.data.length ? { ...cxr2, width: 48, height: 192 } : cxr2, patchExPresets.fpi, new Generator(0)), /patchEx/, /src is 48 × 192/, /same size/);
  throwsMatching(() => patchEx(brain, toRgb(brain2), patchExPresets.fpi, new Generator(0)), /channel/);
  throwsMatching(() => patchEx(brain, toFloat32(brain2), patchExPresets.fpi, new Generator(0)), /both as uint8 or both as float/);
  throwsMatching(() => patchEx({ ...brain, data: brain.data.subarray(1) }, null, {}, new Generator(0)), /dst.data has 9215 values/);
  throwsMatching(() => patchEx(brain, null, { mode: 'blend' as never }, new Generator(0)), /mode must be one of/);
  throwsMatching(() => patchEx(brain, null, { numPatchs: 2 } as never, new Generator(0)), /unknown option 'numPatchs'/);
  throwsMatching(() => patchEx(brain, null, { minObjectPct: 2 }, new Generator(0)), /minObjectPct/);
  throwsMatching(() => patchEx(brain, null, {}, Math.random as never), /rng must be/);
});

test.run();
