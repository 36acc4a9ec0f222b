// Every op case of test/fixtures/torch/ops.safetensors, run through the nn layer that wraps
// it (weights loaded with loadStateDict): forward output, running statistics, and the input,
// weight and bias gradients for PyTorch's fixed upstream gradient.
import { test } from 'uvu';
import { tensor, type Tensor } from '../../src/engine/index.js';
import {
  AdaptiveAvgPool2d,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv2d,
  ConvTranspose2d,
  GroupNorm,
  Linear,
  MaxPool2d,
  Module,
  Upsample,
} from '../../src/nn/index.js';
import { eachBackend } from './helpers/backends.js';
import { assertClose, maxAbs } from './helpers/compare.js';
import { fixture, index, type OpCase } from './helpers/fixtures.js';

/** The layer a case exercises, built from the case's arguments and the shapes of its tensors. */
function buildLayer(c: OpCase, get: (role: string) => { shape: number[]; data: Float32Array }): Module {
  const a = c.args;
  const has = (role: string) => role in c.tensors;
  switch (c.op) {
    case 'conv2d': {
      const [out, inPerGroup, kh, kw] = get('weight').shape;
      const groups = a.groups ?? 1;
      return new Conv2d(inPerGroup * groups, out, [kh, kw], {
        stride: a.stride,
        padding: a.padding,
        dilation: a.dilation,
        groups,
        bias: has('bias'),
        paddingMode: a.paddingMode,
      });
    }
    case 'conv_transpose2d': {
      const [inC, outPerGroup, kh, kw] = get('weight').shape;
      const groups = a.groups ?? 1;
      return new ConvTranspose2d(inC, outPerGroup * groups, [kh, kw], {
        stride: a.stride,
        padding: a.padding,
        outputPadding: a.outputPadding,
        dilation: a.dilation,
        groups,
        bias: has('bias'),
      });
    }
    case 'batch_norm': {
      const x = get('x');
      const Cls = x.shape.length === 4 ? BatchNorm2d : BatchNorm1d;
      return new Cls(x.shape[1], { eps: a.eps, momentum: a.momentum });
    }
    case 'group_norm':
      return new GroupNorm(a.numGroups, get('x').shape[1], { eps: a.eps });
    case 'interpolate':
      return new Upsample({ size: a.size, scaleFactor: a.scaleFactor, mode: a.mode, alignCorners: a.alignCorners });
    case 'max_pool2d':
      return new MaxPool2d(a.kernelSize, { stride: a.stride, padding: a.padding });
    case 'avg_pool2d':
      return new AvgPool2d(a.kernelSize, { stride: a.stride, padding: a.padding });
    case 'adaptive_avg_pool2d':
      return new AdaptiveAvgPool2d(a.outputSize);
    case 'linear': {
      const [out, inF] = get('weight').shape;
      return new Linear(inF, out);
    }
    default:
      throw new Error(`no layer for fixture op "${c.op}"`);
  }
}

/** Float32 accumulation-order differences scale with the magnitude of the values involved. */
function tol(expected: ArrayLike<number>) {
  return { rtol: 1e-4, atol: 1e-5 * Math.max(1, maxAbs(expected)) };
}

function runCase(c: OpCase): void {
  const get = (role: string) => fixture(c.file, c.tensors[role]);
  const layer = buildLayer(c, get);
  const state = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const role of ['weight', 'bias']) if (role in c.tensors) state.set(role, get(role));
  if (c.op === 'batch_norm') {
    state.set('running_mean', get('running_mean'));
    state.set('running_var', get('running_var'));
    state.set('num_batches_tracked', { shape: [], data: new Float32Array(1) });
  }
  layer.loadStateDict(state);
  layer.train(c.op !== 'batch_norm' || c.args.training);

  const xf = get('x');
  const x = tensor(xf.data, xf.shape, { requiresGrad: true });
  const y = layer.forward(x) as Tensor;
  const yRef = get('y');
  assertClose(y.shape, yRef.shape, `${c.name}: output shape`, { rtol: 0, atol: 0 });
  assertClose(y.data, yRef.data, `${c.name}: forward`, tol(yRef.data));

  const gy = get('gy');
  y.backward(tensor(gy.data, gy.shape));
  assertClose(x.grad!.data, get('gx').data, `${c.name}: input gradient`, tol(get('gx').data));
  const sd = layer.stateDict();
  for (const role of ['weight', 'bias']) {
    if (!(`g${role}` in c.tensors)) continue;
    const p = sd.get(role)!;
    const ref = get(`g${role}`).data;
    assertClose(p.grad!.data, ref, `${c.name}: ${role} gradient`, tol(ref));
  }
  if (c.op === 'batch_norm') {
    assertClose(sd.get('running_mean')!.data, get('running_mean_after').data, `${c.name}: running mean`, { rtol: 1e-5, atol: 1e-6 });
    assertClose(sd.get('running_var')!.data, get('running_var_after').data, `${c.name}: running var`, { rtol: 1e-5, atol: 1e-6 });
  }
}

const families = [...new Set(index.ops.map((c) => c.op))];
for (const op of families) {
  const cases = index.ops.filter((c) => c.op === op);
  eachBackend(test, `${op} matches PyTorch: ${cases.map((c) => c.name.split('/')[1]).join(', ')}`, () => {
    for (const c of cases) runCase(c);
  });
}

test.run();
