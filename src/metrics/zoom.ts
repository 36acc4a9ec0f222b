// SciPy's ndimage.zoom on one 2-D map, as the one-stage SSL reference resizes its score
// maps (order 3, cubic B-spline) and masks (order 0) to 64 × 64 before ⌈Dice⌉
// (methods.md §9.4, quirk sslDiceZoom64). Semantics of scipy.ndimage.zoom 1.10 with its
// defaults (mode 'constant', grid_mode false, prefilter true), checked against SciPy in
// test/metrics/zoom.test.ts (fixture from scripts/make-zoom-fixtures.py):
//
// - output shape: given (SciPy: round(shape · factor));
// - output pixel k of an axis samples input coordinate k · (in − 1)/(out − 1) (corners
//   aligned; an output side of 1 samples coordinate 0);
// - order 3: the input is first turned into cubic B-spline coefficients in float64 along
//   each axis (pole √3 − 2, gain 6, mirror-symmetric initial conditions: SciPy's
//   spline_filter for mode 'constant'), then each output value is Σ c · w_y · w_x over the
//   4 × 4 taps around the coordinate, taps past an edge mirrored (−1 → 1, n → n − 2);
//   coordinates past the last sample (rounding) give 0, as mode 'constant' does;
// - order 0: the nearest sample, floor(coordinate + 0.5);
// - the result has the input's type: float32 values rounded from the float64 sum.

export type ZoomOrder = 0 | 3;

/** The value SciPy's map_coordinate gives a coordinate in mode 'constant': −1 when outside. */
function inside(cc: number, len: number): number {
  // SciPy 1.10 (ni_interpolation.c, NI_EXTEND_CONSTANT): outside when cc < 0 or cc > len − 1.
  return cc < 0 || cc > len - 1 ? -1 : cc;
}

/** The mirrored index SciPy uses for taps past an edge (ni_interpolation.c, NI_ZoomShift). */
function mirror(idx: number, len: number): number {
  if (len <= 1) return 0;
  const s2 = 2 * len - 2;
  if (idx < 0) {
    idx = s2 * Math.trunc(-idx / s2) + idx;
    return idx <= 1 - len ? idx + s2 : -idx;
  }
  if (idx >= len) {
    idx -= s2 * Math.trunc(idx / s2);
    if (idx >= len) idx = s2 - idx;
  }
  return idx;
}

const POLE = Math.sqrt(3) - 2;

/** In place: cubic B-spline coefficients of one line with stride, SciPy's apply_filter with mirror initial conditions. */
function splineLine(c: Float64Array, offset: number, stride: number, n: number): void {
  if (n <= 1) return;
  const z = POLE;
  const gain = (1 - z) * (1 - 1 / z);
  for (let i = 0; i < n; i++) c[offset + i * stride] *= gain;
  // _init_causal_mirror
  const at = (i: number) => offset + i * stride;
  let zi = z;
  const zn1 = Math.pow(z, n - 1);
  c[at(0)] = c[at(0)] + zn1 * c[at(n - 1)];
  for (let i = 1; i < n - 1; i++) {
    c[at(0)] += zi * (c[at(i)] + zn1 * c[at(n - 1 - i)]);
    zi *= z;
  }
  c[at(0)] /= 1 - zn1 * zn1;
  for (let j = 1; j < n; j++) c[at(j)] += z * c[at(j - 1)];
  // _init_anticausal_mirror
  c[at(n - 1)] = (z * c[at(n - 2)] + c[at(n - 1)]) * z / (z * z - 1);
  for (let j = n - 2; j >= 0; j--) c[at(j)] = z * (c[at(j + 1)] - c[at(j)]);
}

interface AxisPlan {
  /** Per output index, its order + 1 input indices (mirrored past the edges). */
  taps: Int32Array;
  /** Per output index, its order + 1 spline weights. */
  weights: Float64Array;
  /** Per output index: 1 when its coordinate lies outside the input (value 0). */
  outside: Uint8Array;
}

function axisPlan(inLen: number, outLen: number, order: ZoomOrder): AxisPlan {
  const k = order + 1;
  const taps = new Int32Array(outLen * k);
  const weights = new Float64Array(outLen * k);
  const outside = new Uint8Array(outLen);
  const zoom = outLen > 1 ? (inLen - 1) / (outLen - 1) : 0;
  for (let o = 0; o < outLen; o++) {
    const cc = inside(o * zoom, inLen);
    if (cc <= -1) {
      outside[o] = 1;
      continue;
    }
    const start = order & 1 ? Math.floor(cc) - (order >> 1) : Math.floor(cc + 0.5) - (order >> 1);
    for (let h = 0; h < k; h++) taps[o * k + h] = mirror(start + h, inLen);
    if (order === 3) {
      // get_spline_interpolation_weights: delta to the middle knot.
      const y = cc - Math.floor(cc);
      const z = 1 - y;
      const w = o * k;
      weights[w] = (z * z * z) / 6;
      weights[w + 1] = (y * y * (y - 2) * 3 + 4) / 6;
      weights[w + 2] = (z * z * (z - 2) * 3 + 4) / 6;
      weights[w + 3] = 1 - weights[w] - weights[w + 1] - weights[w + 2];
    } else {
      weights[o * k] = 1;
    }
  }
  return { taps, weights, outside };
}

function checkSide(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`zoom: ${name} must be a positive integer, got ${v}`);
}

/**
 * scipy.ndimage.zoom(map, (outHeight/height, outWidth/width), order) on one row-major
 * height × width map; returns outHeight × outWidth values of the input's type.
 */
export function zoom2d<T extends Float32Array | Float64Array | Uint8Array>(
  map: T,
  height: number,
  width: number,
  outHeight: number,
  outWidth: number,
  order: ZoomOrder,
): T {
  checkSide('height', height);
  checkSide('width', width);
  checkSide('outHeight', outHeight);
  checkSide('outWidth', outWidth);
  if (order !== 0 && order !== 3) throw new RangeError(`zoom: order must be 0 or 3, got ${order}`);
  if (order === 3 && map instanceof Uint8Array) throw new TypeError('zoom: order 3 needs a float map (Float32Array or Float64Array); uint8 maps take order 0');
  if (map.length !== height * width) throw new RangeError(`zoom: the map has ${map.length} values, not ${height} × ${width}`);
  const ctor = map.constructor as new (n: number) => T;
  const out = new ctor(outHeight * outWidth);
  // order 0 reads the input itself; order 3 the float64 spline coefficients.
  let c: ArrayLike<number> = map;
  if (order === 3) {
    const coef = Float64Array.from(map);
    for (let x = 0; x < width; x++) splineLine(coef, x, width, height); // axis 0
    for (let y = 0; y < height; y++) splineLine(coef, y * width, 1, width); // axis 1
    c = coef;
  }
  const py = axisPlan(height, outHeight, order);
  const px = axisPlan(width, outWidth, order);
  const k = order + 1;
  for (let oy = 0; oy < outHeight; oy++) {
    for (let ox = 0; ox < outWidth; ox++) {
      if (py.outside[oy] || px.outside[ox]) {
        out[oy * outWidth + ox] = 0;
        continue;
      }
      let t = 0;
      for (let hy = 0; hy < k; hy++) {
        const row = py.taps[oy * k + hy] * width;
        const wy = py.weights[oy * k + hy];
        for (let hx = 0; hx < k; hx++) {
          let v = c[row + px.taps[ox * k + hx]];
          if (order > 0) v = v * wy * px.weights[ox * k + hx];
          t += v;
        }
      }
      out[oy * outWidth + ox] = t;
    }
  }
  return out;
}
