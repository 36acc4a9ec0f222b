// Sinusoidal timestep embedding of the diffusion U-Nets (diffusion spec §7.3): width D, half
// h = ⌊D/2⌋, frequencies f_i = exp(−ln(10000) · i / h) (divided by h, not h − 1), t the raw
// step index. 'sin-cos' (AnoDDPM's PositionalEmbedding): [sin(t f), cos(t f)];
// 'cos-sin' (AutoDDPM, MONAI's get_timestep_embedding): [cos(t f), sin(t f)], a zero column
// appended when D is odd. No parameters, no gradient. Every step is rounded to float32 in the
// order each reference computes it in PyTorch: AnoDDPM rounds ln(10000)/h first and multiplies
// by −i; MONAI multiplies −ln(10000) by i and divides by h after. Only exp itself is the
// correctly rounded value rather than PyTorch's vectorised expf (at most 1 ulp apart).
import { Tensor } from '../tensor.js';

export type TimestepEmbeddingLayout = 'sin-cos' | 'cos-sin';

/** [t.length, dim] embeddings of the timesteps t. */
export function sinusoidalTimestepEmbedding(t: Float32Array | readonly number[], dim: number, layout: TimestepEmbeddingLayout): Tensor {
  const op = 'sinusoidalTimestepEmbedding';
  if (!Number.isInteger(dim) || dim < 2) throw new RangeError(`${op}: dim must be an integer ≥ 2, got ${String(dim)}`);
  if (layout !== 'sin-cos' && layout !== 'cos-sin') throw new RangeError(`${op}: layout must be 'sin-cos' or 'cos-sin', got ${String(layout)}`);
  if (layout === 'sin-cos' && dim % 2 !== 0) throw new RangeError(`${op}: the 'sin-cos' layout (AnoDDPM) needs an even dim, got ${dim}`);
  const n = t.length;
  for (let i = 0; i < n; i++) if (!Number.isFinite(t[i])) throw new RangeError(`${op}: t[${i}] is not finite (${t[i]})`);
  const h = Math.floor(dim / 2);
  const f = new Float64Array(h);
  const ln = Math.log(10000);
  if (layout === 'sin-cos') {
    const step = Math.fround(ln / h);
    for (let i = 0; i < h; i++) f[i] = Math.fround(Math.exp(Math.fround(i * -step)));
  } else {
    const negLn = Math.fround(-ln);
    for (let i = 0; i < h; i++) f[i] = Math.fround(Math.exp(Math.fround(Math.fround(negLn * i) / h)));
  }
  const out = Tensor.empty([n, dim]);
  const o = out.data;
  const sinFirst = layout === 'sin-cos';
  for (let r = 0; r < n; r++) {
    const tr = Math.fround(t[r]);
    const row = r * dim;
    for (let i = 0; i < h; i++) {
      const a = Math.fround(tr * f[i]);
      const s = Math.sin(a), c = Math.cos(a);
      o[row + i] = sinFirst ? s : c;
      o[row + h + i] = sinFirst ? c : s;
    }
    if (dim % 2 === 1) o[row + dim - 1] = 0;
  }
  return out;
}
