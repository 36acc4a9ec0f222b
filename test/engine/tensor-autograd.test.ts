import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as E from '../../src/engine/index.js';
import { close } from './gradcheck.js';

test('tensor(): shapes from flat and nested data, scalars, copies', () => {
  const src = [1, 2, 3, 4, 5, 6];
  const t = E.tensor(src, [2, 3]);
  assert.equal(t.shape, [2, 3]);
  assert.is(t.size, 6);
  assert.is(t.ndim, 2);
  src[0] = 99;
  assert.is(t.data[0], 1, 'tensor() copies');
  assert.equal(E.tensor([[1, 2], [3, 4], [5, 6]]).shape, [3, 2]);
  assert.equal(E.tensor(3).shape, []);
  assert.is(E.tensor(3).item(), 3);
  assert.equal(E.tensor(new Float32Array(4)).shape, [4]);
  assert.ok(Object.isFrozen(t.shape), 'shape is frozen, safe to share');
});

test('tensor() rejects a length mismatch', () => {
  assert.throws(() => E.tensor([1, 2, 3], [2, 2]), /tensor: data has 3 values but shape \[2, 2\] needs 4/);
  assert.throws(() => E.tensor([[1, 2], [3]]), /ragged/);
});

test('tensor() rejects NaN, non-integer, negative and infinite sizes', () => {
  assert.throws(() => E.tensor([1, 2], [NaN]), (e: Error) => e instanceof TypeError && /tensor: shape\[0\] must be a number, got NaN/.test(e.message));
  assert.throws(() => E.tensor([1, 2], [1.5]), (e: Error) => e instanceof RangeError && /shape\[0\] must be an integer/.test(e.message));
  assert.throws(() => E.zeros([2, -1]), (e: Error) => e instanceof RangeError && /zeros: shape\[1\] must be non-negative/.test(e.message));
  assert.throws(() => E.ones([Infinity]), /ones: shape\[0\] must be an integer/);
  assert.throws(() => E.randn([2, 0.5]), /randn: shape\[1\]/);
});

test('tensor data may hold NaN', () => {
  const t = E.tensor([NaN, 1], [2]);
  assert.ok(Number.isNaN(t.data[0]));
});

test('creation helpers', () => {
  close(E.full([2, 2], 3).data, [3, 3, 3, 3]);
  close(E.onesLike(E.zeros([3])).data, [1, 1, 1]);
  close(E.arange(4).data, [0, 1, 2, 3]);
  close(E.arange(1, 2, 0.25).data, [1, 1.25, 1.5, 1.75]);
  assert.ok(E.zeros([2], { requiresGrad: true }).requiresGrad);
  assert.throws(() => E.tensor([1, 2]).item(), /item: only a tensor with one element/);
});

test('Generator: same seed same numbers, different seeds differ, state round-trips', () => {
  const a = new E.Generator(42);
  const b = new E.Generator(42);
  const xs = Array.from({ length: 100 }, () => a.nextUint32());
  const ys = Array.from({ length: 100 }, () => b.nextUint32());
  assert.equal(xs, ys);
  const c = new E.Generator(43);
  assert.not.equal(Array.from({ length: 10 }, () => c.nextUint32()), xs.slice(0, 10));
  a.normal(); // leaves a cached spare value
  const s = a.state;
  const n1 = [a.normal(), a.normal(), a.uniform()];
  a.setState(s);
  assert.equal([a.normal(), a.normal(), a.uniform()], n1);
  assert.equal(E.randn([5], { seed: 3 }).toArray(), E.randn([5], { seed: 3 }).toArray());
  E.manualSeed(9);
  const r1 = E.rand([4]).toArray();
  E.manualSeed(9);
  assert.equal(E.rand([4]).toArray(), r1);
  const f1 = new E.Generator(5);
  const child = f1.fork();
  assert.not.equal(child.nextUint32(), new E.Generator(5).nextUint32());
});

test('Generator: xoshiro128** reference outputs from state [1, 2, 3, 4]', () => {
  const g = new E.Generator(0);
  g.setState({ s: [1, 2, 3, 4], spareNormal: null });
  assert.equal([g.nextUint32(), g.nextUint32(), g.nextUint32()], [11520, 0, 5927040]);
});

test('Generator: uniform in [0, 1) and normal moments', () => {
  const g = new E.Generator(1);
  let sum = 0;
  let sq = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const u = g.uniform();
    assert.ok(u >= 0 && u < 1);
    const z = g.normal();
    sum += z;
    sq += z * z;
  }
  assert.ok(Math.abs(sum / n) < 0.03, `mean ${sum / n}`);
  assert.ok(Math.abs(sq / n - 1) < 0.05, `variance ${sq / n}`);
  const r = E.rand([1000], { seed: 2 }).data;
  assert.ok(r.every((v) => v >= 0 && v < 1));
  const counts = new Array(5).fill(0);
  for (let i = 0; i < 5000; i++) counts[g.int(5)]++;
  assert.ok(counts.every((c) => c > 900 && c < 1100), `int() counts ${counts}`);
});

test('autograd: a tensor used twice accumulates both contributions', () => {
  const x = E.tensor([2, 3], [2], { requiresGrad: true });
  const y = E.add(E.mul(x, x), x).sum(); // d/dx (x² + x) = 2x + 1
  y.backward();
  close(x.grad!.data, [5, 7]);
  // A second backward on a new graph accumulates into .grad.
  E.mul(x, 3).sum().backward();
  close(x.grad!.data, [8, 10]);
  x.zeroGrad();
  assert.is(x.grad, null);
});

test('autograd: the same gradient tensor reaching two leaves does not alias them', () => {
  const a = E.tensor([1, 2], [2], { requiresGrad: true });
  const b = E.tensor([3, 4], [2], { requiresGrad: true });
  E.add(a, b).sum().backward();
  assert.ok(a.grad!.data !== b.grad!.data);
  a.grad!.data[0] = 100;
  assert.is(b.grad!.data[0], 1);
});

test('autograd: diamond graphs and deep chains', () => {
  const x = E.tensor([0.5], [1], { requiresGrad: true });
  const a = E.exp(x);
  const y = E.mul(a, E.add(a, 1)); // a·(a + 1)
  y.sum().backward();
  const ex = Math.exp(0.5);
  close(x.grad!.data, [2 * ex * ex + ex]);
  // 5000 chained ops: the iterative traversal must not overflow the stack.
  const z = E.tensor([1], [1], { requiresGrad: true });
  let h = z;
  for (let i = 0; i < 5000; i++) h = E.mul(h, 1.0001);
  h.sum().backward();
  close(z.grad!.data, [Math.pow(1.0001, 5000)], 1e-3);
});

test('noGrad records nothing; enableGrad turns it back on', () => {
  const x = E.tensor([1, 2], [2], { requiresGrad: true });
  const y = E.noGrad(() => E.mul(x, 2));
  assert.is(y.requiresGrad, false);
  assert.is(y.gradFn, null);
  assert.is(E.isGradEnabled(), true);
  const z = E.noGrad(() => E.enableGrad(() => E.mul(x, 2)));
  assert.ok(z.gradFn);
  assert.throws(() => y.sum().backward(), /does not require grad/);
  // Inputs not requiring grad record nothing either.
  const w = E.mul(E.tensor([1]), 2);
  assert.is(w.gradFn, null);
});

test('detach stops the gradient', () => {
  const x = E.tensor([3], [1], { requiresGrad: true });
  const y = E.mul(x.detach(), x); // only the second factor carries gradient
  y.sum().backward();
  close(x.grad!.data, [3]);
});

test('grad(): gradients w.r.t. leaves and intermediates without touching .grad', () => {
  const x = E.tensor([1, 2, 3], [3], { requiresGrad: true });
  const h = E.mul(x, x);
  const y = E.sum(E.mul(h, 2));
  const [gx, gh] = E.grad(y, [x, h], undefined, { retainGraph: true });
  close(gx.data, [4, 8, 12]);
  close(gh.data, [2, 2, 2]);
  assert.is(x.grad, null);
  const [gx2] = E.grad(y, [x], E.tensor(0.5));
  close(gx2.data, [2, 4, 6]);
  const unused = E.tensor([1], [1], { requiresGrad: true });
  const y2 = E.sum(E.mul(x, 2));
  assert.throws(() => E.grad(y2, [unused], undefined, { retainGraph: true }), /inputs\[0\] was not used/);
  const [z] = E.grad(y2, [unused], undefined, { allowUnused: true });
  close(z.data, [0]);
});

test('backward frees the graph: a second backward fails clearly, retainGraph keeps it', () => {
  const x = E.tensor([1, 2], [2], { requiresGrad: true });
  const y = E.sum(E.exp(x));
  y.backward();
  assert.throws(() => y.backward(), /a second time/);
  const y2 = E.sum(E.exp(x));
  y2.backward(undefined, { retainGraph: true });
  y2.backward();
  close(x.grad!.data, [3 * Math.exp(1), 3 * Math.exp(2)], 1e-5); // three backwards of Σ eˣ
});

test('backward needs an explicit gradient for a non-scalar output', () => {
  const x = E.tensor([1, 2], [2], { requiresGrad: true });
  assert.throws(() => E.mul(x, 2).backward(), /one-element output/);
  const y = E.mul(x, 2);
  y.backward(E.tensor([1, 10]));
  close(x.grad!.data, [2, 20]);
  assert.throws(() => E.mul(x, 2).backward(E.tensor([1, 2, 3])), /has shape \[3\] but the output has shape \[2\]/);
});

test('1000 training steps keep no graph alive (node count stays flat)', () => {
  const w = E.randn([8, 8], { seed: 1, requiresGrad: true });
  const x = E.randn([4, 8], { seed: 2 });
  let lastNode: E.Node | null = null;
  for (let i = 0; i < 1000; i++) {
    const loss = E.mean(E.square(E.tanh(E.matmul(x, w))));
    lastNode = loss.gradFn;
    loss.backward();
    E.noGrad(() => {
      for (let k = 0; k < w.size; k++) w.data[k] -= 0.01 * w.grad!.data[k];
    });
    w.zeroGrad();
  }
  // The last graph was released: its nodes hold no inputs, so nothing older is reachable.
  assert.ok(lastNode!.released);
  assert.is(lastNode!.inputs.length, 0);
});

test.run();
