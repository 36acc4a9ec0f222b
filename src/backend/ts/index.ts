// The `ts` backend: every kernel of the table in plain TypeScript, written to be read.
// It is the reference the native kernels are verified against.
import type { Backend, KernelTable } from '../types.js';

export const tsKernels: KernelTable = {} as KernelTable; // filled kernel family by kernel family

export const tsBackend: Backend = {
  name: 'ts',
  unavailableReason: () => null,
  kernels: tsKernels,
  info: () => ({ language: 'TypeScript', threads: 1 }),
};
