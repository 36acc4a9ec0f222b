// The fused coupling op (couplingForward/couplingBackward kernels around the subnet)
// against the same block written as a composition of engine ops: outputs, log-dets and
// every gradient, when the loss uses y and the log-det, the log-det alone, or y alone;
// on the ts backend and on the default one (the native kernels when built); the profiler's
// FLOP counts of the coupling kernels.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { concat, backends, currentBackend, Generator, grad, mul, profile, setBackend, sum, type Tensor } from '../../src/engine/index.js';
import { coupling, couplingComposite, type CouplingMix } from '../../src/engine/ops/coupling.js';
import { Conv2d, Linear, ReLU, Sequential, type Module } from '../../src/nn/index.js';
import { AllInOneBlock } from '../../src/nn/layers/flow.js';
import { randt } from '../engine/gradcheck.js';

// The native kernels when the addon is built; otherwise those tests are reported skipped.
const cpuReason = backends().find((b) => b.name === 'cpu')?.reason ?? null;
const defaultBackend = 'cpu';
const testOn = (backend: string) => (backend === 'cpu' && cpuReason ? test.skip : test);

function block(C: number, P: number, soft: boolean, spatial: 0 | 2, scaled: boolean, seed: number): AllInOneBlock {
  const subnet = (cin: number, cout: number): Module =>
    spatial
      ? new Sequential(new Conv2d(cin, 6, 3, { padding: 1, seed }), new ReLU(), new Conv2d(6, cout, 1, { seed: seed + 1 }))
      : new Sequential(new Linear(cin, 2 * cin, { seed }), new ReLU(), new Linear(2 * cin, cout, { seed: seed + 1 }));
  const b = new AllInOneBlock({ channels: C, condChannels: P, spatialDims: spatial, subnet, clamp: scaled ? 2 : 1.9, clampForm: scaled ? 'tanh-scaled' : 'tanh', permuteSoft: soft, generator: new Generator(seed) });
  // γ and offset away from init, and subnets large enough to saturate the clamp somewhere.
  const g = new Generator(seed + 9);
  b.global_scale.data.forEach((_, i, a) => (a[i] = 9 + 2 * g.uniform()));
  b.global_offset.data.forEach((_, i, a) => (a[i] = g.uniform() - 0.5));
  for (const p of b.subnet.parameters()) p.data.forEach((v, i, a) => (a[i] = v * 8));
  return b;
}

type Fn = typeof coupling;

function run(fn: Fn, b: AllInOneBlock, x: Tensor, c: Tensor | undefined, use: 'both' | 'logdet' | 'y') {
  const priv = b as unknown as { mix(inv: boolean): CouplingMix; params(): { c1: number; c2: number; clamp: number; scaled: boolean } };
  const sub = (x1: Tensor) => b.subnet.forward(c ? concat([x1, c], 1) : x1);
  const out = fn(x, sub, b.global_scale, b.global_offset, priv.mix(false), priv.params());
  const wy = randt(out.y.shape, 77, false);
  const loss = use === 'logdet' ? sum(mul(out.logdet, out.logdet)) : use === 'y' ? sum(mul(out.y, wy)) : sum(mul(out.y, wy)).add(sum(mul(out.logdet, out.logdet)));
  const wrt = [x, ...(c ? [c] : []), b.global_scale, b.global_offset, ...b.subnet.parameters()];
  const gs = grad(loss, wrt, undefined, { allowUnused: true });
  return { y: out.y.data.slice(), ld: out.logdet.data.slice(), gs: gs.map((g) => g.data.slice()) };
}

function close(a: Float32Array, e: Float32Array, tol: number, what: string): void {
  let scale = 1e-6;
  for (const v of e) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - e[i]) <= tol * scale)) assert.unreachable(`${what}[${i}]: ${a[i]} vs ${e[i]} (scale ${scale})`);
  }
}

for (const backend of ['ts', defaultBackend] as const) {
  testOn(backend)(`fused = composite on ${backend} (vectors + condition, maps; soft and hard; both clamps; loss on y and/or log-det)`, () => {
    setBackend(backend);
    let seed = 1;
    for (const [C, P, spatial, shape] of [
      [7, 3, 0, [5, 7]],
      [64, 8, 0, [1, 64]],
      [5, 0, 2, [2, 5, 4, 3]],
      [9, 0, 2, [1, 9, 5, 5]],
    ] as [number, number, 0 | 2, number[]][]) {
      for (const soft of [true, false]) {
        for (const scaled of [false, true]) {
          for (const use of ['both', 'logdet', 'y'] as const) {
            const b = block(C, P, soft, spatial, scaled, ++seed);
            const x = randt(shape, seed, true);
            const c = P ? randt([shape[0], P], seed + 1, true) : undefined;
            const what = `${backend} C${C} P${P} soft=${soft} scaled=${scaled} use=${use}`;
            const f = run(coupling, b, x, c, use);
            const r = run(couplingComposite, b, x, c, use);
            close(f.y, r.y, 2e-6, `${what} y`);
            close(f.ld, r.ld, 2e-5, `${what} logdet`); // a sum of ± terms: relative to the result, loosely
            f.gs.forEach((g, i) => close(g, r.gs[i], 2e-5, `${what} grad ${i}`));
          }
        }
      }
    }
  });
}

for (const backend of ['ts', defaultBackend] as const) {
  testOn(backend)(`at init g = 1 exactly and offset 0 (${backend}): a zero subnet makes the block its permutation, log-det 0`, () => {
    setBackend(backend);
    for (const spatial of [0, 2] as const) {
      const zero = (cin: number, cout: number): Module => {
        const l = spatial ? new Conv2d(cin, cout, 1, { seed: 1 }) : new Linear(cin, cout, { seed: 1 });
        for (const p of l.parameters()) p.data.fill(0);
        return l;
      };
      const b = new AllInOneBlock({ channels: 7, spatialDims: spatial, subnet: zero, clamp: 2, permuteSoft: false, generator: new Generator(4) });
      const x = randt(spatial ? [2, 7, 3, 2] : [3, 7], 5, false);
      const { y, logdet } = b.forward(x);
      const w = b.w_perm.data;
      const P = spatial ? 6 : 1;
      for (let n = 0; n < x.shape[0]; n++)
        for (let i = 0; i < 7; i++) {
          const k = Array.from(w.subarray(i * 7, i * 7 + 7)).indexOf(1);
          for (let q = 0; q < P; q++) assert.is(y.data[(n * 7 + i) * P + q], x.data[(n * 7 + k) * P + q]);
        }
      assert.equal(Array.from(logdet.data), new Array(x.shape[0]).fill(0));
    }
  });
}

testOn('cpu')('a block is built the same on every backend (the rotation is the same bits)', () => {
  setBackend('ts');
  const a = block(24, 0, true, 0, false, 3).w_perm.data;
  setBackend(defaultBackend);
  const b = block(24, 0, true, 0, false, 3).w_perm.data;
  assert.ok(a.every((v, i) => Object.is(v, b[i])));
});

test('the profiler counts the coupling kernels\' FLOPs (x1: 2 forward, 4 backward per value; x2: 11 or 12, and 18; rotation 8C³/3)', () => {
  const was = currentBackend();
  setBackend('ts');
  profile.reset();
  profile.enable();
  try {
    for (const scaled of [false, true]) {
      profile.reset();
      const b = block(7, 0, false, 2, scaled, 5); // C1 4, C2 3; maps [2, 7, 3, 2]: HW 6
      run(coupling, b, randt([2, 7, 3, 2], 6, true), undefined, 'both');
      const row = (k: string) => profile.report().find((r) => r.kernel === k)!;
      assert.is(row('couplingForward').flops, 2 * 6 * (2 * 4 + (scaled ? 12 : 11) * 3));
      assert.is(row('couplingBackward').flops, 2 * 6 * (4 * 4 + 18 * 3));
    }
    profile.reset();
    block(6, 0, true, 0, false, 1);
    assert.is(profile.report().find((r) => r.kernel === 'couplingRotation')!.flops, (8 / 3) * 216);
  } finally {
    profile.disable();
    profile.reset();
    setBackend(was);
  }
});

test.run();
