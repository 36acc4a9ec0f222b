// adamStep and sgdStep against the ts reference over several steps.
import { native, nativeSuite, near, rand, ref, rng } from './helpers.js';

const { it, run } = nativeSuite('native optimisers');

it('adamStep: plain, weight decay, amsgrad over 5 steps', () => {
  for (const [weightDecay, amsgrad] of [[0, false], [1e-2, false], [1e-4, true]] as const) {
    const n = 10007;
    const r = rng(amsgrad ? 2 : 1);
    const p0 = rand(r, n), p1 = p0.slice();
    const m0 = new Float32Array(n), m1 = new Float32Array(n), v0 = new Float32Array(n), v1 = new Float32Array(n);
    const x0 = amsgrad ? new Float32Array(n) : null, x1 = amsgrad ? new Float32Array(n) : null;
    for (let step = 1; step <= 5; step++) {
      const grad = rand(r, n, -0.1, 0.1);
      const p = { n, lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, step, amsgrad };
      ref.adamStep(p, p0, grad, m0, v0, x0);
      native.adamStep(p, p1, grad, m1, v1, x1);
    }
    const what = `adam wd=${weightDecay} amsgrad=${amsgrad}`;
    near(p1, p0, 1e-6, `${what} param`);
    near(m1, m0, 1e-5, `${what} m`);
    near(v1, v0, 1e-5, `${what} v`);
  }
});

it('sgdStep: plain, momentum + dampening, nesterov + weight decay', () => {
  const variants = [
    { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 },
    { momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 0 },
    { momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 5e-4 },
  ];
  variants.forEach((v, i) => {
    const n = 4099;
    const r = rng(10 + i);
    const p0 = rand(r, n), p1 = p0.slice();
    const b0 = v.momentum ? new Float32Array(n) : null, b1 = v.momentum ? new Float32Array(n) : null;
    for (let step = 0; step < 4; step++) {
      const grad = rand(r, n);
      const p = { n, lr: 0.05, ...v, firstStep: step === 0 };
      ref.sgdStep(p, p0, grad, b0);
      native.sgdStep(p, p1, grad, b1);
    }
    near(p1, p0, 1e-6, `sgd variant ${i} param`);
    if (b0 && b1) near(b1, b0, 1e-6, `sgd variant ${i} buffer`);
  });
});

run();
