// The GANomaly networks (methods.md §4.3) and the VAE (§4.2): parameter counts of §4.8 at
// the reference size, the reference's state-dict names, forward shapes, the discriminator
// re-initialisation rule, and the VAE's reparameterisation and KL term.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator, noGrad, randn, Tensor } from '../../src/engine/index.js';
import { BatchNorm2d, Conv2d, Linear } from '../../src/nn/index.js';
import { Ganomaly } from '../../src/models/ganomaly-nets.js';
import { klPerSample, VAE } from '../../src/models/vae.js';

test('GANomaly at the reference size: G 3,520,192 and D 1,157,729 parameters, reference names', () => {
  const net = new Ganomaly({ seed: 1 });
  assert.is(net.netg.numParameters(), 3_520_192);
  assert.is(net.netd.numParameters(), 1_157_729);
  const names = [...net.stateDict().keys()];
  for (const n of [
    'netg.encoder1.en_block1.model.0.weight',
    'netg.encoder1.en_block4.model.1.running_var',
    'netg.encoder1.linear_enc.0.weight',
    'netg.encoder1.linear_enc.2.bias',
    'netg.decoder.linear_dec.2.weight',
    'netg.decoder.de_block1.model.0.weight',
    'netg.decoder.de_block4.model.0.weight',
    'netg.encoder2.en_block1.model.0.weight',
    'netd.en_block4.model.1.num_batches_tracked',
    'netd.features.0.weight',
    'netd.classifier.0.bias',
  ]) {
    assert.ok(names.includes(n), `state dict has ${n}`);
  }
  // No BN1d in the MLPs and no BN/ReLU after the last transposed conv.
  assert.not.ok(names.some((n) => /linear_(enc|dec)\.1\./.test(n)));
  assert.not.ok(names.some((n) => n.startsWith('netg.decoder.de_block4.model.1')));
});

test('GANomaly forward shapes at 32 px; D returns a probability and h features', () => {
  const net = new Ganomaly({ seed: 2, size: 32, width: 4, hidden: 16, latent: 5 });
  const x = randn([3, 1, 32, 32], { seed: 3 });
  const { xHat, z, zHat } = noGrad(() => net.forward(x));
  assert.equal([xHat.shape, z.shape, zHat.shape], [[3, 1, 32, 32], [3, 5], [3, 5]]);
  const d = noGrad(() => net.netd.forward(x));
  assert.equal([d.pred.shape, d.features.shape], [[3], [3, 16]]);
  assert.ok(d.pred.data.every((p) => p > 0 && p < 1));
  assert.ok(d.features.data.every((f) => f >= 0), 'features follow a ReLU');
  assert.throws(() => net.forward(randn([1, 1, 64, 64])), /expected input \[B, 1, 32, 32\]/);
  assert.throws(() => new Ganomaly({ size: 40 }), /multiple of 16/);
});

test('D re-initialisation: conv weights ~ N(0, 0.02), BN weights ~ N(1, 0.02), BN biases 0, Linear untouched', () => {
  const net = new Ganomaly({ seed: 4, size: 32, width: 8, hidden: 32 });
  const d = net.netd;
  const linears = d.modules().filter((m): m is Linear => m instanceof Linear);
  const before = linears.map((l) => Float32Array.from(l.weight.data));
  for (const m of d.modules()) if (m instanceof BatchNorm2d) m.bias!.data.fill(0.3);
  d.reinitialize(new Generator(5));
  const convVals: number[] = [];
  const bnVals: number[] = [];
  for (const m of d.modules()) {
    if (m instanceof Conv2d) convVals.push(...m.weight.data);
    if (m instanceof BatchNorm2d) {
      bnVals.push(...m.weight!.data);
      assert.ok(m.bias!.data.every((v) => v === 0));
    }
  }
  const stats = (v: number[]) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return [m, Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length)];
  };
  const [cm, cs] = stats(convVals);
  assert.ok(Math.abs(cm) < 0.002 && Math.abs(cs - 0.02) < 0.002, `conv weights mean ${cm}, std ${cs}`);
  const [bm, bs] = stats(bnVals);
  assert.ok(Math.abs(bm - 1) < 0.01 && bs > 0.01 && bs < 0.03, `BN weights mean ${bm}, std ${bs}`);
  linears.forEach((l, i) => assert.equal(Array.from(l.weight.data), Array.from(before[i])));
  // G is not touched.
  const g0 = Float32Array.from(net.netg.encoder1.blocks[0].model.at(0).parameters()[0].data);
  d.reinitialize(new Generator(6));
  assert.equal(Array.from(net.netg.encoder1.blocks[0].model.at(0).parameters()[0].data), Array.from(g0));
});

test('VAE at the reference size: 2,367,584 parameters; the encoder MLP ends in 2·ls', () => {
  const vae = new VAE({ seed: 1 });
  assert.is(vae.numParameters(), 2_367_584);
  assert.equal(vae.stateDict().get('enc_mlp.3.weight')!.shape, [32, 1024]);
  assert.equal(vae.stateDict().get('dec_mlp.0.weight')!.shape, [1024, 16]);
});

test('VAE: μ and log σ² split the encoder output; z = μ + exp(½ log σ²)·ε with ε from the given generator', () => {
  const vae = new VAE({ seed: 2, size: 32, width: 4, hidden: 16, latent: 3 }).eval();
  const x = randn([2, 1, 32, 32], { seed: 3 });
  noGrad(() => {
    const stats = vae.encode(x);
    const { mu, logVar } = vae.posterior(x);
    for (let b = 0; b < 2; b++) {
      for (let j = 0; j < 3; j++) {
        assert.is(mu.data[b * 3 + j], stats.data[b * 6 + j]);
        assert.is(logVar.data[b * 3 + j], stats.data[b * 6 + 3 + j]);
      }
    }
    const out = vae.run(x, new Generator(9));
    const eps = new Generator(9);
    const expected = Array.from({ length: 6 }, (_, i) => mu.data[i] + Math.exp(0.5 * logVar.data[i]) * eps.normal());
    out.z.data.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5, `z[${i}] ${v} vs ${expected[i]}`));
    // Same generator seed → same sample and reconstruction; no generator → μ.
    assert.equal(Array.from(vae.run(x, new Generator(9)).xHat.data), Array.from(out.xHat.data));
    assert.equal(Array.from(vae.run(x, null).z.data), Array.from(mu.data));
    assert.equal(Array.from(vae.forward(x).data), Array.from(vae.decode(mu).data));
  });
});

test('klPerSample: the mean over latent dimensions of −½(1 + log σ² − μ² − σ²)', () => {
  const mu = Tensor.fromData(Float32Array.from([0, 1, -2, 0.5]), [2, 2]);
  const lv = Tensor.fromData(Float32Array.from([0, 0.5, -1, 2]), [2, 2]);
  const kl = klPerSample(mu, lv);
  const ref = (m: number, l: number) => -0.5 * (1 + l - m * m - Math.exp(l));
  const expected = [(ref(0, 0) + ref(1, 0.5)) / 2, (ref(-2, -1) + ref(0.5, 2)) / 2];
  assert.equal(kl.shape, [2]);
  kl.data.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `${v} vs ${expected[i]}`));
  assert.is(klPerSample(Tensor.empty([1, 4]), Tensor.empty([1, 4])).item(), 0);
});

test.run();
