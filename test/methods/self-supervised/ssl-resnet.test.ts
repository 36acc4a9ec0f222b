// The one-stage SSL network (src/models/ssl-resnet.ts) against the reference module as
// PyTorch 1.13 runs it (test/fixtures/ssl, made by scripts/torch_ssl_step.py fixture):
// state-dict names, shapes and order; with the deterministic weights of
// scripts/make-backbone-fixtures.py (fill.ts), one training-mode forward at 64 px, batch 2:
// the sigmoid output, BCE(mean) against a soft label, the gradients of the input and of
// parameters from the stem to the head, running statistics after the forward, and the
// eval-mode output. On ts and on cpu.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { bceLoss, Generator, Tensor, setBackend, zeros } from '../../../src/engine/index.js';
import { SslResNet } from '../../../src/models/ssl-resnet.js';
import { readSafetensors, toFloat32 } from '../../../src/nn/safetensors-format.js';
import { eachBackend } from '../../nn/helpers/backends.js';
import { fillModule } from '../../models/backbones/fill.js';

const dir = new URL('../../fixtures/ssl/', import.meta.url).pathname;
const meta = JSON.parse(readFileSync(dir + 'ssl-resnet.json', 'utf8')) as {
  input: number[];
  state: [string, number[]][];
  grads: Record<string, number>;
  stats: string[];
  parameters: number;
};
const fx = readSafetensors(dir + 'ssl-resnet.safetensors');
const ref = (name: string): Float32Array => {
  const t = fx.tensors.get(name);
  if (!t) throw new Error(`fixture has no ${name}`);
  return toFloat32(t);
};

/** |a − b| ≤ rel·max|b| + abs, naming the worst element. */
function close(got: ArrayLike<number>, want: ArrayLike<number>, rel: number, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  const tol = rel * scale + 1e-7;
  let worst = 0;
  let at = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  assert.ok(worst <= tol, `${what}[${at}]: ${got[at]} vs ${want[at]}, difference ${worst.toExponential(2)} > ${tol.toExponential(2)} (max |ref| ${scale.toExponential(2)})`);
}

test('state dict: the reference module’s names, shapes and order; parameter count', () => {
  const net = new SslResNet({ generator: new Generator(0) });
  const ours = net.stateEntries().map((e) => [e.name, [...e.tensor.shape]]);
  assert.equal(ours, meta.state);
  assert.is(net.numParameters(), meta.parameters);
  assert.is(meta.parameters, 11_491_440);
});

test('initialisation: Conv2d Kaiming-normal fan_out, ConvTranspose2d default, BN 1/0', () => {
  const net = new SslResNet({ generator: new Generator(3) });
  const sd = net.stateDict();
  const std = (a: Float32Array) => {
    let m = 0;
    for (const v of a) m += v;
    m /= a.length;
    let s = 0;
    for (const v of a) s += (v - m) ** 2;
    return Math.sqrt(s / a.length);
  };
  // layer3.0.conv2: [256, 256, 3, 3], fan_out = 256·9 → std √(2/2304).
  const w = sd.get('layer3.1.conv2.weight')!.data;
  assert.ok(Math.abs(std(w) / Math.sqrt(2 / 2304) - 1) < 0.02, `kaiming std ${std(w)}`);
  // uplayer1.0.conv1 (ConvT [128, 64, 3, 3]): U(±1/√(64·9)), std = bound/√3.
  const t = sd.get('uplayer1.0.conv1.weight')!.data;
  const bound = 1 / Math.sqrt(64 * 9);
  assert.ok(t.every((v) => Math.abs(v) <= bound), 'ConvT within the default bound');
  assert.ok(Math.abs(std(t) / (bound / Math.sqrt(3)) - 1) < 0.03, `ConvT std ${std(t)}`);
  assert.ok(sd.get('layer2.0.bn1.weight')!.data.every((v) => v === 1));
  assert.ok(sd.get('layer2.0.bn1.bias')!.data.every((v) => v === 0));
  // The same generator gives the same network; another, another.
  const again = new SslResNet({ generator: new Generator(3) }).stateDict();
  assert.ok(again.get('conv1.weight')!.data.every((v, i) => v === sd.get('conv1.weight')!.data[i]));
});

test('input checks: channels and a side that is not a multiple of 32', () => {
  const net = new SslResNet({ generator: new Generator(0) });
  assert.throws(() => net.forward(zeros([1, 3, 64, 64])), /expected an input \[N, 1, S, S\]/);
  assert.throws(() => net.forward(zeros([1, 1, 56, 56])), /multiple of 32/);
});

eachBackend(test, 'forward, BCE, backward and eval output equal PyTorch’s (64 px, batch 2)', () => {
  const net = new SslResNet({ generator: new Generator(0) });
  fillModule(net);
  net.train();
  const x = Tensor.fromData(ref('x').slice(), meta.input).requiresGrad_(true);
  const target = Tensor.fromData(ref('target').slice(), meta.input);
  const y = net.forward(x);
  close(y.data, ref('y'), 2e-5, 'train output');
  const loss = bceLoss(y, target);
  close([loss.item()], ref('loss'), 1e-6, 'loss');
  loss.backward();
  close(x.grad!.data, ref('grad/x'), 2e-4, 'grad x');
  const params = new Map(net.namedParameters());
  for (const [name, step] of Object.entries(meta.grads)) {
    const g = params.get(name)!.grad!.data;
    const sampled = Float32Array.from({ length: Math.ceil(g.length / step) }, (_, i) => g[i * step]);
    close(sampled, ref(`grad/${name}`), 2e-4, `grad ${name}`);
  }
  const buffers = new Map(net.namedBuffers());
  for (const name of meta.stats) close(buffers.get(name)!.data, ref(`stat/${name}`), 1e-5, name);
  net.eval();
  close(net.forward(x.detach()).data, ref('eval_y'), 2e-5, 'eval output');
});

test.after(() => setBackend('ts'));
test.run();
