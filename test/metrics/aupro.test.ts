// AUPRO on hand-built masks whose answer is worked out in the comments, plus region
// labelling with 8-connectivity.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { aupro, labelRegions } from '../../src/metrics/index.js';

const close = (a: number, b: number, what = '') => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} vs ${b}`);

// Image 0 (4 × 4) mask, rows top to bottom:
//   1 1 0 0
//   1 0 0 0
//   0 1 0 0
//   0 0 0 0
// The 3-pixel blob (0,0),(0,1),(1,0) touches (2,1) only at a corner (via (1,0)), so with
// 8-connectivity it is ONE region of 4 pixels (with 4-connectivity it would be two).
// Image 1 (4 × 4) is normal. Normal pixels: 12 + 16 = 28.
//
// Scores: the corner pixel (2,1) = 0.9; the blob = 0.3; image 1: 7 pixels 0.5, 7 pixels
// 0.3 (tied with the blob), 2 pixels 0; image 0's normal pixels 0.
// Curve (FPR, PRO), descending thresholds:
//   start            (0, 0)
//   t = 0.9          (0, 1/4)          one of the region's 4 pixels
//   t = 0.5          (7/28, 1/4) = (0.25, 0.25)
//   t = 0.3          (14/28, 1) = (0.5, 1)   blob and 7 normals enter together
//   t = 0            (1, 1)
// Area to 0.3: 0.25·0.25 = 0.0625; then PRO rises with slope (1 − 0.25)/0.25 = 3, so
// PRO(0.3) = 0.25 + 3·0.05 = 0.4 and the piece 0.25→0.3 adds 0.05·(0.25 + 0.4)/2 =
// 0.01625. AUPRO(0.3) = 0.07875 / 0.3 = 0.2625.
// Limit 1: 0.0625 + 0.25·(0.25 + 1)/2 + 0.5·1 = 0.71875.
// Limit 0.25 (on a point): 0.0625 / 0.25 = 0.25. Limit 0.05: 0.05·0.25 / 0.05 = 0.25.
// With 4-connectivity PRO at t = 0.9 would be (1 + 0)/2 = 0.5 and AUPRO(0.3) larger.
function diagonalExample() {
  const mask0 = Uint8Array.from([1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  const mask1 = new Uint8Array(16);
  const map0 = new Float32Array(16);
  map0[9] = 0.9; // (2,1)
  map0[0] = map0[1] = map0[4] = 0.3;
  const map1 = new Float32Array(16);
  for (let i = 0; i < 7; i++) map1[i] = 0.5;
  for (let i = 7; i < 14; i++) map1[i] = 0.3;
  return { maps: [map0, map1], masks: [mask0, mask1] };
}

test('diagonally touching pixels form one region (8-connectivity)', () => {
  const { masks } = diagonalExample();
  const r = labelRegions(masks[0], 4, 4);
  assert.equal(r.sizes, [4]);
  assert.is(r.labels[9], r.labels[0]);
});

test('hand-built example: AUPRO at several limits', () => {
  const { maps, masks } = diagonalExample();
  close(aupro(maps, masks), 0.2625, 'default limit 0.3');
  close(aupro(maps, masks, { fprLimit: 0.3 }), 0.2625, 'limit 0.3');
  close(aupro(maps, masks, { fprLimit: 1 }), 0.71875, 'limit 1');
  close(aupro(maps, masks, { fprLimit: 0.25 }), 0.25, 'limit on a curve point');
  close(aupro(maps, masks, { fprLimit: 0.05 }), 0.25, 'limit 0.05');
});

// Two regions of different size, each counting equally. 4 × 4 mask: A = (0,0) (1 pixel),
// B = rows 2–3 × cols 2–3 (4 pixels), not touching. 11 normal pixels.
// Scores: A 0.8, B 0.6, normals: 2 at 0.7, 9 at 0.1.
//   t = 0.8 → (0, 0.5)   [A covered, B not: (1 + 0)/2]
//   t = 0.7 → (2/11, 0.5)
//   t = 0.6 → (2/11, 1)
//   t = 0.1 → (1, 1)
// Area to 0.3: (2/11)·0.5 + (0.3 − 2/11)·1 = 0.3 − 1/11; AUPRO = 1 − 1/3.3 = 23/33.
test('regions count equally regardless of size', () => {
  const mask = new Uint8Array(16);
  mask[0] = 1;
  for (const i of [10, 11, 14, 15]) mask[i] = 1;
  const map = new Float64Array(16).fill(0.1);
  map[0] = 0.8;
  for (const i of [10, 11, 14, 15]) map[i] = 0.6;
  map[3] = map[12] = 0.7;
  close(aupro([map], [mask]), 23 / 33, 'two regions');
  assert.equal(labelRegions(mask, 4, 4).sizes, [1, 4]);
});

test('perfect detector scores 1, a fully inverted one 0; value stays in [0, 1]', () => {
  const mask = Uint8Array.from([0, 1, 1, 0, 0, 0, 0, 0, 1]);
  const good = Float32Array.from(mask, (m, i) => (m ? 1 + i : i * 0.01));
  const bad = Float32Array.from(mask, (m, i) => (m ? -1 - i : i * 0.01));
  for (const limit of [0.05, 0.3, 1]) {
    close(aupro([good], [mask], { fprLimit: limit }), 1, `perfect at ${limit}`);
    close(aupro([bad], [mask], { fprLimit: limit }), 0, `inverted at ${limit}`);
  }
  // All scores equal: the curve is the single segment (0,0)→(1,1), so AUPRO(L) = L/2.
  const flat = new Float32Array(9).fill(0.5);
  close(aupro([flat], [mask], { fprLimit: 0.3 }), 0.15, 'constant map');
});

test('non-square maps need the width; regions never span images', () => {
  // 2 × 3 images; the anomalous pixels at the right edge of row 0 and the left edge of
  // row 1 are adjacent in the flat array but not in the image: two regions.
  const mask = Uint8Array.from([0, 0, 1, 1, 0, 0]);
  const map = Float32Array.from([0, 0, 0.9, 0.2, 0.5, 0.1]);
  assert.throws(() => aupro([map], [mask]), /width/);
  const r = labelRegions(mask, 3, 2);
  assert.equal(r.sizes, [1, 1]);
  // t=0.9 → (0, 0.5); t=0.5 → (1/4, 0.5); t=0.2 → (1/4, 1); then → (1, 1).
  // Area to 0.3: 0.25·0.5 + 0.05·1 = 0.175 → 0.175/0.3.
  close(aupro([map], [mask], { width: 3 }), 0.175 / 0.3, 'width 3');
});

test('fprLimit outside (0, 1] is refused', () => {
  const { maps, masks } = diagonalExample();
  for (const bad of [0, -0.1, 1.5, NaN]) assert.throws(() => aupro(maps, masks, { fprLimit: bad }), /fprLimit/);
});

test.run();
