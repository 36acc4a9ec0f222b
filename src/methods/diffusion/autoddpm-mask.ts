// AutoDDPM's mask and stitch (diffusion spec §3.4 steps 2–4; ci-ber/autoDDPM
// `model_zoo/ddpm.py get_autoDDPM_anomaly`), on packed float32 arrays [B, C, H, W] of images
// in [0, 1]:
//
// 2. r = |x − x̂|; per image i, r_i ← clip(r_i / P95(r_i), 0, 1) with P95 numpy's default
//    (linear) percentile over all C·H·W values of the image; m_c = s ⊙ r with s the
//    LPIPS spatial map [B, 1, H, W] (broadcast over channels).
// 3. m_b = [m_c > τ] (strict), τ a scalar for every image (the first public code; HEAD's
//    indexing of a scalar τ crashes, spec §3.5.1) or, for τ = −1, per image
//    τ_i = clip(P95(m_c,i), 0, 1); then one binary dilation with a 3×3 all-ones element
//    (scipy's binary_dilation: out-of-image pixels count as 0).
// 4. x_known = (1 − m) ⊙ x; the stitched image x_known + m ⊙ x̂ is for display.
//
// Float rounding follows the reference's numpy/torch dtypes: r, m_c and the division are
// float32; the percentile is computed in float64 (numpy's lerp) and, as a divisor, cast to
// float32 (numpy's scalar casting); a scalar τ is compared as float32 (torch casts the
// Python float to the tensor's dtype), a per-image τ_i as float64 (a float64 tensor).
//
// P95(r_i) = 0 (x̂ = x on at least 95 % of the image) divides by zero in the reference
// (spec §3.5.6). The guard takes the limit r/ε: pixels with r > 0 become 1, the others 0;
// every other image is divided exactly as the reference does.

/** The pixel values of one image's mask pipeline, all [B, C, H, W] (packed). */
export interface AutoDDPMMask {
  /** Normalised residual r ∈ [0, 1]. */
  residual: Float32Array;
  /** Continuous combined mask m_c = s ⊙ r. */
  combined: Float32Array;
  /** Dilated binary mask m ∈ {0, 1}. */
  mask: Float32Array;
  /** The threshold each image was compared with (τ itself for a scalar τ). */
  thresholds: Float64Array;
}

export interface MaskGeometry {
  batch: number;
  channels: number;
  height: number;
  width: number;
}

/**
 * numpy.percentile(values, q) with the default method 'linear': position q/100·(n − 1) in
 * the sorted values, interpolated with numpy's _lerp (from the upper neighbour when the
 * fraction is ≥ 0.5). NaN anywhere gives NaN, as numpy does.
 */
export function percentileLinear(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) throw new RangeError('percentileLinear: values must not be empty');
  if (!(q >= 0 && q <= 100)) throw new RangeError(`percentileLinear: q must be in [0, 100], got ${q}`);
  const sorted = Float64Array.from(values as ArrayLike<number>);
  for (let i = 0; i < n; i++) if (Number.isNaN(sorted[i])) return NaN;
  sorted.sort();
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const g = pos - lo;
  const a = sorted[lo];
  const b = sorted[hi];
  const diff = b - a;
  return g >= 0.5 ? b - diff * (1 - g) : a + diff * g;
}

function checkGeometry(op: string, g: MaskGeometry): number {
  for (const k of ['batch', 'channels', 'height', 'width'] as const) {
    if (!Number.isInteger(g[k]) || g[k] < 1) throw new RangeError(`${op}: ${k} must be a positive integer, got ${g[k]}`);
  }
  return g.channels * g.height * g.width;
}

function checkLength(op: string, name: string, a: Float32Array, n: number, shape: string): void {
  if (!(a instanceof Float32Array) || a.length !== n) {
    throw new RangeError(`${op}: ${name} must be a Float32Array of ${n} values (${shape}), got ${a instanceof Float32Array ? a.length : typeof a}`);
  }
}

/** r = clip(|x − x̂| / P95(|x − x̂|), 0, 1) per image (step 2, first half). */
export function normalisedResidual(x: Float32Array, xHat: Float32Array, g: MaskGeometry): Float32Array {
  const op = 'normalisedResidual';
  const per = checkGeometry(op, g);
  const shape = `[${g.batch}, ${g.channels}, ${g.height}, ${g.width}]`;
  checkLength(op, 'x', x, g.batch * per, shape);
  checkLength(op, 'xHat', xHat, g.batch * per, shape);
  const r = new Float32Array(x.length);
  for (let k = 0; k < r.length; k++) r[k] = Math.abs(x[k] - xHat[k]);
  for (let i = 0; i < g.batch; i++) {
    const img = r.subarray(i * per, (i + 1) * per);
    const p = Math.fround(percentileLinear(img, 95));
    for (let k = 0; k < per; k++) {
      const q = p > 0 ? Math.fround(img[k] / p) : img[k] > 0 ? 1 : 0;
      img[k] = q > 1 ? 1 : q < 0 ? 0 : q;
    }
  }
  return r;
}

/** m_c = s ⊙ r, s [B, 1, H, W] broadcast over the channels of r [B, C, H, W]. */
export function combinedMask(lpips: Float32Array, residual: Float32Array, g: MaskGeometry): Float32Array {
  const op = 'combinedMask';
  const per = checkGeometry(op, g);
  const plane = g.height * g.width;
  checkLength(op, 'lpips', lpips, g.batch * plane, `[${g.batch}, 1, ${g.height}, ${g.width}]`);
  checkLength(op, 'residual', residual, g.batch * per, `[${g.batch}, ${g.channels}, ${g.height}, ${g.width}]`);
  const m = new Float32Array(residual.length);
  for (let i = 0; i < g.batch; i++) {
    for (let c = 0; c < g.channels; c++) {
      const o = i * per + c * plane;
      const so = i * plane;
      for (let k = 0; k < plane; k++) m[o + k] = Math.fround(lpips[so + k] * residual[o + k]);
    }
  }
  return m;
}

/**
 * The threshold of each image: a scalar τ ≥ 0 (as float32) for all, or τ = −1 for
 * clip(P95(m_c,i), 0, 1) per image.
 */
export function maskThresholds(combined: Float32Array, g: MaskGeometry, threshold: number): Float64Array {
  const op = 'maskThresholds';
  const per = checkGeometry(op, g);
  checkLength(op, 'combined', combined, g.batch * per, `[${g.batch}, ${g.channels}, ${g.height}, ${g.width}]`);
  if (!(threshold >= 0 || threshold === -1) || !Number.isFinite(threshold)) {
    throw new RangeError(`${op}: the masking threshold must be ≥ 0 (one τ for every image) or −1 (each image's 95th percentile), got ${threshold}`);
  }
  const out = new Float64Array(g.batch);
  for (let i = 0; i < g.batch; i++) {
    if (threshold >= 0) out[i] = Math.fround(threshold);
    else out[i] = Math.min(1, Math.max(0, percentileLinear(combined.subarray(i * per, (i + 1) * per), 95)));
  }
  return out;
}

/**
 * One binary dilation of each H×W plane with a 3×3 all-ones element: a pixel is set when
 * any pixel of its 3×3 neighbourhood inside the image is (scipy.ndimage.binary_dilation,
 * border_value 0). `mask` holds 0/1 values; `planes` = B·C.
 */
export function dilate3x3(mask: Float32Array, planes: number, height: number, width: number): Float32Array {
  const op = 'dilate3x3';
  checkGeometry(op, { batch: planes, channels: 1, height, width });
  checkLength(op, 'mask', mask, planes * height * width, `${planes} planes of ${height}×${width}`);
  const out = new Float32Array(mask.length);
  const plane = height * width;
  for (let p = 0; p < planes; p++) {
    const o = p * plane;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (mask[o + y * width + x] === 0) continue;
        const y0 = Math.max(0, y - 1), y1 = Math.min(height - 1, y + 1);
        const x0 = Math.max(0, x - 1), x1 = Math.min(width - 1, x + 1);
        for (let yy = y0; yy <= y1; yy++) for (let xx = x0; xx <= x1; xx++) out[o + yy * width + xx] = 1;
      }
    }
  }
  return out;
}

/** Steps 2–3: residual, combined map, thresholds and the dilated binary mask. */
export function autoddpmMask(x: Float32Array, xHat: Float32Array, lpips: Float32Array, g: MaskGeometry, threshold: number): AutoDDPMMask {
  const residual = normalisedResidual(x, xHat, g);
  const combined = combinedMask(lpips, residual, g);
  const thresholds = maskThresholds(combined, g, threshold);
  const per = g.channels * g.height * g.width;
  const binary = new Float32Array(combined.length);
  for (let i = 0; i < g.batch; i++) {
    const t = thresholds[i];
    for (let k = i * per; k < (i + 1) * per; k++) binary[k] = combined[k] > t ? 1 : 0;
  }
  const mask = dilate3x3(binary, g.batch * g.channels, g.height, g.width);
  return { residual, combined, mask, thresholds };
}

/** Step 4: the known region x_known = (1 − m) ⊙ x and the stitched display image x_known + m ⊙ x̂. */
export function stitch(x: Float32Array, xHat: Float32Array, mask: Float32Array): { known: Float32Array; stitched: Float32Array } {
  const n = x.length;
  checkLength('stitch', 'xHat', xHat, n, 'the shape of x');
  checkLength('stitch', 'mask', mask, n, 'the shape of x');
  const known = new Float32Array(n);
  const stitched = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    known[k] = Math.fround((1 - mask[k]) * x[k]);
    stitched[k] = Math.fround(known[k] + Math.fround(mask[k] * xHat[k]));
  }
  return { known, stitched };
}
