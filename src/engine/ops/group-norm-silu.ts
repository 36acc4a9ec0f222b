// silu(groupNorm(x)) as one op: the GroupNorm → SiLU pair that opens every ResBlock branch,
// the out head and (without the SiLU) nothing else of the diffusion U-Nets (spec §7.1, §7.2).
// One kernel each way (groupNormSiluForward / Backward), bitwise the two ops on the same
// backend; the graph keeps x and the [N, G] statistics only, not the normalised tensor the
// unfused pair holds for SiLU's backward (one activation-sized buffer less per pair in a
// training step).
import { kernels } from '../../backend/registry.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { groupNormParams } from './norm.js';

/**
 * silu(groupNorm(x, numGroups, weight, bias, eps)) for x [N, C, ...]: statistics per sample
 * over each group of C/numGroups channels (biased variance), then the affine map and
 * x·sigmoid(x). weight / bias may be null (1 / 0).
 */
export function groupNormSilu(x: Tensor, numGroups: number, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  const op = 'groupNormSilu';
  const p = groupNormParams(op, x, numGroups, weight, bias, eps);
  const { N, C } = p;
  const y = Tensor.uninit(x.shape); // every element written
  const mean = new Float32Array(N * numGroups);
  const invstd = new Float32Array(N * numGroups);
  if (y.size > 0) kernels().groupNormSiluForward(p, x.data, weight ? weight.data : null, bias ? bias.data : null, y.data, mean, invstd);
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(y, op, inputs, (g, needs) => {
    const dx = Tensor.uninit(x.shape);
    const dgamma = weight && needs[1] ? Tensor.empty([C]) : null;
    const dbeta = bias && needs[inputs.length - 1] ? Tensor.empty([C]) : null;
    kernels().groupNormSiluBackward(p, x.data, g.data, mean, invstd, weight ? weight.data : null, bias ? bias.data : null, dx.data, dgamma?.data ?? null, dbeta?.data ?? null);
    return [needs[0] ? dx : null, ...(weight ? [dgamma] : []), ...(bias ? [dbeta] : [])];
  });
}
