// The method-specific pieces against independent computations: SSIM against a direct
// float64 window sum (and its gradient against finite differences), RandomErasing-style
// squares, MemAE addressing and entropy, AE-Grad maps against finite differences of the
// AE loss, and the Constrained AE batch-norm quirk. Runs on the ts reference backend.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, setBackend, Tensor } from '../../../src/engine/index.js';
import { gaussianWindow, ssimMap } from '../../../src/methods/reconstruction/ssim.js';
import { erasedSide, eraseSquares } from '../../../src/methods/reconstruction/ceae.js';
import { addressingEntropy } from '../../../src/methods/reconstruction/memae.js';
import { MemoryUnit } from '../../../src/models/ae-variants.js';
import { createMethod, loadMethod } from '../../../src/methods/index.js';
import { readStateDict } from '../../../src/nn/safetensors.js';
import { gradcheck } from '../../engine/gradcheck.js';
import { SMALL, toyHeads } from '../helpers.js';

setBackend('ts');
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-losses-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function randomImages(shape: number[], seed: number, lo: number, hi: number): Tensor {
  const g = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromData(Float32Array.from({ length: n }, () => lo + (hi - lo) * g.uniform()), shape);
}

/** SSIM by direct summation over 11 × 11 windows (float64), zero padding when `pad` > 0. */
function naiveSsim(x: Tensor, y: Tensor, pad: number): { map: Float64Array; side: number } {
  const [b, c, h] = x.shape;
  const g = Array.from(gaussianWindow(), Number);
  const to01 = (v: number) => Math.min(1, Math.max(0, (v + 1) / 2));
  const side = h - 10 + 2 * pad;
  const map = new Float64Array(b * c * side * side);
  const C1 = 1e-4;
  const C2 = 9e-4;
  for (let p = 0; p < b * c; p++) {
    const at = (t: Tensor, r: number, q: number) => (r < 0 || q < 0 || r >= h || q >= h ? 0 : to01(t.data[p * h * h + r * h + q]));
    for (let i = 0; i < side; i++) {
      for (let j = 0; j < side; j++) {
        let mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
        for (let u = 0; u < 11; u++) {
          for (let v = 0; v < 11; v++) {
            const w = g[u] * g[v];
            const a = at(x, i + u - pad, j + v - pad);
            const bb = at(y, i + u - pad, j + v - pad);
            mx += w * a;
            my += w * bb;
            xx += w * a * a;
            yy += w * bb * bb;
            xy += w * a * bb;
          }
        }
        const sx = xx - mx * mx;
        const sy = yy - my * my;
        const sxy = xy - mx * my;
        map[(p * side + i) * side + j] = ((2 * mx * my + C1) * (2 * sxy + C2)) / ((mx * mx + my * my + C1) * (sx + sy + C2));
      }
    }
  }
  return { map, side };
}

test('Gaussian window: 11 taps, σ 1.5, sums to 1, symmetric', () => {
  const w = gaussianWindow();
  assert.is(w.length, 11);
  assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.ok(Math.abs(w[6] / w[5] - Math.exp(-1 / 4.5)) < 1e-6);
  for (let i = 0; i < 5; i++) assert.is(w[i], w[10 - i]);
});

test('ssimMap matches direct window sums (valid and zero-padded), clamps to [0, 1], is 1 for x = y', () => {
  // Values beyond [-1, 1] exercise the clamp.
  const x = randomImages([2, 2, 16, 16], 1, -1.2, 1.2);
  const y = randomImages([2, 2, 16, 16], 2, -1.2, 1.2);
  for (const [valid, pad] of [[true, 0], [false, 5]] as const) {
    const got = ssimMap(x, y, valid);
    const want = naiveSsim(x, y, pad);
    assert.equal(got.shape, [2, 2, want.side, want.side]);
    for (let i = 0; i < want.map.length; i++) assert.ok(Math.abs(got.data[i] - want.map[i]) < 2e-5, `valid=${valid} element ${i}: ${got.data[i]} vs ${want.map[i]}`);
  }
  const same = ssimMap(x, x);
  for (const v of same.data) assert.ok(Math.abs(v - 1) < 1e-5);
  assert.equal(ssimMap(randomImages([1, 1, 64, 64], 3, -1, 1), randomImages([1, 1, 64, 64], 4, -1, 1)).shape, [1, 1, 54, 54]);
});

test('ssimMap is differentiable with respect to the reconstruction (finite differences)', () => {
  const x = randomImages([1, 1, 12, 12], 5, -0.8, 0.8);
  const y = randomImages([1, 1, 12, 12], 6, -0.8, 0.8);
  y.requiresGrad = true;
  gradcheck((yy) => ssimMap(x, yy), [y], { eps: 1e-2, atol: 2e-3, rtol: 2e-2 });
});

test('CeAE erasing: side round(√(0.024·S²)), one square per image at −1, positions cover the range', () => {
  assert.is(erasedSide(64, 0.024), 10);
  assert.is(erasedSide(128, 0.024), 20);
  const x = randomImages([40, 2, 16, 16], 7, 0, 1); // no value is −1 before erasing
  const g = new Generator(9);
  const out = eraseSquares(x, 4, g);
  const tops = new Set<number>();
  for (let i = 0; i < 40; i++) {
    let firstRow = -1;
    let firstCol = -1;
    for (let ch = 0; ch < 2; ch++) {
      const cells: number[] = [];
      for (let k = 0; k < 256; k++) if (out.data[(i * 2 + ch) * 256 + k] === -1) cells.push(k);
      assert.is(cells.length, 16, `image ${i} channel ${ch}: 4 × 4 erased pixels`);
      const r0 = Math.floor(cells[0] / 16);
      const c0 = cells[0] % 16;
      assert.equal(cells, [0, 1, 2, 3].flatMap((r) => [0, 1, 2, 3].map((c) => (r0 + r) * 16 + c0 + c)));
      if (ch === 0) [firstRow, firstCol] = [r0, c0];
      else assert.equal([r0, c0], [firstRow, firstCol], 'same square in every channel');
    }
    tops.add(firstRow);
  }
  assert.ok(Math.min(...tops) >= 0 && Math.max(...tops) <= 12);
  assert.ok(tops.size >= 8, 'rows spread over [0, 12]');
  // The input is untouched, and the draws are reproducible.
  assert.ok(!x.data.includes(-1));
  assert.equal(Array.from(eraseSquares(x, 4, new Generator(9)).data), Array.from(out.data));
});

test('MemAE addressing: softmax, hard shrinkage, L1 normalisation, read-out (float64 reference)', () => {
  const mem = new MemoryUnit(5, 3, 0.1, { seed: 1 });
  const z = randomImages([2, 3], 4, -2, 2);
  const { output, attention } = mem.forward(z);
  const M = mem.weight.data;
  for (let b = 0; b < 2; b++) {
    const logits = [0, 1, 2, 3, 4].map((k) => [0, 1, 2].reduce((s, f) => s + z.data[b * 3 + f] * M[k * 3 + f], 0));
    const mx = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - mx));
    const sm = e.map((v) => v / e.reduce((a, c) => a + c, 0));
    const shrunk = sm.map((w) => (Math.max(w - 0.1, 0) * w) / (Math.abs(w - 0.1) + 1e-12));
    const l1 = Math.max(shrunk.reduce((a, c) => a + c, 0), 1e-12);
    const w = shrunk.map((v) => v / l1);
    for (let k = 0; k < 5; k++) assert.ok(Math.abs(attention.data[b * 5 + k] - w[k]) < 1e-6);
    for (let f = 0; f < 3; f++) {
      const read = w.reduce((s, wk, k) => s + wk * M[k * 3 + f], 0);
      assert.ok(Math.abs(output.data[b * 3 + f] - read) < 1e-6);
    }
  }
  // Initialisation U(±1/√features).
  const big = new MemoryUnit(25, 16, 0.0025, { seed: 2 });
  assert.ok(big.weight.data.every((v) => Math.abs(v) <= 0.25));
  assert.ok(Math.max(...big.weight.data) > 0.2 && Math.min(...big.weight.data) < -0.2);
});

test('MemAE entropy: mean over samples of −Σ ŵ log(ŵ + 1e-12)', () => {
  const att = Tensor.fromData(Float32Array.from([0.5, 0.5, 0, 1, 0, 0]), [2, 3]);
  assert.ok(Math.abs(addressingEntropy(att).item() - Math.log(2) / 2) < 1e-6);
});

test('AE-Grad maps are |∂ mean (x − AE(x))² / ∂x| (finite differences of the AE loss, same weights)', async () => {
  const data = toyHeads({ train: 18, normal: 2, abnormal: 0, size: 16, seed: 4 });
  const opts = { size: 16, width: 4, hidden: 16, latent: 4, batchSize: 8, epochs: 2, seed: 3 };
  const m = createMethod('ae-grad', opts);
  await m.fit(data.train);
  const dir = join(tmp, 'ae-grad');
  await m.save(dir);
  // The same weights as a plain AE: its image score is the per-image loss L(x).
  const cfgPath = join(dir, 'config.json');
  writeFileSync(cfgPath, readFileSync(cfgPath, 'utf8').replace('"method": "ae-grad"', '"method": "ae"'));
  const ae = await loadMethod(dir);
  assert.is(ae.info.name, 'ae');
  const x = (await data.test.images()).slice(0, 256);
  const { maps } = await m.score({ n: 1, channels: 1, size: 16, images: x });
  // L from the map in float64 (the float32 image score would round away the differences).
  const L = async (img: Float32Array) => (await ae.score({ n: 1, channels: 1, size: 16, images: img })).maps![0].reduce((a, v) => a + v, 0) / 256;
  // The pixels with the largest gradients, where a float32 finite difference is measurable.
  const pixels = Array.from(maps![0].keys()).sort((a, b) => maps![0][b] - maps![0][a]).slice(0, 4);
  const eps = 2e-2;
  for (const p of pixels) {
    const up = x.slice();
    up[p] += eps;
    const down = x.slice();
    down[p] -= eps;
    const numeric = Math.abs(((await L(up)) - (await L(down))) / (2 * eps));
    const analytic = maps![0][p];
    assert.ok(Math.abs(analytic - numeric) <= 0.01 * numeric + 1e-7, `pixel ${p}: analytic ${analytic} vs numeric ${numeric}`);
  }
});

test('Constrained AE quirk: the second pass updates BN running statistics a second time; weights are unaffected', async () => {
  const data = toyHeads({ train: 18, normal: 0, abnormal: 0, size: 16, seed: 5 });
  const opts = { size: 16, width: 4, hidden: 16, latent: 4, batchSize: 8, epochs: 2, seed: 3 };
  const state = async (quirk: boolean) => {
    const m = createMethod('constrained-ae', { ...opts, constrainedAeSecondPassBn: quirk });
    await m.fit(data.train);
    const dir = join(tmp, `constrained-${quirk}`);
    await m.save(dir);
    return readStateDict(join(dir, 'model.safetensors'));
  };
  const on = await state(true);
  const off = await state(false);
  const steps = 2 * 3;
  for (const bn of ['enc.1', 'enc_mlp.1', 'dec_mlp.1']) {
    assert.is(on.get(`${bn}.num_batches_tracked`)!.data[0], 2 * steps, `${bn} on`);
    assert.is(off.get(`${bn}.num_batches_tracked`)!.data[0], steps, `${bn} off`);
    assert.not.equal(Array.from(on.get(`${bn}.running_mean`)!.data), Array.from(off.get(`${bn}.running_mean`)!.data));
  }
  // Decoder conv BN layers see only the first pass either way.
  assert.is(on.get('dec.1.num_batches_tracked')!.data[0], steps);
  assert.equal(Array.from(on.get('dec.1.running_mean')!.data), Array.from(off.get('dec.1.running_mean')!.data));
  // Training normalises with batch statistics, so the learnt weights are the same.
  for (const k of ['enc.0.weight', 'enc_mlp.3.weight', 'dec.9.weight']) assert.equal(Array.from(on.get(k)!.data), Array.from(off.get(k)!.data), k);
});

test.run();
