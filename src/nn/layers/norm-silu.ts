// SiLU(GroupNorm(x)) for a GroupNorm layer, through the fused engine op groupNormSilu: the
// GN → SiLU pair that opens every ResBlock branch and the out head of the diffusion U-Nets.
// Bitwise silu(norm.forward(x)) on the same backend (values and gradients), one pass each
// way, and the graph holds no normalised tensor between the two (less memory in training).
import { groupNormSilu, type Tensor } from '../../engine/index.js';
import type { GroupNorm } from './norm.js';

export function groupNormSiluOf(norm: GroupNorm, x: Tensor): Tensor {
  if (x.ndim < 2 || x.shape[1] !== norm.numChannels) {
    throw new Error(`GroupNorm: expected [N, ${norm.numChannels}, ...], got shape [${x.shape.join(', ')}]`);
  }
  return groupNormSilu(x, norm.numGroups, norm.weight, norm.bias, norm.eps);
}
