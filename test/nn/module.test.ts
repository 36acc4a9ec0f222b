import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mseLoss, randn, tensor, type Tensor } from '../../src/engine/index.js';
import {
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  ConvTranspose2d,
  Dropout,
  Flatten,
  GroupNorm,
  Identity,
  Linear,
  loadStateDictFile,
  Module,
  ReLU,
  saveStateDict,
  Sequential,
} from '../../src/nn/index.js';
import { readSafetensors } from '../../src/nn/safetensors-format.js';
import { UnifiedAE } from '../../src/models/unified-ae.js';
import { index } from './helpers/fixtures.js';
import { throwsMatching } from '../assert-throws.js';

const dir = mkdtempSync(join(tmpdir(), 'medianomaly-nn-'));

/** A small two-level network: its names exercise nesting, Sequential numbering and BN buffers. */
class Net extends Module {
  readonly body = this.registerModule('body', new Sequential(new Conv2d(2, 4, 3, { padding: 1, seed: 1 }), new BatchNorm2d(4), new ReLU()));
  readonly head = this.registerModule('head', new Linear(4, 3, { seed: 2 }));
  forward(x: Tensor): Tensor {
    return this.head.forward(this.body.forward(x).mean([2, 3]));
  }
}

test('state dict names and order follow PyTorch', () => {
  const net = new Net();
  assert.equal(
    [...net.stateDict().keys()],
    [
      'body.0.weight',
      'body.0.bias',
      'body.1.weight',
      'body.1.bias',
      'body.1.running_mean',
      'body.1.running_var',
      'body.1.num_batches_tracked',
      'head.weight',
      'head.bias',
    ],
  );
  assert.equal(
    net.namedParameters().map(([n]) => n),
    ['body.0.weight', 'body.0.bias', 'body.1.weight', 'body.1.bias', 'head.weight', 'head.bias'],
  );
  assert.equal(
    net.namedBuffers().map(([n]) => n),
    ['body.1.running_mean', 'body.1.running_var', 'body.1.num_batches_tracked'],
  );
  assert.is(net.children().length, 2);
  assert.equal(
    [...net.namedModules()].map(([n]) => n),
    ['', 'body', 'body.0', 'body.1', 'body.2', 'head'],
  );
  assert.equal(net.stateDict().get('body.1.num_batches_tracked')!.shape, []);
  assert.ok(net.parameters().every((p) => p.requiresGrad));
  assert.ok(net.buffers().every((b) => !b.requiresGrad));
});

test('unified AE: PyTorch state keys (same order) and 2,351,184 parameters', () => {
  const ae = new UnifiedAE({ seed: 0 });
  assert.equal([...ae.stateDict().keys()], index.unified_ae.stateKeys);
  assert.is(ae.numParameters(), 2_351_184);
  assert.is(ae.numParameters(), index.unified_ae.params);
  // methods.md §4.8's other counts for the same network.
  assert.is(new UnifiedAE({ inChannels: 3, seed: 0 }).numParameters(), 2_352_208);
  assert.is(new UnifiedAE({ hidden: 2048, seed: 0 }).numParameters(), 4_487_248);
  assert.is(new UnifiedAE({ outChannels: 2, seed: 0 }).numParameters(), 2_351_440); // AE-U
  assert.is(new UnifiedAE({ encoderOutputs: 32, seed: 0 }).numParameters(), 2_367_584); // VAE
});

test('unified AE: shapes at 64 and 128, depth 2 keeps the flat numbering', () => {
  const ae = new UnifiedAE({ size: 128, hidden: 32, seed: 3 }).eval();
  const y = ae.forward(randn([2, 1, 128, 128], { seed: 1 }));
  assert.equal(y.shape, [2, 1, 128, 128]);
  assert.equal(ae.stateDict().get('enc_mlp.0.weight')!.shape, [32, 4096]);
  const deep = new UnifiedAE({ depth: 2, hidden: 8, latent: 4, width: 4, seed: 1 });
  const names = [...deep.stateDict().keys()];
  assert.ok(names.includes('enc.3.weight') && deep.stateDict().get('enc.3.weight')!.shape.join() === '4,4,3,3');
  assert.equal(deep.stateDict().get('dec.0.weight')!.shape, [16, 16, 3, 3]);
  assert.equal(deep.stateDict().get('dec.3.weight')!.shape, [16, 16, 4, 4]);
  assert.equal(deep.eval().forward(randn([1, 1, 64, 64], { seed: 2 })).shape, [1, 1, 64, 64]);
  throwsMatching(() => new UnifiedAE({ size: 40 }), /multiple of 16/);
  throwsMatching(() => ae.forward(randn([1, 1, 64, 64])), /expected input \[B, 1, 128, 128\]/);
});

test('round trip through safetensors: identical outputs, int64 num_batches_tracked', () => {
  const a = new Net();
  a.train();
  a.forward(randn([3, 2, 5, 5], { seed: 4 })); // moves running stats and the batch counter
  a.forward(randn([3, 2, 5, 5], { seed: 5 }));
  const path = join(dir, 'net.safetensors');
  saveStateDict(a, path, { note: 'test' });
  const file = readSafetensors(path);
  assert.is(file.metadata.format, 'pt');
  assert.is(file.metadata.note, 'test');
  const nbt = file.tensors.get('body.1.num_batches_tracked')!;
  assert.is(nbt.dtype, 'I64');
  assert.equal([...nbt.data], [2n]);
  assert.is(file.tensors.get('body.0.weight')!.dtype, 'F32');

  const b = new Net();
  // Overwrite the (identically seeded) values so that the load is visible.
  for (const p of b.parameters()) p.data.fill(0.5);
  const res = loadStateDictFile(b, path);
  assert.equal(res, { missingKeys: [], unexpectedKeys: [] });
  for (const [k, v] of a.stateDict()) assert.equal([...b.stateDict().get(k)!.data], [...v.data], k);
  const x = randn([2, 2, 5, 5], { seed: 6 });
  assert.equal(a.eval().forward(x).toArray(), b.eval().forward(x).toArray());
});

test('loadStateDict keeps the registered tensors (an optimizer holding them stays valid)', () => {
  const net = new Net();
  const before = net.parameters();
  const sd = new Map([...new Net().stateDict()].map(([k, v]) => [k, { shape: v.shape, data: v.data.map(() => 0.25) }]));
  net.loadStateDict(sd);
  net.parameters().forEach((p, i) => assert.is(p, before[i]));
  assert.is(net.head.weight.data[0], 0.25);
});

test('strict loading names missing and unexpected keys; non-strict reports them', () => {
  const net = new Net();
  const sd = new Map<string, Tensor>(net.stateDict());
  sd.delete('head.bias');
  sd.delete('body.1.running_var');
  sd.set('head.extra', tensor([1]));
  throwsMatching(() => net.loadStateDict(sd), /missing keys: body\.1\.running_var, head\.bias/, /unexpected keys: head\.extra/, /strict: false/);
  const res = net.loadStateDict(sd, { strict: false });
  assert.equal(res.missingKeys, ['body.1.running_var', 'head.bias']);
  assert.equal(res.unexpectedKeys, ['head.extra']);
});

test('shape mismatch always throws, naming key and both shapes', () => {
  const net = new Net();
  const sd = new Map<string, { shape: number[]; data: Float32Array }>([...net.stateDict()].map(([k, v]) => [k, { shape: [...v.shape], data: v.data }]));
  sd.set('head.weight', { shape: [4, 3], data: new Float32Array(12) });
  throwsMatching(() => net.loadStateDict(sd, { strict: false }), /head\.weight: checkpoint shape \[4, 3\], model shape \[3, 4\]/);
});

test('loading a file into the wrong model names the file', () => {
  const path = join(dir, 'net2.safetensors');
  saveStateDict(new Net(), path);
  throwsMatching(() => loadStateDictFile(new Sequential(new Linear(2, 2)), path), /net2\.safetensors/, /missing keys: 0\.weight/);
});

test('train/eval propagate; training flag changes BatchNorm and Dropout', () => {
  const net = new Sequential(new Linear(4, 4, { seed: 1 }), new BatchNorm1d(4), new Dropout(0.5, { seed: 3 }));
  assert.ok(net.modules().every((m) => m.training));
  net.eval();
  assert.ok(net.modules().every((m) => !m.training));
  const x = randn([6, 4], { seed: 2 });
  const e1 = net.forward(x).toArray();
  assert.equal(net.forward(x).toArray(), e1, 'eval is deterministic');
  assert.is((net.at(1) as BatchNorm1d).numBatchesTracked!.data[0], 0, 'eval does not count batches');
  net.train();
  const t = net.forward(x).toArray();
  assert.is((net.at(1) as BatchNorm1d).numBatchesTracked!.data[0], 1);
  assert.ok(t.some((v) => v === 0), 'dropout zeroes values in training');
});

test('zeroGrad clears every gradient; backward fills them', () => {
  const net = new Net();
  const loss = mseLoss(net.forward(randn([2, 2, 4, 4], { seed: 1 })), randn([2, 3], { seed: 2 }));
  loss.backward();
  assert.ok(net.parameters().every((p) => p.grad !== null && p.grad.shape.join() === p.shape.join()));
  net.zeroGrad();
  assert.ok(net.parameters().every((p) => p.grad === null));
});

test('Sequential: names, at(), iteration, call()', () => {
  const s = new Sequential(new Identity(), new Flatten(), new Linear(6, 2, { seed: 1 }));
  assert.equal([...s.namedChildren()].map(([n]) => n), ['0', '1', '2']);
  assert.is(s.length, 3);
  assert.ok(s.at(-1) instanceof Linear);
  assert.is([...s].length, 3);
  assert.equal(s.call(randn([5, 2, 3], { seed: 1 })).shape, [5, 2]);
  throwsMatching(() => s.at(3), /out of range/);
  assert.match(s.toString(), /\(2\): Linear\(inFeatures=6, outFeatures=2\)/);
});

test('layer argument errors name the argument', () => {
  throwsMatching(() => new Conv2d(3, 4, 3, { groups: 2 }), /divisible by groups/);
  throwsMatching(() => new Conv2d(3, 4, 0), /kernelSize/);
  throwsMatching(() => new Conv2d(3, 4, 3, { paddingMode: 'circular' as never }), /paddingMode/);
  throwsMatching(() => new ConvTranspose2d(2, 2, 2, { stride: 0 }), /stride/);
  throwsMatching(() => new Linear(0, 3), /inFeatures/);
  throwsMatching(() => new GroupNorm(3, 8), /multiple of numGroups/);
  throwsMatching(() => new BatchNorm2d(3).forward(randn([2, 3, 4])), /4-D input/);
  throwsMatching(() => new BatchNorm1d(3).forward(randn([2, 5])), /5 channels/);
  throwsMatching(() => new Dropout(1.5), /\[0, 1\]/);
});

test('no bias: registered as absent, not in the state dict', () => {
  const c = new Conv2d(1, 2, 3, { bias: false });
  assert.equal([...c.stateDict().keys()], ['weight']);
  assert.is(c.bias, null);
  const t = new ConvTranspose2d(4, 2, 4, { stride: 2, padding: 1, bias: false });
  assert.equal(t.weight.shape, [4, 2, 4, 4]);
});

test('BatchNorm without running stats uses batch statistics in eval too; momentum null averages', () => {
  const bn = new BatchNorm1d(2, { trackRunningStats: false }).eval();
  assert.equal([...bn.stateDict().keys()], ['weight', 'bias']);
  const y = bn.forward(tensor([1, 10, 3, 30], [2, 2])).toArray();
  assert.ok(Math.abs(y[0] + 1) < 1e-3 && Math.abs(y[2] - 1) < 1e-3, `normalised by the batch: ${y}`);
  const cma = new BatchNorm1d(1, { momentum: null });
  cma.forward(tensor([0, 2], [2, 1])); // mean 1
  cma.forward(tensor([4, 6], [2, 1])); // mean 5
  assert.ok(Math.abs(cma.runningMean!.data[0] - 3) < 1e-6, 'cumulative average of the batch means');
});

test.run();
