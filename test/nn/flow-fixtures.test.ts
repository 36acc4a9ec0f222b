// AllInOneBlock / SequenceINN against a direct PyTorch implementation of FrEIA's block
// (scripts/make-flow-fixtures.py): forward output, log-det, inverse and its log-det, a
// CFlow- or FastFlow-style loss and its gradient w.r.t. the input, the condition and every
// trainable parameter, for vectors with a condition (Linear subnets) and maps (conv
// subnets), both clamp forms, hard and soft permutations; state loaded by FrEIA's names.
// Run on the ts backend and on the default one (the native kernels when built).
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backends, Generator, grad, mean, mul, neg, noGrad, setBackend, softplus, square, sub, sum, Tensor } from '../../src/engine/index.js';
import { Conv2d, Linear, ReLU, Sequential, type Module } from '../../src/nn/index.js';
import { AllInOneBlock, SequenceINN } from '../../src/nn/layers/flow.js';
import { readSafetensors, toFloat32 } from '../../src/nn/safetensors-format.js';

const DIR = new URL('../fixtures/flow/', import.meta.url).pathname;
interface Case {
  name: string;
  channels: number;
  condChannels: number;
  shape: number[];
  loss: 'cflow' | 'fastflow';
  blocks: { clamp: number; clampForm: 'tanh' | 'tanh-scaled'; kernel: number | null; permuteSoft: boolean }[];
  stateKeys: string[];
  tensors: Record<string, string>;
}
const index = JSON.parse(readFileSync(DIR + 'flow.json', 'utf8')) as { cases: Case[] };
const raw = readSafetensors(DIR + 'flow.safetensors').tensors;
const fx = (key: string) => {
  const r = raw.get(key);
  if (!r) throw new Error(`flow fixture has no ${key}`);
  return { shape: r.shape, data: toFloat32(r) };
};
const fxt = (key: string, requiresGrad = false) => {
  const { shape, data } = fx(key);
  const t = Tensor.fromData(data.slice(), shape);
  t.requiresGrad = requiresGrad;
  return t;
};

// The native kernels when the addon is built; otherwise those tests are reported skipped.
const cpuReason = backends().find((b) => b.name === 'cpu')?.reason ?? null;
const defaultBackend = 'cpu';
const testOn = (backend: string) => (backend === 'cpu' && cpuReason ? test.skip : test);

function build(c: Case): SequenceINN {
  const spatial = c.shape.length === 4 ? 2 : 0;
  const blocks = c.blocks.map(
    (b, i) =>
      new AllInOneBlock({
        channels: c.channels,
        condChannels: c.condChannels,
        spatialDims: spatial,
        clamp: b.clamp,
        clampForm: b.clampForm,
        permuteSoft: b.permuteSoft,
        generator: new Generator(i),
        subnet: (cin: number, cout: number): Module =>
          b.kernel
            ? new Sequential(new Conv2d(cin, cin, b.kernel, { padding: (b.kernel - 1) / 2 }), new ReLU(), new Conv2d(cin, cout, b.kernel, { padding: (b.kernel - 1) / 2 }))
            : new Sequential(new Linear(cin, 2 * cin), new ReLU(), new Linear(2 * cin, cout)),
      }),
  );
  const net = new SequenceINN(blocks);
  assert.equal([...net.stateDict().keys()], c.stateKeys, `${c.name}: FrEIA's state names in FrEIA's order`);
  const state = new Map(c.stateKeys.map((k) => [k, fx(c.tensors['state/' + k])]));
  net.loadStateDict(state);
  return net;
}

function lossOf(c: Case, z: Tensor, ld: Tensor): Tensor {
  const sq = sum(square(z), c.loss === 'cflow' ? [1] : [1, 2, 3]);
  if (c.loss === 'fastflow') return mean(sub(mul(sq, 0.5), ld));
  // CFlow's get_logp and −logsigmoid(log p / C) = softplus(−log p / C).
  const logp = sub(ld, mul(sq, 0.5)).add(c.channels * -0.9189385332046727);
  return mean(softplus(neg(mul(logp, 1 / c.channels))));
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  let scale = 1e-3;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol * scale)) assert.unreachable(`${what}[${i}]: ${actual[i]} vs torch ${expected[i]} (scale ${scale.toExponential(2)})`);
  }
}

for (const backend of ['ts', defaultBackend]) {
  for (const c of index.cases) {
    testOn(backend)(`${c.name} on ${backend}: forward, log-det, inverse, loss and gradients equal PyTorch's`, () => {
      setBackend(backend);
      const net = build(c);
      const x = fxt(c.tensors.x, true);
      const cond = c.condChannels ? fxt(c.tensors.c, true) : undefined;
      const { z, logdet } = net.forward(x, cond);
      close(z.data, fx(c.tensors.z).data, 1e-5, `${c.name} z`);
      close(logdet.data, fx(c.tensors.logdet).data, 1e-5, `${c.name} logdet`);
      noGrad(() => {
        const inv = net.inverse(fxt(c.tensors.z), cond && fxt(c.tensors.c));
        close(inv.x.data, fx(c.tensors.x_inv).data, 1e-5, `${c.name} inverse`);
        close(inv.logdet.data, fx(c.tensors.logdet_inv).data, 1e-5, `${c.name} inverse logdet`);
        close(inv.x.data, x.data, 1e-5, `${c.name} inverse = x`);
      });
      const loss = lossOf(c, z, logdet);
      close(loss.data, fx(c.tensors.loss).data, 1e-5, `${c.name} loss`);
      const named = net.namedParameters();
      const wrt = [x, ...(cond ? [cond] : []), ...named.map(([, p]) => p)];
      const gs = grad(loss, wrt);
      close(gs[0].data, fx(c.tensors['grad/x']).data, 2e-5, `${c.name} grad x`);
      if (cond) close(gs[1].data, fx(c.tensors['grad/c']).data, 2e-5, `${c.name} grad c`);
      const off = cond ? 2 : 1;
      assert.equal(named.map(([n]) => 'grad/' + n), Object.keys(c.tensors).filter((k) => k.startsWith('grad/') && k !== 'grad/x' && k !== 'grad/c'));
      named.forEach(([n], i) => close(gs[off + i].data, fx(c.tensors['grad/' + n]).data, 2e-5, `${c.name} grad ${n}`));
    });
  }
}

test.run();
