// The `ts` backend: every kernel of the table in plain TypeScript, written to be read.
// It is the reference the native kernels are verified against.
import type { Backend, KernelTable } from '../types.js';
import { gemm, gemmBatched } from './gemm.js';
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight } from './conv.js';
import { binary, unary, unaryBackward } from './elementwise.js';
import { logSoftmax, logSoftmaxBackward, reduceMax, reduceSum, softmax, softmaxBackward } from './reduce.js';
import { axpy, fill, stridedCopy } from './copy.js';
import { batchNormApply, batchNormBackward, batchNormStats, groupNormBackward, groupNormForward } from './norm.js';

export const tsKernels: KernelTable = {
  gemm,
  gemmBatched,
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  unary,
  unaryBackward,
  binary,
  reduceSum,
  reduceMax,
  softmax,
  softmaxBackward,
  logSoftmax,
  logSoftmaxBackward,
  stridedCopy,
  fill,
  axpy,
  batchNormStats,
  batchNormApply,
  batchNormBackward,
  groupNormForward,
  groupNormBackward,
} as KernelTable; // pad, pool, upsample, optim, knn and coreset land next

export const tsBackend: Backend = {
  name: 'ts',
  unavailableReason: () => null,
  kernels: tsKernels,
  info: () => ({ language: 'TypeScript', threads: 1 }),
};
