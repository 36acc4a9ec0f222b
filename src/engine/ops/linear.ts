// Matrix products through the gemm kernels: matmul (2-D, batched 3-D, and [..., K] @ [K, N])
// and linear (x @ wᵀ + b, PyTorch's weight layout).
import { kernels } from '../../backend/registry.js';
import type { GemmParams } from '../../backend/types.js';
import { record } from '../autograd.js';
import { Tensor } from '../tensor.js';
import { fmt, prod } from '../shape-util.js';
import { checkTensor } from './elementwise.js';
import { copyStrided, sumDimsRaw } from './strided.js';

function gemm(M: number, N: number, K: number, transA: boolean, transB: boolean, a: Float32Array, b: Float32Array, c: Float32Array, beta = 0): void {
  // K = 0 is an empty sum: the output keeps its fresh zeros (or the bias already in it).
  if (M === 0 || N === 0 || K === 0) return;
  const p: GemmParams = { M, N, K, transA, transB, alpha: 1, beta };
  kernels().gemm(p, a, b, c);
}

function gemmBatched(batch: number, M: number, N: number, K: number, transA: boolean, transB: boolean, a: Float32Array, b: Float32Array, c: Float32Array): void {
  if (batch === 0 || M === 0 || N === 0 || K === 0) return;
  kernels().gemmBatched({ batch, M, N, K, transA, transB, alpha: 1, beta: 0 }, a, b, c);
}

/**
 * Matrix product: [M, K] @ [K, N]; [B, M, K] @ [B, K, N] (batched); and [..., M, K] @ [K, N]
 * (the leading dims fold into M).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor(a, 'matmul', 'a');
  checkTensor(b, 'matmul', 'b');
  if (a.ndim < 2 || b.ndim < 2 || b.ndim > 3 || (b.ndim === 3 && a.ndim !== 3)) {
    throw new RangeError(`matmul: supports [M, K] @ [K, N], [B, M, K] @ [B, K, N] and [..., K] @ [K, N]; got ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  }
  const K = a.shape[a.ndim - 1];
  const Kb = b.shape[b.ndim - 2];
  if (K !== Kb) throw new RangeError(`matmul: inner dims differ: a ${fmt(a.shape)} has ${K} columns but b ${fmt(b.shape)} has ${Kb} rows`);
  const N = b.shape[b.ndim - 1];
  if (b.ndim === 3) {
    const B = a.shape[0];
    if (b.shape[0] !== B) throw new RangeError(`matmul: batch sizes differ: a ${fmt(a.shape)} vs b ${fmt(b.shape)}`);
    const M = a.shape[1];
    const y = Tensor.empty([B, M, N]);
    gemmBatched(B, M, N, K, false, false, a.data, b.data, y.data);
    return record(y, 'matmul', [a, b], (g, needs) => {
      let da: Tensor | null = null;
      let db: Tensor | null = null;
      if (needs[0]) {
        da = Tensor.empty(a.shape);
        gemmBatched(B, M, K, N, false, true, g.data, b.data, da.data); // g @ bᵀ
      }
      if (needs[1]) {
        db = Tensor.empty(b.shape);
        gemmBatched(B, K, N, M, true, false, a.data, g.data, db.data); // aᵀ @ g
      }
      return [da, db];
    });
  }
  const M = prod(a.shape.slice(0, -1));
  const y = Tensor.empty([...a.shape.slice(0, -1), N]);
  gemm(M, N, K, false, false, a.data, b.data, y.data);
  return record(y, 'matmul', [a, b], (g, needs) => {
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (needs[0]) {
      da = Tensor.empty(a.shape);
      gemm(M, K, N, false, true, g.data, b.data, da.data);
    }
    if (needs[1]) {
      db = Tensor.empty(b.shape);
      gemm(K, N, M, true, false, a.data, g.data, db.data);
    }
    return [da, db];
  });
}

/** y = x @ wᵀ + b for x [..., in], w [out, in], b [out]. */
export function linear(x: Tensor, w: Tensor, b?: Tensor | null): Tensor {
  checkTensor(x, 'linear', 'input');
  checkTensor(w, 'linear', 'weight');
  if (w.ndim !== 2) throw new RangeError(`linear: weight must be [out, in], got ${fmt(w.shape)}`);
  if (x.ndim < 1) throw new RangeError('linear: input must have at least one dim');
  const [out, inF] = w.shape;
  const K = x.shape[x.ndim - 1];
  if (K !== inF) throw new RangeError(`linear: weight expects ${inF} input features but the input ${fmt(x.shape)} has ${K}`);
  if (b) {
    checkTensor(b, 'linear', 'bias');
    if (b.ndim !== 1 || b.shape[0] !== out) throw new RangeError(`linear: bias must be [${out}], got ${fmt(b.shape)}`);
  }
  const M = prod(x.shape.slice(0, -1));
  const yShape = [...x.shape.slice(0, -1), out];
  // The bias copy or the product (beta = 0) writes every element unless the sum is empty.
  const y = b || K > 0 ? Tensor.uninit(yShape) : Tensor.empty(yShape);
  if (b && M > 0 && out > 0) copyStrided([M, out], b.data, [0, 1], 0, y.data, [out, 1], 0); // rows start as the bias
  gemm(M, out, K, false, true, x.data, w.data, y.data, b ? 1 : 0);
  const inputs = b ? [x, w, b] : [x, w];
  return record(y, 'linear', inputs, (g, needs) => {
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    let db: Tensor | null = null;
    if (needs[0]) {
      dx = out > 0 ? Tensor.uninit(x.shape) : Tensor.empty(x.shape); // beta = 0 overwrites
      gemm(M, K, out, false, false, g.data, w.data, dx.data); // g @ w
    }
    if (needs[1]) {
      dw = M > 0 ? Tensor.uninit(w.shape) : Tensor.empty(w.shape);
      gemm(out, K, M, true, false, g.data, x.data, dw.data); // gᵀ @ x
    }
    if (b && needs[2]) db = Tensor.fromData(sumDimsRaw(Tensor.fromData(g.data, [M, out]), [0]).data, [out]);
    return [dx, dw, db];
  });
}
