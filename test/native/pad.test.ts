// pad2d (constant, reflect, replicate) forward and backward against the ts reference.
import type { Pad2dParams } from '../../src/backend/types.js';
import { equalInts, native, nativeSuite, near, rand, ref, rng } from './helpers.js';

const { it, run } = nativeSuite('native pad');

it('pad2d constant / reflect / replicate and backward', () => {
  let seed = 1;
  for (const mode of ['constant', 'reflect', 'replicate'] as const) {
    for (const [H, W, top, bottom, left, right] of [[5, 7, 1, 2, 3, 0], [4, 4, 3, 3, 3, 3], [16, 9, 16, 0, 0, 8]]) {
      if (mode === 'reflect' && (top >= H || bottom >= H || left >= W || right >= W)) continue;
      const p: Pad2dParams = { NC: 3, H, W, top, bottom, left, right, mode, value: mode === 'constant' ? 0.5 : 0 };
      const r = rng(seed++);
      const x = rand(r, 3 * H * W);
      const OH = H + top + bottom;
      const OW = W + left + right;
      const y0 = new Float32Array(3 * OH * OW);
      const y1 = new Float32Array(3 * OH * OW);
      ref.pad2d(p, x, y0);
      native.pad2d(p, x, y1);
      near(y1, y0, 0, `pad2d ${mode} ${H}x${W}`);
      const dy = rand(r, y0.length);
      const dx0 = new Float32Array(x.length);
      const dx1 = new Float32Array(x.length).fill(NaN);
      ref.pad2dBackward(p, dy, dx0);
      native.pad2dBackward(p, dy, dx1);
      near(dx1, dx0, 1e-6, `pad2dBackward ${mode} ${H}x${W}`);
    }
  }
});

run();
