// Eval-time fusion inside a Sequential: BatchNorm (eval, running statistics) followed by
// ReLU runs as one kernel (batchNormRelu), and — when no graph is being recorded and the
// BN's input is the fresh output of the conv/linear layer just before it — in place, so
// inference allocates and sweeps one activation per block instead of three. Values are
// bitwise those of the unfused layers on the same backend.
//
// forwardLayers goes one step further when no graph is recorded: a 4×4 stride-2 conv or
// transposed conv (the unified AE's blocks) with its eval BN and ReLU runs as one
// conv2dEval call, and a linear layer with its BN1d and ReLU as one linearEval call, the BN
// folded into a per-channel scale and shift applied as outputs are stored (native: Winograd
// F(4×4, 2×2) and a pre-packed weight; within a float32 bound of the unfused layers).
import { conv2dEval, convEvalSupported, isGradEnabled, linearEval, type Tensor } from '../../engine/index.js';
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

/**
 * Below 16 input or output channels the Winograd path's 16-wide channel vectors and filter
 * panels are mostly padding: the AE's 1-channel first layer stays on conv2d, whose
 * small-channel kernel is faster there, and transposed convs with fewer than 8 outputs (its
 * 1-channel last layer) take conv2dEval's direct path.
 */
const MIN_EVAL_CHANNELS = 16;
/** Transposed convs with fewer output channels run a direct kernel inside conv2dEval (native). */
const FEW_OUTPUTS = 8;

function evalConv(layer: Module): Conv2d | ConvTranspose2d | null {
  if (layer.constructor === Conv2d) {
    const c = layer as Conv2d;
    return c.paddingMode === 'zeros' && convEvalSupported(c) && Math.min(c.inChannels, c.outChannels) >= MIN_EVAL_CHANNELS ? c : null;
  }
  if (layer.constructor === ConvTranspose2d) {
    // Fewer than FEW_OUTPUTS output channels (the AE's last layer): conv2dEval's direct path.
    const c = layer as ConvTranspose2d;
    const noOutputPadding = c.outputPadding[0] === 0 && c.outputPadding[1] === 0;
    const channels = c.inChannels >= MIN_EVAL_CHANNELS && (c.outChannels >= MIN_EVAL_CHANNELS || c.outChannels < FEW_OUTPUTS);
    return noOutputPadding && convEvalSupported(c) && channels ? c : null;
  }
  return null;
}

/** BN (eval) as y = x·scale + shift, in float32, with the conv's bias folded into shift. */
function foldBatchNorm(bn: BatchNormBase, bias: Tensor | null, channels: number): { scale: Float32Array; shift: Float32Array } {
  const mean = bn.runningMean!.data;
  const variance = bn.runningVar!.data;
  const gamma = bn.weight?.data;
  const beta = bn.bias?.data;
  const b = bias?.data;
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let k = 0; k < channels; k++) {
    const s = Math.fround((gamma ? gamma[k] : 1) / Math.sqrt(variance[k] + bn.eps));
    scale[k] = s;
    shift[k] = Math.fround((beta ? beta[k] : 0) + Math.fround((b ? b[k] : 0) - mean[k]) * s);
  }
  return { scale, shift };
}

/**
 * How many layers from layers[i] run as one conv2dEval / linearEval call under noGrad (0:
 * none): conv or linear + BN + ReLU (3), + BN (2) or alone (1).
 */
function evalSpan(layers: readonly Module[], i: number): number {
  if (!evalConv(layers[i]) && layers[i].constructor !== Linear) return 0;
  const bn = layers[i + 1];
  if (!(bn instanceof BatchNormBase) || !bn.fusableWithRelu) return 1;
  return layers[i + 2]?.constructor === ReLU ? 3 : 2;
}

function runEvalSpan(layers: readonly Module[], i: number, span: number, x: Tensor): Tensor {
  if (layers[i].constructor === Linear) {
    const lin = layers[i] as Linear;
    if (x.ndim !== 2) return runUnfused(layers, i, span, x);
    if (span === 1) return linearEval(x, lin.weight, { shift: lin.bias?.data ?? null });
    const { scale, shift } = foldBatchNorm(layers[i + 1] as BatchNormBase, lin.bias, lin.outFeatures);
    return linearEval(x, lin.weight, { scale, shift, relu: span === 3 });
  }
  const conv = layers[i] as Conv2d | ConvTranspose2d;
  const transposed = conv instanceof ConvTranspose2d;
  if (span === 1) return conv2dEval(x, conv.weight, { transposed, shift: conv.bias?.data ?? null });
  const { scale, shift } = foldBatchNorm(layers[i + 1] as BatchNormBase, conv.bias, conv.outChannels);
  return conv2dEval(x, conv.weight, { transposed, scale, shift, relu: span === 3 });
}

/** The span's layers one by one (an input the fused kernel does not take). */
function runUnfused(layers: readonly Module[], i: number, span: number, x: Tensor): Tensor {
  for (let j = i; j < i + span; j++) x = layers[j].forward(x);
  return x;
}

/**
 * Runs layers in order with the eval fusions: BN + ReLU as one kernel, and under noGrad the
 * 4×4 stride-2 conv blocks as conv2dEval and the linear layers (2-D input) as linearEval.
 */
export function forwardLayers(layers: readonly Module[], x: Tensor): Tensor {
  const noGraph = !isGradEnabled();
  for (let i = 0; i < layers.length; i++) {
    const span = noGraph ? evalSpan(layers, i) : 0;
    if (span > 0) {
      x = runEvalSpan(layers, i, span, x);
      i += span - 1;
    } else if (fusesWithNext(layers, i)) x = runFused(layers, i++, x);
    else x = layers[i].forward(x);
  }
  return x;
}
