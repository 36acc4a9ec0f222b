// bilinear and nearest upsampling, forward and backward against the ts reference.
import type { Upsample2dParams } from '../../src/backend/types.js';
import { equalInts, native, nativeSuite, near, rand, ref, rng } from './helpers.js';

const { it, run } = nativeSuite('native upsample');

it('upsample bilinear (align_corners both ways) and nearest, forward and backward', () => {
  const cases: Array<[number, number, number, number, number?]> = [
    [8, 8, 16, 16], [7, 5, 13, 11], [32, 32, 224, 224], [4, 6, 4, 6], [5, 5, 12, 12, 1 / 2.5],
  ];
  let seed = 40;
  for (const [H, W, OH, OW, sf] of cases) {
    for (const alignCorners of [false, true]) {
      const p: Upsample2dParams = { N: 1, C: 2, H, W, OH, OW, alignCorners, scaleH: sf ?? H / OH, scaleW: sf ?? W / OW };
      const r = rng(seed++);
      const x = rand(r, 2 * H * W);
      const n = 2 * OH * OW;
      for (const kind of ['Bilinear', 'Nearest'] as const) {
        if (kind === 'Nearest' && alignCorners) continue;
        const fwd = `upsample${kind}2d` as const;
        const bwd = `upsample${kind}2dBackward` as const;
        const y0 = new Float32Array(n), y1 = new Float32Array(n);
        ref[fwd](p, x, y0);
        native[fwd](p, x, y1);
        near(y1, y0, 1e-6, `${fwd} ${H}x${W}→${OH}x${OW} ac=${alignCorners}`);
        const dy = rand(r, n);
        const dx0 = new Float32Array(x.length), dx1 = new Float32Array(x.length).fill(NaN);
        ref[bwd](p, dy, dx0);
        native[bwd](p, dy, dx1);
        near(dx1, dx0, 1e-5, `${bwd} ${H}x${W}→${OH}x${OW} ac=${alignCorners}`);
      }
    }
  }
});

run();
