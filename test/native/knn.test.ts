// knnSearch (exact k-nearest neighbours, squared L2) against the ts reference.
import { equalInts, native, nativeSuite, near, rand, ref, rng } from './helpers.js';

const { it, run } = nativeSuite('native kNN');

it('knnSearch: k = 1 and k > 1, odd sizes, k > nb pads with +inf / -1', () => {
  for (const [nq, nb, d, k] of [[1, 1, 1, 1], [7, 50, 3, 1], [13, 301, 37, 5], [6, 9, 128, 9], [3, 4, 5, 6]]) {
    const r = rng(nq * 7 + nb);
    const q = rand(r, nq * d);
    const b = rand(r, nb * d);
    const d0 = new Float32Array(nq * k), d1 = new Float32Array(nq * k);
    const i0 = new Int32Array(nq * k), i1 = new Int32Array(nq * k);
    ref.knnSearch({ nq, nb, d, k }, q, b, d0, i0);
    native.knnSearch({ nq, nb, d, k }, q, b, d1, i1);
    near(d1, d0, 1e-6, `knn distances ${nq}x${nb}x${d} k=${k}`);
    equalInts(i1, i0, `knn indices ${nq}x${nb}x${d} k=${k}`);
  }
});

it('knnSearch: duplicate base rows tie on the lower index', () => {
  const d = 4;
  const base = new Float32Array([0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]);
  const q = new Float32Array([0.1, 0, 0, 0]);
  const dist = new Float32Array(4), idx = new Int32Array(4);
  native.knnSearch({ nq: 1, nb: 4, d, k: 4 }, q, base, dist, idx);
  equalInts(idx, [0, 2, 1, 3], 'tie order');
});

run();
