// Per-position multivariate Gaussians fitted by streaming (PaDiM): running float64 sums
// Σv and Σv·vᵀ per position instead of keeping every training embedding, then the unbiased
// covariance plus a ridge, inverted by Cholesky.
//
// Memory: positions·dim²·8 bytes while accumulating (328 MB for ResNet18 PaDiM at 256 px:
// 4096 positions × 100²; 9.9 GB for WideResNet50-2 with 550 channels), plus
// positions·dim²·4 bytes for the float32 inverse covariances that finish() returns (the
// float64 buffer is inverted in place, then converted and released).
//
// Numerics: every position's vectors are shifted by the first image's vector at that
// position before they are summed (v = x − x₀), so Σv·vᵀ − n·v̄·v̄ᵀ does not cancel badly
// when the means are large next to the spread; the mean is x₀ + v̄.
import { Tensor, choleskyInverse, gaussianMomentsAccumulate, NotPositiveDefiniteError } from '../engine/index.js';

export interface GaussianParameters {
  positions: number;
  dim: number;
  /** training images */
  count: number;
  /** the ridge added to every covariance */
  regularisation: number;
  /** μ [positions, dim] */
  mean: Float32Array;
  /** Σ⁻¹ [positions, dim, dim] (float32 storage; inverted in float64) */
  invCovariance: Float32Array;
}

export class GaussianAccumulator {
  private sum: Float64Array | null;
  private sumOuter: Float64Array | null;
  private shift: Tensor | null = null;
  private n = 0;

  /** Bytes held while accumulating (float64 sums), and by the fitted float32 parameters. */
  static bytes(positions: number, dim: number): { accumulating: number; fitted: number } {
    return { accumulating: 8 * positions * dim * (dim + 1), fitted: 4 * positions * dim * (dim + 1) };
  }

  constructor(
    readonly positions: number,
    readonly dim: number,
  ) {
    for (const [name, v] of [['positions', positions], ['dim', dim]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`GaussianAccumulator: ${name} must be an integer ≥ 1, got ${v}`);
    }
    const entries = positions * dim * dim;
    if (entries > 2 ** 32 - 1) {
      throw new RangeError(
        `GaussianAccumulator: ${positions} positions × ${dim}² = ${entries} covariance entries exceed one array's limit (2³² − 1); use fewer channels (d) or a smaller input size`,
      );
    }
    this.sum = new Float64Array(positions * dim);
    this.sumOuter = new Float64Array(entries);
  }

  /** Training images added so far. */
  get count(): number {
    return this.n;
  }

  /** Adds a batch of embeddings [B, positions, dim] (position-major, channel last). */
  add(batch: Tensor): void {
    const op = 'GaussianAccumulator.add';
    if (!this.sum || !this.sumOuter) throw new Error(`${op}: finish() was already called; make a new accumulator`);
    if (!(batch instanceof Tensor) || batch.ndim !== 3 || batch.shape[1] !== this.positions || batch.shape[2] !== this.dim) {
      const got = batch instanceof Tensor ? `[${batch.shape.join(', ')}]` : String(batch);
      throw new RangeError(`${op}: the batch must be [B, ${this.positions}, ${this.dim}] (images, positions, channels), got ${got}`);
    }
    const [B, P, d] = batch.shape;
    const x = batch.data;
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i])) {
        const b = Math.floor(i / (P * d));
        throw new RangeError(
          `${op}: training image ${this.n + b} has a non-finite feature (${x[i]}) at position ${Math.floor(i / d) % P}, channel ${i % d}`,
        );
      }
    }
    if (B === 0) return;
    if (!this.shift) this.shift = Tensor.fromData(x.slice(0, P * d), [P, d]);
    gaussianMomentsAccumulate(batch, this.shift, this.sum, this.sumOuter);
    this.n += B;
  }

  /**
   * Means and inverse covariances. Σ_j = unbiased sample covariance (divisor n − 1) +
   * regularisation·I, as the PaDiM paper and anomalib (0.01). anomalib ≥ 2 adds a further
   * 1e-5·I "for stability" before inverting; we do not: the float64 Cholesky inverse needs no
   * extra stabiliser, and 1e-5 next to the 0.01 ridge moves scores by about 0.1 %. Pass
   * 0.01001 to reproduce it. Consumes the accumulator.
   */
  finish(regularisation = 0.01): GaussianParameters {
    const op = 'GaussianAccumulator.finish';
    if (!this.sum || !this.sumOuter) throw new Error(`${op}: finish() was already called; make a new accumulator`);
    if (typeof regularisation !== 'number' || !Number.isFinite(regularisation) || regularisation < 0) {
      throw new RangeError(`${op}: regularisation must be a finite number ≥ 0, got ${regularisation}`);
    }
    const n = this.n;
    if (n < 2) throw new RangeError(`${op}: a covariance needs at least 2 training images, got ${n}`);
    const { positions: P, dim: d } = this;
    const sum = this.sum!;
    const C = this.sumOuter!;
    const shift = this.shift!.data;
    const mean = new Float32Array(P * d);
    const vbar = new Float64Array(d);
    for (let j = 0; j < P; j++) {
      for (let i = 0; i < d; i++) {
        vbar[i] = sum[j * d + i] / n;
        mean[j * d + i] = shift[j * d + i] + vbar[i];
      }
      const o = j * d * d;
      for (let r = 0; r < d; r++) {
        for (let c = 0; c < d; c++) C[o + r * d + c] = (C[o + r * d + c] - n * vbar[r] * vbar[c]) / (n - 1);
        C[o + r * d + r] += regularisation;
      }
    }
    this.sum = null;
    this.sumOuter = null;
    this.shift = null;
    try {
      choleskyInverse(C, P, d, { inPlace: true });
    } catch (e) {
      if (!(e instanceof NotPositiveDefiniteError)) throw e;
      throw new RangeError(
        `${op}: the covariance at position ${e.index} is not positive definite (Cholesky pivot ${e.column} of ${d}) with regularisation ${regularisation}; use a regularisation > 0 (PaDiM uses 0.01)`,
      );
    }
    return { positions: P, dim: d, count: n, regularisation, mean, invCovariance: Float32Array.from(C) };
  }
}
