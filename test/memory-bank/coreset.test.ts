// coreset(): seeded, the same picks on the ts and cpu backends, the official and anomalib
// start rules, progress and cancellation, and the plan/estimate helpers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { backends, currentBackend, halfFromFloat, halfToFloat, setBackend, Tensor } from '../../src/engine/index.js';
import { coreset, coresetAsync, coresetEstimate, planMemoryBank } from '../../src/memory-bank/index.js';
import { throwsMatching } from '../assert-throws.js';

function rand(seed: number, n: number): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    return a / 2 ** 31 - 1;
  });
}

const [n, d] = [600, 40];
const pts = Tensor.fromData(rand(7, n * d), [n, d]);
const cpuAvailable = backends().some((b) => b.name === 'cpu' && b.available);

function onBackend<T>(name: string, fn: () => T): T {
  const before = currentBackend();
  setBackend(name);
  try {
    return fn();
  } finally {
    setBackend(before);
  }
}

test('same seed → same coreset on ts and cpu (projection and picks bit-identical); another seed differs', () => {
  for (const start of ['official', 'anomalib'] as const) {
    const opts = { count: 25, projectionDim: 16, seed: 3, start };
    const ts = onBackend('ts', () => coreset(pts, opts));
    assert.is(ts.length, 25);
    assert.is(new Set(ts).size, 25, `${start}: no point twice`);
    assert.equal(Array.from(onBackend('ts', () => coreset(pts, opts))), Array.from(ts), `${start}: repeatable`);
    if (cpuAvailable) assert.equal(Array.from(onBackend('cpu', () => coreset(pts, opts))), Array.from(ts), `${start}: cpu equals ts`);
    assert.not.equal(Array.from(onBackend('ts', () => coreset(pts, { ...opts, seed: 4 }))), Array.from(ts), `${start}: another seed`);
  }
});

test('official rule: starts are not selected; anomalib rule: the random start is the first pick', () => {
  const official = coreset(pts, { ratio: 0.05, seed: 1, projectionDim: null });
  assert.is(official.length, 30);
  const anomalib = coreset(pts, { ratio: 0.05, seed: 1, projectionDim: null, start: 'anomalib' });
  // anomalib: the first pick is the random start, every later pick is the farthest from all before.
  const dist = (a: number, b: number) => {
    let s = 0;
    for (let t = 0; t < d; t++) s += (pts.data[a * d + t] - pts.data[b * d + t]) ** 2;
    return s;
  };
  for (let s = 1; s < 6; s++) {
    const chosen = Array.from(anomalib.subarray(0, s));
    const minTo = (i: number) => Math.min(...chosen.map((c) => dist(i, c)));
    let best = 0;
    for (let i = 1; i < n; i++) if (minTo(i) > minTo(best) * (1 + 1e-6)) best = i;
    assert.ok(Math.abs(minTo(anomalib[s]) - minTo(best)) <= 1e-5 * minTo(best), `pick ${s} is the farthest point`);
  }
  // Flat Float32Array input with dim gives the same as the tensor.
  assert.equal(Array.from(coreset(pts.data, { dim: d, ratio: 0.05, seed: 1, projectionDim: null })), Array.from(official));
});

test('progress reaches the total; coresetAsync stops on abort', async () => {
  const seen: number[] = [];
  const big = Tensor.fromData(rand(9, 3000 * 8), [3000, 8]);
  coreset(big, { count: 300, projectionDim: null, seed: 2, onProgress: (p) => seen.push(p.done) });
  assert.is(seen[seen.length - 1], 300);
  const viaAsync = await coresetAsync(big, { count: 300, projectionDim: null, seed: 2 });
  assert.equal(Array.from(viaAsync), Array.from(coreset(big, { count: 300, projectionDim: null, seed: 2 })));
  const ac = new AbortController();
  ac.abort();
  let threw = false;
  try {
    await coresetAsync(big, { count: 300, projectionDim: null, seed: 2, signal: ac.signal });
  } catch {
    threw = true;
  }
  assert.ok(threw, 'aborted');
});

test('refusals: count/ratio, NaN, empty, projection', () => {
  throwsMatching(() => coreset(pts, { seed: 1 }), /coreset/, /exactly one of count and ratio/);
  throwsMatching(() => coreset(pts, { count: 601, seed: 1 }), /count must be an integer in \[1, 600\]/);
  throwsMatching(() => coreset(pts, { ratio: 0, seed: 1 }), /ratio must be in \(0, 1\]/);
  throwsMatching(() => coreset(pts, { ratio: 0.1, seed: 1, projectionDim: 0 }), /projectionDim/);
  throwsMatching(() => coreset(pts, { ratio: 0.1 } as never), /seed/);
  const bad = rand(1, 20);
  bad[13] = NaN;
  throwsMatching(() => coreset(Tensor.fromData(bad, [5, 4]), { count: 2, seed: 1 }), /coreset/, /NaN at row 3, column 1/);
  throwsMatching(() => coreset(Tensor.fromData(new Float32Array(0), [0, 4]), { count: 1, seed: 1 }), /no points/);
  throwsMatching(() => coreset(new Float32Array(8), { count: 1, seed: 1 }), /needs dim/);
});

test('precision: float16 and float32 each give the same picks on ts and cpu; float16 picks equal float32 picks on the half-rounded projection', () => {
  for (const precision of ['float16', 'float32'] as const) {
    const opts = { count: 20, projectionDim: 24, seed: 5, precision };
    const ts = onBackend('ts', () => coreset(pts, opts));
    assert.is(new Set(ts).size, 20);
    if (cpuAvailable) assert.equal(Array.from(onBackend('cpu', () => coreset(pts, opts))), Array.from(ts), `${precision}: cpu equals ts`);
  }
  // Without a projection, float16 selects on the points rounded to half: the same picks as
  // float32 on those rounded points.
  const rounded = Tensor.fromData(halfToFloat(halfFromFloat(pts.data)), [n, d]);
  const a = coreset(pts, { count: 15, projectionDim: null, seed: 2 });
  const b = coreset(rounded, { count: 15, projectionDim: null, seed: 2, precision: 'float32' });
  assert.equal(Array.from(a), Array.from(b));
  throwsMatching(() => coreset(pts, { count: 2, seed: 1, precision: 'float64' as never }), /precision must be 'float16' or 'float32'/);
  const big = rand(3, 40).map((v) => v * 1e5);
  throwsMatching(() => coreset(Tensor.fromData(big, [10, 4]), { count: 2, seed: 1, projectionDim: null }), /beyond float16's range/, /precision: 'float32'/);
  assert.is(coreset(Tensor.fromData(big, [10, 4]), { count: 2, seed: 1, projectionDim: null, precision: 'float32' }).length, 2);
});

test('estimate and memory plan', () => {
  const e = coresetEstimate(214016, 1024, { ratio: 0.1 });
  assert.is(e.iterations, 21401);
  assert.is(e.bytesPerIteration, 214016 * 128 * 2, 'float16 points by default');
  assert.is(e.trafficBytes, 21401 * 214016 * 128 * 2);
  assert.is(e.workingBytes, 214016 * (128 * 2 + 4));
  const e32 = coresetEstimate(214016, 1024, { ratio: 0.1, precision: 'float32' });
  assert.is(e32.bytesPerIteration, 214016 * 128 * 4);
  assert.is(e32.workingBytes, 214016 * (128 * 4 + 4));
  // RSNA, official preset: 3,019,184 × 1024 float32 = 12.4 GB, far over a 4 GB budget.
  const plan = planMemoryBank({ vectors: 3019184, dim: 1024, coresetRatio: 0.01, budgetBytes: 4e9 });
  assert.not.ok(plan.fits);
  assert.is(plan.fullBankBytes, 3019184 * 1024 * 4);
  assert.match(plan.refusal ?? '', /memory bank needs/);
  assert.match(plan.refusal ?? '', /at most \d+ patch vectors/);
  const fp16 = planMemoryBank({ vectors: 700000, dim: 1024, coresetRatio: 0.1, budgetBytes: 2.5e9 });
  assert.not.ok(fp16.fits);
  assert.match(fp16.refusal ?? '', /float16 bank/);
  const ok = planMemoryBank({ vectors: 16385, dim: 1024, budgetBytes: 1e9 });
  assert.ok(ok.fits);
  assert.is(ok.refusal, null);
});

test.run();
