// The ts kernels driven directly with PyTorch's own numbers (test/fixtures/torch, made by
// scripts/make-torch-fixtures.py): forward values and gradients of single ops, and
// optimizer trajectories. The test plays the engine's part (shapes, parameters).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { readSafetensors, toFloat32, type SafetensorsContent } from '../../src/nn/safetensors-format.js';
import { tsKernels as k } from '../../src/backend/ts/index.js';
import type { Conv2dParams, Pool2dParams, Upsample2dParams } from '../../src/backend/types.js';
import { close } from './helpers.js';

const dir = new URL('../fixtures/torch/', import.meta.url).pathname;
type Args = Record<string, unknown>;
interface OpCase {
  name: string;
  op: string;
  args: Args;
  tensors: Record<string, string>;
}
const index = JSON.parse(readFileSync(dir + 'index.json', 'utf8')) as {
  ops: OpCase[];
  optim: { cases: { name: string; optimizer: string; args: Args; steps: number; tensors: Record<string, string> }[]; grads: string[]; p0: string };
};
const ops = readSafetensors(dir + 'ops.safetensors');

function get(file: SafetensorsContent, key: string): { data: Float32Array; shape: number[] } {
  const t = file.tensors.get(key);
  assert.ok(t, `fixture tensor ${key} is missing`);
  return { data: toFloat32(t), shape: t.shape };
}
const pair = (v: unknown, dflt: number): [number, number] => (v === undefined ? [dflt, dflt] : Array.isArray(v) ? [v[0], v[1]] : [v as number, v as number]);
/** Σ over everything but dim 1 of an [N, C, ...] tensor: a bias gradient. */
function channelSum(g: Float32Array, shape: number[]): number[] {
  const [N, C] = shape;
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  const out = new Array<number>(C).fill(0);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let i = 0; i < inner; i++) out[c] += g[(n * C + c) * inner + i];
  return out;
}
function addBias(y: Float32Array, shape: number[], b: Float32Array): void {
  const [N, C] = shape;
  const inner = shape.slice(2).reduce((a, v) => a * v, 1);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let i = 0; i < inner; i++) y[(n * C + c) * inner + i] += b[c];
}

const TOL = [2e-5, 1e-4] as const;
const T = (c: OpCase, role: string) => get(ops, c.tensors[role]);

for (const c of index.ops) {
  test(`PyTorch fixture ${c.name}`, () => {
    const x = T(c, 'x');
    const y = T(c, 'y');
    const gy = T(c, 'gy');
    const gx = T(c, 'gx');
    const a = c.args;
    switch (c.op) {
      case 'conv2d': {
        const w = T(c, 'weight');
        const [N, C0, H0, W0] = x.shape;
        const [K, , kh, kw] = w.shape;
        const [sh, sw] = pair(a.stride, 1);
        let [ph, pw] = pair(a.padding, 0);
        const [dh, dw] = pair(a.dilation, 1);
        const groups = (a.groups as number) ?? 1;
        let input = x.data;
        let [H, W] = [H0, W0];
        const reflect = a.paddingMode === 'reflect';
        const padP = { NC: N * C0, H: H0, W: W0, top: ph, bottom: ph, left: pw, right: pw, mode: 'reflect' as const, value: 0 };
        if (reflect) {
          H += 2 * ph;
          W += 2 * pw;
          input = new Float32Array(N * C0 * H * W);
          k.pad2d(padP, x.data, input);
          [ph, pw] = [0, 0];
        }
        const OH = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
        const OW = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
        const p: Conv2dParams = { N, C: C0, H, W, K, OH, OW, kh, kw, sh, sw, ph, pw, dh, dw, groups };
        const bias = c.tensors.bias ? T(c, 'bias').data : null;
        const out = new Float32Array(N * K * OH * OW);
        k.conv2d(p, input, w.data, bias, out);
        close(out, y.data, ...TOL, 'y');
        const dIn = new Float32Array(input.length);
        k.conv2dBackwardInput(p, gy.data, w.data, dIn);
        let dx = dIn;
        if (reflect) {
          dx = new Float32Array(x.data.length);
          k.pad2dBackward(padP, dIn, dx);
        }
        close(dx, gx.data, ...TOL, 'gx');
        const dW = new Float32Array(w.data.length);
        k.conv2dBackwardWeight(p, input, gy.data, dW);
        close(dW, T(c, 'gweight').data, ...TOL, 'gweight');
        if (bias) close(channelSum(gy.data, gy.shape), T(c, 'gbias').data, ...TOL, 'gbias');
        return;
      }
      case 'conv_transpose2d': {
        // conv_transpose2d(x, w) is conv2d's input gradient for a convolution whose output is x.
        const w = T(c, 'weight');
        const [N, Cin, H, W] = x.shape;
        const [, CoutG, kh, kw] = w.shape;
        const [sh, sw] = pair(a.stride, 1);
        const [ph, pw] = pair(a.padding, 0);
        const [dh, dw] = pair(a.dilation, 1);
        const [oph, opw] = pair(a.outputPadding, 0);
        const groups = (a.groups as number) ?? 1;
        const OHt = (H - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1;
        const OWt = (W - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1;
        const Cout = CoutG * groups;
        const p: Conv2dParams = { N, C: Cout, H: OHt, W: OWt, K: Cin, OH: H, OW: W, kh, kw, sh, sw, ph, pw, dh, dw, groups };
        assert.equal([N, Cout, OHt, OWt], y.shape, 'transposed output shape');
        const out = new Float32Array(N * Cout * OHt * OWt);
        k.conv2dBackwardInput(p, x.data, w.data, out);
        if (c.tensors.bias) addBias(out, y.shape, T(c, 'bias').data);
        close(out, y.data, ...TOL, 'y');
        const dx = new Float32Array(x.data.length);
        k.conv2d(p, gy.data, w.data, null, dx);
        close(dx, gx.data, ...TOL, 'gx');
        const dW = new Float32Array(w.data.length);
        k.conv2dBackwardWeight(p, gy.data, x.data, dW);
        close(dW, T(c, 'gweight').data, ...TOL, 'gweight');
        if (c.tensors.bias) close(channelSum(gy.data, gy.shape), T(c, 'gbias').data, ...TOL, 'gbias');
        return;
      }
      case 'batch_norm': {
        const [N, C] = x.shape;
        const HW = x.shape.slice(2).reduce((m, s) => m * s, 1);
        const eps = a.eps as number;
        const training = a.training as boolean;
        const mean = new Float32Array(C);
        const variance = new Float32Array(C);
        if (training) {
          k.batchNormStats({ N, C, HW }, x.data, mean, variance);
          // The running statistics PyTorch keeps: momentum blend, unbiased variance.
          const m = a.momentum as number;
          const M = N * HW;
          const rm = T(c, 'running_mean').data;
          const rv = T(c, 'running_var').data;
          close(Array.from(rm, (v, i) => (1 - m) * v + m * mean[i]), T(c, 'running_mean_after').data, ...TOL, 'running_mean');
          close(Array.from(rv, (v, i) => (1 - m) * v + (m * variance[i] * M) / (M - 1)), T(c, 'running_var_after').data, ...TOL, 'running_var');
        } else {
          mean.set(T(c, 'running_mean').data);
          variance.set(T(c, 'running_var').data);
        }
        const invstd = Float32Array.from(variance, (v) => 1 / Math.sqrt(v + eps));
        const gamma = T(c, 'weight').data;
        const out = new Float32Array(x.data.length);
        k.batchNormApply({ N, C, HW }, x.data, mean, invstd, gamma, T(c, 'bias').data, out);
        close(out, y.data, ...TOL, 'y');
        const dx = new Float32Array(x.data.length);
        const dg = new Float32Array(C);
        const db = new Float32Array(C);
        k.batchNormBackward({ N, C, HW, training }, x.data, gy.data, mean, invstd, gamma, dx, dg, db);
        close(dx, gx.data, ...TOL, 'gx');
        close(dg, T(c, 'gweight').data, ...TOL, 'gweight');
        close(db, T(c, 'gbias').data, ...TOL, 'gbias');
        return;
      }
      case 'group_norm': {
        const [N, C] = x.shape;
        const HW = x.shape.slice(2).reduce((m, s) => m * s, 1);
        const p = { N, C, HW, G: a.numGroups as number, eps: a.eps as number };
        const gamma = T(c, 'weight').data;
        const out = new Float32Array(x.data.length);
        const mean = new Float32Array(N * p.G);
        const invstd = new Float32Array(N * p.G);
        k.groupNormForward(p, x.data, gamma, T(c, 'bias').data, out, mean, invstd);
        close(out, y.data, ...TOL, 'y');
        const dx = new Float32Array(x.data.length);
        const dg = new Float32Array(C);
        const db = new Float32Array(C);
        k.groupNormBackward(p, x.data, gy.data, mean, invstd, gamma, dx, dg, db);
        close(dx, gx.data, ...TOL, 'gx');
        close(dg, T(c, 'gweight').data, ...TOL, 'gweight');
        close(db, T(c, 'gbias').data, ...TOL, 'gbias');
        return;
      }
      case 'interpolate': {
        const [N, C, H, W] = x.shape;
        const [, , OH, OW] = y.shape;
        const sf = a.scaleFactor as number | undefined;
        const p: Upsample2dParams = {
          N, C, H, W, OH, OW,
          alignCorners: (a.alignCorners as boolean) ?? false,
          scaleH: sf ? 1 / sf : H / OH,
          scaleW: sf ? 1 / sf : W / OW,
        };
        const out = new Float32Array(y.data.length);
        const dx = new Float32Array(x.data.length);
        if (a.mode === 'bilinear') {
          k.upsampleBilinear2d(p, x.data, out);
          k.upsampleBilinear2dBackward(p, gy.data, dx);
        } else {
          k.upsampleNearest2d(p, x.data, out);
          k.upsampleNearest2dBackward(p, gy.data, dx);
        }
        close(out, y.data, ...TOL, 'y');
        close(dx, gx.data, ...TOL, 'gx');
        return;
      }
      case 'max_pool2d':
      case 'avg_pool2d': {
        const [N, C, H, W] = x.shape;
        const [, , OH, OW] = y.shape;
        const [kh, kw] = pair(a.kernelSize, 1);
        const [sh, sw] = pair(a.stride ?? a.kernelSize, 1);
        const [ph, pw] = pair(a.padding, 0);
        const p: Pool2dParams = { N, C, H, W, OH, OW, kh, kw, sh, sw, ph, pw, dh: 1, dw: 1, ceilMode: false, countIncludePad: true, divisorOverride: 0 };
        const out = new Float32Array(y.data.length);
        const dx = new Float32Array(x.data.length);
        if (c.op === 'max_pool2d') {
          const am = new Int32Array(out.length);
          k.maxPool2d(p, x.data, out, am);
          k.maxPool2dBackward(p, gy.data, am, dx);
        } else {
          k.avgPool2d(p, x.data, out);
          k.avgPool2dBackward(p, gy.data, dx);
        }
        close(out, y.data, ...TOL, 'y');
        close(dx, gx.data, ...TOL, 'gx');
        return;
      }
      case 'adaptive_avg_pool2d': {
        const [N, C, H, W] = x.shape;
        const [, , OH, OW] = y.shape;
        const out = new Float32Array(y.data.length);
        const dx = new Float32Array(x.data.length);
        k.adaptiveAvgPool2d({ N, C, H, W, OH, OW }, x.data, out);
        k.adaptiveAvgPool2dBackward({ N, C, H, W, OH, OW }, gy.data, dx);
        close(out, y.data, ...TOL, 'y');
        close(dx, gx.data, ...TOL, 'gx');
        return;
      }
      case 'linear': {
        // y = x·Wᵀ + b; gx = gy·W; gW = gyᵀ·x — the three GEMM layouts a linear layer needs.
        const w = T(c, 'weight');
        const [out, inF] = w.shape;
        const M = x.data.length / inF;
        const yy = new Float32Array(M * out);
        for (let i = 0; i < M; i++) yy.set(T(c, 'bias').data, i * out);
        k.gemm({ M, N: out, K: inF, transA: false, transB: true, alpha: 1, beta: 1 }, x.data, w.data, yy);
        close(yy, y.data, ...TOL, 'y');
        const dx = new Float32Array(x.data.length);
        k.gemm({ M, N: inF, K: out, transA: false, transB: false, alpha: 1, beta: 0 }, gy.data, w.data, dx);
        close(dx, gx.data, ...TOL, 'gx');
        const dW = new Float32Array(w.data.length);
        k.gemm({ M: out, N: inF, K: M, transA: true, transB: false, alpha: 1, beta: 0 }, gy.data, x.data, dW);
        close(dW, T(c, 'gweight').data, ...TOL, 'gweight');
        return;
      }
      default:
        assert.unreachable(`fixture op ${c.op} has no kernel mapping in this test`);
    }
  });
}

const optim = readSafetensors(dir + 'optim.safetensors');
for (const c of index.optim.cases) {
  test(`PyTorch ${c.optimizer} trajectory ${c.name}`, () => {
    const a = c.args;
    const param = Float32Array.from(get(optim, index.optim.p0).data);
    const n = param.length;
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    const vmax = new Float32Array(n);
    const buf = new Float32Array(n);
    for (let t = 0; t < c.steps; t++) {
      const grad = get(optim, index.optim.grads[t]).data;
      if (c.optimizer === 'Adam') {
        const [beta1, beta2] = (a.betas as number[]) ?? [0.9, 0.999];
        const amsgrad = (a.amsgrad as boolean) ?? false;
        k.adamStep(
          { n, lr: a.lr as number, beta1, beta2, eps: (a.eps as number) ?? 1e-8, weightDecay: (a.weight_decay as number) ?? 0, step: t + 1, amsgrad },
          param, grad, m, v, amsgrad ? vmax : null,
        );
      } else {
        const momentum = (a.momentum as number) ?? 0;
        k.sgdStep(
          { n, lr: a.lr as number, momentum, dampening: (a.dampening as number) ?? 0, weightDecay: (a.weight_decay as number) ?? 0, nesterov: (a.nesterov as boolean) ?? false, firstStep: t === 0 },
          param, grad, momentum ? buf : null,
        );
      }
      close(param, get(optim, c.tensors[`p${t + 1}`]).data, 1e-6, 1e-5, `θ after step ${t + 1}`);
    }
  });
}

test.run();
