// KnnIndex: faiss-shaped exact search, copies on add, save/load round trip, refusals.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends, currentBackend, halfFromFloat, halfToFloat, setBackend, Tensor } from '../../src/engine/index.js';
import { KnnIndex } from '../../src/memory-bank/index.js';
import { throwsMatching } from '../assert-throws.js';

function rand(seed: number, n: number): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    return a / 2 ** 31 - 1;
  });
}

/** Brute force in float64: the k nearest rows of each query by (distance, index). */
function brute(base: Float32Array, q: Float32Array, d: number, k: number): number[][] {
  const nb = base.length / d;
  const out: number[][] = [];
  for (let i = 0; i < q.length / d; i++) {
    const all = Array.from({ length: nb }, (_, j) => {
      let s = 0;
      for (let t = 0; t < d; t++) s += (q[i * d + t] - base[j * d + t]) ** 2;
      return { j, s };
    });
    all.sort((a, b) => a.s - b.s || a.j - b.j);
    out.push(all.slice(0, k).map((e) => e.j));
  }
  return out;
}

test('add (several calls, copies) and search equal a brute-force sort; k > ntotal pads', () => {
  const d = 7;
  const index = new KnnIndex(d);
  assert.is(index.ntotal, 0);
  const a = rand(1, 40 * d);
  const b = rand(2, 25 * d);
  index.add(a);
  index.add(Tensor.fromData(b, [25, d]));
  a.fill(99); // the index holds a copy
  const all = new Float32Array([...rand(1, 40 * d), ...b]);
  assert.is(index.ntotal, 65);
  const q = rand(3, 5 * d);
  const { distances, indices } = index.search(q, 3);
  const want = brute(all, q, d, 3);
  assert.equal(Array.from(indices), want.flat());
  for (let i = 0; i < 15; i++) {
    const j = indices[i];
    let s = 0;
    for (let t = 0; t < d; t++) s += (q[Math.floor(i / 3) * d + t] - all[j * d + t]) ** 2;
    assert.ok(Math.abs(distances[i] - s) < 1e-4, `distance ${i}`);
  }
  const wide = index.search(Tensor.fromData(q.subarray(0, d), [1, d]), 70);
  assert.equal(Array.from(wide.indices.subarray(65)), [-1, -1, -1, -1, -1]);
  assert.ok(wide.distances.subarray(65).every((v) => v === Infinity));
});

test('ties keep the lower index', () => {
  const index = new KnnIndex(2);
  index.add(new Float32Array([1, 0, 0, 1, 1, 0, -1, 0]));
  const r = index.search(new Float32Array([0, 0]), 4);
  assert.equal(Array.from(r.indices), [0, 1, 2, 3]);
  assert.equal(Array.from(r.distances), [1, 1, 1, 1]);
});

test('save → load round trip; truncated, corrupt and foreign files are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'knn-'));
  try {
    const index = new KnnIndex(5);
    index.add(rand(4, 30 * 5));
    const path = join(dir, 'bank.safetensors');
    index.save(path);
    const back = KnnIndex.load(path);
    assert.is(back.dim, 5);
    assert.is(back.ntotal, 30);
    assert.equal(Array.from(back.vectors), Array.from(index.vectors));
    const q = rand(5, 3 * 5);
    assert.equal(back.search(q, 4), index.search(q, 4));

    const bytes = readFileSync(path);
    writeFileSync(join(dir, 'cut'), bytes.subarray(0, bytes.length - 9));
    throwsMatching(() => KnnIndex.load(join(dir, 'cut')), /KnnIndex\.load/, /truncated/);
    const nan = Buffer.from(bytes);
    nan.writeFloatLE(NaN, nan.length - 4);
    writeFileSync(join(dir, 'nan'), nan);
    throwsMatching(() => KnnIndex.load(join(dir, 'nan')), /KnnIndex\.load/, /NaN/);
    writeFileSync(join(dir, 'junk'), 'not an index');
    throwsMatching(() => KnnIndex.load(join(dir, 'junk')), /KnnIndex\.load/, /not a readable index/);
    throwsMatching(() => KnnIndex.load(join(dir, 'missing')), /KnnIndex\.load/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const backendNames = ['ts', ...(backends().some((b) => b.name === 'cpu' && b.available) ? ['cpu'] : [])];

function onBackend<T>(name: string, fn: () => T): T {
  const before = currentBackend();
  setBackend(name);
  try {
    return fn();
  } finally {
    setBackend(before);
  }
}

test("storage 'float16': the results of a float32 index holding the half-rounded vectors, and of the float32 bank within the half-rounding bound (ts and cpu, batch 1 and 20)", () => {
  const d = 19;
  const nb = 300;
  const base = rand(11, nb * d).map((v) => v * 3);
  const rounded = halfToFloat(halfFromFloat(base));
  for (const backend of backendNames)
    onBackend(backend, () => {
      const h = new KnnIndex(d, { storage: 'float16' });
      h.add(base.subarray(0, 100 * d));
      h.add(base.subarray(100 * d)); // two adds
      assert.is(h.storage, 'float16');
      assert.is(h.ntotal, nb);
      assert.is(h.bytes, nb * d * 2 + nb * 4);
      assert.equal(Array.from(h.vectors), Array.from(rounded), `${backend}: vectors are the half-rounded values`);
      assert.equal(Array.from(h.halfVectors ?? []), Array.from(halfFromFloat(base)));
      const r = new KnnIndex(d);
      r.add(rounded);
      const f = new KnnIndex(d);
      f.add(base);
      for (const nq of [1, 20]) {
        const q = rand(12 + nq, nq * d).map((v) => v * 3);
        const got = h.search(q, 4);
        // The same bits as float32 search over the rounded values (conversion is exact).
        assert.equal(got, r.search(q, 4), `${backend} nq=${nq}: equals a float32 index of the rounded vectors`);
        // Against the unrounded bank: |‖q − b̃‖² − ‖q − b‖²| ≤ 2‖q − b‖‖b̃ − b‖ + ‖b̃ − b‖², ‖b̃ − b‖ ≤ 2^-11‖b‖.
        const want = f.search(q, 4);
        const bMax = 3 * Math.sqrt(d);
        const eps = 2 ** -11 * bMax;
        for (let i = 0; i < got.distances.length; i++) {
          const tol = 2 * Math.sqrt(want.distances[i]) * eps + eps * eps + 1e-4;
          assert.ok(Math.abs(got.distances[i] - want.distances[i]) <= tol, `${backend} nq=${nq}: distance ${i} within the half bound`);
        }
      }
    });
});

test("storage 'float16': save → load keeps the storage and the bits; refusals", () => {
  const dir = mkdtempSync(join(tmpdir(), 'knn16-'));
  try {
    const index = new KnnIndex(6, { storage: 'float16' });
    index.add(rand(8, 40 * 6));
    const path = join(dir, 'bank16.safetensors');
    index.save(path);
    const back = KnnIndex.load(path);
    assert.is(back.storage, 'float16');
    assert.is(back.ntotal, 40);
    assert.equal(Array.from(back.halfVectors ?? []), Array.from(index.halfVectors ?? []));
    const q = rand(9, 5 * 6);
    assert.equal(back.search(q, 3), index.search(q, 3));
    const f32 = new KnnIndex(6);
    f32.add(rand(8, 4 * 6));
    f32.save(join(dir, 'bank32.safetensors'));
    assert.is(KnnIndex.load(join(dir, 'bank32.safetensors')).storage, 'float32');
    index.reset();
    assert.is(index.ntotal, 0);
    assert.is(index.storage, 'float16');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  throwsMatching(() => new KnnIndex(3, { storage: 'int8' as never }), /storage must be 'float32' or 'float16'/);
  const h = new KnnIndex(2, { storage: 'float16' });
  throwsMatching(() => h.add(new Float32Array([1, 2, 3, 70000])), /KnnIndex\.add/, /row 1, column 1/, /float16's range/, /storage: 'float32'/);
  assert.is(h.ntotal, 0, 'a refused add adds nothing');
  h.add(new Float32Array([65504, -65504]));
  assert.equal(Array.from(h.vectors), [65504, -65504]);
});

test('refusals name the thing: dims, NaN, empty index, bad k', () => {
  throwsMatching(() => new KnnIndex(0), /KnnIndex/, /dim/);
  const index = new KnnIndex(3);
  throwsMatching(() => index.search(new Float32Array(3), 1), /KnnIndex\.search/, /empty/, /add vectors/);
  throwsMatching(() => index.add(new Float32Array(4)), /KnnIndex\.add/, /3-dimensional/);
  throwsMatching(() => index.add(Tensor.fromData(new Float32Array(8), [2, 4])), /KnnIndex\.add/, /4 values per row/);
  throwsMatching(() => index.add(new Float32Array([0, 1, 2, 3, NaN, 5])), /KnnIndex\.add/, /NaN at row 1, column 1/);
  assert.is(index.ntotal, 0, 'a refused add adds nothing');
  index.add(new Float32Array([0, 1, 2]));
  throwsMatching(() => index.search(new Float32Array(3), 0), /KnnIndex\.search/, /k must be an integer ≥ 1/);
  throwsMatching(() => index.search(new Float32Array(3), 1.5), /k must be an integer/);
  throwsMatching(() => index.search(new Float32Array([1, Infinity, 0]), 1), /KnnIndex\.search/, /queries/, /Infinity/);
  throwsMatching(() => index.search(new Float32Array(4), 1), /KnnIndex\.search/, /3-dimensional/);
  throwsMatching(() => index.search([1, 2, 3] as unknown as Float32Array, 1), /KnnIndex\.search/, /Float32Array or a Tensor/);
});

test.run();
