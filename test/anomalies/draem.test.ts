// DRAEM's synthetic anomalies (src/anomalies/draem.ts): Perlin noise against
// rand_perlin_2d_np with the same gradient angles (scripts/make-draem-fixtures.py), its
// range and scales, the mask against the pixels that changed, determinism, the
// no-anomaly fraction, grey/RGB × uint8/float, the augmentations, texture folders.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Generator } from '../../src/engine/index.js';
import { AUGMENTATIONS, augment, chooseAugmentations, draem, loadTextures, perlinFromAngles, perlinNoise } from '../../src/anomalies/draem.js';
import type { PixelImage } from '../../src/anomalies/image.js';
import { readSafetensors, toFloat32 } from '../../src/nn/safetensors-format.js';
import { hashU } from '../models/backbones/fill.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'draem');
const index = JSON.parse(readFileSync(join(FIX, 'draem.json'), 'utf8'));
const fixture = readSafetensors(join(FIX, 'draem.safetensors'));
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-draem-gen-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** A textured test image: smooth gradients plus a pattern, grey or RGB, uint8 or float. */
function image(size: number, channels: 1 | 3, kind: 'uint8' | 'float32', seed = 1): PixelImage {
  const g = new Generator(seed);
  const n = size * size * channels;
  const v = new Float64Array(n);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) for (let c = 0; c < channels; c++) v[(y * size + x) * channels + c] = 0.2 + 0.5 * ((x + 2 * y + 7 * c) % size) / size + 0.05 * g.uniform();
  const data = kind === 'uint8' ? Uint8Array.from(v, (t) => Math.round(t * 255)) : Float32Array.from(v);
  return { width: size, height: size, channels, data };
}

/** A random-noise RGB uint8 texture. */
function texture(size: number, seed: number): PixelImage {
  const g = new Generator(seed);
  return { width: size, height: size, channels: 3, data: Uint8Array.from({ length: size * size * 3 }, () => g.int(256)) };
}

function tensor(name: string): Float32Array {
  const t = fixture.tensors.get(name);
  if (!t) throw new Error(`fixture has no ${name}`);
  return toFloat32(t);
}

test('Perlin noise equals rand_perlin_2d_np given the same gradient angles', () => {
  for (const [name, c] of Object.entries(index.perlin) as [string, { shape: [number, number]; res: [number, number]; angleTensor: number }][]) {
    const [r0, r1] = c.res;
    const angles = Float64Array.from(hashU(c.angleTensor, (r0 + 1) * (r1 + 1)), (u) => (u + 0.5) * 2 * Math.PI);
    const got = perlinFromAngles(c.shape[0], c.shape[1], r0, r1, angles);
    const want = tensor(`perlin/${name}`);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    assert.ok(worst < 1e-6, `${name}: max |difference| ${worst}`);
  }
});

test('Perlin values lie in [−1, 1] at every power-of-two scale, centred on 0', () => {
  const g = new Generator(3);
  let sum = 0;
  let count = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let a = 0; a < 6; a++) {
    for (let b = 0; b < 6; b++) {
      const n = perlinNoise(64, 64, 2 ** a, 2 ** b, g);
      for (const v of n) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
        sum += v;
        count++;
      }
    }
  }
  assert.ok(lo >= -1 && hi <= 1, `range [${lo}, ${hi}]`);
  assert.ok(hi > 0.6 && lo < -0.6, `the noise reaches past ±0.6: [${lo}, ${hi}]`);
  assert.ok(Math.abs(sum / count) < 0.05, `mean ${sum / count}`);
});

test('the label marks exactly the pixels that changed (float: every label pixel changes)', () => {
  const img = image(48, 3, 'float32');
  const src = [texture(40, 9), texture(64, 10)];
  let anomalies = 0;
  for (let seed = 0; seed < 40; seed++) {
    const r = draem(img, new Generator(seed), { source: src });
    const C = 3;
    for (let i = 0; i < 48 * 48; i++) {
      let changed = false;
      for (let c = 0; c < C; c++) if (r.image.data[i * C + c] !== img.data[i * C + c]) changed = true;
      if (r.label[i] === 0) assert.not.ok(changed, `seed ${seed}: pixel ${i} changed outside the label`);
      else assert.is(r.label[i], 1);
    }
    // Inside the label the blend (1 − β)·A + β·I with β < 0.8 moves a pixel unless A equals it
    // exactly in every channel: the 0.2-offset float image takes no value k/255 exactly.
    let inside = 0;
    let moved = 0;
    for (let i = 0; i < 48 * 48; i++) {
      if (!r.label[i]) continue;
      inside++;
      if ([0, 1, 2].some((c) => r.image.data[i * 3 + c] !== img.data[i * 3 + c])) moved++;
    }
    assert.is(moved, inside, `seed ${seed}: ${inside - moved} label pixels did not change`);
    assert.is(r.anomalous, inside > 0);
    if (r.anomalous) anomalies++;
  }
  assert.ok(anomalies > 5, `${anomalies} of 40 draws made an anomaly`);
});

test('uint8 grey: unchanged outside the label; blend values as (1 − β)·A + β·I rounded', () => {
  const img = image(32, 1, 'uint8');
  for (let seed = 0; seed < 30; seed++) {
    const r = draem(img, new Generator(seed), { source: [texture(32, 4)] });
    assert.ok(r.image.data instanceof Uint8Array);
    assert.is(r.image.channels, 1);
    for (let i = 0; i < 32 * 32; i++) if (!r.label[i]) assert.is(r.image.data[i], img.data[i]);
    if (r.drawn) {
      const beta = r.drawn.beta;
      assert.ok(beta >= 0 && beta < 0.8);
      // Every blended value lies between the image's value and the source's: |out − I| ≤ (1 − β)·255 + ½.
      for (let i = 0; i < 32 * 32; i++) if (r.label[i]) assert.ok(Math.abs(r.image.data[i]! - img.data[i]!) <= (1 - beta) * 255 + 0.5);
    }
  }
});

test('deterministic given the generator; different seeds differ', () => {
  for (const [c, kind] of [[1, 'uint8'], [3, 'float32'], [1, 'float32'], [3, 'uint8']] as const) {
    const img = image(32, c, kind);
    const a = draem(img, new Generator(11), { source: [texture(32, 1), texture(32, 2)] });
    const b = draem(img, new Generator(11), { source: [texture(32, 1), texture(32, 2)] });
    assert.equal(Array.from(a.image.data), Array.from(b.image.data));
    assert.equal(Array.from(a.label), Array.from(b.label));
    assert.equal(a.drawn, b.drawn);
    assert.is(a.image.data.constructor, img.data.constructor, 'output keeps the input type');
    assert.is(a.image.channels, c);
  }
  const img = image(32, 1, 'float32');
  const labels = new Set<string>();
  for (let s = 0; s < 12; s++) labels.add(Array.from(draem(img, new Generator(s), { noAnomalyProbability: 0 }).label).join(''));
  assert.ok(labels.size > 8, `${labels.size} distinct masks in 12 seeds`);
});

test('no anomaly with probability ½; scales are powers of two 1…32, each equally likely', () => {
  const img = image(32, 1, 'uint8');
  const g = new Generator(2024);
  const N = 600;
  let none = 0;
  const scaleCounts = new Map<number, number>();
  for (let k = 0; k < N; k++) {
    const r = draem(img, g, { source: 'self' });
    if (!r.drawn) {
      none++;
      assert.ok(r.label.every((v) => v === 0));
      assert.equal(Array.from(r.image.data), Array.from(img.data));
      assert.is(r.anomalous, false);
      continue;
    }
    for (const s of r.drawn.scales) scaleCounts.set(s, (scaleCounts.get(s) ?? 0) + 1);
    assert.is(r.drawn.augmentations.length, 3);
    assert.is(new Set(r.drawn.augmentations).size, 3, 'three distinct augmentations');
  }
  // Binomial(600, ½): sd 12.2; ±4 sd.
  assert.ok(Math.abs(none - N / 2) < 49, `${none} of ${N} without anomaly`);
  assert.equal([...scaleCounts.keys()].sort((a, b) => a - b), [1, 2, 4, 8, 16, 32]);
  const total = [...scaleCounts.values()].reduce((a, b) => a + b, 0);
  for (const [s, c] of scaleCounts) assert.ok(Math.abs(c / total - 1 / 6) < 0.06, `scale ${s}: ${c} of ${total}`);
});

test('options: no rotation, threshold, small images clamp the scale to the side', () => {
  const img = image(8, 1, 'float32');
  for (let s = 0; s < 30; s++) {
    const r = draem(img, new Generator(s), { noAnomalyProbability: 0 });
    assert.ok(r.drawn!.scales.every((v) => v <= 8));
  }
  const flat = draem(image(32, 1, 'float32'), new Generator(1), { noAnomalyProbability: 0, rotateNoise: false, threshold: 1 });
  assert.is(flat.anomalous, false, 'noise never exceeds 1');
  assert.is(flat.drawn!.rotation, 0);
  assert.throws(() => draem(img, new Generator(0), { source: [] }), /non-empty array/);
  assert.throws(() => draem(img, new Generator(0), { betaMax: 2 }), /betaMax/);
  assert.throws(() => draem({ width: 4, height: 4, channels: 2 as 1, data: new Uint8Array(32) }, new Generator(0)), /1 \(grey\) or 3 \(RGB\)/);
});

test('augmentations: each keeps the size; invert, posterize and equalize as Pillow/imgaug define them', () => {
  const g = new Generator(5);
  for (const op of AUGMENTATIONS) {
    const t = texture(17, 3) as PixelImage & { data: Uint8Array };
    const before = t.data.slice();
    const out = augment(t, op, g);
    assert.is(out.data.length, 17 * 17 * 3, op);
    if (op === 'invert') assert.ok(out.data.every((v, i) => v === 255 - before[i]!));
    if (op === 'posterize') {
      // Some bit count b in 1..8 keeps the top b bits of every value.
      const ok = [1, 2, 3, 4, 5, 6, 7, 8].some((b) => out.data.every((v, i) => v === (before[i]! & ((0xff << (8 - b)) & 0xff))));
      assert.ok(ok, 'posterize keeps the top bits');
    }
  }
  const flat = { width: 4, height: 4, channels: 3 as const, data: new Uint8Array(48).fill(77) };
  assert.ok(augment(flat, 'equalize', g).data.every((v) => v === 77), 'equalize leaves a one-value image alone');
  const picks = new Map<string, number>();
  for (let k = 0; k < 3000; k++) for (const a of chooseAugmentations(g)) picks.set(a, (picks.get(a) ?? 0) + 1);
  for (const a of AUGMENTATIONS) assert.ok(Math.abs(picks.get(a)! / 9000 - 0.1) < 0.02, `${a} picked ${picks.get(a)} of 9000`);
});

test('texture folders: images found in subfolders, RGB uint8, resized; empty or missing folders named', async () => {
  const empty = join(tmp, 'empty');
  mkdirSync(join(empty, 'sub'), { recursive: true });
  let msg = '';
  await loadTextures(empty).catch((e: Error) => (msg = e.message));
  assert.match(msg, /holds no image files/);
  assert.ok(msg.includes(empty), 'the message names the folder');
  msg = '';
  await loadTextures(join(tmp, 'missing')).catch((e: Error) => (msg = e.message));
  assert.match(msg, /cannot read the texture folder/);
  assert.ok(msg.includes(join(tmp, 'missing')));

  const dir = join(tmp, 'dtd');
  mkdirSync(join(dir, 'banded'), { recursive: true });
  mkdirSync(join(dir, 'dotted'), { recursive: true });
  const px = Buffer.from(Array.from({ length: 20 * 10 }, (_, i) => (i * 7) % 256));
  await sharp(px, { raw: { width: 20, height: 10, channels: 1 } }).png().toFile(join(dir, 'banded', 'a.png'));
  await sharp(Buffer.alloc(30 * 30 * 3, 200), { raw: { width: 30, height: 30, channels: 3 } }).jpeg().toFile(join(dir, 'dotted', 'b.jpg'));
  const tex = await loadTextures(dir, { size: 16 });
  assert.is(tex.length, 2);
  for (const t of tex) {
    assert.is(t.channels, 3);
    assert.is(t.width, 16);
    assert.ok(t.data instanceof Uint8Array);
  }
  const r = draem(image(16, 1, 'uint8'), new Generator(1), { source: tex, noAnomalyProbability: 0 });
  assert.ok(r.drawn!.sourceIndex === 0 || r.drawn!.sourceIndex === 1);
});

test.run();
