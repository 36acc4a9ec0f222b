// The backbones' public surface: torchvision's state-dict names, loading from .safetensors
// (round trip, classifier ignored, absent num_batches_tracked accepted, wrong files refused
// naming the tensor), torchvision's seeded random init, eval mode, early stop, preprocessing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concat, defaultGenerator, Generator, profile, setBackend, Tensor } from '../../../src/engine/index.js';
import {
  backbones, compareState, describeStateCheck, expectedState, IMAGENET_MEAN, IMAGENET_STD, ResNetFeatures, toBackboneInput, VGG19Features, type BackboneName,
} from '../../../src/models/backbones/index.js';
import { BatchNorm2d, Conv2d } from '../../../src/nn/index.js';
import { saveStateDict } from '../../../src/nn/safetensors.js';
import { writeSafetensors, type RawTensor } from '../../../src/nn/safetensors-format.js';
import * as lib from '../../../src/index.js';
import { throwsMatching } from '../../assert-throws.js';
import { fillModule, fixtureInput } from './fill.js';

setBackend('ts');
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/backbones/backbones.json', import.meta.url), 'utf8')) as Record<
  BackboneName,
  { state: [string, number[]][] }
>;
const tmp = mkdtempSync(join(tmpdir(), 'medianomaly-backbones-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const head = (arch: BackboneName) => (arch === 'vgg19' ? 'classifier.' : 'fc.');
const same = (a: Float32Array, b: Float32Array) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));

test('expectedState: torchvision state-dict names and shapes, in order (classifier aside)', () => {
  for (const arch of backbones.list()) {
    const tv = fixture[arch].state.filter(([n]) => !n.startsWith(head(arch)));
    const ours = expectedState(arch);
    assert.equal(ours.map((e) => [e.name, e.shape]), tv, arch);
    assert.ok(fixture[arch].state.some(([n]) => n.startsWith(head(arch))), `${arch}: torchvision's file has its classifier`);
    for (const e of ours) assert.is(e.dtype, e.name.endsWith('num_batches_tracked') ? 'int64' : 'float32');
    assert.equal(backbones.expectedState(arch), ours);
  }
  assert.ok(expectedState('resnet18').some((e) => e.name === 'layer2.0.downsample.0.weight'));
  assert.ok(expectedState('wide_resnet50_2').some((e) => e.name === 'layer1.0.downsample.1.running_var'));
  assert.ok(expectedState('resnet18').some((e) => e.name === 'bn1.num_batches_tracked'));
});

test('the modules hold exactly the expected state, with the parameter counts of methods.md §10 / §4.7', () => {
  const params = (arch: BackboneName, upTo = Infinity) =>
    expectedState(arch)
      .filter((e) => /\.(weight|bias)$/.test(e.name) && !(arch === 'vgg19' && Number(e.name.split('.')[1]) > upTo))
      .reduce((n, e) => n + e.shape.reduce((a, b) => a * b, 1), 0);
  for (const net of [new ResNetFeatures('resnet18'), new VGG19Features()]) {
    assert.equal(
      net.stateEntries().map((e) => [e.name, [...e.tensor.shape], e.dtype]),
      expectedState(net.name).map((e) => [e.name, e.shape, e.dtype]),
      net.name,
    );
  }
  assert.is(params('resnet18'), 11_176_512);
  assert.is(params('vgg19', 21), 5_865_536); // conv1_1 … conv4_2 (features.0 … features.21)
  // The networks are built without PyTorch's default conv init (no draws): create() fills every value.
  const before = defaultGenerator().state;
  const wrn = new ResNetFeatures('wide_resnet50_2');
  assert.equal(defaultGenerator().state, before);
  assert.ok(wrn.layer4.at(2).stateDict().get('conv2.weight')!.data.every((v) => v === 0));
  assert.equal(wrn.stateEntries().map((e) => e.name), expectedState('wide_resnet50_2').map((e) => e.name));
  assert.is(wrn.numParameters(), params('wide_resnet50_2'));
});

test('compareState: the torchvision file passes (classifier ignored); wrong files are described tensor by tensor', () => {
  for (const arch of backbones.list()) {
    const given = fixture[arch].state.map(([name, shape]) => ({ name, shape }));
    const c = compareState(arch, given);
    assert.ok(c.ok, arch);
    assert.equal(c.ignored, fixture[arch].state.filter(([n]) => n.startsWith(head(arch))).map(([n]) => n));
    assert.equal([c.missing, c.extra, c.misshaped, c.absentOptional], [[], [], [], []]);
  }
  const r18 = fixture.resnet18.state.map(([name, shape]) => ({ name, shape }));
  const noNbt = compareState('resnet18', r18.filter((e) => !e.name.endsWith('num_batches_tracked')));
  assert.ok(noNbt.ok, 'absent num_batches_tracked is accepted');
  assert.is(noNbt.absentOptional.length, 20);
  const bad = compareState('resnet18', [
    ...r18.filter((e) => e.name !== 'layer3.1.bn2.running_var').map((e) => (e.name === 'layer1.0.conv1.weight' ? { ...e, shape: [64, 64, 1, 1] } : e)),
    { name: 'layer5.0.conv1.weight', shape: [1] },
  ]);
  assert.not.ok(bad.ok);
  assert.equal(bad.missing, ['layer3.1.bn2.running_var']);
  assert.equal(bad.extra, ['layer5.0.conv1.weight']);
  assert.equal(bad.misshaped, [{ name: 'layer1.0.conv1.weight', expected: [64, 64, 3, 3], found: [64, 64, 1, 1] }]);
  const msg = describeStateCheck('resnet18', bad);
  for (const p of [/layer1\.0\.conv1\.weight is \[64, 64, 1, 1\], torchvision's resnet18 has \[64, 64, 3, 3\]/, /1 missing: layer3\.1\.bn2\.running_var/, /layer5\.0\.conv1\.weight/, /weights import/]) {
    assert.match(msg, p);
  }
  // Another architecture's file: everything is wrong, and the message stays short.
  const cross = compareState('resnet18', fixture.vgg19.state.map(([name, shape]) => ({ name, shape })));
  assert.not.ok(cross.ok);
  assert.ok(describeStateCheck('resnet18', cross).length < 1500);
});

test('create from a .safetensors file: a round trip gives the same bits; fc ignored, absent num_batches_tracked accepted', () => {
  const src = new ResNetFeatures('resnet18');
  fillModule(src);
  const path = join(tmp, 'r18.safetensors');
  saveStateDict(src, path);
  const net = backbones.create('resnet18', { weights: path });
  for (const [name, t] of src.stateDict()) assert.ok(same(net.stateDict().get(name)!.data, t.data), name);
  const x = Tensor.fromData(fixtureInput(7, 2, 2 * 3 * 24 * 24), [2, 3, 24, 24]);
  const a = src.eval().features(x, ['layer2'])['layer2'];
  const b = net.features(x, ['layer2'])['layer2'];
  assert.ok(same(a.data, b.data));
  assert.ok(net.parameters().every((p) => !p.requiresGrad), 'frozen');
  assert.not.ok(net.training, 'eval mode');

  // torchvision's own file has fc; old ones lack num_batches_tracked.
  const entries: [string, RawTensor][] = src
    .stateEntries()
    .filter((e) => !e.name.endsWith('num_batches_tracked'))
    .map((e) => [e.name, { dtype: 'F32', shape: [...e.tensor.shape], data: e.tensor.data }]);
  entries.push(['fc.weight', { dtype: 'F32', shape: [1000, 512], data: new Float32Array(512_000) }]);
  entries.push(['fc.bias', { dtype: 'F32', shape: [1000], data: new Float32Array(1000) }]);
  const tv = join(tmp, 'r18-tv.safetensors');
  writeSafetensors(tv, entries);
  const net2 = backbones.create('resnet18', { weights: tv });
  assert.ok(same(net2.features(x, ['layer2'])['layer2'].data, a.data));
  assert.is(net2.stateDict().get('bn1.num_batches_tracked')!.data[0], 0);
});

test('create refuses a wrong file naming the tensor, and a missing file with the commands that make one', () => {
  const src = new VGG19Features();
  const entries: [string, RawTensor][] = src.stateEntries().map((e) => [e.name, { dtype: 'F32', shape: [...e.tensor.shape], data: e.tensor.data }]);
  entries[4] = ['features.5.weight', { dtype: 'F32', shape: [128, 64, 3, 1], data: new Float32Array(128 * 64 * 3) }];
  const path = join(tmp, 'vgg-bad.safetensors');
  writeSafetensors(path, entries);
  throwsMatching(() => backbones.create('vgg19', { weights: path }), /vgg-bad\.safetensors/, /features\.5\.weight is \[128, 64, 3, 1\], torchvision's vgg19 has \[128, 64, 3, 3\]/);
  const vggFile = join(tmp, 'vgg.safetensors');
  saveStateDict(src, vggFile);
  throwsMatching(() => backbones.create('resnet18', { weights: vggFile }), /not torchvision resnet18 weights/, /missing: conv1\.weight/, /not in torchvision's resnet18: features\.0\.weight/);
  throwsMatching(() => backbones.create('vgg19', { weights: join(tmp, 'absent.safetensors') }), /no file .*absent\.safetensors/, /weights fetch vgg19/);
  throwsMatching(() => backbones.create('vgg19', {} as never), /weights must be a \.safetensors path/, /'random'/);
  throwsMatching(() => backbones.create('resnet50' as never, { weights: 'random' }), /unknown backbone "resnet50"/, /resnet18, wide_resnet50_2, vgg19/);
});

test("weights: 'random' is torchvision's init from the seed alone", () => {
  const before = defaultGenerator().state;
  const a = backbones.create('resnet18', { weights: 'random', seed: 5 });
  const c = backbones.create('resnet18', { weights: 'random', seed: 6 });
  assert.equal(defaultGenerator().state, before, 'the default generator is not touched');
  const w = (n: typeof a, name: string) => n.stateDict().get(name)!.data;
  // conv1 is the first module torchvision initialises: N(0, 2/fan_out) drawn from Generator(seed).
  const g = new Generator(5);
  const std = Math.sqrt(2 / (64 * 7 * 7));
  const conv1 = new Float32Array(64 * 3 * 7 * 7).map(() => g.normal() * std);
  assert.ok(same(w(a, 'conv1.weight'), conv1), 'conv1 drawn first, from the seed');
  assert.not.ok(same(w(a, 'layer3.0.conv2.weight'), w(c, 'layer3.0.conv2.weight')));
  for (const [, m] of a.namedModules()) {
    if (m instanceof BatchNorm2d) assert.ok(m.weight!.data.every((v) => v === 1) && m.bias!.data.every((v) => v === 0));
    if (m instanceof Conv2d) {
      // kaiming_normal_(mode='fan_out', nonlinearity='relu'): std √(2 / (out · kh · kw))
      const d = m.weight.data;
      const [o, , kh, kw] = m.weight.shape;
      const got = Math.sqrt(d.reduce((s, v) => s + v * v, 0) / d.length);
      const want = Math.sqrt(2 / (o * kh * kw));
      assert.ok(Math.abs(got / want - 1) < 3 / Math.sqrt(d.length), `std ${got} vs ${want}`);
    }
  }
});

test('features runs in eval mode: running statistics are used and never updated', () => {
  const net = new ResNetFeatures('resnet18');
  fillModule(net);
  const x = Tensor.fromData(fixtureInput(9, 2, 2 * 3 * 24 * 24), [2, 3, 24, 24]);
  const ref = net.eval().features(x, ['layer1']).layer1;
  net.train();
  const stats = net.stateDict().get('layer1.0.bn1.running_mean')!.data.slice();
  const again = net.features(x, ['layer1']).layer1;
  assert.ok(same(again.data, ref.data));
  assert.ok(same(net.stateDict().get('layer1.0.bn1.running_mean')!.data, stats));
  assert.is(net.stateDict().get('bn1.num_batches_tracked')!.data[0], 0);
});

test('features stops after the deepest layer asked for (kernel dispatches counted)', () => {
  const net = new ResNetFeatures('resnet18');
  fillModule(net);
  const vgg = new VGG19Features();
  const x = Tensor.fromData(fixtureInput(3, 2, 3 * 32 * 32), [1, 3, 32, 32]);
  const convs = (fn: () => unknown): number => {
    profile.reset();
    profile.enable();
    try {
      fn();
    } finally {
      profile.disable();
    }
    return profile
      .report()
      .filter((r) => r.kernel.startsWith('conv'))
      .reduce((n, r) => n + r.calls, 0);
  };
  assert.is(convs(() => net.features(x, ['conv1'])), 1);
  assert.is(convs(() => net.features(x, ['layer1'])), 1 + 4);
  assert.is(convs(() => net.features(x, ['layer1', 'layer2'])), 1 + 4 + 5);
  assert.is(convs(() => net.features(x, ['avgpool'])), 20);
  assert.is(convs(() => vgg.features(x, ['relu1_2'])), 2);
  assert.is(convs(() => vgg.features(x, ['relu4_2', 'pool1'])), 10);
  profile.reset();
});

test('features: bad arguments are named', () => {
  const net = new VGG19Features();
  throwsMatching(() => net.features(Tensor.empty([1, 1, 8, 8]), ['relu1_1']), /x must be \[N, 3, H, W\], got \[1, 1, 8, 8\]/, /toBackboneInput/);
  throwsMatching(() => net.features(Tensor.empty([1, 3, 8, 8]), ['relu4_5', 'layer1']), /unknown layer\(s\) "relu4_5", "layer1"/, /relu4_2/);
  throwsMatching(() => net.features(Tensor.empty([1, 3, 8, 8]), []), /non-empty array/);
});

test('toBackboneInput: ImageNet normalisation of [-1, 1] images; grey repeated to three channels; half = identity', () => {
  const n = 2 * 1 * 5 * 6;
  const grey = Tensor.fromData(fixtureInput(11, 2, n).map((v) => Math.max(-1, Math.min(1, v))), [2, 1, 5, 6]);
  const y = toBackboneInput(grey, { normalisation: 'imagenet', channelPolicy: 'replicate' });
  assert.equal(y.shape, [2, 3, 5, 6]);
  for (let b = 0; b < 2; b++) {
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 30; i++) {
        const v = grey.data[b * 30 + i];
        const want = (0.5 * v + 0.5 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
        assert.ok(Math.abs(y.data[(b * 3 + c) * 30 + i] - want) < 1e-6);
      }
    }
  }
  const rgb = concat([grey, grey, grey], 1);
  assert.ok(same(toBackboneInput(rgb, { normalisation: 'imagenet' }).data, y.data), 'grey = its three-channel copy');
  assert.ok(same(toBackboneInput(rgb, { normalisation: 'half' }).data, rgb.data));
  assert.ok(same(toBackboneInput(grey, { normalisation: 'half' }).data, rgb.data));
  throwsMatching(() => toBackboneInput(Tensor.empty([1, 2, 4, 4]), { normalisation: 'imagenet' }), /\[N, 1 or 3, H, W\]/);
  throwsMatching(() => toBackboneInput(grey, { normalisation: 'none' as never }), /'imagenet' or 'half'/);
});

test('the library exports backbones', () => {
  assert.equal(lib.backbones.list(), ['resnet18', 'wide_resnet50_2', 'vgg19']);
  assert.is(typeof lib.backbones.create, 'function');
});

test.run();
