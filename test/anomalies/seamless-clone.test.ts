// anomalies.seamlessClone against cv2.seamlessClone (OpenCV 4.6, fixture made by
// scripts/make-opencv-fixtures.py): mean absolute difference ≤ 1 grey level over the blended
// rectangle on every case (the bar; the max seen is printed), dst untouched outside
// it, the returned float solution solving its equations to the stated residual, and the
// rules around it (placement, refusals, flat fields, float images, grey = replicated RGB).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { seamlessClone, seamlessCloneDetailed } from '../../src/anomalies/seamless-clone.js';
import type { PixelImage } from '../../src/anomalies/image.js';
import { POISSON_DEFAULT_TOL } from '../../src/engine/ops/poisson.js';

const test = suite('anomalies.seamlessClone');
const DIR = new URL('../fixtures/opencv/', import.meta.url);

// ---- twins of texture() / mask() in scripts/make-opencv-fixtures.py (exact integer arithmetic)
function hash32(x: number, y: number, c: number, seed: number): number {
  let h = (Math.imul(x, 374761393) + Math.imul(y, 668265263) + Math.imul(c, 2246822519 | 0) + Math.imul(seed, 3266489917 | 0)) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 2246822519 | 0) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 3266489917 | 0) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function texture(w: number, h: number, seed: number, channels: 1 | 3): PixelImage {
  const data = new Uint8Array(w * h * channels);
  const ax = 1 + (seed % 5);
  const ay = 1 + (Math.floor(seed / 5) % 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < channels; c++) {
        const t = (x * ax * (c + 1) + y * ay * (3 - c) + seed * 37) % 512;
        const tri = t < 256 ? t : 511 - t;
        const v = 16 + Math.floor((tri * 3) / 4) + (hash32(x, y, c, seed) % 49) - 24;
        data[(y * w + x) * channels + c] = Math.min(255, Math.max(0, v));
      }
  return { width: w, height: h, channels, data };
}

function maskImage(kind: string, w: number, h: number): PixelImage {
  const data = new Uint8Array(w * h);
  const sq = (v: number) => v * v;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let v = 0;
      if (kind === 'full') v = 255;
      else if (kind === 'rect') v = x >= 6 && x < w - 9 && y >= 4 && y < h - 7 ? 255 : 0;
      else if (kind === 'disk') v = sq(2 * x - w + 1) + sq(2 * y - h + 1) <= sq(Math.min(w, h) - 6) ? 255 : 0;
      else if (kind === 'ellipse') v = 4 * sq(2 * x - w + 1) * h * h + 9 * sq(2 * y - h + 1) * w * w <= Math.floor((4 * w * w * h * h) / 2) ? 255 : 0;
      else if (kind === 'lshape') v = (x >= 5 && x < w - 5 && y >= 5 && y < Math.floor(h / 2)) || (x >= 5 && x < Math.floor(w / 2) && y >= 5 && y < h - 5) ? 255 : 0;
      else if (kind === 'two')
        v = sq(x - Math.floor(w / 4)) + sq(y - Math.floor(h / 3)) <= sq(Math.floor(w / 6)) || sq(x - Math.floor((3 * w) / 4)) + sq(y - Math.floor((2 * h) / 3)) <= sq(Math.floor(w / 5)) ? 255 : 0;
      else if (kind === 'ring') {
        const d = sq(2 * x - w + 1) + sq(2 * y - h + 1);
        v = sq(Math.floor(Math.min(w, h) / 4)) <= d && d <= sq(Math.min(w, h) - 4) ? 255 : 0;
      } else if (kind === 'half') v = x >= 3 && x < w - 3 && y >= 3 && y < h - 3 ? 128 : 0;
      else throw new Error(kind);
      data[y * w + x] = v;
    }
  return { width: w, height: h, channels: 1, data };
}

interface Case {
  name: string;
  src: [number, number, number];
  dst: [number, number, number];
  mask: string;
  center: [number, number];
  mode: 'normal' | 'mixed';
  grey: boolean;
  roi: [number, number, number, number];
  offset: number;
}

const manifest = JSON.parse(readFileSync(new URL('seamless-clone.json', DIR), 'utf8')) as { opencv: string; cases: Case[] };
const blob = gunzipSync(readFileSync(new URL('seamless-clone.bin.gz', DIR)));

/** ‖b − A·u‖₂ / ‖b‖₂ of one plane, recomputed from the returned solution (frame = Dirichlet values). */
function relativeResidual(u: Float64Array, rhs: Float64Array, w: number, h: number): number {
  let rr = 0;
  let bb = 0;
  for (let y = 1; y < h - 1; y++)
    for (let x = 1; x < w - 1; x++) {
      const k = y * w + x;
      let frame = 0;
      let inner = 0;
      for (const q of [k - 1, k + 1, k - w, k + w]) {
        const qx = q % w;
        const qy = Math.floor(q / w);
        if (qx === 0 || qx === w - 1 || qy === 0 || qy === h - 1) frame += u[q];
        else inner += u[q];
      }
      const b = frame - rhs[k];
      const r = b - (4 * u[k] - inner);
      rr += r * r;
      bb += b * b;
    }
  return bb === 0 ? 0 : Math.sqrt(rr / bb);
}

test('matches cv2.seamlessClone on every fixture case (mean |diff| ≤ 1 over the box)', () => {
  let worstMean = 0;
  let worstMax = 0;
  const lines: string[] = [];
  for (const c of manifest.cases) {
    const ch = c.grey ? 1 : 3;
    const src = texture(c.src[0], c.src[1], c.src[2], ch);
    const dst = texture(c.dst[0], c.dst[1], c.dst[2], ch);
    const mask = maskImage(c.mask, c.src[0], c.src[1]);
    const r = seamlessCloneDetailed(src, dst, mask, { x: c.center[0], y: c.center[1] }, c.mode);
    const [rx, ry, w, h] = c.roi;
    assert.equal(r.roi, { x: rx, y: ry, width: w, height: h }, `${c.name}: placement`);
    const out = r.image.data as Uint8Array;
    let sum = 0;
    let max = 0;
    let n = 0;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < ch; k++) {
          const want = blob[c.offset + (y * w + x) * 3 + k];
          const got = out[((ry + y) * dst.width + rx + x) * ch + k];
          const d = Math.abs(got - want);
          sum += d;
          max = Math.max(max, d);
          n++;
        }
    // dst untouched outside the rectangle
    for (let y = 0; y < dst.height; y++)
      for (let x = 0; x < dst.width; x++) {
        if (x >= rx && x < rx + w && y >= ry && y < ry + h) continue;
        for (let k = 0; k < ch; k++) {
          const i = (y * dst.width + x) * ch + k;
          if (out[i] !== dst.data[i]) assert.unreachable(`${c.name}: pixel (${x}, ${y}) outside the box changed`);
        }
      }
    for (let k = 0; k < ch; k++) {
      const plane = r.solution.subarray(k * w * h, (k + 1) * w * h);
      const res = relativeResidual(plane, r.rhs.subarray(k * w * h, (k + 1) * w * h), w, h);
      assert.ok(res <= POISSON_DEFAULT_TOL * 1.01, `${c.name}: channel ${k} residual ${res} > ${POISSON_DEFAULT_TOL}`);
      assert.ok(Math.abs(res - r.residuals[k]) <= 1e-9, `${c.name}: reported residual ${r.residuals[k]} vs recomputed ${res}`);
    }
    const mean = sum / n;
    assert.ok(mean <= 1, `${c.name}: mean |diff| ${mean} > 1`);
    worstMean = Math.max(worstMean, mean);
    worstMax = Math.max(worstMax, max);
    lines.push(`${c.name}: mean ${mean.toFixed(5)} max ${max} iterations ${r.iterations.join('/')}`);
  }
  if (process.env.SEAMLESS_VERBOSE) console.log(lines.join('\n'));
  console.log(`  seamlessClone vs cv2 ${manifest.opencv}: ${manifest.cases.length} cases, worst mean |diff| ${worstMean.toFixed(5)}, max |diff| ${worstMax}`);
});

test('grey equals the replicated RGB clone, channel by channel', () => {
  const g = texture(40, 36, 21, 1);
  const d = texture(50, 50, 22, 1);
  const rgb = (im: PixelImage): PixelImage => {
    const data = new Uint8Array(im.data.length * 3);
    for (let i = 0; i < im.data.length; i++) data[3 * i] = data[3 * i + 1] = data[3 * i + 2] = im.data[i];
    return { ...im, channels: 3, data };
  };
  const m = maskImage('disk', 40, 36);
  for (const mode of ['normal', 'mixed'] as const) {
    const a = seamlessClone(g, d, m, { x: 25, y: 24 }, mode);
    const b = seamlessClone(rgb(g), rgb(d), m, { x: 25, y: 24 }, mode);
    for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[3 * i]) assert.unreachable(`${mode}: grey ≠ RGB at ${i}`);
  }
});

test('flat dst with a constant src (normal clone) stays flat', () => {
  const src: PixelImage = { width: 30, height: 30, channels: 3, data: new Uint8Array(30 * 30 * 3).fill(200) };
  const dst: PixelImage = { width: 40, height: 40, channels: 3, data: new Uint8Array(40 * 40 * 3).fill(77) };
  const r = seamlessCloneDetailed(src, dst, maskImage('full', 30, 30), { x: 20, y: 20 }, 'normal');
  for (const v of r.solution) assert.ok(Math.abs(v - 77) < 1e-6, `solution ${v} ≠ 77`);
  // OpenCV truncates: a value an ulp under 77 would become 76, so the solution must not land below 77 by rounding.
  for (const v of r.image.data) assert.ok(v === 77 || v === 76, `pixel ${v}`);
  assert.ok(r.image.data.filter((v) => v === 76).length < 20, 'flat: nearly every pixel keeps 77');
});

test('float images: the same solve, clamped to [0, 1], no quantisation', () => {
  const s = texture(32, 32, 31, 3);
  const d = texture(48, 48, 32, 3);
  const m = maskImage('disk', 32, 32);
  const f = (im: PixelImage): PixelImage => ({ ...im, data: Float32Array.from(im.data, (v) => v / 255) });
  const a = seamlessCloneDetailed(s, d, m, { x: 24, y: 24 }, 'mixed');
  const b = seamlessCloneDetailed(f(s), f(d), m, { x: 24, y: 24 }, 'mixed');
  assert.ok(b.image.data instanceof Float32Array);
  for (let i = 0; i < a.solution.length; i++) assert.ok(Math.abs(a.solution[i] / 255 - b.solution[i]) < 1e-6, `solution ${i}`);
  for (const v of b.image.data) assert.ok(v >= 0 && v <= 1);
});

test('placement: a box leaving dst is refused naming the valid centres; edge-touching boxes work', () => {
  const s = texture(20, 20, 41, 3);
  const d = texture(30, 30, 42, 3);
  const m = maskImage('full', 20, 20); // box 18 × 18 after the frame: centres 9 … 21
  seamlessClone(s, d, m, { x: 9, y: 21 }, 'normal');
  assert.throws(() => seamlessClone(s, d, m, { x: 8, y: 15 }, 'normal'), (e: Error) => e instanceof RangeError && /x in \[9, 21\]/.test(e.message));
  assert.throws(() => seamlessClone(s, d, m, { x: 15, y: 22 }, 'normal'), (e: Error) => e instanceof RangeError && /outside dst/.test(e.message));
  assert.throws(() => seamlessClone(s, d, m, { x: 15.5, y: 15 }, 'normal'), /integer/);
  assert.throws(() => seamlessClone(s, d, maskImage('full', 19, 20), { x: 15, y: 15 }, 'normal'), /src's size/);
  assert.throws(() => seamlessClone(s, texture(30, 30, 42, 1), m, { x: 15, y: 15 }, 'normal'), /channel/);
  assert.throws(() => seamlessClone(s, d, m, { x: 15, y: 15 }, 'blend' as 'normal'), /mode/);
});

test('empty mask and boxes without interior return dst unchanged', () => {
  const s = texture(20, 20, 51, 3);
  const d = texture(30, 30, 52, 3);
  const empty = seamlessClone(s, d, { width: 20, height: 20, channels: 1, data: new Uint8Array(400) }, { x: 15, y: 15 }, 'mixed');
  assert.equal(Array.from(empty.data), Array.from(d.data));
  const thin = new Uint8Array(400);
  for (let x = 3; x < 15; x++) thin[5 * 20 + x] = thin[6 * 20 + x] = 255; // a 12 × 2 box
  const r = seamlessClone(s, d, { width: 20, height: 20, channels: 1, data: thin }, { x: 15, y: 15 }, 'mixed');
  assert.equal(Array.from(r.data), Array.from(d.data));
});

test.run();
