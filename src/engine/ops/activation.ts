// Activations: pointwise nonlinearities (through the unary kernels) and softmax /
// log-softmax over one dim (through their own kernels, max-subtracted for stability).
import { kernels } from '../../backend/registry.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { normDim, prod } from '../shape-util.js';
import { checkTensor, unaryOp } from './elementwise.js';

export const relu = (x: Tensor) => unaryOp(x, 'relu', 'relu');
export const sigmoid = (x: Tensor) => unaryOp(x, 'sigmoid', 'sigmoid');
export const tanh = (x: Tensor) => unaryOp(x, 'tanh', 'tanh');
export const silu = (x: Tensor) => unaryOp(x, 'silu', 'silu');
/** log(1 + eˣ) with PyTorch's defaults (beta 1, linear above 20). */
export const softplus = (x: Tensor) => unaryOp(x, 'softplus', 'softplus');

export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  if (typeof slope !== 'number' || !Number.isFinite(slope)) throw new TypeError(`leakyRelu: slope must be a finite number, got ${String(slope)}`);
  return unaryOp(x, 'leakyRelu', 'leakyRelu', slope);
}

function softmaxLike(x: Tensor, dim: number, log: boolean): Tensor {
  const name = log ? 'logSoftmax' : 'softmax';
  checkTensor(x, name, 'input');
  if (x.ndim === 0) throw new RangeError(`${name}: input must have at least one dim`);
  const d = normDim(dim, x.ndim, name);
  const p = { outer: prod(x.shape.slice(0, d)), mid: x.shape[d], inner: prod(x.shape.slice(d + 1)) };
  const y = Tensor.empty(x.shape);
  const k = kernels();
  if (x.size > 0) (log ? k.logSoftmax : k.softmax)(p, x.data, y.data);
  return record(y, name, [x], (g) => {
    const dx = Tensor.empty(x.shape);
    const kb = kernels();
    if (x.size > 0) (log ? kb.logSoftmaxBackward : kb.softmaxBackward)(p, y.data, g.data, dx.data);
    return [dx];
  });
}

export function softmax(x: Tensor, dim: number): Tensor {
  return softmaxLike(x, dim, false);
}

export function logSoftmax(x: Tensor, dim: number): Tensor {
  return softmaxLike(x, dim, true);
}
