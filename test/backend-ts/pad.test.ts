import { test } from 'uvu';
import { pad2d, pad2dBackward } from '../../src/backend/ts/pad.js';
import type { Pad2dParams } from '../../src/backend/types.js';
import { close, closeScalar, dot, randArray, rng } from './helpers.js';

test('pad2d known cases (PyTorch docs semantics): reflect, replicate, constant', () => {
  const x = new Float32Array([1, 2, 3, 4, 5, 6]); // [1, 2, 3]
  const base = { NC: 1, H: 2, W: 3, top: 1, bottom: 0, left: 2, right: 1, value: 0 };
  const y = new Float32Array(3 * 6);
  pad2d({ ...base, mode: 'reflect' }, x, y);
  // reflect mirrors without repeating the edge: row −1 is row 1, column −1 is column 1
  close(y, [6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5], 0, 0, 'reflect');
  pad2d({ ...base, mode: 'replicate' }, x, y);
  close(y, [1, 1, 1, 2, 3, 3, 1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6], 0, 0, 'replicate');
  pad2d({ ...base, mode: 'constant', value: -7 }, x, y);
  close(y, [-7, -7, -7, -7, -7, -7, -7, -7, 1, 2, 3, -7, -7, -7, 4, 5, 6, -7], 0, 0, 'constant');
});

for (const mode of ['constant', 'reflect', 'replicate'] as const)
  test(`pad2dBackward is the adjoint of pad2d (${mode})`, () => {
    const r = rng(mode.length);
    const p: Pad2dParams = { NC: 3, H: 5, W: 4, top: 2, bottom: 3, left: 3, right: 1, mode, value: 0 };
    const x = randArray(r, p.NC * p.H * p.W);
    const y = new Float32Array(p.NC * (p.H + 5) * (p.W + 4));
    pad2d(p, x, y);
    const dy = randArray(r, y.length);
    const dx = new Float32Array(x.length).fill(NaN);
    pad2dBackward(p, dy, dx);
    closeScalar(dot(x, dx), dot(y, dy), 1e-5, '<x, padᵀ dy> vs <pad x, dy>');
  });

test('pad2dBackward reflect folds border gradients onto the mirrored pixels', () => {
  // 1 row [a b c] padded left 2 right 1 in reflect → [c b a b c b]
  const dx = new Float32Array(3);
  pad2dBackward({ NC: 1, H: 1, W: 3, top: 0, bottom: 0, left: 2, right: 1, mode: 'reflect', value: 0 }, new Float32Array([1, 10, 100, 1000, 10000, 100000]), dx);
  close(dx, [100, 1000 + 10 + 100000, 10000 + 1], 0, 0);
});

test.run();
