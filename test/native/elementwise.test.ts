// unary / unaryBackward (every op) and binary (every op, dense and broadcast layouts)
// against the ts reference.
import type { BinaryOp, UnaryOp } from '../../src/backend/types.js';
import { getThreads, native, nativeSuite, near, rand, ref, rng, setThreads } from './helpers.js';

const { it, run } = nativeSuite('native elementwise');

const unaryCases: Array<{ op: UnaryOp; lo: number; hi: number; alpha?: number; beta?: number }> = [
  { op: 'neg', lo: -3, hi: 3 },
  { op: 'relu', lo: -3, hi: 3 },
  { op: 'leakyRelu', lo: -3, hi: 3, alpha: 0.2 },
  { op: 'sigmoid', lo: -12, hi: 12 },
  { op: 'tanh', lo: -6, hi: 6 },
  { op: 'silu', lo: -8, hi: 8 },
  { op: 'exp', lo: -5, hi: 5 },
  { op: 'log', lo: 0.01, hi: 10 },
  { op: 'sqrt', lo: 0.01, hi: 10 },
  { op: 'abs', lo: -3, hi: 3 },
  { op: 'square', lo: -3, hi: 3 },
  { op: 'reciprocal', lo: 0.1, hi: 5 },
  { op: 'softplus', lo: -30, hi: 30 },
  { op: 'clamp', lo: -3, hi: 3, alpha: -1, beta: 0.5 },
  { op: 'clamp', lo: -3, hi: 3, alpha: -Infinity, beta: 1 },
  { op: 'powScalar', lo: 0.1, hi: 3, alpha: 2.5 },
  { op: 'powScalar', lo: -2, hi: 2, alpha: 0 },
  { op: 'addScalar', lo: -3, hi: 3, alpha: 0.75 },
  { op: 'mulScalar', lo: -3, hi: 3, alpha: -1.5 },
];

it('unary and unaryBackward, every op (odd length, special values)', () => {
  unaryCases.forEach(({ op, lo, hi, alpha = 0, beta = 0 }, i) => {
    const n = 1001;
    const r = rng(i + 1);
    const x = rand(r, n, lo, hi);
    if (lo < 0 && hi > 0) x[7] = 0;
    x[11] = NaN;
    const p = { op, n, alpha, beta };
    const y0 = new Float32Array(n), y1 = new Float32Array(n);
    ref.unary(p, x, y0);
    native.unary(p, x, y1);
    near(y1, y0, 2e-6, `unary ${op}`);
    const dy = rand(r, n);
    const dx0 = new Float32Array(n), dx1 = new Float32Array(n);
    ref.unaryBackward(p, x, y0, dy, dx0);
    native.unaryBackward(p, x, y0, dy, dx1);
    near(dx1, dx0, 2e-6, `unaryBackward ${op}`);
  });
});

/** Per-element |a − e| ≤ rtol·|e| + atol; NaN must match NaN and ±Infinity must match exactly. */
function nearEach(actual: Float32Array, expected: Float32Array, rtol: number, atol: number, what: string): void {
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (!Number.isFinite(e)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) throw new Error(`${what}[${i}]: got ${a}, expected ${e}`);
      continue;
    }
    if (!(Math.abs(a - e) <= rtol * Math.abs(e) + atol)) throw new Error(`${what}[${i}]: got ${a}, expected ${e} (x-dependent, see inputs)`);
  }
}

/** Inputs covering every exp/tanh/softplus regime: ±0, tiny, the tanh polynomial edge, overflow and underflow of e^x, ±Inf, NaN. */
function expEdgeInputs(n: number): Float32Array {
  const special = [0, -0, 1e-30, -1e-30, 1e-7, -3e-4, 0.6249, 0.625, -0.625, 1, -1.2785, 9, -9, 15, 19.999, 20, 20.001, -20,
    30, -30, 44, 80, 88.5, 88.7, 88.73, 89, 90, 100, 1000, -80, -87.3, -88.7, -95, -103, -103.97, -104, -110, -1000,
    Infinity, -Infinity, NaN, 3.4e38, -3.4e38];
  const r = rng(99);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = i < special.length ? special[i] : (r() < 0.5 ? -1 : 1) * Math.exp(r() * 12 - 7);
  return x;
}

it('exp-based unary ops: per-element relative error, large |x|, ±Inf, NaN, every tail length', () => {
  // rtol 1e-6 (a few float ulp against the float64 reference); atol 1e-37 lets results
  // in the subnormal range (e.g. sigmoid(−95)) round to 0.
  for (const n of [1, 7, 8, 9, 15, 17, 43, 1003, 20011]) {
    const x = expEdgeInputs(n);
    for (const op of ['sigmoid', 'tanh', 'silu', 'exp', 'softplus'] as UnaryOp[]) {
      const p = { op, n, alpha: 0, beta: 0 };
      const y0 = new Float32Array(n), y1 = new Float32Array(n);
      ref.unary(p, x, y0);
      native.unary(p, x, y1);
      nearEach(y1, y0, 1e-6, 1e-37, `unary ${op} n=${n}`);
      const dy = rand(rng(n), n, -2, 2);
      const dx0 = new Float32Array(n), dx1 = new Float32Array(n);
      ref.unaryBackward(p, x, y0, dy, dx0);
      native.unaryBackward(p, x, y0, dy, dx1);
      if (op === 'silu' || op === 'softplus') {
        // These recompute e^x. silu′ crosses zero near x = −1.28 (cancellation in
        // 1 + x(1 − s)), hence an absolute floor there of a few ulp of |dy|.
        nearEach(dx1, dx0, 1e-6, op === 'silu' ? 4e-7 : 1e-37, `unaryBackward ${op} n=${n}`);
      } else {
        // From y in float arithmetic (1 − y² cancels as |y| → 1): relative to the largest |dx|.
        near(dx1, dx0, 2e-6, `unaryBackward ${op} n=${n}`);
      }
    }
  }
  // Saturation is exact, not merely close.
  const x = Float32Array.of(-200, -120, 89, 200, -Infinity, Infinity);
  const y = new Float32Array(6);
  native.unary({ op: 'sigmoid', n: 6, alpha: 0, beta: 0 }, x, y);
  near(y, [0, 0, 1, 1, 0, 1], 0, 'sigmoid saturates');
  native.unary({ op: 'tanh', n: 6, alpha: 0, beta: 0 }, x, y);
  near(y, [-1, -1, 1, 1, -1, 1], 0, 'tanh saturates');
  native.unary({ op: 'exp', n: 6, alpha: 0, beta: 0 }, x, y);
  near(y, [0, 0, Infinity, Infinity, 0, Infinity], 0, 'exp under/overflows');
});

it('exp-based unary ops: results do not depend on the thread count (chunk boundaries off the 8-lane grid)', () => {
  const n = 3 * 16384 + 5;
  const x = rand(rng(5), n, -10, 10);
  const saved = getThreads();
  try {
    for (const op of ['sigmoid', 'tanh', 'silu', 'exp', 'softplus'] as UnaryOp[]) {
      const p = { op, n, alpha: 0, beta: 0 };
      const out: Float32Array[] = [];
      for (const t of [1, 3]) {
        setThreads(t);
        const y = new Float32Array(n);
        native.unary(p, x, y);
        const dx = new Float32Array(n);
        native.unaryBackward(p, x, y, x, dx);
        out.push(y, dx);
      }
      near(out[2], out[0], 0, `${op} 1 vs 3 threads`);
      near(out[3], out[1], 0, `${op}′ 1 vs 3 threads`);
    }
  } finally {
    setThreads(saved);
  }
});

const ops: BinaryOp[] = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'pow'];

function dense(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}

it('binary: same shape, per-channel, scalar, general broadcasts, every op', () => {
  const layouts: Array<{ name: string; shape: number[]; a: number[]; b: number[] }> = [
    { name: 'same shape', shape: [3, 5, 67], a: dense([3, 5, 67]), b: dense([3, 5, 67]) },
    { name: 'per-channel b', shape: [4, 16, 33], a: dense([4, 16, 33]), b: [0, 1, 0] },
    { name: 'per-channel a', shape: [2, 7, 9], a: [0, 1, 0], b: dense([2, 7, 9]) },
    { name: 'scalar b', shape: [129], a: [1], b: [0] },
    { name: 'row vector', shape: [6, 10], a: dense([6, 10]), b: [0, 1] },
    { name: 'outer product', shape: [5, 8], a: [1, 0], b: [0, 1] },
    { name: 'transposed a', shape: [4, 6], a: [1, 4], b: dense([4, 6]) },
    { name: '6 dims', shape: [2, 1, 3, 2, 2, 5], a: dense([2, 1, 3, 2, 2, 5]), b: [0, 0, 1, 0, 3, 0] },
  ];
  let seed = 50;
  for (const op of ops) {
    for (const { name, shape, a: as, b: bs } of layouts) {
      const r = rng(seed++);
      const extent = (st: number[]) => shape.reduce((m, s, d) => m + (s - 1) * st[d], 0) + 1;
      const lo = op === 'pow' ? 0.1 : -2;
      const a = rand(r, extent(as), lo, 2);
      const b = rand(r, extent(bs), op === 'pow' ? -2 : -2, 2);
      if (op === 'maximum' || op === 'minimum') a[0] = NaN;
      const n = shape.reduce((m, s) => m * s, 1);
      const p = { op, shape, aStrides: as, bStrides: bs };
      const y0 = new Float32Array(n), y1 = new Float32Array(n);
      ref.binary(p, a, b, y0);
      native.binary(p, a, b, y1);
      near(y1, y0, op === 'div' || op === 'pow' ? 1e-6 : 0, `binary ${op} ${name}`, 1);
    }
  }
});

it('binary: large broadcasts with few long rows, split by element over the pool (1 and 3 threads)', () => {
  const layouts: Array<{ name: string; shape: number[]; a: number[]; b: number[] }> = [
    { name: 'scalar b', shape: [70001], a: [1], b: [0] },
    { name: 'per-row b', shape: [3, 40009], a: [40009, 1], b: [1, 0] },
    { name: 'per-channel a', shape: [2, 5, 9001], a: [0, 1, 0], b: [45005, 9001, 1] },
    { name: 'row vector a, strided b', shape: [2, 33337], a: [0, 1], b: [1, 2] },
  ];
  const saved = getThreads();
  try {
    layouts.forEach(({ name, shape, a: as, b: bs }, i) => {
      const r = rng(200 + i);
      const extent = (st: number[]) => shape.reduce((m, s, d) => m + (s - 1) * st[d], 0) + 1;
      const a = rand(r, extent(as), -2, 2);
      const b = rand(r, extent(bs), 0.5, 2);
      const n = shape.reduce((m, s) => m * s, 1);
      for (const op of ['sub', 'div'] as BinaryOp[]) {
        const p = { op, shape, aStrides: as, bStrides: bs };
        const y0 = new Float32Array(n);
        ref.binary(p, a, b, y0);
        for (const t of [1, 3]) {
          setThreads(t);
          const y1 = new Float32Array(n);
          native.binary(p, a, b, y1);
          near(y1, y0, op === 'div' ? 1e-6 : 0, `binary ${op} ${name} (${t} threads)`, 1);
        }
      }
    });
  } finally {
    setThreads(saved);
  }
});

run();
