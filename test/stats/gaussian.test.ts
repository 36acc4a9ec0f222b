// GaussianAccumulator (streaming per-position Gaussians, PaDiM) against a direct two-pass
// computation over all embeddings: mean, unbiased covariance + ridge, inverse; the batch
// split does not change a bit; clear errors for non-finite features, too few images and a
// covariance that is not positive definite (naming the position). Also mahalanobisMap.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Tensor } from '../../src/engine/index.js';
import { GaussianAccumulator, mahalanobisMap } from '../../src/stats/index.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n images × P positions × d channels, with a large common offset (cancellation check). */
function embeddings(n: number, P: number, d: number, seed: number, offset = 50): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n * P * d);
  for (let i = 0; i < x.length; i++) x[i] = offset + (r() - 0.5) * (1 + (i % d)) + (i % 7) * 0.1;
  return x;
}

/** Two-pass reference: mean, covariance (n − 1) + reg·I, inverse by Gauss–Jordan, float64. */
function direct(x: Float32Array, n: number, P: number, d: number, reg: number): { mean: Float64Array; inv: Float64Array } {
  const mean = new Float64Array(P * d);
  const inv = new Float64Array(P * d * d);
  for (let j = 0; j < P; j++) {
    for (let b = 0; b < n; b++) for (let i = 0; i < d; i++) mean[j * d + i] += x[(b * P + j) * d + i] / n;
    const C = new Float64Array(d * d);
    for (let b = 0; b < n; b++)
      for (let r = 0; r < d; r++)
        for (let c = 0; c < d; c++) C[r * d + c] += ((x[(b * P + j) * d + r] - mean[j * d + r]) * (x[(b * P + j) * d + c] - mean[j * d + c])) / (n - 1);
    for (let r = 0; r < d; r++) C[r * d + r] += reg;
    // Gauss–Jordan with partial pivoting on [C | I].
    const M = new Float64Array(d * 2 * d);
    for (let r = 0; r < d; r++) {
      for (let c = 0; c < d; c++) M[r * 2 * d + c] = C[r * d + c];
      M[r * 2 * d + d + r] = 1;
    }
    for (let c = 0; c < d; c++) {
      let piv = c;
      for (let r = c + 1; r < d; r++) if (Math.abs(M[r * 2 * d + c]) > Math.abs(M[piv * 2 * d + c])) piv = r;
      for (let k = 0; k < 2 * d; k++) [M[c * 2 * d + k], M[piv * 2 * d + k]] = [M[piv * 2 * d + k], M[c * 2 * d + k]];
      const div = M[c * 2 * d + c];
      for (let k = 0; k < 2 * d; k++) M[c * 2 * d + k] /= div;
      for (let r = 0; r < d; r++) {
        if (r === c) continue;
        const f = M[r * 2 * d + c];
        for (let k = 0; k < 2 * d; k++) M[r * 2 * d + k] -= f * M[c * 2 * d + k];
      }
    }
    for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) inv[j * d * d + r * d + c] = M[r * 2 * d + d + c];
  }
  return { mean, inv };
}

function near(a: ArrayLike<number>, e: ArrayLike<number>, tol: number, what: string): void {
  let scale = 1e-12;
  for (let i = 0; i < e.length; i++) scale = Math.max(scale, Math.abs(e[i]));
  for (let i = 0; i < e.length; i++) if (!(Math.abs(a[i] - e[i]) <= tol * scale)) assert.unreachable(`${what}[${i}]: ${a[i]} vs ${e[i]}`);
}

function fit(x: Float32Array, n: number, P: number, d: number, split: number[], reg = 0.01) {
  const acc = new GaussianAccumulator(P, d);
  let at = 0;
  for (const b of split) {
    acc.add(Tensor.fromData(x.slice(at * P * d, (at + b) * P * d), [b, P, d]));
    at += b;
  }
  assert.is(at, n);
  assert.is(acc.count, n);
  return acc.finish(reg);
}

test('finish(): mean and inverse covariance equal a direct two-pass fit (large common offset)', () => {
  const [n, P, d] = [13, 5, 6];
  const x = embeddings(n, P, d, 1);
  const g = fit(x, n, P, d, [n]);
  const ref = direct(x, n, P, d, 0.01);
  assert.is(g.count, n);
  assert.is(g.regularisation, 0.01);
  near(g.mean, ref.mean, 1e-7, 'mean');
  near(g.invCovariance, ref.inv, 1e-6, 'inverse covariance');
});

test('the batch split (one image at a time, uneven batches, empty batches) changes no bit', () => {
  const [n, P, d] = [11, 4, 9];
  const x = embeddings(n, P, d, 2);
  const a = fit(x, n, P, d, [n]);
  const b = fit(x, n, P, d, [1, 0, 3, 5, 2]);
  const c = fit(x, n, P, d, new Array(n).fill(1));
  for (const o of [b, c]) {
    assert.equal(Array.from(o.mean), Array.from(a.mean));
    assert.equal(Array.from(o.invCovariance), Array.from(a.invCovariance));
  }
});

test('more channels than images: the 0.01 ridge keeps every covariance invertible; without it, the position is named', () => {
  const [n, P, d] = [4, 3, 10];
  const x = embeddings(n, P, d, 3, 0);
  const g = fit(x, n, P, d, [n]);
  assert.ok(g.invCovariance.every(Number.isFinite));
  near(g.invCovariance, direct(x, n, P, d, 0.01).inv, 1e-5, 'inverse covariance (rank-deficient + ridge)');
  assert.throws(() => fit(x, n, P, d, [n], 0), /covariance at position 0 is not positive definite .* with regularisation 0; use a regularisation > 0/);
});

test('bad input: non-finite features (image, position, channel named), too few images, wrong shapes, reuse', () => {
  const acc = new GaussianAccumulator(2, 3);
  acc.add(Tensor.fromData(new Float32Array(6).fill(1), [1, 2, 3]));
  const bad = new Float32Array(12).fill(1);
  bad[6 + 4] = NaN;
  assert.throws(() => acc.add(Tensor.fromData(bad, [2, 2, 3])), /training image 2 has a non-finite feature \(NaN\) at position 1, channel 1/);
  assert.throws(() => acc.add(Tensor.fromData(new Float32Array(6), [1, 3, 2])), /must be \[B, 2, 3\]/);
  assert.throws(() => acc.finish(), /at least 2 training images, got 1/);
  assert.throws(() => new GaussianAccumulator(0, 3), /positions must be an integer ≥ 1/);
  const ok = new GaussianAccumulator(1, 1);
  ok.add(Tensor.fromData(Float32Array.from([1, 2, 4]), [3, 1, 1]));
  assert.throws(() => ok.finish(-1), /regularisation must be a finite number ≥ 0/);
  const g = ok.finish();
  near(g.mean, [7 / 3], 1e-7, 'mean');
  near(g.invCovariance, [1 / (7 / 3 + 0.01)], 1e-7, '1/(variance + 0.01)'); // variance of 1, 2, 4 (n − 1) = 7/3
  assert.throws(() => ok.add(Tensor.fromData(new Float32Array(1), [1, 1, 1])), /finish\(\) was already called/);
});

test('mahalanobisMap: √max(0, q) per position; the training mean scores 0', () => {
  const [n, P, d] = [9, 3, 4];
  const x = embeddings(n, P, d, 4, 1);
  const g = fit(x, n, P, d, [n]);
  const atMean = mahalanobisMap(Tensor.fromData(g.mean.slice(), [1, P, d]), g.mean, g.invCovariance);
  assert.equal(Array.from(atMean.data), [0, 0, 0]);
  const q = mahalanobisMap(Tensor.fromData(x.slice(0, 2 * P * d), [2, P, d]), g.mean, g.invCovariance, { squared: true });
  const dist = mahalanobisMap(Tensor.fromData(x.slice(0, 2 * P * d), [2, P, d]), g.mean, g.invCovariance);
  assert.equal(dist.shape, [2, P]);
  near(dist.data, Array.from(q.data, (v) => Math.sqrt(Math.max(0, v))), 1e-7, 'sqrt');
});

test.run();
