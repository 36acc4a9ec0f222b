// The DAE U-Net (methods.md §4.4): the reference's parameter count and names at full size
// (built, not run), shapes at a small width, the group-count rule, and weight
// standardisation: its definition and its gradient against finite differences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { avgPool2d, backends, conv2d, currentBackend, noGrad, randn, setBackend, Tensor } from '../../src/engine/index.js';
import { groupsFor, ReflectionPad2d, standardizeWeight, UNet, WSConv2d } from '../../src/models/unet.js';
import { gradcheck, randt } from '../engine/gradcheck.js';

test('reference size: 31,042,369 parameters under the reference names (no forward run)', () => {
  const net = new UNet({ seed: 1 });
  assert.is(net.numParameters(), 31_042_369);
  const names = [...net.stateDict().keys()];
  assert.is(names[0], 'down_path.0.block.1.weight');
  for (const n of ['down_path.0.block.3.weight', 'down_path.4.block.7.bias', 'up_path.0.up.weight', 'up_path.0.up.bias', 'up_path.3.conv_block.block.5.weight', 'last.weight', 'last.bias']) {
    assert.ok(names.includes(n), `state dict has ${n}`);
  }
  assert.equal(net.stateDict().get('down_path.4.block.1.weight')!.shape, [1024, 512, 3, 3]);
  assert.equal(net.stateDict().get('up_path.0.up.weight')!.shape, [1024, 512, 2, 2]);
  assert.equal(net.stateDict().get('up_path.3.conv_block.block.1.weight')!.shape, [64, 128, 3, 3]);
  assert.equal(net.stateDict().get('last.weight')!.shape, [1, 64, 1, 1]);
  // GroupNorm has no buffers: the state dict is the parameters.
  assert.is(names.length, net.parameters().length);
});

// Full width at 128 px is ~0.6 s per image on the native backend and far slower on the
// TypeScript reference kernels, so this one runs on cpu only (reported skipped otherwise).
const cpuReady = backends().some((b) => b.name === 'cpu' && b.available);
(cpuReady ? test : test.skip)('reference size: one 128 px image through the full-width net keeps its shape [cpu]', () => {
  const previous = currentBackend();
  setBackend('cpu');
  try {
    const y = noGrad(() => new UNet({ seed: 1 }).forward(randn([1, 1, 128, 128], { seed: 2 })));
    assert.equal(y.shape, [1, 1, 128, 128]);
    assert.ok(y.data.every(Number.isFinite));
  } finally {
    setBackend(previous);
  }
});

test('groupsFor: the middle divisor, as the reference get_groups', () => {
  assert.equal([64, 128, 256, 512, 1024].map(groupsFor), [8, 16, 16, 32, 32]);
  assert.equal([1, 2, 3, 8, 12, 36].map(groupsFor), [1, 2, 3, 4, 4, 6]);
  const net = new UNet({ seed: 1, width: 8 });
  const gn = net.downPath.at(2).modules().find((m) => m.constructor.name === 'GroupNorm') as unknown as { numGroups: number; numChannels: number };
  assert.equal([gn.numChannels, gn.numGroups], [32, groupsFor(32)]);
  assert.throws(() => groupsFor(0), /positive integer/);
});

test('width 8 at 32 px: output has the input shape; the levels have widths 8·2^i at sides 32/2^i', () => {
  const net = new UNet({ seed: 2, width: 8 });
  const x = randn([2, 1, 32, 32], { seed: 3 });
  const y = noGrad(() => net.forward(x));
  assert.equal(y.shape, [2, 1, 32, 32]);
  assert.ok(y.data.every(Number.isFinite));
  const shapes = noGrad(() => {
    const out: number[][] = [];
    let h = x;
    for (const [i, block] of [...net.downPath].entries()) {
      if (i > 0) h = avgPool2d(h, { kernelSize: 2 });
      h = block.forward(h);
      out.push([...h.shape]);
    }
    return out;
  });
  assert.equal(shapes, [
    [2, 8, 32, 32],
    [2, 16, 16, 16],
    [2, 32, 8, 8],
    [2, 64, 4, 4],
    [2, 128, 2, 2],
  ]);
  assert.is(new UNet({ seed: 2, width: 8, inChannels: 3 }).last.outChannels, 3);
});

test('input checks: side must halve four times and keep 2 pixels at the bottom', () => {
  const net = new UNet({ seed: 2, width: 2 });
  assert.throws(() => net.forward(Tensor.empty([1, 1, 24, 24])), /multiples of 16 and at least 32/);
  assert.throws(() => net.forward(Tensor.empty([1, 1, 16, 16])), /at least 32/);
  assert.throws(() => net.forward(Tensor.empty([1, 2, 32, 32])), /expected input \[B, 1, H, W\]/);
  assert.throws(() => new UNet({ width: 0 }), /width must be a positive integer/);
});

test('standardizeWeight: per filter mean 0 and unbiased std 1/(1 + 1e-5/std)', () => {
  const w = randt([4, 3, 3, 3], 5, false, 2, 0.7);
  const s = standardizeWeight(w);
  const n = 27;
  for (let o = 0; o < 4; o++) {
    const raw = Array.from(w.data.subarray(o * n, (o + 1) * n));
    const m = raw.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(raw.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
    for (let i = 0; i < n; i++) {
      const expected = (raw[i] - m) / (std + 1e-5);
      assert.ok(Math.abs(s.data[o * n + i] - expected) < 1e-5, `filter ${o} value ${i}: ${s.data[o * n + i]} vs ${expected}`);
    }
  }
});

test('WSConv2d = conv2d with the standardised weight; ReflectionPad2d mirrors', () => {
  const conv = new WSConv2d(3, 4, 3, { seed: 6 });
  const x = randn([2, 3, 6, 6], { seed: 7 });
  const y = noGrad(() => conv.forward(x));
  const ref = noGrad(() => conv2d(x, standardizeWeight(conv.weight), conv.bias));
  assert.equal(Array.from(y.data), Array.from(ref.data));
  const p = new ReflectionPad2d(1).forward(Tensor.fromData(Float32Array.from([1, 2, 3, 4]), [1, 1, 2, 2]));
  assert.equal(Array.from(p.data), [4, 3, 4, 3, 2, 1, 2, 1, 4, 3, 4, 3, 2, 1, 2, 1]);
});

test('weight standardisation: gradient with respect to the raw weight and the input matches finite differences', () => {
  // Float32 forward: a few-percent-wide step keeps the difference quotient above rounding.
  const w = randt([3, 2, 3, 3], 8, true, 0.5);
  gradcheck((wt) => standardizeWeight(wt), [w], { eps: 1e-2, atol: 3e-3, rtol: 2e-2 });
  const x = randt([2, 2, 5, 5], 9, true);
  const b = randt([3], 10, true);
  gradcheck((xx, wt, bb) => conv2d(xx, standardizeWeight(wt), bb, { padding: 1 }), [x, w, b], { eps: 1e-2, atol: 3e-3, rtol: 2e-2 });
});

test.run();
