// AllInOneBlock / SequenceINN (FrEIA): the invariants of the block at initialisation
// (global scale exactly 1, offset 0, inverse reproduces the input, the inverse's
// log-det is the negative), the orthogonality of the fixed mixings, FrEIA's state
// names, argument checks, and finite-difference gradients on the ts backend; a block built
// without drawing its mixing (init: false) until a state is loaded, and the kept permutation
// index following a loaded w_perm.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { concat, Generator, noGrad, reshape, type Tensor } from '../../src/engine/index.js';
import { AllInOneBlock, Conv2d, GLOBAL_SCALE_INIT, Linear, Module, ReLU, Sequential, SequenceINN } from '../../src/nn/index.js';
import { randomRotation } from '../../src/nn/layers/flow-rotation.js';
import { gradcheck, randt } from '../engine/gradcheck.js'; // also selects the ts backend

const linSubnet = (seed: number) => (cin: number, cout: number): Module => new Sequential(new Linear(cin, 2 * cin, { seed }), new ReLU(), new Linear(2 * cin, cout, { seed: seed + 1 }));
const convSubnet = (seed: number, k = 3) => (cin: number, cout: number): Module =>
  new Sequential(new Conv2d(cin, cin, k, { padding: (k - 1) / 2, seed }), new ReLU(), new Conv2d(cin, cout, k, { padding: (k - 1) / 2, seed: seed + 1 }));

function vecBlock(C: number, P: number, soft: boolean, seed = 1, form: 'tanh' | 'tanh-scaled' = 'tanh') {
  return new AllInOneBlock({ channels: C, condChannels: P, subnet: linSubnet(seed), clamp: 1.9, clampForm: form, permuteSoft: soft, generator: new Generator(seed) });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('global scale g = 1 exactly at init; offset 0; FrEIA state names', () => {
  const b = vecBlock(7, 3, true);
  assert.is(Math.fround(0.2 * Math.log1p(Math.exp(0.5 * Math.fround(GLOBAL_SCALE_INIT)))), 1);
  assert.equal([...b.stateDict().keys()], ['global_scale', 'global_offset', 'w_perm', 'w_perm_inv', 'subnet.0.weight', 'subnet.0.bias', 'subnet.2.weight', 'subnet.2.bias']);
  assert.equal(b.global_scale.shape, [1, 7]);
  assert.equal(b.w_perm.shape, [7, 7]);
  // w_perm is not trained: the parameters are γ, offset and the subnet's.
  assert.equal(b.namedParameters().map(([n]) => n), ['global_scale', 'global_offset', 'subnet.0.weight', 'subnet.0.bias', 'subnet.2.weight', 'subnet.2.bias']);
  // subnet sizes: in C1 + P = 4 + 3, out 2·C2 = 6
  assert.equal((b.subnet as Sequential).at(0).stateDict().get('weight')!.shape, [14, 7]);
  assert.equal((b.subnet as Sequential).at(2).stateDict().get('weight')!.shape, [6, 14]);
  const m = new AllInOneBlock({ channels: 6, spatialDims: 2, subnet: convSubnet(3), clamp: 2, permuteSoft: false, generator: new Generator(2) });
  assert.equal(m.global_scale.shape, [1, 6, 1, 1]);
  assert.equal(m.w_perm.shape, [6, 6, 1, 1]);
  const seq = new SequenceINN([m, new AllInOneBlock({ channels: 6, spatialDims: 2, subnet: convSubnet(5, 1), clamp: 2, permuteSoft: false, generator: new Generator(3) })]);
  assert.ok([...seq.stateDict().keys()].includes('module_list.1.subnet.2.bias'));
  assert.ok([...seq.stateDict().keys()].includes('module_list.0.w_perm_inv'));
});

test('a hard permutation is one-hot, a soft one a rotation (WᵀW = I, det +1)', () => {
  const b = vecBlock(9, 0, false, 4);
  const w = b.w_perm.data;
  for (let i = 0; i < 9; i++) {
    let row = 0;
    let col = 0;
    for (let k = 0; k < 9; k++) {
      row += w[i * 9 + k];
      col += w[k * 9 + i];
      assert.ok(w[i * 9 + k] === 0 || w[i * 9 + k] === 1);
    }
    assert.is(row, 1);
    assert.is(col, 1);
  }
  for (const C of [1, 2, 5, 16]) {
    const q = randomRotation(C, new Generator(C));
    for (let i = 0; i < C; i++) {
      for (let k = 0; k < C; k++) {
        let d = 0;
        for (let m = 0; m < C; m++) d += q[m * C + i] * q[m * C + k];
        assert.ok(Math.abs(d - (i === k ? 1 : 0)) < 1e-12, `C ${C} QᵀQ[${i},${k}] = ${d}`);
      }
    }
    assert.ok(Math.abs(det(q, C) - 1) < 1e-9, `C ${C}: det ${det(q, C)}`);
  }
});

function det(a: Float64Array, n: number): number {
  const m = Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, i * n + n)));
  let d = 1;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i][k]) > Math.abs(m[p][k])) p = i;
    if (p !== k) {
      [m[p], m[k]] = [m[k], m[p]];
      d = -d;
    }
    d *= m[k][k];
    for (let i = k + 1; i < n; i++) {
      const f = m[i][k] / m[k][k];
      for (let j = k; j < n; j++) m[i][j] -= f * m[k][j];
    }
  }
  return d;
}

test('inverse reproduces the input; its log-det is the negative (vectors + condition, maps)', () => {
  for (const soft of [true, false]) {
    for (const form of ['tanh', 'tanh-scaled'] as const) {
      const b = vecBlock(9, 4, soft, 7, form);
      const x = randt([5, 9], 11, false);
      const c = randt([5, 4], 12, false);
      noGrad(() => {
        const f = b.forward(x, c);
        const inv = b.inverse(f.y, c);
        assert.ok(maxAbsDiff(inv.x.data, x.data) < 1e-5, `soft ${soft} ${form}: ${maxAbsDiff(inv.x.data, x.data)}`);
        assert.ok(maxAbsDiff(inv.logdet.data, f.logdet.data.map((v) => -v)) < 1e-5);
        // At init g = 1, offset 0: the log-det is the coupling term alone (Σ j over C2).
        assert.equal(f.logdet.shape, [5]);
      });
    }
  }
  const m = new SequenceINN([0, 1, 2].map((i) => new AllInOneBlock({ channels: 5, spatialDims: 2, subnet: convSubnet(20 + 2 * i, i % 2 ? 1 : 3), clamp: 2, permuteSoft: false, generator: new Generator(i) })));
  const x = randt([2, 5, 4, 3], 13, false);
  noGrad(() => {
    const f = m.forward(x);
    const inv = m.inverse(f.z);
    assert.ok(maxAbsDiff(inv.x.data, x.data) < 1e-5);
    assert.ok(maxAbsDiff(inv.logdet.data, f.logdet.data.map((v) => -v)) < 1e-4);
  });
});

test('gradients: finite differences on the ts backend (x, cond, γ, offset, subnet weights)', () => {
  for (const soft of [true, false]) {
    const b = vecBlock(5, 2, soft, 9);
    // move γ and offset off their init so that their terms are exercised
    b.global_scale.data.set([9.5, 10.2, 8.7, 10, 9.9]);
    b.global_offset.data.set([0.1, -0.2, 0.05, 0, 0.3]);
    const x = randt([3, 5], 21);
    const c = randt([3, 2], 22);
    const w0 = (b.subnet as Sequential).at(0).stateDict().get('weight')!;
    gradcheck(
      (xx, cc) => {
        const r = b.forward(xx, cc);
        return concatFlat(r.y, r.logdet);
      },
      [x, c, b.global_scale, b.global_offset, w0],
      { eps: 1e-2, atol: 3e-3, rtol: 2e-2 },
    );
  }
  const m = new AllInOneBlock({ channels: 3, spatialDims: 2, subnet: convSubnet(31), clamp: 2, clampForm: 'tanh-scaled', permuteSoft: false, generator: new Generator(5) });
  m.global_scale.data.set([9.5, 10.2, 8.7]);
  gradcheck((xx) => { const r = m.forward(xx); return concatFlat(r.y, r.logdet); }, [randt([2, 3, 3, 4], 23), m.global_scale, m.global_offset], { eps: 1e-2, atol: 3e-3, rtol: 2e-2 });
});

function concatFlat(a: Tensor, b: Tensor): Tensor {
  return concat([reshape(a, [a.size]), reshape(b, [b.size])], 0);
}

test('argument checks name what is wrong', () => {
  assert.throws(() => vecBlock(1, 0, false), /channels must be an integer ≥ 2/);
  assert.throws(() => new AllInOneBlock({ channels: 4, subnet: linSubnet(1), clamp: 0, permuteSoft: false, generator: new Generator(1) }), /clamp must be a positive/);
  const b = vecBlock(4, 2, false);
  assert.throws(() => b.forward(randt([2, 4], 1, false)), /pass cond/);
  assert.throws(() => b.forward(randt([2, 5], 1, false), randt([2, 2], 1, false)), /input must be \[B, 4\]/);
  assert.throws(() => b.forward(randt([2, 4], 1, false), randt([3, 2], 1, false)), /cond must be \[2, 2\]/);
  const bad = new AllInOneBlock({ channels: 4, subnet: (i) => new Linear(i, 3, { seed: 1 }), clamp: 1, permuteSoft: false, generator: new Generator(1) });
  assert.throws(() => bad.forward(randt([2, 4], 1, false)), /subnet must return \[2, 4\]/);
});

test('init false draws nothing (block and Linear: the generator is untouched), refuses to run until a state is loaded, then equals the drawn block', () => {
  for (const soft of [true, false]) {
    const drawn = vecBlock(6, 2, soft, 7);
    const g = new Generator(7);
    const subnet = (cin: number, cout: number): Module => new Sequential(new Linear(cin, 2 * cin, { generator: g, init: false }), new ReLU(), new Linear(2 * cin, cout, { generator: g, init: false }));
    const lazy = new AllInOneBlock({ channels: 6, condChannels: 2, subnet, clamp: 1.9, permuteSoft: soft, generator: g, init: false });
    assert.is(g.uniform(), new Generator(7).uniform(), 'no draw from the generator (block nor Linear)');
    assert.ok(lazy.w_perm.data.every((v) => v === 0) && lazy.w_perm_inv.data.every((v) => v === 0));
    assert.ok(lazy.subnet.parameters().every((p) => p.data.every((v) => v === 0)));
    const x = randt([3, 6], 2, false);
    const c = randt([3, 2], 3, false);
    assert.throws(() => lazy.forward(x, c), /w_perm was neither drawn .* nor loaded/);
    assert.throws(() => lazy.inverse(x, c), /w_perm_inv was neither drawn .* nor loaded/);
    lazy.loadStateDict(drawn.stateDict());
    noGrad(() => {
      assert.equal(Array.from(lazy.forward(x, c).y.data), Array.from(drawn.forward(x, c).y.data));
      assert.equal(Array.from(lazy.inverse(x, c).x.data), Array.from(drawn.inverse(x, c).x.data));
    });
  }
});

test('a loaded hard permutation is honoured: the permutation index read on first use is dropped by loadStateDict', () => {
  const a = vecBlock(8, 0, false, 11);
  const b = vecBlock(8, 0, false, 12);
  assert.ok(a.w_perm.data.some((v, i) => v !== b.w_perm.data[i]), 'the two seeds draw different permutations');
  const x = randt([2, 8], 4, false);
  noGrad(() => {
    const before = b.forward(x).y.data.slice(); // reads (and keeps) b's own index
    b.inverse(x);
    b.loadStateDict(a.stateDict());
    const want = a.forward(x).y.data;
    const got = b.forward(x).y.data;
    assert.equal(Array.from(got), Array.from(want));
    assert.ok(got.some((v, i) => v !== before[i]), 'the output changed with the loaded permutation');
    assert.equal(Array.from(b.inverse(x).x.data), Array.from(a.inverse(x).x.data));
    // the index is not read again per call: the same array is handed to the kernels each time
    const mix = (blk: AllInOneBlock) => (blk as unknown as { mix(inv: boolean): { perm?: Int32Array } }).mix(false).perm;
    assert.ok(mix(b) === mix(b));
  });
});

test.run();
