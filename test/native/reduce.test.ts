// reduceSum, reduceMax, softmax and logSoftmax (with backwards) against the ts reference.
import { equalInts, native, nativeSuite, near, rand, ref, rng } from './helpers.js';

const { it, run } = nativeSuite('native reductions');

const views: Array<[number, number, number]> = [
  [1, 1, 1],
  [7, 13, 1],
  [3, 65536, 1], // a bias gradient summed over a batch of feature maps
  [2, 64, 1024],
  [1, 5, 3000],
  [11, 3, 17],
];

it('reduceSum over mid, inner 1 and > 1', () => {
  views.forEach(([outer, mid, inner], i) => {
    const r = rng(i + 1);
    const x = rand(r, outer * mid * inner);
    const y0 = new Float32Array(outer * inner), y1 = new Float32Array(outer * inner).fill(NaN);
    ref.reduceSum({ outer, mid, inner }, x, y0);
    native.reduceSum({ outer, mid, inner }, x, y1);
    near(y1, y0, 1e-6, `reduceSum ${outer}x${mid}x${inner}`, 1);
  });
});

it('reduceMax: first index on ties, NaN wins', () => {
  views.forEach(([outer, mid, inner], i) => {
    const r = rng(20 + i);
    const x = rand(r, outer * mid * inner);
    for (let t = 0; t < x.length; t += 5) x[t] = Math.round(x[t] * 2) / 2; // ties
    if (x.length > 40) x[37] = NaN;
    const n = outer * inner;
    const y0 = new Float32Array(n), y1 = new Float32Array(n);
    const a0 = new Int32Array(n), a1 = new Int32Array(n);
    ref.reduceMax({ outer, mid, inner }, x, y0, a0);
    native.reduceMax({ outer, mid, inner }, x, y1, a1);
    near(y1, y0, 0, `reduceMax ${outer}x${mid}x${inner}`);
    equalInts(a1, a0, `reduceMax argmax ${outer}x${mid}x${inner}`);
  });
});

it('softmax / logSoftmax and their backwards', () => {
  views.slice(0, 6).forEach(([outer, mid, inner], i) => {
    if (outer * mid * inner > 200000) return;
    const p = { outer, mid, inner };
    const r = rng(40 + i);
    const x = rand(r, outer * mid * inner, -20, 20);
    const dy = rand(r, x.length);
    for (const [f, b] of [['softmax', 'softmaxBackward'], ['logSoftmax', 'logSoftmaxBackward']] as const) {
      const y0 = new Float32Array(x.length), y1 = new Float32Array(x.length);
      ref[f](p, x, y0);
      native[f](p, x, y1);
      near(y1, y0, 2e-6, `${f} ${outer}x${mid}x${inner}`, 1);
      const dx0 = new Float32Array(x.length), dx1 = new Float32Array(x.length);
      ref[b](p, y0, dy, dx0);
      native[b](p, y0, dy, dx1);
      near(dx1, dx0, 2e-6, `${b} ${outer}x${mid}x${inner}`, 1);
    }
  });
});

run();
