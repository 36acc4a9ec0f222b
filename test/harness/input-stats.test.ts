// The input checks behind predict's warnings: colour measured before the grey conversion,
// judged against what the training *files* were (a grey model trained on colour files
// must not flag colour inputs), and intensity statistics far outside the training ranges.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Split } from '../../src/data/types.js';
import { type InputProfile, colourFraction, imageStats, inputProfile, inputWarnings } from '../../src/harness/input-stats.js';
import { sourceColour } from '../../src/harness/source-colour.js';
import { tempDir } from './helpers.js';

const rgb = (pixels: number[][]) => ({ width: pixels.length, height: 1, channels: 3 as const, data: Uint8Array.from(pixels.flat()) });

test('colourFraction: 0 for grey stored as RGB and for small chroma noise, the share of coloured pixels otherwise', () => {
  assert.is(colourFraction(rgb([[10, 10, 10], [200, 200, 200]])), 0);
  assert.is(colourFraction(rgb([[100, 110, 95], [0, 0, 0]])), 0); // JPEG-like noise under 24/255
  assert.is(colourFraction(rgb([[255, 0, 0], [50, 50, 50], [0, 0, 255], [9, 9, 9]])), 0.5);
  assert.is(colourFraction({ width: 1, height: 2, channels: 3, data: Float32Array.from([1, 0, 0, 0.5, 0.5, 0.5]) }), 0.5);
  assert.is(colourFraction({ width: 2, height: 1, channels: 1, data: Uint8Array.from([0, 255]) }), 0);
});

test('imageStats and inputProfile: per-image mean/std ranges over the training images', () => {
  assert.equal(imageStats([1, -1, 1, -1]), { mean: 0, std: 1 });
  const p = inputProfile(Float32Array.from([0, 0, 1, -1, 0.5, 0.5, 0.5, 0.5]), 2, 1, [0, 0.002], 2);
  assert.equal(p, { channels: 1, count: 2, mean: { min: 0, max: 0.5 }, std: { min: 0, max: Math.SQRT1_2 }, colour: { sampled: 2, min: 0, max: 0.002 } });
});

const grey: InputProfile = { channels: 1, count: 10, mean: { min: -0.7, max: -0.6 }, std: { min: 0.3, max: 0.4 }, colour: { sampled: 10, min: 0, max: 0 } };
const inside = { mean: -0.65, std: 0.35 };

test('inputWarnings: colour into a model trained on grey files, grey into one trained on colour files, nothing otherwise', () => {
  assert.equal(inputWarnings(grey, inside, 0), []);
  assert.match(inputWarnings(grey, inside, 0.6).join(), /colour image \(60 % coloured pixels\) but the model was trained on grey images/);
  // A grey model trained on colour files (ISIC2018 loads grey): colour inputs are what it saw.
  const fromColour = { ...grey, colour: { sampled: 10, min: 0.4, max: 0.9 } };
  assert.equal(inputWarnings(fromColour, inside, 0.6), []);
  assert.match(inputWarnings(fromColour, inside, 0).join(), /grey image but the model was trained on colour images/);
});

test('inputWarnings: intensity mean or spread far outside the training ranges (half the range, at least 0.1)', () => {
  assert.equal(inputWarnings(grey, { mean: -0.79, std: 0.21 }, 0), []); // within 0.1 of the ranges
  const w = inputWarnings(grey, { mean: 0.2, std: 0.01 }, 0);
  assert.is(w.length, 2);
  assert.match(w[0]!, /mean intensity 0\.20 is far outside the training images' -0\.70 to -0\.60/);
  assert.match(w[1]!, /intensity spread \(std\) 0\.01 is far outside the training images' 0\.30 to 0\.40/);
});

test('sourceColour decodes an even sample of the training files; generated sources count as grey', async () => {
  const dir = tempDir();
  const paths: string[] = [];
  for (let k = 0; k < 4; k++) {
    const f = join(dir, `c${k}.png`);
    const px = Buffer.alloc(4 * 4 * 3);
    for (let i = 0; i < 16; i++) px.set(i < 4 * (k + 1) ? [200, 20, 20] : [90, 90, 90], i * 3);
    await sharp(px, { raw: { width: 4, height: 4, channels: 3 } }).png().toFile(f);
    paths.push(f);
  }
  const c = await sourceColour({ paths } as unknown as Split);
  assert.equal(c, { fractions: [0.25, 0.5, 0.75, 1], sampled: 4 });
  assert.equal(await sourceColour({ paths: ['synth://synth-brain/train/0?x', `${dir}/volume.nii.gz#3`] } as unknown as Split), { fractions: [0, 0], sampled: 0 });
});

test.run();
