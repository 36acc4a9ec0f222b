// Every named map of resnet18, wide_resnet50_2 and VGG19 against torchvision's
// (test/fixtures/backbones, made by scripts/make-backbone-fixtures.py): the same deterministic
// weights (fill.ts reproduces the script's formula bit for bit), the same input, eval-mode
// batch norm. Values are compared within the float32 reordering bound of the convs on the way
// (test/float32-tolerance.ts): the fixture stores every step-th element and each channel's mean.
// resnet18 and VGG19 run on ts and cpu; wide_resnet50_2 on cpu (ts when the addon is absent).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { backends, setBackend } from '../../../src/backend/registry.js';
import { Tensor } from '../../../src/engine/index.js';
import { ResNetFeatures, VGG19Features, backbones, type BackboneModule, type BackboneName } from '../../../src/models/backbones/index.js';
import { readSafetensors, toFloat32 } from '../../../src/nn/safetensors-format.js';
import { assertReorderClose } from '../../float32-tolerance.js';
import { eachBackend } from '../../nn/helpers/backends.js';
import { fillModule, fixtureInput } from './fill.js';

const dir = new URL('../../fixtures/backbones/', import.meta.url).pathname;
interface MapEntry {
  shape: number[];
  step: number;
  depth: number;
  reduction: number;
  scale: number;
}
interface ArchEntry {
  state: [string, number[]][];
  input: number[];
  inputTensor: number;
  inputScale: number;
  maps: Record<string, MapEntry>;
}
const fixture = JSON.parse(readFileSync(dir + 'backbones.json', 'utf8')) as Record<BackboneName, ArchEntry>;
const maps = readSafetensors(dir + 'maps.safetensors');

const nets = new Map<BackboneName, BackboneModule>();
function filled(arch: BackboneName): BackboneModule {
  let net = nets.get(arch);
  if (!net) {
    net = arch === 'vgg19' ? new VGG19Features() : new ResNetFeatures(arch);
    fillModule(net);
    net.eval().requiresGrad_(false);
    nets.set(arch, net);
  }
  return net;
}

function input(arch: BackboneName): Tensor {
  const e = fixture[arch];
  return Tensor.fromData(fixtureInput(e.inputTensor, e.inputScale, e.input.reduce((a, b) => a * b, 1)), e.input);
}

function channelMeans(t: Tensor): Float32Array {
  const [n, c] = t.shape;
  const inner = t.size / (n * c);
  const out = new Float32Array(c);
  for (let ch = 0; ch < c; ch++) {
    let s = 0;
    for (let b = 0; b < n; b++) for (let i = 0; i < inner; i++) s += t.data[(b * c + ch) * inner + i];
    out[ch] = s / (n * inner);
  }
  return out;
}

function checkArch(arch: BackboneName, names = Object.keys(fixture[arch].maps)): void {
  const net = filled(arch);
  const out = net.features(input(arch), names);
  assert.equal(Object.keys(out).sort(), [...names].sort(), `${arch}: the maps asked for, and only those`);
  for (const name of names) {
    const m = fixture[arch].maps[name];
    const got = out[name];
    assert.equal(got.shape, m.shape, `${arch}.${name} shape`);
    const ref = toFloat32(maps.tensors.get(`${arch}/${name}`)!);
    const sampled = new Float32Array(ref.length);
    for (let i = 0; i < ref.length; i++) sampled[i] = got.data[i * m.step];
    const bound = { depth: m.depth, reduction: m.reduction, scale: m.scale };
    assertReorderClose(sampled, ref, bound, `${arch}.${name}`);
    assertReorderClose(channelMeans(got), toFloat32(maps.tensors.get(`${arch}/${name}/chmean`)!), bound, `${arch}.${name} channel means`);
  }
}

for (const arch of ['resnet18', 'vgg19'] as const) {
  eachBackend(test, `${arch}: every named map equals torchvision's`, () => checkArch(arch));
}

const wrnBackend = backends().find((b) => b.name === 'cpu')?.available ? 'cpu' : 'ts';
test(`wide_resnet50_2: every named map equals torchvision's [${wrnBackend}]`, () => {
  setBackend(wrnBackend);
  checkArch('wide_resnet50_2');
  setBackend('ts');
});

eachBackend(test, 'resnet18: one map at a time gives the same values as all at once', () => {
  const x = input('resnet18');
  const all = filled('resnet18').features(x, Object.keys(fixture.resnet18.maps));
  for (const name of ['conv1', 'bn1', 'relu', 'layer2', 'avgpool']) {
    const one = filled('resnet18').features(x, [name]);
    assert.equal(Object.keys(one), [name]);
    assert.ok(one[name].data.every((v, i) => Object.is(v, all[name].data[i])), `${name} alone: same bits`);
  }
});

test('layer tables: channels and strides agree with the maps', () => {
  for (const arch of backbones.list()) {
    const layers = backbones.layers(arch);
    const side = fixture[arch].input[2];
    assert.equal(
      layers.map((l) => l.name),
      Object.keys(fixture[arch].maps),
      `${arch}: every named map, in order`,
    );
    for (const l of layers) {
      const shape = fixture[arch].maps[l.name].shape;
      assert.is(shape[1], l.channels, `${arch}.${l.name} channels`);
      if (l.stride === 0) assert.is(shape.length, 2, `${arch}.${l.name} is pooled`);
      else assert.is(shape[2], Math.ceil(side / l.stride), `${arch}.${l.name} side for stride ${l.stride}`);
    }
  }
});

test.after(() => setBackend('ts'));
test.run();
