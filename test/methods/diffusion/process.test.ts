// The diffusion process of src/methods/diffusion (spec §1, §2.3–2.5, §6.5.2, §6.5.4): schedule
// values against the spec and PyTorch/numpy (scripts/make-diffusion-process-fixtures.py), one
// reverse step against hand-computed numbers and the fixture, partial diffusion with λ = 1 and
// with an oracle ε̂, the hybrid loss terms and gradient against guided-diffusion's formulas in
// PyTorch 1.13, and the noise sources (fresh fields per call, same seed → same fields).
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator, Tensor } from '../../../src/engine/index.js';
import { Module } from '../../../src/nn/module.js';
import { coefficients, cosineSchedule, linearSchedule, type NoiseSchedule } from '../../../src/methods/diffusion/schedule.js';
import { predictX0, qSample, reverseStep } from '../../../src/methods/diffusion/process.js';
import { drawAtLevels, gaussianNoise, simplexNoise, type NoiseSource } from '../../../src/methods/diffusion/noise.js';
import { partialDiffusion } from '../../../src/methods/diffusion/sampling.js';
import { diffusionLoss, vlbTerms } from '../../../src/methods/diffusion/losses.js';

const fx = JSON.parse(readFileSync(new URL('../../fixtures/diffusion/process.json', import.meta.url), 'utf8'));

const lin = linearSchedule(1000, { scaleWithT: true, variance: 'fixed-large', precision: 'float64' });
const cos = cosineSchedule(1000, { variance: 'fixed-large', precision: 'float64' });

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= tol * Math.max(1, Math.abs(b[i])))) assert.unreachable(`${what}[${i}]: ${a[i]} vs ${b[i]} (|d| ${d} > ${tol})`);
  }
}

test('ᾱ of the spec §1 (linear and cosine, T = 1000, float64)', () => {
  const want: Array<[number, number]> = [[49, 0.971], [199, 0.659], [200, 0.6563], [249, 0.5241], [499, 0.0786], [799, 0.00153]];
  for (const [t, v] of want) assert.ok(Math.abs(lin.alphasCumprod[t] - v) < 0.5 * 10 ** -(String(v).split('.')[1].length), `ᾱ_${t} = ${lin.alphasCumprod[t]}, spec ${v}`);
  assert.ok(Math.abs(coefficients(lin).posteriorVariance[200] - 4.052e-3) < 5e-7, `β̃_200 = ${coefficients(lin).posteriorVariance[200]}`);
  assert.ok(Math.abs(cos.alphasCumprod[249] - 0.847) < 5e-4, `cosine ᾱ_249 = ${cos.alphasCumprod[249]}`);
  // T = 100 with β scaled by 1000/T (spec §6.4): ᾱ_24 = 0.528.
  const lin100 = linearSchedule(100, { scaleWithT: true, variance: 'fixed-large', precision: 'float64' });
  assert.ok(Math.abs(lin100.alphasCumprod[24] - 0.528) < 5e-4, `T 100: ᾱ_24 = ${lin100.alphasCumprod[24]}`);
  close([0, 24, 99].map((t) => lin100.alphasCumprod[t]), fx.schedules.linear64_T100.alphasCumprod, 1e-14, 'T 100 ᾱ');
  assert.is(lin.alphasCumprodPrev[0], 1);
  assert.is(lin.alphasCumprodPrev[10], lin.alphasCumprod[9]);
});

test('schedules and posterior coefficients = numpy (float64) and torch (float32)', () => {
  for (const [s, key] of [[lin, 'linear64'], [cos, 'cosine64']] as Array<[NoiseSchedule, string]>) {
    const f = fx.schedules[key];
    const c = coefficients(s);
    const ts: number[] = f.t;
    close(ts.map((t) => s.alphasCumprod[t]), f.alphasCumprod, 1e-13, `${key} ᾱ`);
    close(ts.map((t) => c.posteriorVariance[t]), f.posteriorVariance, 1e-10, `${key} β̃`);
    close(ts.map((t) => c.posteriorMeanCoef1[t]), f.coef1, 1e-10, `${key} c1`);
    close(ts.map((t) => c.posteriorMeanCoef2[t]), f.coef2, 1e-10, `${key} c2`);
  }
  // At t = 0: c1 = 1, c2 = 0 (the last step returns the clamped x̂_0).
  assert.ok(Math.abs(coefficients(lin).posteriorMeanCoef1[0] - 1) < 1e-12);
  assert.is(coefficients(lin).posteriorMeanCoef2[0], 0);
  const s32 = linearSchedule(1000, { scaleWithT: false, variance: 'fixed-small', precision: 'float32' });
  const f = fx.schedules.linear32;
  assert.equal(f.t.map((t: number) => s32.betas[t]), f.betas, 'torch.linspace float32 bit for bit');
  close(f.t.map((t: number) => s32.alphasCumprod[t]), f.alphasCumprod, 2e-7, 'torch.cumprod float32');
  // σ² fixed-small = β̃_t, fixed-large = β_t.
  assert.ok(Math.abs(coefficients(s32).sigma[200] ** 2 - coefficients(s32).posteriorVariance[200]) < 1e-12);
  assert.ok(Math.abs(coefficients(lin).sigma[200] ** 2 - lin.betas[200]) < 1e-12);
});

test('one reverse step: hand-computed numbers and the PyTorch fixture', () => {
  // Hand computation at t = 200 for one value, in float64 from the definitions of §1.
  const t = 200;
  const b = lin.betas;
  const ac = lin.alphasCumprod;
  const xt = 0.3, eps = -0.7, z = 0.25;
  const x0 = Math.min(1, Math.max(-1, Math.sqrt(1 / ac[t]) * xt - Math.sqrt(1 / ac[t] - 1) * eps));
  const c1 = (b[t] * Math.sqrt(ac[t - 1])) / (1 - ac[t]);
  const c2 = ((1 - ac[t - 1]) * Math.sqrt(1 - b[t])) / (1 - ac[t]);
  const want = c1 * x0 + c2 * xt + Math.sqrt(b[t]) * z;
  const one = (v: number) => Tensor.fromData(Float32Array.of(v), [1, 1, 1, 1]);
  const got = reverseStep(lin, one(eps), t, one(xt), one(z)).data[0];
  assert.ok(Math.abs(got - want) < 2e-6, `x_199 = ${got}, hand ${want}`);
  assert.ok(Math.abs(predictX0(lin, one(eps), t, one(xt)).data[0] - x0) < 2e-6, 'x̂_0');
  // The fixture: batch 2, 1×4×4 (some x̂_0 clamp).
  const s = fx.step;
  const T = (v: number[]) => Tensor.fromData(Float32Array.from(v), s.shape);
  close(reverseStep(lin, T(s.eps), s.t, T(s.xt), T(s.z)).data, s.next, 2e-6, 'x_{t−1}');
  close(predictX0(lin, T(s.eps), s.t, T(s.xt)).data, s.x0, 2e-6, 'x̂_0');
  assert.ok(s.x0.some((v: number) => Math.abs(v) === 1), 'the fixture clamps some x̂_0');
  // t = 0: μ = the clamped x̂_0, no noise.
  close(reverseStep(lin, T(s.eps), 0, T(s.xt), null).data, s.t0next, 2e-6, 'x_{−1}');
  close(reverseStep(lin, T(s.eps), 0, T(s.xt), null).data, s.t0x0, 2e-6, 'x_{−1} = x̂_0');
  assert.throws(() => reverseStep(lin, T(s.eps), 5, T(s.xt), null), /needs a noise field z/);
  assert.throws(() => reverseStep(lin, T(s.eps), 1000, T(s.xt), T(s.z)), /\[0, 999\]/);
});

test('qSample: per-image levels', () => {
  const x0 = Tensor.fromData(Float32Array.of(0.5, 0.5, -0.2, -0.2), [2, 1, 1, 2]);
  const n = Tensor.fromData(Float32Array.of(1, -1, 2, 0), [2, 1, 1, 2]);
  const out = qSample(x0, n, Int32Array.of(0, 499), lin).data;
  const f = (x: number, e: number, t: number) => Math.sqrt(lin.alphasCumprod[t]) * x + Math.sqrt(1 - lin.alphasCumprod[t]) * e;
  close(out, [f(0.5, 1, 0), f(0.5, -1, 0), f(-0.2, 2, 499), f(-0.2, 0, 499)], 1e-6, 'x_t');
  assert.throws(() => qSample(x0, n, Int32Array.of(0), lin), /one level per image/);
});

/** A stand-in network returning a fixed function of (x, t). */
class FnNet extends Module {
  calls: number[] = [];
  constructor(private readonly fn: (x: Float32Array, t: number, out: Float32Array) => void) {
    super();
  }
  forward(x: Tensor, t: Float32Array): Tensor {
    this.calls.push(t[0]);
    const out = Tensor.empty(x.shape);
    this.fn(x.data, t[0], out.data);
    return out;
  }
}

test('partial diffusion λ = 1: one t = 0 step, no step noise, returns the clamped x̂_0 (§6.5.4)', () => {
  const x0 = Tensor.fromData(Float32Array.from({ length: 32 }, (_, i) => Math.sin(i) * 0.9), [2, 1, 4, 4]);
  const c = coefficients(lin);
  // ε̂ = 3 everywhere: x̂_0 = clamp(a x_0' − b·3) with x_0' the q-sample at level 0.
  const net = new FnNet((_x, _t, out) => out.fill(3));
  let draws = 0;
  const src = gaussianNoise(new Generator(1));
  const counting: NoiseSource = { kind: 'gaussian', draw: (shape, t) => (draws++, src.draw(shape, t)) };
  const { x, stats } = partialDiffusion(net, x0, lin, 0, counting);
  assert.equal(net.calls, [0]);
  assert.is(stats.unetCalls, 1);
  assert.is(draws, 1, 'only the q-sample draws noise');
  // Recompute: same generator, same first draw.
  const n = gaussianNoise(new Generator(1)).draw([2, 1, 4, 4], 0);
  const xt = qSample(x0, n, Int32Array.of(0, 0), lin).data;
  const want = Array.from(xt, (v) => Math.min(1, Math.max(-1, Math.fround(c.sqrtRecipAlphasCumprod[0]) * v - Math.fround(c.sqrtRecipm1AlphasCumprod[0]) * 3)));
  close(x.data, want, 1e-6, 'x̂');
});

for (const kind of ['gaussian', 'simplex'] as const) {
  test(`partial diffusion with an oracle ε̂ returns x_0 for any z (${kind}, §6.5.4)`, () => {
    const s = linearSchedule(100, { scaleWithT: true, variance: 'fixed-large', precision: 'float64' });
    const g = new Generator(3);
    const x0 = Tensor.fromData(Float32Array.from({ length: 2 * 16 * 16 }, () => g.uniform() * 1.8 - 0.9), [2, 1, 16, 16]);
    const oracle = new FnNet((x, t, out) => {
      const a = Math.sqrt(s.alphasCumprod[t]), b = Math.sqrt(1 - s.alphasCumprod[t]);
      for (let j = 0; j < x.length; j++) out[j] = (x[j] - a * x0.data[j]) / b;
    });
    const noise = kind === 'gaussian' ? gaussianNoise(new Generator(9)) : simplexNoise(new Generator(9), { octaves: 3, persistence: 0.8, frequency: 8, perImage: true });
    const { x, stats } = partialDiffusion(oracle, x0, s, 24, noise);
    assert.is(stats.unetCalls, 25);
    assert.equal(oracle.calls, Array.from({ length: 25 }, (_, i) => 24 - i));
    close(x.data, x0.data, 2e-4, 'x̂ = x_0');
  });
}

test('hybrid loss: VLB terms and gradient = guided-diffusion in PyTorch 1.13', () => {
  const h = fx.hybrid;
  const T = (v: number[]) => Tensor.fromData(Float32Array.from(v), h.shape);
  const ctx = { s: lin, x0: T(h.x0), xt: T(h.xt), t: Int32Array.from(h.t) };
  const terms = vlbTerms(lin, Float32Array.from(h.eps), ctx);
  // The reference computes in float32; this kernel in float64 (relative 1e-4 on the bits).
  close(terms, h.vlb, 1e-4, 'vlb bits');
  const eps = T(h.eps).requiresGrad_(true);
  const loss = diffusionLoss('hybrid', eps, T(h.noise), ctx);
  assert.ok(Math.abs(loss.item() - h.loss) < 1e-5 * h.loss, `loss ${loss.item()} vs ${h.loss}`);
  loss.backward();
  const gmax = Math.max(...h.grad.map(Math.abs));
  const g = eps.grad!.data;
  for (let i = 0; i < g.length; i++) if (Math.abs(g[i] - h.grad[i]) > 1e-4 * gmax) assert.unreachable(`grad[${i}] ${g[i]} vs ${h.grad[i]}`);
  // l2 and l1 are plain means.
  const d = Float32Array.from(h.eps, (v: number, i: number) => v - h.noise[i]);
  const l2 = diffusionLoss('l2', T(h.eps), T(h.noise), ctx).item();
  const l1 = diffusionLoss('l1', T(h.eps), T(h.noise), ctx).item();
  assert.ok(Math.abs(l2 - d.reduce((a, v) => a + v * v, 0) / d.length) < 1e-6);
  assert.ok(Math.abs(l1 - d.reduce((a, v) => a + Math.abs(v), 0) / d.length) < 1e-6);
  assert.throws(() => diffusionLoss('l3' as never, T(h.eps), T(h.noise), ctx), /'l2', 'l1' or 'hybrid'/);
});

test('noise sources: fresh field per call, same seed → same fields, simplex per image or per batch', () => {
  const shape = [2, 1, 16, 16];
  const a = simplexNoise(new Generator(5), { octaves: 4, persistence: 0.8, frequency: 16, perImage: true });
  const b = simplexNoise(new Generator(5), { octaves: 4, persistence: 0.8, frequency: 16, perImage: true });
  const a1 = a.draw(shape, 10).data, a2 = a.draw(shape, 10).data;
  assert.equal(Array.from(a1), Array.from(b.draw(shape, 10).data), 'same seed, same field');
  assert.ok(a1.some((v, i) => v !== a2[i]), 'a second call draws a new field');
  const per = 256;
  assert.ok(a1.subarray(0, per).some((v, i) => v !== a1[per + i]), 'perImage: each image its own field');
  const shared = simplexNoise(new Generator(5), { octaves: 4, persistence: 0.8, frequency: 16, perImage: false }).draw(shape, 10).data;
  assert.equal(Array.from(shared.subarray(0, per)), Array.from(shared.subarray(per)), 'perImage false: one field for the batch');
  let sq = 0;
  for (const v of a1) sq += v * v;
  assert.ok(Math.sqrt(sq / a1.length) > 0.1 && Math.sqrt(sq / a1.length) < 1.5, 'a field of a plausible scale');
  const g1 = gaussianNoise(new Generator(7)).draw(shape, 0).data;
  const g2 = gaussianNoise(new Generator(7)).draw(shape, 0).data;
  assert.equal(Array.from(g1), Array.from(g2));
  // Training draws: each image at its own level.
  const levels = drawAtLevels(simplexNoise(new Generator(5), { octaves: 4, persistence: 0.8, frequency: 16, perImage: true }), shape, Int32Array.of(3, 40));
  assert.equal(levels.shape, shape);
  assert.throws(() => simplexNoise(new Generator(1), { octaves: 0, persistence: 0.8, frequency: 16, perImage: true }), /octaves/);
  assert.throws(() => a.draw([16, 16], 0), /\[B, C, H, W\]/);
});

test('schedule refusals', () => {
  assert.throws(() => linearSchedule(1, { scaleWithT: true, variance: 'fixed-large', precision: 'float64' }), /T \(the number of diffusion steps\)/);
  assert.throws(() => linearSchedule(10, { scaleWithT: true, variance: 'fixed-large', precision: 'float64' }), /T ≥ 21/);
  assert.throws(() => cosineSchedule(100, { variance: 'large' as never, precision: 'float64' }), /fixed-large/);
});

test.run();
