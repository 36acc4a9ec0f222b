// The parts of reverse distillation: OCBE and the student decoder (parameter counts of the
// official and anomalib builds, state-dict names, shapes, initialisation), the cosine
// distances (PyTorch's eps rule, gradients against central differences, the invariants: 0
// for equal directions, global vs pixel form) and the map (add / multiply, blur flavours).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Generator, interpolate, randn, sum, Tensor } from '../../../src/engine/index.js';
import { ConvTranspose2d } from '../../../src/nn/layers/conv.js';
import { OCBE, RD_LAYERS, rdChannels, rdEmbeddingChannels, ReverseDecoder } from '../../../src/models/reverse-distillation.js';
import { globalCosineDistance, pixelCosineDistance } from '../../../src/methods/feature-reconstruction/cosine.js';
import { rdAnomalyMaps } from '../../../src/methods/feature-reconstruction/rd-maps.js';
import { gaussianBlurMaps } from '../../../src/methods/feature-reference/maps.js';

const close = (a: number, b: number, tol: number, what: string): void => assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${what}: ${a} vs ${b}`);

test('anomalib OCBE: 39,222,272 parameters (width 512, conv4/bn4 included), official names, Kaiming-normal fan_out convs (the official build is counted in rd4ad-fixtures)', () => {
  const ocbe = new OCBE('wide_resnet50_2', { width: 'anomalib', generator: new Generator(0) });
  assert.is(ocbe.numParameters(), 39_222_272);
  const names = new Set(ocbe.stateDict().keys());
  for (const n of ['conv4.weight', 'bn4.weight', 'bn4.running_var', 'bn_layer.0.downsample.0.weight', 'bn_layer.0.downsample.1.bias', 'bn_layer.2.conv3.weight']) assert.ok(names.has(n), n);
  const w = ocbe.bn_layer.at(0).stateDict().get('conv2.weight')!;
  assert.equal(w.shape, [512, 512, 3, 3]);
  let s2 = 0;
  for (const v of w.data) s2 += v * v;
  close(Math.sqrt(s2 / w.size), Math.sqrt(2 / (512 * 9)), 0.01, 'kaiming std');
  assert.throws(() => new OCBE('wide_resnet50_2', { width: 'wide' as never, generator: new Generator(0) }), /width/);
  assert.throws(() => new OCBE('resnet50' as never, { generator: new Generator(0) }), /backbone must be one of/);
});

test('resnet18: BasicBlock OCBE (2 blocks) and de_resnet18, shapes at 64 px; ConvTranspose keeps the default init bound', () => {
  const g = new Generator(1);
  const ocbe = new OCBE('resnet18', { generator: g });
  const dec = new ReverseDecoder('resnet18', { generator: g });
  assert.equal(rdChannels('resnet18'), [64, 128, 256]);
  assert.is(rdEmbeddingChannels('resnet18'), 512);
  assert.equal([...RD_LAYERS], ['layer1', 'layer2', 'layer3']);
  const e = [randn([2, 64, 16, 16], { generator: g }), randn([2, 128, 8, 8], { generator: g }), randn([2, 256, 4, 4], { generator: g })] as [Tensor, Tensor, Tensor];
  ocbe.train();
  dec.train();
  const z = ocbe.forward(e);
  assert.equal(z.shape, [2, 512, 2, 2]);
  const d = dec.forward(z);
  assert.equal(d.map((t) => t.shape), [[2, 64, 16, 16], [2, 128, 8, 8], [2, 256, 4, 4]]);
  const ct = dec.layer1.at(0).stateDict().get('conv1.weight')!;
  assert.ok(dec.layer1.at(0).children().some((m) => m instanceof ConvTranspose2d));
  // PyTorch default: U(±1/√fan_in), fan_in = weight dim 1 · 4 = 256·4
  const bound = 1 / Math.sqrt(256 * 4);
  let mx = 0;
  for (const v of ct.data) mx = Math.max(mx, Math.abs(v));
  assert.ok(mx <= bound && mx > 0.9 * bound, `ConvTranspose max |w| ${mx} vs bound ${bound}`);
});

test('cosine distances: values, PyTorch eps rule, invariants', () => {
  const a = Tensor.fromData(new Float32Array([3, 4, 0, 0]), [2, 2]);
  const b = Tensor.fromData(new Float32Array([1, 2, 1e-10, 0]), [2, 2]);
  const d = globalCosineDistance(a, b).data;
  close(d[0], 1 - 11 / (5 * Math.sqrt(5)), 1e-6, 'cos');
  assert.is(d[1], 1); // a zero vector: n clamped to eps, cos 0
  // PyTorch 1.13, F.cosine_similarity(a, b, eps=1e-4) with a = (1e-5, 0), b = (1, 1): the
  // gradient of cos is (7000.3574, 7071.0679) wrt a and (0.0354, −0.0354) wrt b
  const ta = Tensor.fromData(new Float32Array([1e-5, 0]), [1, 2]).requiresGrad_();
  const tb = Tensor.fromData(new Float32Array([1, 1]), [1, 2]).requiresGrad_();
  globalCosineDistance(ta, tb, 1e-4).sum().backward();
  close(ta.grad!.data[0], -7000.3574, 1e-6, 'eps grad a0');
  close(ta.grad!.data[1], -7071.0679, 1e-6, 'eps grad a1');
  close(tb.grad!.data[0], -0.035355, 1e-4, 'eps grad b0');
  close(tb.grad!.data[1], 0.035355, 1e-4, 'eps grad b1');
  const g = new Generator(2);
  const x = randn([2, 5, 3, 4], { generator: g });
  const y = Tensor.fromData(x.data.map((v, i) => v * (i < 60 ? 2.5 : 0.3)), x.shape); // positive scale per sample
  for (const v of globalCosineDistance(x, y).data) assert.ok(Math.abs(v) < 1e-6);
  for (const v of pixelCosineDistance(x, y).data) assert.ok(Math.abs(v) < 1e-6);
  // pixel form: cosine over channels only
  const z = randn([2, 5, 3, 4], { generator: g });
  const p = pixelCosineDistance(x, z);
  assert.equal(p.shape, [2, 1, 3, 4]);
  let dot = 0, nx = 0, nz = 0;
  for (let c = 0; c < 5; c++) {
    const i = 60 + c * 12 + 7;
    dot += x.data[i] * z.data[i];
    nx += x.data[i] ** 2;
    nz += z.data[i] ** 2;
  }
  close(p.data[12 + 7], 1 - dot / Math.sqrt(nx * nz), 1e-6, 'pixel cos');
});

test('cosine distances: gradients of both arguments against central differences (float64 reference)', () => {
  const g = new Generator(3);
  for (const fn of [globalCosineDistance, pixelCosineDistance]) {
    const a = randn([2, 3, 2, 2], { generator: g }).requiresGrad_();
    const b = randn([2, 3, 2, 2], { generator: g }).requiresGrad_();
    const w = randn(fn === globalCosineDistance ? [2] : [2, 1, 2, 2], { generator: g });
    sum(fn(a, b).mul(w)).backward();
    const ref = (av: Float64Array, bv: Float64Array): number => {
      let total = 0;
      const inner = fn === globalCosineDistance ? 1 : 4;
      const k = fn === globalCosineDistance ? 12 : 3;
      for (let o = 0; o < 2; o++) {
        for (let p = 0; p < inner; p++) {
          let dot = 0, na = 0, nb = 0;
          for (let c = 0; c < k; c++) {
            const i = o * k * inner + c * inner + p;
            dot += av[i] * bv[i];
            na += av[i] ** 2;
            nb += bv[i] ** 2;
          }
          total += w.data[o * inner + p] * (1 - dot / Math.sqrt(na * nb));
        }
      }
      return total;
    };
    for (const [t, which] of [[a, 0], [b, 1]] as const) {
      for (let i = 0; i < 24; i += 5) {
        const av = Float64Array.from(a.data), bv = Float64Array.from(b.data);
        const v = which === 0 ? av : bv;
        const h = 1e-6;
        v[i] += h;
        const up = ref(av, bv);
        v[i] -= 2 * h;
        const down = ref(av, bv);
        close(t.grad!.data[i], (up - down) / (2 * h), 1e-4, `${fn.name} grad ${which}[${i}]`);
      }
    }
  }
});

test('rdAnomalyMaps: sum (or product) of align-corners upsampled pixel distances, then the blur flavour', () => {
  const g = new Generator(4);
  const pairs: [Tensor, Tensor][] = [
    [randn([2, 4, 8, 8], { generator: g }), randn([2, 4, 8, 8], { generator: g })],
    [randn([2, 6, 4, 4], { generator: g }), randn([2, 6, 4, 4], { generator: g })],
  ];
  const ups = pairs.map(([t, s]) => interpolate(pixelCosineDistance(t, s), { size: [16, 16], mode: 'bilinear', alignCorners: true }).data);
  const raw = rdAnomalyMaps(pairs, 16, { combine: 'add', blur: 'none', sigma: 4 });
  assert.is(raw.length, 2);
  for (let i = 0; i < 512; i++) close(raw[i >> 8][i & 255], ups[0][i] + ups[1][i], 1e-6, 'add');
  const prod = rdAnomalyMaps(pairs, 16, { combine: 'multiply', blur: 'none', sigma: 4 });
  for (let i = 0; i < 512; i++) close(prod[i >> 8][i & 255], ups[0][i] * ups[1][i], 1e-6, 'multiply');
  for (const flavour of ['scipy', 'torch'] as const) {
    const sm = rdAnomalyMaps(pairs, 16, { combine: 'add', blur: flavour, sigma: 4 });
    const packed = new Float32Array(512);
    raw.forEach((m, i) => packed.set(m, i * 256));
    const want = gaussianBlurMaps(packed, 2, 16, 16, { sigma: 4, flavour });
    assert.equal(Array.from(sm[1]), Array.from(want.subarray(256)));
  }
  assert.throws(() => rdAnomalyMaps(pairs, 16, { combine: 'max' as never, blur: 'none', sigma: 4 }), /combine/);
  assert.throws(() => rdAnomalyMaps(pairs, 16, { combine: 'add', blur: 'gauss' as never, sigma: 4 }), /blur/);
});

test.run();
