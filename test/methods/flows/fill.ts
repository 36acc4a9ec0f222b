// The deterministic flow weights of scripts/make-flow-method-fixtures.py, bit for bit (see its
// docstring): hash fill by state-dict index, Householder rotations (CFlow) and formula
// permutations (FastFlow) as the fixed channel mixings.
import type { Module } from '../../../src/nn/module.js';
import { hashU } from '../../models/backbones/fill.js';

/** H = I − 2·v·vᵀ/(vᵀv), v 12-bit values from u(seed, i): exact in float64, rounded once to float32. */
export function householder(seed: number, c: number): Float32Array {
  const u = hashU(seed, c);
  const v = new Float64Array(c);
  let s = 0;
  for (let i = 0; i < c; i++) {
    v[i] = Math.floor((u[i] + 0.5) * 4096) / 4096 - 0.5;
    s += v[i] * v[i];
  }
  const h = new Float32Array(c * c);
  for (let i = 0; i < c; i++) for (let j = 0; j < c; j++) h[i * c + j] = (i === j ? 1 : 0) - (2 * v[i] * v[j]) / s;
  return h;
}

/** One-hot w[i, π(i)] with π(i) = (i·(2k + 3) + 7k + 1) mod C, and its transpose. */
export function formulaPermutation(c: number, k: number): { w: Float32Array; wInv: Float32Array } {
  const w = new Float32Array(c * c);
  const wInv = new Float32Array(c * c);
  for (let i = 0; i < c; i++) {
    const p = (i * (2 * k + 3) + 7 * k + 1) % c;
    w[i * c + p] = 1;
    wInv[p * c + i] = 1;
  }
  return { w, wInv };
}

/** Fills every state entry of a CFlowHeads / FastFlowHeads as the fixture script does. */
export function fillHeads(net: Module, base: number, mixing: (level: number, block: number, c: number) => { w: Float32Array; wInv: Float32Array }): string[] {
  const names: string[] = [];
  net.stateEntries().forEach((e, t) => {
    const { name, tensor } = e;
    names.push(name);
    const out = tensor.data;
    const shape = tensor.shape;
    const leaf = name.slice(name.lastIndexOf('.') + 1);
    if (leaf === 'w_perm' || leaf === 'w_perm_inv') {
      const parts = name.split('.');
      const m = mixing(Number(parts[1]), Number(parts[3]), shape[0]);
      out.set(leaf === 'w_perm' ? m.w : m.wInv);
      return;
    }
    const u = hashU(base + t, out.length);
    let f: (x: number) => number;
    if (leaf === 'global_scale') f = (x) => 10 + 0.5 * x;
    else if (leaf === 'global_offset') f = (x) => 0.2 * x;
    else if (name.startsWith('norms.')) f = leaf === 'weight' ? (x) => 0.5 + 0.5 * x : (x) => 0.2 * x;
    else if (leaf === 'weight') {
      const s = Math.sqrt(24 / shape.slice(1).reduce((a, b) => a * b, 1));
      f = (x) => x * s;
    } else if (leaf === 'bias') f = (x) => 0.2 * x;
    else throw new Error(`fill: no rule for ${name}`);
    for (let i = 0; i < out.length; i++) out[i] = f(u[i]);
  });
  return names;
}

/** Training/test images of the fixture: clip(u(seed, i)·2.4, −1, 1). */
export function fixtureImages(seed: number, shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const u = hashU(seed, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(1, Math.max(-1, u[i] * 2.4));
  return out;
}
