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

/**
 * Channel dropout (PyTorch's Dropout2d) of x [N, C, H, W]: each whole channel map of each
 * sample is zeroed with probability p and the others scaled by 1/(1 − p); eval mode is the
 * identity. The N·C draws come from the seeded Generator in (n, c) order, one
 * uniformFloat32 each, so a run repeats from its seed.
 */
export function dropout2d(x: Tensor, p: number, training: boolean, generator?: Generator): Tensor {
  checkTensor(x, 'dropout2d', 'input');
  if (x.ndim !== 4) throw new RangeError(`dropout2d: input must be [N, C, H, W], got shape [${x.shape.join(', ')}]`);
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError(`dropout2d: p must be a probability in [0, 1], got ${String(p)}`);
  if (!training || p === 0) return x;
  if (p === 1) return mul(x, 0);
  const g = generator ?? defaultGenerator();
  const scale = 1 / (1 - p);
  const [n, c] = x.shape;
  const mask = Tensor.empty([n, c, 1, 1]);
  const m = mask.data;
  for (let i = 0; i < m.length; i++) m[i] = g.uniformFloat32() < p ? 0 : scale;
  return mul(x, mask);
}
