// Pillow conformance of src/data/resize.ts, against outputs Pillow itself produced
// (test/data/fixtures/make-pil-fixtures.py, Debian python3-pil).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { pilResize, pilResizeNearest, nearestIndices, coefficients, resizeImage } from '../../src/data/resize.js';
import { toGrayPlane, channelPlane } from '../../src/data/raw.js';

const fx = JSON.parse(readFileSync(new URL('./fixtures/pil-resize.json', import.meta.url), 'utf8'));
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const floats = (s: string) => {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};

test('8-bit BILINEAR, LANCZOS and NEAREST match Pillow exactly (gray and RGB)', () => {
  let n = 0;
  for (const c of fx.cases) {
    if (c.mode === 'F') continue;
    const input = bytes(fx.inputs[c.input]);
    const channels = c.mode === 'RGB' ? 3 : 1;
    const expected = bytes(c.output);
    const raw = { width: c.width, height: c.height, channels: channels as 1 | 3, data: input };
    for (let ch = 0; ch < channels; ch++) {
      const plane = channelPlane(raw, ch);
      const out = c.filter === 'nearest'
        ? pilResizeNearest(plane, c.width, c.height, c.outWidth, c.outHeight)
        : pilResize(plane, c.width, c.height, c.outWidth, c.outHeight, c.filter);
      for (let i = 0; i < out.length; i++) {
        if (out[i] !== expected[i * channels + ch]) {
          assert.unreachable(`${c.input} ${c.filter} → ${c.outWidth}×${c.outHeight} ch${ch}: pixel ${i} is ${out[i]}, Pillow ${expected[i * channels + ch]}`);
        }
      }
    }
    n++;
  }
  assert.ok(n >= 50, `checked ${n} cases`);
});

test("float ('F' mode) resize matches Pillow to float32 rounding", () => {
  let n = 0;
  for (const c of fx.cases) {
    if (c.mode !== 'F') continue;
    const out = pilResize(floats(fx.inputs[c.input]), c.width, c.height, c.outWidth, c.outHeight, c.filter);
    const exp = floats(c.output);
    assert.is(out.length, exp.length);
    for (let i = 0; i < out.length; i++) {
      assert.ok(Math.abs(out[i]! - exp[i]!) <= 1e-6 * Math.max(1, Math.abs(exp[i]!)), `${c.filter} pixel ${i}: ${out[i]} vs ${exp[i]}`);
    }
    n++;
  }
  assert.is(n, 4);
});

test("RGB → L uses Pillow's integer luma weights", () => {
  const rgb = bytes(fx.inputs.rgb29x41);
  const l = toGrayPlane({ width: 41, height: 29, channels: 3, data: rgb });
  assert.equal(Array.from(l), Array.from(bytes(fx.lOfRgb29x41)));
});

test('bilinear downscale support widens with the scale factor; weights sum to one', () => {
  const c = coefficients(512, 64, 'bilinear');
  assert.is(c.ksize, 17); // support 1 × 8, ceil(8)·2 + 1
  for (let x = 0; x < 64; x++) {
    let s = 0;
    for (let k = 0; k < c.ksize; k++) s += c.weights[x * c.ksize + k]!;
    assert.ok(Math.abs(s - 1) < 1e-12);
  }
  const up = coefficients(10, 40, 'lanczos');
  assert.is(up.ksize, 7); // no widening when upscaling
});

test('NEAREST samples pixel centres', () => {
  assert.equal(Array.from(nearestIndices(8, 4)), [1, 3, 5, 7]);
  assert.equal(Array.from(nearestIndices(3, 6)), [0, 0, 1, 1, 2, 2]);
});

test('same size is a copy; bad sizes are RangeErrors naming the argument', async () => {
  const p = new Uint8Array([1, 2, 3, 4]);
  const out = pilResize(p, 2, 2, 2, 2, 'bilinear');
  assert.equal(Array.from(out), [1, 2, 3, 4]);
  assert.not.ok(out === p);
  assert.throws(() => pilResize(p, 2, 2, 0, 2, 'bilinear'), /outW must be a positive integer/);
  assert.throws(() => pilResize(p, 3, 2, 2, 2, 'bilinear'), /expected width × height = 6/);
  try {
    await resizeImage({ width: 2, height: 2, channels: 1, data: p }, 1, 1, 'bogus' as never);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /resample must be/);
  }
});

test('sharp resample gives the right shape and stays close to Pillow on smooth content', async () => {
  const big = bytes(fx.inputs.gray128x96);
  const img = { width: 96, height: 128, channels: 1 as const, data: big };
  const a = await resizeImage(img, 16, 16, 'sharp');
  const b = await resizeImage(img, 16, 16, 'pil-bilinear');
  assert.is(a.data.length, 256);
  let mean = 0;
  for (let i = 0; i < 256; i++) mean += Math.abs(a.data[i]! - b.data[i]!);
  mean /= 256;
  assert.ok(mean < 20, `mean |sharp − pil| = ${mean}`);
});

test.run();
