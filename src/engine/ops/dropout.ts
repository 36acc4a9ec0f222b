// Inverted dropout: zero each element with probability p and scale the survivors by
// 1/(1 − p), so eval mode is the identity. The mask comes from the seeded Generator.
import { Tensor } from '../tensor.js';
import { Generator, defaultGenerator } from '../random.js';
import { checkTensor, mul } from './elementwise.js';

export function dropout(x: Tensor, p: number, training: boolean, generator?: Generator): Tensor {
  checkTensor(x, 'dropout', 'input');
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be a probability in [0, 1], got ${String(p)}`);
  if (!training || p === 0) return x;
  if (p === 1) return mul(x, 0);
  const g = generator ?? defaultGenerator();
  const scale = 1 / (1 - p);
  const mask = Tensor.empty(x.shape);
  const m = mask.data;
  for (let i = 0; i < m.length; i++) m[i] = g.uniformFloat32() < p ? 0 : scale;
  return mul(x, mask);
}
