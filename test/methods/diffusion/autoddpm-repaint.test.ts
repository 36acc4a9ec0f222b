// AutoDDPM's re-sampling loop (diffusion spec §3.4 step 5) and the whole test-time pipeline
// on tiny stand-ins, with the conformance checks of §6.5.5:
// - m = 0 everywhere: y = x exactly at the end (whatever the network);
// - m = 1 everywhere: a plain Gaussian re-sampling of x̂ from level L_inp (written out here
//   from qSample / reverseStep and the β_{t−1} re-noise), untouched by the known region's noise;
// - a mixed mask with a pixel-wise network: the masked pixels follow the m = 1 chain and the
//   others end as x — the loop's draws and buffers do not leak between regions;
// - L·R U-Net calls, levels visited L … 1 with R passes each;
// - the pipeline (autoddpmScore) with a τ no pixel exceeds returns x and a zero map; LPIPS sees
//   2x − 1, or 4x − 3 with lpipsRange 'head'.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator, rand, Tensor } from '../../../src/engine/index.js';
import { Module } from '../../../src/nn/module.js';
import type { Denoiser } from '../../../src/models/diffusion/denoiser.js';
import { MonaiUNet } from '../../../src/models/diffusion/monai-unet.js';
import { createLPIPSSqueeze } from '../../../src/models/lpips.js';
import { gaussianNoise } from '../../../src/methods/diffusion/noise.js';
import { qSample, reverseStep } from '../../../src/methods/diffusion/process.js';
import { resampleMasked } from '../../../src/methods/diffusion/repaint.js';
import { linearSchedule } from '../../../src/methods/diffusion/schedule.js';
import { autoddpmScore, autoddpmUNetCalls } from '../../../src/methods/diffusion/autoddpm.js';
import { fastestBackend } from '../helpers.js';

fastestBackend();

/** A pixel-wise stand-in: ε̂ = 0.3·x − 0.002·t (each output pixel depends on its own input only). */
class PixelDenoiser extends Module implements Denoiser {
  calls: number[] = [];
  forward(x: Tensor, t: Float32Array): Tensor {
    this.calls.push(t[0]);
    const out = Tensor.empty(x.shape);
    const per = x.size / x.shape[0];
    for (let k = 0; k < x.size; k++) out.data[k] = 0.3 * x.data[k] - 0.002 * t[Math.floor(k / per)];
    return out;
  }
}

const s = linearSchedule(100, { scaleWithT: true, variance: 'fixed-small', precision: 'float32' });
const SHAPE = [2, 1, 6, 6];
const x = rand(SHAPE, { generator: new Generator(1) });
const xHat = rand(SHAPE, { generator: new Generator(2) });

/** §3.4 step 5 with m = 1 written out: no known region at all. */
function plainResampling(net: Denoiser, level: number, R: number, seed: number): Float32Array {
  const noise = gaussianNoise(new Generator(seed));
  let y = qSample(xHat, noise.draw(SHAPE, level), new Int32Array(SHAPE[0]).fill(level), s);
  for (let t = level; t > 0; t--) {
    for (let u = 0; u < R; u++) {
      y = reverseStep(s, net.forward(y, new Float32Array(SHAPE[0]).fill(t)), t, y, noise.draw(SHAPE, t));
      if (u < R - 1) {
        const beta = Math.fround(s.betas[t - 1]);
        const n = noise.draw(SHAPE, t - 1).data;
        const keep = Math.fround(Math.sqrt(Math.fround(1 - beta)));
        const add = Math.fround(Math.sqrt(beta));
        y = Tensor.fromData(y.data.map((v, k) => Math.fround(Math.fround(keep * v) + Math.fround(add * n[k]))), SHAPE);
      }
    }
  }
  return y.data;
}

function run(mask: Float32Array, o: { level?: number; R?: number; seed?: number; knownSeed?: number; net?: Denoiser } = {}) {
  const net = o.net ?? new PixelDenoiser();
  return resampleMasked(net, xHat, x, mask, s, {
    level: o.level ?? 5,
    resample: o.R ?? 3,
    noise: gaussianNoise(new Generator(o.seed ?? 10)),
    knownNoise: gaussianNoise(new Generator(o.knownSeed ?? 20)),
  });
}

test('m = 0 everywhere: y = x exactly', () => {
  const { y, stats } = run(new Float32Array(x.size));
  assert.equal(Array.from(y.data), Array.from(x.data));
  assert.is(stats.unetCalls, 15, 'L·R = 5·3 calls even so');
});

test('m = 1 everywhere: a plain Gaussian re-sampling of x̂ from L_inp; the known region’s noise plays no part', () => {
  const ones = new Float32Array(x.size).fill(1);
  const expected = plainResampling(new PixelDenoiser(), 5, 3, 10);
  assert.equal(Array.from(run(ones).y.data), Array.from(expected));
  assert.equal(Array.from(run(ones, { knownSeed: 21 }).y.data), Array.from(expected));
  assert.not.equal(Array.from(run(ones, { seed: 11 }).y.data), Array.from(expected), 'another noise seed, another sample');
  // R = 1: one pass per level, no re-noising.
  assert.equal(Array.from(run(ones, { R: 1 }).y.data), Array.from(plainResampling(new PixelDenoiser(), 5, 1, 10)));
});

test('mixed mask, pixel-wise network: masked pixels follow the m = 1 chain, the others end as x', () => {
  const mask = new Float32Array(x.size);
  for (let k = 0; k < mask.length; k += 3) mask[k] = 1;
  const y = run(mask).y.data;
  const chain = run(new Float32Array(x.size).fill(1)).y.data;
  for (let k = 0; k < y.length; k++) assert.is(y[k], mask[k] === 1 ? chain[k] : x.data[k], `pixel ${k}`);
});

test('U-Net calls: levels L … 1, R passes each, the whole batch at once; L = 0 calls nothing', () => {
  const net = new PixelDenoiser();
  const { stats } = run(new Float32Array(x.size).fill(1), { net, level: 3, R: 2 });
  assert.equal(net.calls, [3, 3, 2, 2, 1, 1]);
  assert.is(stats.unetCalls, 6);
  const idle = new PixelDenoiser();
  const none = run(new Float32Array(x.size), { net: idle, level: 0 });
  assert.is(idle.calls.length, 0);
  assert.equal(Array.from(none.y.data), Array.from(x.data));
  assert.is(autoddpmUNetCalls({ reconLevel: 200, inpaintLevel: 50, resample: 5 }), 451, 'the reference: 201 + 250');
});

test('refusals name the argument', () => {
  assert.throws(() => run(new Float32Array(3)), /mask must be a Float32Array of 72 values/);
  assert.throws(() => run(new Float32Array(x.size), { level: 100 }), /inpainting level L must be an integer step in \[0, 99\]/);
  assert.throws(() => run(new Float32Array(x.size), { R: 0 }), /resample count R must be an integer ≥ 1/);
});

test('pipeline with a τ no pixel exceeds: the empty mask returns x, the map is 0; τ = −1 masks each image', () => {
  const net = new MonaiUNet({ numChannels: [32, 32], attentionLevels: [false, true], headChannels: 32, generator: new Generator(3) });
  const lpips = createLPIPSSqueeze({ weights: 'random', generator: new Generator(4) });
  const img = rand([2, 1, 24, 24], { generator: new Generator(5) }); // LPIPS-squeeze needs ≥ 17 px
  const base = { reconLevel: 4, inpaintLevel: 2, resample: 2, lpipsRange: '[-1,1]' as const };
  const none = autoddpmScore(net, lpips, s, img, { ...base, threshold: 1e9 }, new Generator(6));
  assert.ok(none.mask.data.every((v) => v === 0));
  assert.equal(Array.from(none.inpainted.data), Array.from(img.data));
  assert.ok(none.map.data.every((v) => v === 0));
  assert.is(none.unetCalls, 5 + 4);
  const own = autoddpmScore(net, lpips, s, img, { ...base, threshold: -1 }, new Generator(6));
  for (let i = 0; i < 2; i++) assert.ok(own.mask.data.subarray(i * 576, (i + 1) * 576).some((v) => v === 1), `image ${i} has a mask`);
  assert.ok(own.map.data.some((v) => v > 0));
  // The same generator state, the same numbers.
  const again = autoddpmScore(net, lpips, s, img, { ...base, threshold: -1 }, new Generator(6));
  assert.equal(Array.from(again.map.data), Array.from(own.map.data));
  // LPIPS input: 2x − 1 by default, HEAD's doubled normalisation 4x − 3 with lpipsRange 'head'.
  const lin = (t: Tensor, a: number, b: number) => Tensor.fromData(t.data.map((v) => a * v - b), t.shape);
  assert.equal(Array.from(own.lpips.data), Array.from(lpips.spatialMap(lin(img, 2, 1), lin(own.reconstruction, 2, 1)).data));
  const head = autoddpmScore(net, lpips, s, img, { ...base, threshold: -1, lpipsRange: 'head' }, new Generator(6));
  assert.equal(Array.from(head.reconstruction.data), Array.from(own.reconstruction.data), 'the same coarse reconstruction');
  const expected = lpips.spatialMap(lin(img, 4, 3), lin(own.reconstruction, 4, 3)).data;
  head.lpips.data.forEach((v, k) => assert.ok(Math.abs(v - expected[k]) <= 1e-6 * Math.max(1, Math.abs(v)), `head map ${k}: ${v} vs ${expected[k]}`));
  assert.not.equal(Array.from(head.lpips.data), Array.from(own.lpips.data));
});

test.run();
