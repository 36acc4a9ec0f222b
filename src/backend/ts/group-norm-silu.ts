// GroupNorm → SiLU fused, the reference twin of native/cpu/group_norm_silu.cc: literally
// the ts GroupNorm and SiLU kernels one after the other (so it equals the unfused ts path
// bit for bit); the backward recomputes the normalised values with the forward itself.
import type { F32, GroupNormParams } from '../types.js';
import { unary, unaryBackward } from './elementwise.js';
import { groupNormBackward, groupNormForward } from './norm.js';

export function groupNormSiluForward(p: GroupNormParams, x: F32, gamma: F32 | null, beta: F32 | null, y: F32, mean: F32, invstd: F32): void {
  groupNormForward(p, x, gamma, beta, y, mean, invstd);
  const n = p.N * p.C * p.HW;
  unary({ op: 'silu', n, alpha: 0, beta: 0 }, y, y);
}

export function groupNormSiluBackward(
  p: GroupNormParams,
  x: F32,
  dy: F32,
  mean: F32,
  invstd: F32,
  gamma: F32 | null,
  beta: F32 | null,
  dx: F32,
  dgamma: F32 | null,
  dbeta: F32 | null,
): void {
  const n = p.N * p.C * p.HW;
  // z = groupNorm(x), exactly as the forward produced it (its statistics are recomputed
  // in double; the stored float32 mean / invstd would round them).
  const z = new Float32Array(n);
  groupNormForward(p, x, gamma, beta, z, new Float32Array(p.N * p.G), new Float32Array(p.N * p.G));
  const dz = new Float32Array(n);
  unaryBackward({ op: 'silu', n, alpha: 0, beta: 0 }, z, z, dy, dz);
  groupNormBackward(p, x, dz, mean, invstd, gamma, dx, dgamma, dbeta);
}
