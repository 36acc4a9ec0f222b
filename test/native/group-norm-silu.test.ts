// GroupNorm → SiLU fused (groupNormSiluForward / Backward): native = the native GroupNorm
// and SiLU kernels run one after the other, bit for bit, on 1 and 2 threads; the ts twin =
// the unfused ts kernels bit for bit; native ≈ ts; the binding's refusals; and the engine
// op groupNormSilu: finite-difference gradients (ts) and the unfused ops' values and
// gradients on the native backend.
import * as assert from 'uvu/assert';
import type { GroupNormParams, KernelTable } from '../../src/backend/types.js';
import * as E from '../../src/engine/index.js';
import { gradcheck, randt } from '../engine/gradcheck.js';
import { identical, native, nativeSuite, near, rand, ref, rng, withThreads } from './helpers.js';

const { it, run } = nativeSuite('native group norm + silu (fused)');

// [N, C, HW, G]: U-Net sizes (GroupNorm32 at 16², at 8² with 512 channels), HW not a
// multiple of 8 or 16, one channel per group, HW = 1, batch 1.
const layouts: Array<[number, number, number, number]> = [
  [2, 64, 256, 32],
  [1, 128, 64, 32],
  [3, 6, 7, 3],
  [2, 32, 23, 32],
  [2, 8, 1, 4],
  [1, 4, 40, 1],
];

interface Fwd {
  y: Float32Array;
  mean: Float32Array;
  invstd: Float32Array;
}

function unfusedForward(k: KernelTable, p: GroupNormParams, x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null): Fwd {
  const n = p.N * p.C * p.HW;
  const z = new Float32Array(n), y = new Float32Array(n);
  const mean = new Float32Array(p.N * p.G), invstd = new Float32Array(p.N * p.G);
  k.groupNormForward(p, x, gamma, beta, z, mean, invstd);
  k.unary({ op: 'silu', n, alpha: 0, beta: 0 }, z, y);
  return { y, mean, invstd };
}

function fusedForward(k: KernelTable, p: GroupNormParams, x: Float32Array, gamma: Float32Array | null, beta: Float32Array | null): Fwd {
  const n = p.N * p.C * p.HW;
  const y = new Float32Array(n).fill(NaN);
  const mean = new Float32Array(p.N * p.G), invstd = new Float32Array(p.N * p.G);
  k.groupNormSiluForward(p, x, gamma, beta, y, mean, invstd);
  return { y, mean, invstd };
}

interface Bwd {
  dx: Float32Array;
  dgamma: Float32Array | null;
  dbeta: Float32Array | null;
}

function unfusedBackward(k: KernelTable, p: GroupNormParams, x: Float32Array, dy: Float32Array, f: Fwd, gamma: Float32Array | null, beta: Float32Array | null): Bwd {
  const n = p.N * p.C * p.HW;
  const z = new Float32Array(n);
  k.groupNormForward(p, x, gamma, beta, z, new Float32Array(p.N * p.G), new Float32Array(p.N * p.G));
  const dz = new Float32Array(n);
  const ys = new Float32Array(n);
  k.unary({ op: 'silu', n, alpha: 0, beta: 0 }, z, ys);
  k.unaryBackward({ op: 'silu', n, alpha: 0, beta: 0 }, z, ys, dy, dz);
  const dx = new Float32Array(n);
  const dgamma = gamma ? new Float32Array(p.C) : null, dbeta = beta ? new Float32Array(p.C) : null;
  k.groupNormBackward(p, x, dz, f.mean, f.invstd, gamma, dx, dgamma, dbeta);
  return { dx, dgamma, dbeta };
}

function fusedBackward(k: KernelTable, p: GroupNormParams, x: Float32Array, dy: Float32Array, f: Fwd, gamma: Float32Array | null, beta: Float32Array | null): Bwd {
  const n = p.N * p.C * p.HW;
  const dx = new Float32Array(n).fill(NaN);
  const dgamma = gamma ? new Float32Array(p.C).fill(NaN) : null, dbeta = beta ? new Float32Array(p.C).fill(NaN) : null;
  k.groupNormSiluBackward(p, x, dy, f.mean, f.invstd, gamma, beta, dx, dgamma, dbeta);
  return { dx, dgamma, dbeta };
}

function cases(fn: (p: GroupNormParams, x: Float32Array, dy: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, what: string) => void): void {
  layouts.forEach(([N, C, HW, G], i) => {
    const r = rng(100 + i);
    const n = N * C * HW;
    const x = rand(r, n, -3, 4);
    const dy = rand(r, n);
    for (const affine of [true, false]) {
      const gamma = affine ? rand(r, C, 0.5, 1.5) : null;
      const beta = affine ? rand(r, C, -0.5, 0.5) : null;
      fn({ N, C, HW, G, eps: 1e-5 }, x, dy, gamma, beta, `${N}x${C}x${HW} G${G} affine=${affine}`);
    }
  });
}

it('native forward and backward = native groupNorm then silu, bit for bit, on 1 and 2 threads', () => {
  cases((p, x, dy, gamma, beta, what) => {
    for (const threads of [1, 2]) {
      withThreads(threads, () => {
        const u = unfusedForward(native, p, x, gamma, beta);
        const f = fusedForward(native, p, x, gamma, beta);
        identical(f.y, u.y, `${what} ${threads}T y`);
        identical(f.mean, u.mean, `${what} ${threads}T mean`);
        identical(f.invstd, u.invstd, `${what} ${threads}T invstd`);
        const ub = unfusedBackward(native, p, x, dy, f, gamma, beta);
        const fb = fusedBackward(native, p, x, dy, f, gamma, beta);
        identical(fb.dx, ub.dx, `${what} ${threads}T dx`);
        if (fb.dgamma && ub.dgamma) identical(fb.dgamma, ub.dgamma, `${what} ${threads}T dgamma`);
        if (fb.dbeta && ub.dbeta) identical(fb.dbeta, ub.dbeta, `${what} ${threads}T dbeta`);
      });
    }
  });
});

it('ts twin = the unfused ts kernels bit for bit; native ≈ ts', () => {
  cases((p, x, dy, gamma, beta, what) => {
    const u = unfusedForward(ref, p, x, gamma, beta);
    const f = fusedForward(ref, p, x, gamma, beta);
    identical(f.y, u.y, `${what} ts y`);
    const ub = unfusedBackward(ref, p, x, dy, f, gamma, beta);
    const fb = fusedBackward(ref, p, x, dy, f, gamma, beta);
    identical(fb.dx, ub.dx, `${what} ts dx`);
    if (fb.dgamma && ub.dgamma) identical(fb.dgamma, ub.dgamma, `${what} ts dgamma`);
    const nf = fusedForward(native, p, x, gamma, beta);
    near(nf.y, f.y, 1e-5, `${what} native vs ts y`);
    const nb = fusedBackward(native, p, x, dy, nf, gamma, beta);
    // dx cancels (dz minus its group means): bound the error by the scale of dy (1), not of dx.
    near(nb.dx, fb.dx, 1e-4, `${what} native vs ts dx`, 1);
    if (nb.dgamma && fb.dgamma) near(nb.dgamma, fb.dgamma, 1e-4, `${what} native vs ts dgamma`, 1);
    if (nb.dbeta && fb.dbeta) near(nb.dbeta, fb.dbeta, 1e-4, `${what} native vs ts dbeta`, 1);
  });
});

it('binding refusals are named', () => {
  const p = { N: 1, C: 4, HW: 3, G: 2, eps: 1e-5 };
  const x = new Float32Array(12), dy = new Float32Array(12), m = new Float32Array(2), s = new Float32Array(2).fill(1);
  assert.throws(() => native.groupNormSiluForward({ ...p, G: 3 }, x, null, null, new Float32Array(12), m, s), /groupNormSiluForward.*divisible/);
  assert.throws(() => native.groupNormSiluForward(p, x, null, null, new Float32Array(11), m, s), /groupNormSiluForward.*y/);
  assert.throws(() => native.groupNormSiluBackward(p, x, dy, m, s, null, null, dy, null, null), /groupNormSiluBackward: dx must not share memory/);
  assert.throws(() => native.groupNormSiluBackward(p, x, dy, m, s, new Float32Array(3), null, new Float32Array(12), null, null), /groupNormSiluBackward.*gamma/);
});

it('groupNormSilu (engine, ts): finite-difference gradients of x, weight and bias', () => {
  E.setBackend('ts');
  gradcheck((x, w, b) => E.groupNormSilu(x, 2, w, b), [randt([2, 4, 2, 3], 31), randt([4], 32, true, 0.5, 1), randt([4], 33)], { atol: 5e-3 });
  gradcheck((x) => E.groupNormSilu(x, 1, null, null, 1e-3), [randt([1, 3, 5], 34)], { atol: 5e-3 });
  assert.throws(() => E.groupNormSilu(E.zeros([1, 6, 2, 2]), 4, null, null), /groupNormSilu: 6 channels are not divisible into numGroups=4/);
  assert.throws(() => E.groupNormSilu(E.zeros([1, 4, 2]), 2, E.zeros([3]), null), /groupNormSilu: weight must have shape \[4\]/);
});

it('groupNormSilu (engine, native) = silu(groupNorm(·)) in values and gradients, bit for bit', () => {
  E.setBackend('cpu');
  try {
    const run = (fused: boolean) => {
      const x = randt([2, 64, 6, 6], 41);
      const w = randt([64], 42, true, 0.3, 1);
      const b = randt([64], 43, true, 0.3);
      const y = fused ? E.groupNormSilu(x, 32, w, b, 1e-6) : E.silu(E.groupNorm(x, 32, w, b, 1e-6));
      const g = randt([2, 64, 6, 6], 44, false);
      const grads = E.grad(y, [x, w, b], g);
      return [y, ...grads].map((t) => t.data);
    };
    const [a, b] = [run(true), run(false)];
    ['y', 'dx', 'dweight', 'dbias'].forEach((name, i) => identical(a[i], b[i], name));
  } finally {
    E.setBackend('ts');
  }
});

run();
