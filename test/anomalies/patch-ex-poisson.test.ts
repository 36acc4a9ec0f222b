// patchEx with resizing and Poisson cloning (PII, NSA; methods.md §7.1 e, i): the resize law
// and its size bounds, labels against the changed pixels, the logistic-intensity label,
// determinism, grey / RGB / float, and a mask too small to clone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { patchEx, patchExPresets } from '../../src/anomalies/patch-ex.js';
import { medianBlurBinary, toFloat32, toRgb, type PixelImage } from '../../src/anomalies/image.js';
import { Generator } from '../../src/engine/random.js';
import { bytes, changed, synthImage } from './helpers.js';

const S = 64;
const brain = synthImage('synth-brain', 0, S);
const brain2 = synthImage('synth-brain', 1, S);
const cxr = synthImage('synth-cxr', 0, S);
const cxr2 = synthImage('synth-cxr', 1, S);
const union = { patchMaskAssign: false };
const sum = (m: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < m.length; i++) s += m[i]!;
  return s;
};
/** Normal CDF (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7). */
function Phi(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

test('resize: factor clip(N(1, 0.5²), 0.7, 1.3) (P(0.7) = P(1.3) = Φ(−0.6)); full size within the half-size bounds, aspect kept', () => {
  const blank: PixelImage = { width: 100, height: 100, channels: 1, data: new Uint8Array(100 * 100).fill(100) };
  const g = new Generator(31);
  const scales: number[] = [];
  for (let i = 0; i < 1500; i++) {
    const r = patchEx(blank, null, { mode: 'swap', same: true, resize: true, skipBackground: null }, g);
    for (const q of r.patches) {
      if (!q.placed) continue;
      scales.push(q.scale!);
      const h = q.dest!.y1 - q.dest!.y0;
      const w = q.dest!.x1 - q.dest!.x0;
      // the bounds of the half-size (3, 40 at 100 px) bound the full resized size
      assert.ok(h >= 3 && h <= 40 && w >= 3 && w <= 40, `${h} × ${w}`);
      const sh = q.source!.y1 - q.source!.y0;
      const sw = q.source!.x1 - q.source!.x0;
      // w′ = clip(int(h″/h·w)), h′ = clip(int(w′/w·h)): the aspect survives up to truncation and the clip
      if (w > 3 && w < 40 && h > 3 && h < 40) assert.ok(Math.abs(h / w - sh / sw) <= (sh / sw) * (1 / w + 1 / h) + 1e-9, `${h}/${w} vs ${sh}/${sw}`);
    }
  }
  const n = scales.length;
  assert.ok(scales.every((s) => s >= 0.7 && s <= 1.3));
  const pEdge = Phi(-0.6);
  for (const edge of [0.7, 1.3]) {
    const p = scales.filter((s) => s === edge).length / n;
    assert.ok(Math.abs(p - pEdge) < 4 * Math.sqrt((pEdge * (1 - pEdge)) / n), `P(${edge}) = ${p} vs ${pEdge}`);
  }
});

test('PII (mixed clone, same coordinates): label ∈ {0, α}, equal to medianBlur5(changed > tol) with union masks; changes stay in the patch rectangles', () => {
  let placed = 0;
  for (let seed = 0; seed < 8; seed++) {
    const [d, s] = seed % 2 ? [brain, brain2] : [cxr, cxr2];
    const r = patchEx(d, s, { ...patchExPresets.pii, ...union }, new Generator(seed));
    const a = Math.fround(r.alpha);
    assert.ok(r.label.every((v) => v === 0 || v === a));
    const expect = medianBlurBinary(changed(d, r.image, 1), S, S, 5);
    // the clone re-solves the mask's bounding box; pixels of M outside m change unlabelled, so label ⊆ expect
    for (let p = 0; p < expect.length; p++) if (r.label[p]) assert.is(expect[p], 1, `seed ${seed} pixel ${p}`);
    const ch = changed(d, r.image);
    const rects = r.patches.filter((q) => q.placed).map((q) => q.dest!);
    placed += rects.length;
    for (const q of r.patches.filter((q) => q.placed)) assert.equal(q.source, q.dest);
    for (let p = 0; p < ch.length; p++) {
      if (!ch[p]) continue;
      const y = Math.floor(p / S);
      const x = p % S;
      assert.ok(rects.some((q) => y >= q.y0 && y < q.y1 && x >= q.x0 && x < q.x1), `seed ${seed}: pixel ${y},${x} changed outside the patches`);
    }
  }
  assert.ok(placed >= 8, `${placed} patches placed`);
});

test('NSA (shift, resize, mixed clone): logistic-intensity label = 1/(1 + e^(−0.5(d − 4))) inside the binary label, in (0, 1)', () => {
  let labelled = 0;
  for (let seed = 0; seed < 6; seed++) {
    const r = patchEx(cxr, cxr2, patchExPresets.nsa, new Generator(seed));
    const b = patchEx(cxr, cxr2, { ...patchExPresets.nsa, labelMode: 'binary' }, new Generator(seed));
    const i = patchEx(cxr, cxr2, { ...patchExPresets.nsa, labelMode: 'intensity' }, new Generator(seed));
    assert.ok(bytes(r.image).equals(bytes(b.image)));
    for (let p = 0; p < r.label.length; p++) {
      if (!b.label[p]) assert.is(r.label[p], 0);
      else {
        labelled++;
        const expect = 1 / (1 + Math.exp(-0.5 * (i.label[p]! - 4)));
        assert.ok(Math.abs(r.label[p]! - expect) < 1e-6);
        assert.ok(r.label[p]! > 0 && r.label[p]! < 1);
      }
    }
  }
  assert.ok(labelled > 50, `${labelled} labelled pixels`);
});

test('Poisson modes: deterministic; RGB and float inputs run; float keeps the same geometry and is close to uint8', () => {
  const a = patchEx(brain, brain2, patchExPresets.nsa, new Generator(4));
  const b = patchEx(brain, brain2, patchExPresets.nsa, new Generator(4));
  const c = patchEx(brain, brain2, patchExPresets.nsa, new Generator(5));
  assert.ok(bytes(a.image).equals(bytes(b.image)));
  assert.equal(Array.from(a.label), Array.from(b.label));
  assert.not.ok(bytes(a.image).equals(bytes(c.image)));
  const rgb = patchEx(toRgb(cxr), toRgb(cxr2), { ...patchExPresets.pii, ...union }, new Generator(2));
  assert.is(rgb.image.channels, 3);
  const grey = patchEx(cxr, cxr2, { ...patchExPresets.pii, ...union }, new Generator(2));
  // grey replicated to RGB clones each channel as grey: same pixels in every channel
  for (let p = 0; p < S * S; p++) for (let k = 0; k < 3; k++) assert.is(rgb.image.data[3 * p + k], grey.image.data[p]);
  assert.equal(Array.from(rgb.label), Array.from(grey.label));
  const f = patchEx(toFloat32(cxr), toFloat32(cxr2), patchExPresets.pii, new Generator(2));
  const u = patchEx(cxr, cxr2, patchExPresets.pii, new Generator(2));
  assert.ok(f.image.data instanceof Float32Array);
  assert.equal(
    f.patches.map((q) => q.dest),
    u.patches.map((q) => q.dest),
  );
  let maxDiff = 0;
  for (let i = 0; i < u.image.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(f.image.data[i]! * 255 - u.image.data[i]!));
  assert.ok(maxDiff <= 1 + 1e-3, `float vs uint8 clone: ${maxDiff} levels`); // OpenCV truncates on uint8
});

test('Poisson: a mask under 50 pixels is given up (failure "mask"), the image unchanged', () => {
  const img: PixelImage = { width: 32, height: 32, channels: 1, data: new Uint8Array(32 * 32).fill(120) };
  // tiny half-sizes: at most 3 × 3 interior pixels per patch
  const r = patchEx(img, img, { ...patchExPresets.pii, widthBoundsPct: [[0.05, 0.05], [0.05, 0.05]], gammaParams: null }, new Generator(0));
  assert.ok(r.patches.length >= 1 && r.patches.every((q) => q.failure === 'mask' || q.failure === 'size'));
  assert.ok(bytes(r.image).equals(bytes(img)));
  assert.is(sum(r.label), 0);
});

test.run();
