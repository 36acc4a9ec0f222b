// PatchCore's embedding and score-map rules against the reference code, through the fixture
// made by scripts/make-patchcore-fixtures.py: the official aggregation (unfold + adaptive
// pooling, bilinear grid alignment, adaptive merge) and anomalib's (3 × 3 average pooling,
// concatenation) on fixed random layer maps; SciPy's gaussian_filter and anomalib's
// GaussianBlur2d; bilinear and nearest upsampling of a score grid.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';
import { Tensor } from '../../../src/engine/index.js';
import { readSafetensors, toFloat32 } from '../../../src/nn/safetensors.js';
import { adaptiveWindows, embedPatches } from '../../../src/methods/feature-reference/patchcore-embed.js';
import { gaussianBlurMaps, gaussianKernel1d, reflectIndex, upsampleGrid } from '../../../src/methods/feature-reference/maps.js';

const file = fileURLToPath(new URL('../../fixtures/patchcore/patchcore.safetensors', import.meta.url));
const fx = readSafetensors(file).tensors;
function get(name: string): { shape: number[]; data: Float32Array } {
  const t = fx.get(name);
  if (!t) throw new Error(`fixture has no ${name}`);
  return { shape: t.shape, data: toFloat32(t) };
}
function tensor(name: string): Tensor {
  const t = get(name);
  return Tensor.fromData(t.data, t.shape);
}
function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.is(a.length, b.length, `${what}: lengths`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  assert.ok(worst <= tol, `${what}: max difference ${worst} > ${tol}`);
}

test('adaptive windows follow PyTorch (4608 → 1024: five elements, every other pair overlapping; 9216 → 1024: nine)', () => {
  const w = adaptiveWindows(4608, 1024);
  assert.equal([w.start[0], w.end[0], w.start[1], w.end[1], w.start[2], w.end[2]], [0, 5, 4, 9, 9, 14]);
  const w3 = adaptiveWindows(9216, 1024);
  for (let i = 0; i < 1024; i++) assert.is(w3.end[i] - w3.start[i], 9);
  const m = adaptiveWindows(2048, 1024);
  assert.equal([m.start[5], m.end[5]], [10, 12]);
});

test('official embedding (unfold 3×3, adaptive pool per layer, bilinear grid, adaptive merge) equals patchcore-inspection', () => {
  const out = embedPatches([tensor('layer2'), tensor('layer3')], { aggregation: 'adaptive', patchSize: 3, pretrainDim: 64, merge: 'adaptive', targetDim: 48 });
  const want = get('official.patches');
  assert.equal([out.gh, out.gw, out.dim], [8, 8, 48]);
  assert.equal(want.shape, [2 * 64, 48]);
  close(out.patches, want.data, 1e-5, 'official patches');
});

test("anomalib embedding (3×3 avg pool counting padding, bilinear, concatenation) equals anomalib's", () => {
  const out = embedPatches([tensor('layer2'), tensor('layer3')], { aggregation: 'avgpool', patchSize: 3, pretrainDim: 0, merge: 'concat', targetDim: 0 });
  const want = get('anomalib.patches');
  assert.equal(out.dim, 20 + 24);
  close(out.patches, want.data, 1e-5, 'anomalib patches');
});

test('Gaussian kernel: σ = 4 has 33 taps summing to 1', () => {
  const k = gaussianKernel1d(4);
  assert.is(k.length, 33);
  assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-12);
});

test('border rules: SciPy reflect repeats the edge, torch reflect does not', () => {
  assert.equal([-1, -2, 5, 6].map((i) => reflectIndex(i, 5, 'scipy')), [0, 1, 4, 3]);
  assert.equal([-1, -2, 5, 6].map((i) => reflectIndex(i, 5, 'torch')), [1, 2, 3, 2]);
});

test('blur equals SciPy gaussian_filter (σ 4) and anomalib GaussianBlur2d, also below the radius', () => {
  const x = get('blur.input');
  const [n, h, w] = x.shape;
  close(gaussianBlurMaps(x.data, n, h, w, { flavour: 'scipy' }), get('blur.scipy').data, 2e-6, 'scipy');
  // torch sums 1089 float32 products of values up to 3 in one 2-D convolution (bound ≈ 2e-4)
  close(gaussianBlurMaps(x.data, n, h, w, { flavour: 'torch' }), get('blur.torch').data, 1e-5, 'torch');
  const s = get('blur.small.input');
  close(gaussianBlurMaps(s.data, 1, s.shape[1], s.shape[2], { flavour: 'scipy' }), get('blur.small.scipy').data, 2e-6, 'scipy small');
});

test('grid upsampling: bilinear (align_corners false) and nearest equal F.interpolate', () => {
  const g = get('upsample.grid');
  close(upsampleGrid(g.data, 2, 7, 7, 32, 'bilinear'), get('upsample.bilinear').data, 1e-6, 'bilinear');
  close(upsampleGrid(g.data, 2, 7, 7, 32, 'nearest'), get('upsample.nearest').data, 0, 'nearest');
});

test.run();
