// coresetGreedy (greedy k-center) against the ts reference.
import { equalInts, native, nativeSuite, near, rand, ref, rng } from './helpers.js';

const { it, run } = nativeSuite('native coreset');

it('coresetGreedy matches the reference selection', () => {
  for (const [n, d, m, start] of [[1, 3, 1, 0], [50, 2, 10, 7], [2000, 16, 40, 123], [513, 128, 20, 512]]) {
    const r = rng(n + d);
    const pts = rand(r, n * d);
    const s0 = new Int32Array(m), s1 = new Int32Array(m);
    ref.coresetGreedy({ n, d, m, start }, pts, s0);
    native.coresetGreedy({ n, d, m, start }, pts, s1);
    equalInts(s1, s0, `coreset n=${n} d=${d} m=${m}`);
  }
});

run();
