// The f-AnoGAN networks (methods.md §5.15): shapes and reference names, the initialisation,
// the upsampling (the reference's cat ×4 + depth-to-space), and the exact WGAN-GP
// gradient: the critic's input-gradient graph equals autograd's input gradient, and the
// penalty's parameter gradient obtained through it matches finite differences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator, grad, noGrad, randn, sum, Tensor } from '../../src/engine/index.js';
import { BatchNorm2d, Conv2d, Linear } from '../../src/nn/index.js';
import { FAnoGAN, UpSampleConv } from '../../src/models/fanogan-nets.js';
import { LayerNorm } from '../../src/nn/index.js';
import { gradientPenalty } from '../../src/methods/reconstruction/fanogan.js';
import { randt } from '../engine/gradcheck.js'; // also selects the ts backend (reference kernels)

test('shapes at 32 px, DIM 4, latent 6; reference names', () => {
  const net = new FAnoGAN({ seed: 1, size: 32, dim: 4, latent: 6 });
  const x = randn([2, 1, 32, 32], { seed: 2 });
  noGrad(() => {
    assert.equal(net.encoder.forward(x).shape, [2, 6]);
    const img = net.generator.forward(randn([3, 6], { seed: 3 }));
    assert.equal(img.shape, [3, 1, 32, 32]);
    assert.ok(img.data.every((v) => v > -1 && v < 1), 'tanh output');
    assert.equal(net.discriminator.forward(x).shape, [2]);
    assert.equal(net.discriminator.features(x).shape, [2, 8 * 4 * 2 * 2]);
    const out = net.forward(x);
    assert.equal([out.xHat.shape, out.featReal.shape, out.featFake.shape], [[2, 1, 32, 32], [2, 128], [2, 128]]);
  });
  const names = [...net.stateDict().keys()];
  for (const n of [
    'encoder.conv_in.weight',
    'encoder.res1.bn1.weight',
    'encoder.res1.conv_shortcut.conv.conv.weight',
    'encoder.res4.conv_2.conv.conv.bias',
    'encoder.fc.weight',
    'generator.ln1.weight',
    'generator.rb1.bn1.running_mean',
    'generator.rb4.conv_1.conv.conv.weight',
    'generator.rb4.conv_2.conv.bias',
    'generator.bn.weight',
    'generator.conv1.conv.weight',
    'discriminator.conv1.conv.weight',
    'discriminator.rb1.bn2.bias',
    'discriminator.rb3.conv_1.conv.weight',
    'discriminator.ln1.weight',
  ]) {
    assert.ok(names.includes(n), `state dict has ${n}`);
  }
  assert.not.ok(names.includes('generator.rb1.conv_1.conv.conv.bias'), 'conv_1 has no bias');
  assert.equal(net.stateDict().get('discriminator.rb2.bn1.weight')!.shape, [8, 16, 16]);
  assert.equal(net.stateDict().get('encoder.res4.bn2.weight')!.shape, [32, 4, 4]);
  assert.throws(() => net.discriminator.forward(randn([1, 1, 64, 64])), /expected input \[B, 1, 32, 32\]/);
  assert.throws(() => net.generator.forward(randn([1, 5])), /expected z \[B, 6\]/);
  assert.throws(() => new FAnoGAN({ size: 24 }), /multiple of 16/);
});

test('initialisation: conv weights Kaiming-normal, biases 0; norm weights 1; Linear Xavier-uniform', () => {
  const net = new FAnoGAN({ seed: 4, size: 16, dim: 8, latent: 16 });
  for (const m of net.modules()) {
    if (m instanceof Conv2d && m.bias) assert.ok(m.bias.data.every((v) => v === 0));
    if (m instanceof BatchNorm2d || m instanceof LayerNorm) {
      assert.ok(m.weight!.data.every((v) => v === 1) && m.bias!.data.every((v) => v === 0));
    }
    if (m instanceof Linear) {
      const [out, inp] = m.weight.shape;
      const bound = Math.sqrt(6 / (inp + out));
      assert.ok(m.weight.data.every((v) => Math.abs(v) <= bound) && m.bias!.data.every((v) => v === 0));
    }
  }
  // Kaiming normal: std √2/√fan_in, here for the 3×3 conv of generator.rb1 (fan_in 64·9).
  const w = net.generator.blocks[1].conv2.conv.weight.data;
  const std = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
  const expected = Math.SQRT2 / Math.sqrt(w.length / net.generator.blocks[1].conv2.conv.outChannels);
  assert.ok(Math.abs(std / expected - 1) < 0.05, `std ${std} vs ${expected}`);
});

test("UpSampleConv = the reference's cat ×4 + DepthToSpace(2) + conv", () => {
  const up = new UpSampleConv(3, 2, 3, { generator: new Generator(1) });
  const x = randt([2, 3, 4, 5], 10, false);
  // DepthToSpace(2) of cat([x, x, x, x], 1), written out as the reference computes it (NHWC).
  const [B, C, H, W] = x.shape;
  const depth = 4 * C;
  const nhwc = new Float32Array(B * H * W * depth);
  for (let b = 0; b < B; b++) for (let k = 0; k < 4; k++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    nhwc[((b * H + h) * W + w) * depth + k * C + c] = x.data[((b * C + c) * H + h) * W + w];
  }
  // t_1 = reshape(B, H, W, 4, C); split the 4 along dim 3 into pairs; each → (B, H, 2W, C); stack, transpose, permute, reshape.
  const out = new Float32Array(B * C * 2 * H * 2 * W);
  for (let b = 0; b < B; b++) for (let i = 0; i < 2; i++) for (let h = 0; h < H; h++) for (let j = 0; j < 2; j++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) {
    // spl[i] holds block indices 2i, 2i+1; reshape to width 2W puts block 2i+j at column 2w+j; rows interleave as 2h+i.
    const v = nhwc[((b * H + h) * W + w) * depth + (2 * i + j) * C + c];
    out[((b * C + c) * 2 * H + 2 * h + i) * 2 * W + 2 * w + j] = v;
  }
  const ref = noGrad(() => up.conv.forward(Tensor.fromData(out, [B, C, 2 * H, 2 * W])));
  const mine = noGrad(() => up.forward(x));
  assert.equal(Array.from(mine.data), Array.from(ref.data));
});

test('critic input gradient: the explicit graph equals autograd’s ∇ₓ Σ D(x)', () => {
  const net = new FAnoGAN({ seed: 11, size: 32, dim: 3, latent: 4 });
  const x = randn([3, 1, 32, 32], { seed: 12 }).requiresGrad_();
  const [auto] = grad(sum(net.discriminator.forward(x)), [x]);
  const mine = net.discriminator.inputGradient(x.detach());
  let scale = 0;
  auto.data.forEach((v) => (scale = Math.max(scale, Math.abs(v))));
  auto.data.forEach((v, i) => assert.ok(Math.abs(v - mine.data[i]) <= 1e-5 * scale + 1e-7, `element ${i}: ${mine.data[i]} vs ${v}`));
});

test('gradient penalty: its parameter gradient (a gradient of a gradient) matches finite differences', () => {
  const net = new FAnoGAN({ seed: 3, size: 16, dim: 2, latent: 4 });
  const D = net.discriminator;
  const x = randn([2, 1, 16, 16], { seed: 7 });
  const gp = () => gradientPenalty(net, x);
  // The penalty is piecewise smooth: it jumps where a ReLU input crosses 0. A difference
  // quotient is valid only when no ReLU mask changes between the two evaluations.
  const masks = () => {
    let h = D.conv1.forward(x);
    const out: number[] = [];
    for (const b of D.blocks) {
      const r = b.forwardSaved(h);
      out.push(...r.saved.mask1.data, ...r.saved.mask2.data);
      h = r.y;
    }
    return out;
  };
  const params = D.namedParameters();
  // ln1.bias shifts D but not its input gradient: unused.
  const analytic = grad(gp(), params.map(([, p]) => p), undefined, { allowUnused: true });
  const base = noGrad(masks);
  let checked = 0;
  let skipped = 0;
  params.forEach(([name, p], k) => {
    for (const i of [0, p.size >> 1, p.size - 1]) {
      const orig = p.data[i];
      let eps = 1e-2 * Math.max(Math.abs(orig), 0.1);
      let numeric = NaN;
      for (let t = 0; t < 6 && Number.isNaN(numeric); t++, eps /= 3) {
        p.data[i] = orig + eps;
        const up = noGrad(gp).item();
        const sameUp = noGrad(masks).every((v, j) => v === base[j]);
        p.data[i] = orig - eps;
        const down = noGrad(gp).item();
        const sameDown = noGrad(masks).every((v, j) => v === base[j]);
        p.data[i] = orig;
        if (sameUp && sameDown) numeric = (up - down) / (2 * eps);
      }
      if (Number.isNaN(numeric)) {
        skipped++;
        continue;
      }
      checked++;
      const a = analytic[k].data[i];
      assert.ok(Math.abs(a - numeric) <= 2e-3 + 3e-2 * Math.abs(numeric), `${name}[${i}]: analytic ${a} vs numeric ${numeric}`);
    }
  });
  assert.ok(checked >= 0.9 * (checked + skipped), `${checked} checked, ${skipped} skipped`);
  // Not trivially zero: the penalty does depend on the weights.
  assert.ok(analytic.some((g) => g.data.some((v) => Math.abs(v) > 1e-3)));
});

test.run();
