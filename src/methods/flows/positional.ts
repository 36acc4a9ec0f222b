// CFlow-AD's positional condition (gudovskiy/cflow-ad `custom_models/utils.py
// positionalencoding2d`): a fixed P-channel map of the position, the same for every image,
// that each fiber carries into its conditional flow.
//
// Half of the channels encode the column x, half the row y; frequencies ω_i = 10000^(−2i/(P/2)),
// i = 0..P/4−1:
//   channel 2i, 2i+1             sin(x·ω_i), cos(x·ω_i)    (constant along a column)
//   channel P/2 + 2i, P/2 + 2i+1  sin(y·ω_i), cos(y·ω_i)    (constant along a row)
// The reference computes ω and the products in float32 (torch.arange · exp(...)); so does this
// file, so the phases match it to the last bit before sin/cos.

/** CFlow-AD's condition width P. */
export const CFLOW_CONDITION = 128;

/** [P, H, W] row-major: the positional map of an H × W feature grid. P must be a multiple of 4. */
export function positionalEncoding2d(P: number, H: number, W: number): Float32Array {
  if (!Number.isInteger(P) || P < 4 || P % 4 !== 0) throw new RangeError(`positionalEncoding2d: P must be a positive multiple of 4, got ${P}`);
  if (!Number.isInteger(H) || !Number.isInteger(W) || H < 1 || W < 1) throw new RangeError(`positionalEncoding2d: H and W must be positive integers, got ${H} × ${W}`);
  const half = P / 2;
  const f = Math.fround;
  // div_term = exp(arange(0, half, 2) · −(ln 10⁴ / half)), every step in float32 as torch does.
  const k = f(-(Math.log(1e4) / half));
  const omega = new Float32Array(half / 2);
  for (let i = 0; i < omega.length; i++) omega[i] = f(Math.exp(f(2 * i * k)));
  const out = new Float32Array(P * H * W);
  const hw = H * W;
  for (let i = 0; i < omega.length; i++) {
    for (let y = 0; y < H; y++) {
      const py = f(y * omega[i]);
      const sy = Math.sin(py);
      const cy = Math.cos(py);
      for (let x = 0; x < W; x++) {
        const px = f(x * omega[i]);
        const o = y * W + x;
        out[2 * i * hw + o] = Math.sin(px);
        out[(2 * i + 1) * hw + o] = Math.cos(px);
        out[(half + 2 * i) * hw + o] = sy;
        out[(half + 2 * i + 1) * hw + o] = cy;
      }
    }
  }
  return out;
}

/**
 * The conditions of the B·H·W fibers of a batch in fiber order (b, h, w) as [B·H·W, P]: row
 * e = b·H·W + h·W + w is the map's column (h, w) — the reference's
 * `p.reshape(B, P, S).transpose(1, 2).reshape(E, P)`.
 */
export function fiberConditions(P: number, B: number, H: number, W: number): Float32Array {
  const map = positionalEncoding2d(P, H, W);
  const hw = H * W;
  const out = new Float32Array(B * hw * P);
  for (let s = 0; s < hw; s++) for (let c = 0; c < P; c++) out[s * P + c] = map[c * hw + s];
  for (let b = 1; b < B; b++) out.copyWithin(b * hw * P, 0, hw * P);
  return out;
}
