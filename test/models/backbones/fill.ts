// The deterministic weights of scripts/make-backbone-fixtures.py, bit for bit (see its
// docstring): u(t, i) = (fmix32(t·0x9E3779B1 + i·0x85EBCA77 + 0x165667B1) >> 8)/2²⁴ − 0.5,
// t the tensor's index in the state dict (classifier excluded), i the flat element index;
// values computed in float64 and rounded once to float32.
import type { Module } from '../../../src/nn/module.js';

/** u(t, i) for i in 0..n−1: exact multiples of 2⁻²⁴ in [−0.5, 0.5). */
export function hashU(t: number, n: number): Float64Array {
  const out = new Float64Array(n);
  const base = (Math.imul(t, 0x9e3779b1) + 0x165667b1) >>> 0;
  for (let i = 0; i < n; i++) {
    let x = (base + Math.imul(i, 0x85ebca77)) >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x85ebca6b);
    x ^= x >>> 13;
    x = Math.imul(x, 0xc2b2ae35);
    x ^= x >>> 16;
    out[i] = (x >>> 8) / 16777216 - 0.5;
  }
  return out;
}

/** The value rule of one state-dict entry, written into `out` (float32 rounding on store). */
export function fillTensor(t: number, name: string, shape: readonly number[], out: Float32Array): void {
  const leaf = name.slice(name.lastIndexOf('.') + 1);
  if (leaf === 'num_batches_tracked') {
    out.fill(0);
    return;
  }
  const u = hashU(t, out.length);
  if (shape.length >= 2) {
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    const s = Math.sqrt(24 / fanIn);
    for (let i = 0; i < u.length; i++) out[i] = u[i] * s;
  } else if (leaf === 'running_var') for (let i = 0; i < u.length; i++) out[i] = 1 + 0.5 * u[i];
  else if (leaf === 'running_mean') for (let i = 0; i < u.length; i++) out[i] = 0.2 * u[i];
  else if (leaf === 'weight') for (let i = 0; i < u.length; i++) out[i] = 0.5 + 0.5 * u[i];
  else if (leaf === 'bias') for (let i = 0; i < u.length; i++) out[i] = 0.2 * u[i];
  else throw new Error(`fill: no rule for ${name}`);
}

/** Fills every state-dict entry of `net` (torchvision's order, no classifier) with the formula. */
export function fillModule(net: Module): void {
  net.stateEntries().forEach((e, t) => fillTensor(t, e.name, e.tensor.shape, e.tensor.data));
}

/** The fixture's input: u(1000, i)·4. */
export function fixtureInput(tensorIndex: number, scale: number, n: number): Float32Array {
  const u = hashU(tensorIndex, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = u[i] * scale;
  return out;
}
