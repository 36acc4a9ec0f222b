import { test } from 'uvu';
import { adamStep, sgdStep } from '../../src/backend/ts/optim.js';
import { close } from './helpers.js';

const adam = { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, amsgrad: false };

test('Adam, first step: θ moves by lr·sign(g) (bias correction makes m̂/√v̂ = ±1)', () => {
  const param = new Float32Array([1, -2, 0.5]);
  const grad = new Float32Array([0.3, -4, 1e-3]);
  const m = new Float32Array(3);
  const v = new Float32Array(3);
  adamStep({ ...adam, n: 3, step: 1 }, param, grad, m, v, null);
  close(m, [0.03, -0.4, 1e-4], 1e-9, 1e-6, 'm = (1 − β1)·g');
  close(v, [0.001 * 0.09, 0.001 * 16, 0.001 * 1e-6], 1e-12, 1e-6, 'v = (1 − β2)·g²');
  // |g|/(|g| + eps): 1e-8 matters only for the tiny gradient.
  close(param, [1 - 0.1, -2 + 0.1, 0.5 - (0.1 * 1e-3) / (1e-3 + 1e-8)], 1e-6, 0, 'θ');
});

test('Adam, second step with weight decay, by hand', () => {
  const p = { ...adam, weightDecay: 0.5, n: 1 };
  const param = new Float32Array([2]);
  const m = new Float32Array(1);
  const v = new Float32Array(1);
  // step 1: g = 1 + 0.5·2 = 2; m = 0.2; v = 0.004; θ = 2 − 0.1·(0.2/0.1)/(√0.004/√0.001 + 1e-8) = 1.9
  adamStep({ ...p, step: 1 }, param, new Float32Array([1]), m, v, null);
  close(param, [1.9], 1e-6, 0, 'θ1');
  // step 2: g = −1 + 0.5·1.9 = −0.05; m = 0.9·0.2 − 0.005 = 0.175; v = 0.999·0.004 + 0.001·0.0025
  adamStep({ ...p, step: 2 }, param, new Float32Array([-1]), m, v, null);
  const mm = 0.175;
  const vv = 0.999 * 0.004 + 0.001 * 0.0025;
  const expected = 1.9 - ((0.1 / (1 - 0.81)) * mm) / (Math.sqrt(vv) / Math.sqrt(1 - 0.999 ** 2) + 1e-8);
  close(m, [mm], 1e-7, 1e-6, 'm2');
  close(v, [vv], 1e-9, 1e-6, 'v2');
  close(param, [expected], 1e-6, 1e-6, 'θ2');
});

test('Adam amsgrad uses the running maximum of v', () => {
  const p = { ...adam, amsgrad: true, n: 1 };
  const param = new Float32Array([0]);
  const m = new Float32Array(1);
  const v = new Float32Array(1);
  const vmax = new Float32Array(1);
  adamStep({ ...p, step: 1 }, param, new Float32Array([10]), m, v, vmax);
  close(vmax, [0.1], 1e-9, 1e-6, 'vmax after a large gradient');
  const before = param[0];
  adamStep({ ...p, step: 2 }, param, new Float32Array([0.01]), m, v, vmax);
  // v shrank (0.999·0.1 + tiny) but vmax keeps 0.1
  close(vmax, [0.1], 1e-9, 1e-6, 'vmax kept');
  const mm = 0.9 * 1 + 0.1 * 0.01;
  const expected = before - ((0.1 / (1 - 0.81)) * mm) / (Math.sqrt(0.1) / Math.sqrt(1 - 0.999 ** 2) + 1e-8);
  close(param, [expected], 1e-6, 1e-6, 'θ2');
});

test('SGD plain and with weight decay', () => {
  const param = new Float32Array([1, 2]);
  sgdStep({ n: 2, lr: 0.5, momentum: 0, dampening: 0, weightDecay: 0.1, nesterov: false, firstStep: true }, param, new Float32Array([1, -1]), null);
  close(param, [1 - 0.5 * 1.1, 2 - 0.5 * (-1 + 0.2)], 1e-7, 0);
});

test('SGD momentum: the buffer starts as the gradient (no dampening on the first step)', () => {
  const param = new Float32Array([1]);
  const buf = new Float32Array([123]); // stale contents must be ignored on the first step
  const p = { n: 1, lr: 0.1, momentum: 0.9, dampening: 0.5, weightDecay: 0, nesterov: false };
  sgdStep({ ...p, firstStep: true }, param, new Float32Array([2]), buf);
  close(buf, [2], 0, 0, 'buf1');
  close(param, [0.8], 1e-7, 0, 'θ1');
  sgdStep({ ...p, firstStep: false }, param, new Float32Array([1]), buf);
  close(buf, [0.9 * 2 + 0.5 * 1], 1e-6, 0, 'buf2');
  close(param, [0.8 - 0.1 * 2.3], 1e-6, 0, 'θ2');
});

test('SGD Nesterov: d = g + μ·buf', () => {
  const param = new Float32Array([1]);
  const buf = new Float32Array(1);
  const p = { n: 1, lr: 0.1, momentum: 0.5, dampening: 0, weightDecay: 0, nesterov: true };
  sgdStep({ ...p, firstStep: true }, param, new Float32Array([2]), buf);
  close(param, [1 - 0.1 * (2 + 0.5 * 2)], 1e-6, 0, 'θ1');
  sgdStep({ ...p, firstStep: false }, param, new Float32Array([-1]), buf);
  const b2 = 0.5 * 2 - 1;
  close(buf, [b2], 1e-6, 0, 'buf2');
  close(param, [0.7 - 0.1 * (-1 + 0.5 * b2)], 1e-6, 0, 'θ2');
});

test.run();
