// The engine validates once, before dispatch, so every backend rejects the same inputs
// with the same error, and computes the same edge semantics (zero padding with 0·∞,
// batch-norm gradients with infinities, NaN scalars). Each check runs on ts and, when
// the addon is built, on cpu; the two must agree exactly on errors. The expected values
// of the conv-padding and batch-norm edge cases were checked against PyTorch 1.13.1
// (Debian python3-torch): F.conv2d / conv_transpose2d / their gradients and
// F.batch_norm give exactly these NaN/∞ patterns. The test itself needs no Python.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as E from '../../src/engine/index.js';
import { cpuBackend } from '../../src/backend/native.js';

const test = suite('engine boundary: ts and cpu reject and compute alike');
const BACKENDS = cpuBackend.unavailableReason() ? ['ts'] : ['ts', 'cpu'];
if (BACKENDS.length === 1) console.log(`engine boundary: cpu part skipped (${cpuBackend.unavailableReason()})`);

/** The error (class: message) fn throws on each backend; they must be identical. */
function sameError(fn: () => unknown, expect: RegExp, cls: typeof Error = RangeError): void {
  const seen: string[] = [];
  for (const b of BACKENDS) {
    E.setBackend(b);
    try {
      fn();
      seen.push(`${b}: no error`);
    } catch (e) {
      assert.instance(e, cls, `${b}: ${String(e)}`);
      seen.push(`${(e as Error).constructor.name}: ${(e as Error).message}`);
    }
  }
  E.setBackend('ts');
  assert.match(seen[0], expect);
  for (const s of seen.slice(1)) assert.is(s, seen[0]);
}

/** fn's tensors on each backend (NaN compared as NaN); returns the ts values. */
function sameValues(fn: () => E.Tensor[], tol = 1e-5): number[][] {
  const runs = BACKENDS.map((b) => {
    E.setBackend(b);
    return fn().map((t) => Array.from(t.data));
  });
  E.setBackend('ts');
  for (const run of runs.slice(1)) {
    run.forEach((vals, k) =>
      vals.forEach((v, i) => {
        const r = runs[0][k][i];
        const ok = Number.isNaN(r) ? Number.isNaN(v) : Number.isFinite(r) ? Math.abs(v - r) <= tol * Math.max(1, Math.abs(r)) : v === r;
        assert.ok(ok, `output ${k}[${i}]: cpu ${v} vs ts ${r}`);
      }),
    );
  }
  return runs[0];
}

const x16 = () => E.ones([1, 16, 1, 1]);

test('conv: stride/padding beyond the stated limits are the same named RangeError', () => {
  sameError(() => E.conv2d(x16(), x16(), null, { stride: [2 ** 53, 1000], padding: [2 ** 52, 255] }), /^RangeError: conv2d: stride must be at most 2\^20/);
  sameError(() => E.conv2d(x16(), x16(), null, { padding: [2 ** 20 + 1, 0] }), /^RangeError: conv2d: padding must be at most 2\^20/);
  // Within the per-argument limit but the padded input would exceed 2^31 − 1 elements.
  sameError(() => E.conv2d(x16(), x16(), null, { stride: 2 ** 20, padding: 2 ** 15 }), /^RangeError: conv2d: padding \(32768, 32768\) makes the padded input/);
  sameError(() => E.convTranspose2d(x16(), E.ones([16, 1, 1, 1]), null, { padding: 2 ** 20, dilation: 2 ** 20, stride: 2 ** 20 }), /^RangeError: convTranspose2d: /);
});

test('shapes: negative or fractional entries are refused by Tensor itself', () => {
  sameError(() => E.Tensor.fromData(new Float32Array(1), [-1, -1]), /^RangeError: Tensor: shape\[0\] must be an integer in \[0, 2\^31 − 1\], got -1/);
  sameError(() => E.Tensor.fromData(new Float32Array(1), [0.5, 2]), /^RangeError: Tensor: shape\[0\] must be an integer/);
  sameError(() => E.zeros([2 ** 31]), /^RangeError: zeros: |^RangeError: Tensor: /);
});

test('storage: a detached buffer or a replaced storage.data is the same TypeError naming the argument', () => {
  const detached = () => {
    const t = E.ones([2, 3]);
    structuredClone(t.data.buffer, { transfer: [t.data.buffer] });
    return t;
  };
  sameError(() => E.relu(detached()), /^TypeError: relu: input's storage no longer holds its 6 float32 values/, TypeError);
  sameError(() => E.conv2d(detached().reshape([1, 1, 2, 3]), E.ones([1, 1, 1, 1])), /^TypeError: /, TypeError);
  sameError(() => {
    const t = E.ones([2, 2]);
    (t.storage as { data: unknown }).data = new Float64Array(4);
    return E.add(t, E.ones([2, 2]));
  }, /^TypeError: add: a's storage no longer holds its 4 float32 values/, TypeError);
});

test('boolean options must be booleans on every backend', () => {
  const x = E.ones([1, 1, 4, 4]);
  sameError(() => E.avgPool2d(x, { kernelSize: 2, countIncludePad: 1 as unknown as boolean }), /^TypeError: avgPool2d: countIncludePad must be true or false, got 1/, TypeError);
  sameError(() => E.maxPool2d(x, { kernelSize: 2, ceilMode: 'yes' as unknown as boolean }), /^TypeError: maxPool2d: ceilMode must be true or false/, TypeError);
  sameError(() => E.interpolate(x, { mode: 'bilinear', size: 8, alignCorners: 1 as unknown as boolean }), /^TypeError: interpolate: alignCorners must be true or false/, TypeError);
});

test('maxPool2d: a dilated window wholly in the padding is rejected on both (was: cpu backward only)', () => {
  sameError(() => E.maxPool2d(E.ones([1, 1, 2, 4]).requiresGrad_(), { kernelSize: 2, dilation: [3, 1], padding: [1, 0], stride: 1 }), /^RangeError: maxPool2d: with dilation \(3, 1\) and padding \(1, 0\) the window at output row 0 lies wholly in the padding/);
  sameError(() => E.maxPool2d(E.ones([1, 1, 0, 4]), { kernelSize: 2, padding: 1 }), /^RangeError: maxPool2d: the input plane 0×4 is empty/);
});

test('conv zero padding: 0·∞ = NaN in the forward and weight gradient (PyTorch), never in the input gradient', () => {
  const [y] = sameValues(() => {
    const w = E.ones([1, 1, 3, 3]);
    w.data[0] = Infinity; // tap (0, 0): in the padding for output row 0 and column 0
    return [E.conv2d(E.ones([1, 1, 3, 3]), w, null, { padding: 1 })];
  });
  assert.equal(y.map((v) => (Number.isNaN(v) ? 'NaN' : v)), ['NaN', 'NaN', 'NaN', 'NaN', Infinity, Infinity, 'NaN', Infinity, Infinity]);
  // Transposed conv = the input gradient: only real output positions contribute (col2im), so finite where ts was.
  const [t] = sameValues(() => {
    const w = E.ones([8, 8, 3, 3]);
    w.data[0] = Infinity;
    return [E.convTranspose2d(E.ones([1, 8, 3, 3]), w, null, { padding: 1 })];
  });
  assert.equal(t.slice(0, 9), [Infinity, Infinity, 32, Infinity, Infinity, 48, 32, 48, 32]);
  // Weight gradient with an infinite gradient at output (0, 0): its window reads rows and
  // columns −1..1, so taps in row 0 or column 0 meet the padding (NaN), the others ∞.
  const [, dw] = sameValues(() => {
    const w = E.ones([1, 1, 3, 3]).requiresGrad_();
    const y2 = E.conv2d(E.ones([1, 1, 3, 3]), w, null, { padding: 1 });
    const g = E.ones([1, 1, 3, 3]);
    g.data[0] = Infinity;
    y2.backward(g);
    return [y2, w.grad!];
  });
  assert.ok(dw.every((v, i) => (i < 3 || i % 3 === 0 ? Number.isNaN(v) : v === Infinity)), `dw ${dw}`);
});

test('batch norm: eval gradient is γ·invstd·dy (finite for an infinite x); an infinite γ gives ±∞ on both', () => {
  const [, dx] = sameValues(() => {
    const x = E.ones([2, 2, 2]);
    x.data[0] = Infinity;
    x.requiresGrad_();
    E.batchNorm(x, E.zeros([2]), E.ones([2]), null, null, { training: false, eps: 0 }).sum().backward();
    return [x, x.grad!];
  });
  assert.ok(dx.every((v) => v === 1), `dx ${dx}`);
  const [dxt] = sameValues(() => {
    const x = E.tensor([1, 2, 3, 4, 5, 6, 7, 9], [4, 2]).requiresGrad_();
    const w = E.tensor([Infinity, 1]);
    const y = E.batchNorm(x, null, null, w, null, { training: true });
    y.backward(E.tensor([1, 0, 0, 0, 0, 0, 0, 0], [4, 2]));
    return [x.grad!];
  });
  assert.ok(dxt[0] === Infinity && dxt[2] === -Infinity, `dx ${dxt}`);
});

test('a NaN scalar operand is a value, not an argument error (was: cpu RangeError on p.alpha)', () => {
  const [y] = sameValues(() => [E.sub(E.ones([3]), NaN), E.mul(E.ones([3]), NaN)]);
  assert.ok(y.every(Number.isNaN));
});

test.run();
