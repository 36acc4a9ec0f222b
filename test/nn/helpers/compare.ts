// Tensor comparison for reference fixtures: |a − b| ≤ atol + rtol·|b| element-wise, with
// the worst offender named in the failure message.
import * as assert from 'uvu/assert';

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol: Tolerance = {}): void {
  const rtol = tol.rtol ?? 1e-4;
  const atol = tol.atol ?? 1e-5;
  assert.is(actual.length, expected.length, `${what}: length`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const excess = Math.abs(actual[i] - expected[i]) - (atol + rtol * Math.abs(expected[i]));
    if (Number.isNaN(excess)) {
      worst = i;
      break;
    }
    if (excess > worstExcess) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    assert.unreachable(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** The largest |x| of an array (to scale an absolute tolerance to a tensor's magnitude). */
export function maxAbs(x: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
}
