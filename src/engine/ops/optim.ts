// Optimiser updates as engine ops: one in-place step of Adam or SGD on a parameter, with
// its state buffers. nn/optim keeps the bookkeeping (groups, state, step counts); the
// engine checks the buffers once and dispatches to the backend's fused kernel.
import { kernels } from '../../backend/registry.js';
import type { AdamParams, SgdParams } from '../../backend/types.js';
import type { Tensor } from '../tensor.js';

export type AdamUpdate = Omit<AdamParams, 'n'>;
export type SgdUpdate = Omit<SgdParams, 'n'>;

function checkBuffer(op: string, name: string, buf: Float32Array | null, n: number): void {
  if (buf !== null && buf.length !== n) throw new RangeError(`${op}: ${name} holds ${buf.length} values, the parameter ${n}`);
}

function checkPair(op: string, param: Tensor, grad: Tensor): void {
  if (grad.size !== param.size) throw new RangeError(`${op}: the gradient has ${grad.size} values, the parameter ${param.size}`);
}

/** param ← Adam(param, grad) in place (torch.optim.Adam: L2 weight decay, optional AMSGrad). */
export function adamUpdate(param: Tensor, grad: Tensor, m: Float32Array, v: Float32Array, vmax: Float32Array | null, o: AdamUpdate): void {
  checkPair('adamUpdate', param, grad);
  checkBuffer('adamUpdate', 'exp_avg', m, param.size);
  checkBuffer('adamUpdate', 'exp_avg_sq', v, param.size);
  checkBuffer('adamUpdate', 'max_exp_avg_sq', vmax, param.size);
  if (o.amsgrad && !vmax) throw new TypeError('adamUpdate: amsgrad needs max_exp_avg_sq');
  if (!Number.isInteger(o.step) || o.step < 1) throw new RangeError(`adamUpdate: step must be an integer ≥ 1, got ${o.step}`);
  kernels().adamStep({ n: param.size, ...o }, param.data, grad.data, m, v, o.amsgrad ? vmax : null);
}

/** param ← SGD(param, grad) in place (torch.optim.SGD: momentum, dampening, Nesterov, L2 decay). */
export function sgdUpdate(param: Tensor, grad: Tensor, momentumBuffer: Float32Array | null, o: SgdUpdate): void {
  checkPair('sgdUpdate', param, grad);
  checkBuffer('sgdUpdate', 'momentum_buffer', momentumBuffer, param.size);
  if (o.momentum !== 0 && !momentumBuffer) throw new TypeError('sgdUpdate: momentum needs momentum_buffer');
  kernels().sgdStep({ n: param.size, ...o }, param.data, grad.data, momentumBuffer);
}
