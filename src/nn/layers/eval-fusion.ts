// Eval-time fusion inside a Sequential: BatchNorm (eval, running statistics) followed by
// ReLU runs as one kernel (batchNormRelu), and — when no graph is being recorded and the
// BN's input is the fresh output of the conv/linear layer just before it — in place, so
// inference allocates and sweeps one activation per block instead of three. Values are
// bitwise those of the unfused layers on the same backend.
import { isGradEnabled, type Tensor } from '../../engine/index.js';
import type { Module } from '../module.js';
import { ReLU } from './activation.js';
import { Conv2d, ConvTranspose2d } from './conv.js';
import { Linear } from './linear.js';
import { BatchNormBase } from './norm.js';

// Exact classes whose forward always returns a new tensor no one else holds (a subclass
// might return a cached or shared one, so it does not count).
const FRESH_OUTPUT = new Set<unknown>([Conv2d, ConvTranspose2d, Linear]);

/** True when layers[i], layers[i + 1] are BN (eval) + ReLU and can run as batchNormRelu. */
export function fusesWithNext(layers: readonly Module[], i: number): boolean {
  const bn = layers[i];
  const next = layers[i + 1];
  return bn instanceof BatchNormBase && bn.fusableWithRelu && next?.constructor === ReLU;
}

/** relu(bn(x)) for the pair at layers[i] (fusesWithNext(layers, i) must hold). */
export function runFused(layers: readonly Module[], i: number, x: Tensor): Tensor {
  const bn = layers[i] as BatchNormBase;
  const inPlace = i > 0 && !isGradEnabled() && FRESH_OUTPUT.has(layers[i - 1].constructor);
  return bn.forwardRelu(x, inPlace);
}
