// sinusoidalTimestepEmbedding against PyTorch 1.13 (scripts/make-diffusion-fixtures.py):
// AnoDDPM's PositionalEmbedding (sin | cos) and MONAI's get_timestep_embedding (cos | sin,
// zero pad for odd widths), t up to 999. The frequencies follow each reference's float32
// steps; only exp is correctly rounded where PyTorch's vectorised expf may be 1 ulp off, and
// t·f up to ~10³ turns that ulp into differences of a few 1e-6 (3.7e-6 measured).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sinusoidalTimestepEmbedding } from '../../src/engine/index.js';
import { readSafetensors, toFloat32 } from '../../src/nn/safetensors-format.js';
import { near } from '../native/helpers.js';

const raw = readSafetensors(new URL('../fixtures/diffusion/diffusion.safetensors', import.meta.url).pathname).tensors;
const fx = (key: string) => {
  const r = raw.get(key);
  if (!r) throw new Error(`diffusion fixture has no ${key}`);
  return { shape: r.shape, data: toFloat32(r) };
};
const t = fx('temb.t').data;

for (const [layout, tag, dims] of [['sin-cos', 'sincos', [8, 64]], ['cos-sin', 'cossin', [8, 7, 64]]] as const) {
  for (const dim of dims) {
    test(`${layout}, D = ${dim}: PyTorch's values`, () => {
      const e = fx(`temb.${tag}.${dim}`);
      const got = sinusoidalTimestepEmbedding(t, dim, layout);
      assert.equal(got.shape, e.shape);
      near(got.data, e.data, 1e-5, `${layout} ${dim}`);
      // Rows of small t are exact to float32 rounding.
      near(got.data.subarray(0, 2 * dim), e.data.subarray(0, 2 * dim), 1e-6, `${layout} ${dim} t ≤ 1`);
      if (dim % 2 === 1) for (let r = 0; r < t.length; r++) assert.is(got.data[r * dim + dim - 1], 0);
    });
  }
}

test('layout order and t = 0; number[] input', () => {
  const a = sinusoidalTimestepEmbedding([0], 6, 'sin-cos').data;
  assert.equal(Array.from(a), [0, 0, 0, 1, 1, 1]);
  const b = sinusoidalTimestepEmbedding([0], 6, 'cos-sin').data;
  assert.equal(Array.from(b), [1, 1, 1, 0, 0, 0]);
});

test('refusals', () => {
  assert.throws(() => sinusoidalTimestepEmbedding([1], 7, 'sin-cos'), /even/);
  assert.throws(() => sinusoidalTimestepEmbedding([1], 1, 'cos-sin'), /dim/);
  assert.throws(() => sinusoidalTimestepEmbedding([NaN], 4, 'cos-sin'), /finite/);
  assert.throws(() => sinusoidalTimestepEmbedding([1], 4, 'cos' as never), /layout/);
});

test.run();
