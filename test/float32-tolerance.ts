// Tolerances for comparing two float32 computations of the same quantity whose sums were
// accumulated in different orders: a batch of 12 against 12 single-image forwards, the
// built-in GEMM against OpenBLAS, one blocking against another. Such results are not
// bitwise equal; kernels promise bitwise equality only for the same shapes, batch
// partition and GEMM path (see native/include/medianomaly/gemm.h).
//
// The bound: a float32 sum of K products, reordered, differs from the exact sum by at most
// γ_K·Σ|xᵢwᵢ| with γ_K = K·u/(1 − K·u), u = 2⁻²⁴ (Higham, Accuracy and Stability of
// Numerical Algorithms, §3.1). Through a network of L such layers with activations and
// weights of order `scale`, the two results differ by at most about L·γ_K·scale, K the
// longest reduction. The bound is worst-case; observed differences are orders smaller.
import * as assert from 'uvu/assert';

/** Unit roundoff of float32. */
export const FLOAT32_U = 2 ** -24;

export interface ReorderBound {
  /** Layers whose sums may be reordered between the two computations. */
  depth: number;
  /** Longest reduction (terms per output element) in any of them. */
  reduction: number;
  /** Magnitude of the compared values and of the sums behind them (default 1). */
  scale?: number;
}

/** Absolute tolerance L·γ_K·scale for two reordered float32 computations. */
export function reorderTolerance({ depth, reduction, scale = 1 }: ReorderBound): number {
  const ku = reduction * FLOAT32_U;
  if (!(ku < 1)) throw new RangeError(`reorderTolerance: a reduction of ${reduction} terms has no float32 bound`);
  return depth * (ku / (1 - ku)) * scale;
}

/** Elementwise |a − b| ≤ tol, naming the first offender and the largest difference seen. */
export function assertReorderClose(actual: ArrayLike<number>, expected: ArrayLike<number>, bound: ReorderBound, what = 'values'): void {
  const tol = reorderTolerance(bound);
  assert.is(actual.length, expected.length, `${what}: lengths differ`);
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= tol)) assert.unreachable(`${what}[${i}]: ${actual[i]} vs ${expected[i]} differ by ${d}, more than the float32 reordering bound ${tol.toExponential(2)}`);
  }
}

/** Asserts max |got − exp| ≤ atol + rtol·max |exp|: a match to PyTorch relative to the tensor's own scale. */
export function closeToScale(got: ArrayLike<number>, exp: ArrayLike<number>, what: string, rtol = 1e-4, atol = 1e-6): void {
  assert.is(got.length, exp.length, `${what}: length`);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < exp.length; i++) {
    scale = Math.max(scale, Math.abs(exp[i]!));
    worst = Math.max(worst, Math.abs(got[i]! - exp[i]!));
  }
  assert.ok(worst <= atol + rtol * scale, `${what}: max |difference| ${worst.toExponential(2)} against scale ${scale.toExponential(2)}`);
}
