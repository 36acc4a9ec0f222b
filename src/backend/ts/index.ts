// The `ts` backend: every kernel of the table in plain TypeScript, written to be read.
// It is the reference the native kernels are verified against.
import type { Backend, KernelTable } from '../types.js';
import { gemm, gemmBatched } from './gemm.js';
import { conv2d, conv2dBackwardInput, conv2dBackwardWeight } from './conv.js';
import { conv2dEval, conv2dEvalPack } from './conv-eval.js';
import { linearEval, linearEvalPack } from './linear-eval.js';
import { binary, unary, unaryBackward } from './elementwise.js';
import { logSoftmax, logSoftmaxBackward, reduceMax, reduceSum, softmax, softmaxBackward } from './reduce.js';
import { axpy, fill, stridedCopy } from './copy.js';
import { batchNormApply, batchNormApplyRelu, batchNormBackward, batchNormStats, groupNormBackward, groupNormForward } from './norm.js';
import { groupNormSiluBackward, groupNormSiluForward } from './group-norm-silu.js';
import { pad2d, pad2dBackward } from './pad.js';
import {
  adaptiveAvgPool2d,
  adaptiveAvgPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  maxPool2d,
  maxPool2dBackward,
} from './pool.js';
import { upsampleBilinear2d, upsampleBilinear2dBackward, upsampleNearest2d, upsampleNearest2dBackward } from './upsample.js';
import { adamStep, sgdStep } from './optim.js';
import { knnSearch, knnSearchHalf } from './knn.js';
import { coresetGreedy, coresetGreedyHalf, coresetProject } from './coreset.js';
import { halfFromFloat, halfToFloat } from './half.js';
import { choleskyInverse, gaussianMoments, mahalanobis } from './linalg.js';
import { poissonSolve } from './poisson.js';
import { simplexField3 } from './simplex.js';
import { couplingBackward, couplingForward, couplingRotation } from './coupling.js';
import { cosineDistance, cosineDistanceBackward } from './cosine.js';
import { attentionForward, attentionBackward } from './attention.js';

export const tsKernels: KernelTable = {
  gemm,
  gemmBatched,
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  conv2dEvalPack,
  conv2dEval,
  linearEvalPack,
  linearEval,
  pad2d,
  pad2dBackward,
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  adaptiveAvgPool2d,
  adaptiveAvgPool2dBackward,
  upsampleBilinear2d,
  upsampleBilinear2dBackward,
  upsampleNearest2d,
  upsampleNearest2dBackward,
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
  batchNormApplyRelu,
  batchNormBackward,
  groupNormForward,
  groupNormBackward,
  groupNormSiluForward,
  groupNormSiluBackward,
  adamStep,
  sgdStep,
  knnSearch,
  coresetGreedy,
  coresetProject,
  coresetGreedyHalf,
  knnSearchHalf,
  halfFromFloat,
  halfToFloat,
  gaussianMoments,
  choleskyInverse,
  mahalanobis,
  poissonSolve,
  simplexField3,
  couplingForward,
  couplingBackward,
  couplingRotation,
  cosineDistance,
  cosineDistanceBackward,
  attentionForward,
  attentionBackward,
};

export const tsBackend: Backend = {
  name: 'ts',
  unavailableReason: () => null,
  kernels: tsKernels,
  info: () => ({ language: 'TypeScript', threads: 1 }),
};
