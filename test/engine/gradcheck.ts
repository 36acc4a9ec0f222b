// Finite-difference gradient checking for engine ops (not a test file itself).
// The loss is a fixed random projection Σ r·f(x) so that every output element matters;
// it is accumulated in float64 from the float32 forward, and compared with the
// analytic gradient from grad().
import * as assert from 'uvu/assert';
import { Generator, Tensor, grad, noGrad, setBackend } from '../../src/engine/index.js';

setBackend('ts'); // gradients are checked on the reference kernels

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
}

function projection(y: Tensor, r: Float64Array): number {
  let s = 0;
  const d = y.data;
  for (let i = 0; i < d.length; i++) s += d[i] * r[i];
  return s;
}

/** Checks d(Σ r·fn(inputs))/d(input) for every input that requires grad. */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): void {
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 2e-3;
  const rtol = opts.rtol ?? 1e-2;
  const y = fn(...inputs);
  const g = new Generator(opts.seed ?? 7);
  const r = new Float64Array(y.size).map(() => g.uniform() * 2 - 1);
  const rT = Tensor.fromData(Float32Array.from(r), y.shape);
  const wrt = inputs.filter((t) => t.requiresGrad);
  const analytic = grad(y, wrt, rT);
  wrt.forEach((x, k) => {
    assert.equal(analytic[k].shape, x.shape, `gradient shape of input ${k}`);
    const d = x.data;
    for (let i = 0; i < d.length; i++) {
      const orig = d[i];
      const numeric = noGrad(() => {
        d[i] = orig + eps;
        const up = projection(fn(...inputs), r);
        d[i] = orig - eps;
        const down = projection(fn(...inputs), r);
        d[i] = orig;
        return (up - down) / (2 * eps);
      });
      const a = analytic[k].data[i];
      const tol = atol + rtol * Math.abs(numeric);
      if (!(Math.abs(a - numeric) <= tol)) {
        assert.unreachable(`input ${k} element ${i}: analytic ${a} vs numeric ${numeric} (tolerance ${tol.toExponential(2)})`);
      }
    }
  });
}

/** A tensor of standard normals (seeded), optionally requiring grad. */
export function randt(shape: number[], seed: number, requiresGrad = true, scale = 1, offset = 0): Tensor {
  const g = new Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const t = Tensor.fromData(Float32Array.from({ length: n }, () => g.normal() * scale + offset), shape);
  t.requiresGrad = requiresGrad;
  return t;
}

/** Values bounded away from 0 (for kinks such as relu, abs, max). */
export function awayFromZero(shape: number[], seed: number, margin = 0.1): Tensor {
  const t = randt(shape, seed);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = Math.sign(d[i] || 1) * (Math.abs(d[i]) + margin);
  return t;
}

export function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, msg = ''): void {
  assert.is(actual.length, expected.length, `${msg} length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) assert.unreachable(`${msg} element ${i}: ${a} vs expected ${e}`);
  }
}
