// Loads the native `cpu` addon (build/Release/medianomaly.node) and exposes it as a Backend.
import type { Backend } from './types.js';

export const cpuBackend: Backend = {
  name: 'cpu',
  unavailableReason: () => 'the native addon is not built yet',
  kernels: {},
  info: () => ({}),
};
