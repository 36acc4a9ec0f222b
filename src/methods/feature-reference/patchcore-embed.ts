// PatchCore's patch embedding: layer feature maps → one d-dimensional vector per position of
// the first layer's grid (feature-reference spec §2.2, §2.3).
//
// 'adaptive' aggregation (official patchcore-inspection, `PatchMaker.patchify` + `MeanMapper` +
// `Aggregator`): every layer map is unfolded into p × p neighbourhoods (stride 1, zero padding
// (p − 1)/2), one C·p² vector per position ordered channel, kernel row, kernel column; the
// vector is reduced to `pretrainDim` values by 1-D adaptive average pooling (PyTorch's window
// rule: output i averages inputs [⌊iL/o⌋, ⌈(i + 1)L/o⌉)); deeper layers' grids are resized to
// the first layer's grid bilinearly (align_corners false) element by element; the per-layer
// vectors are concatenated and adaptive-pooled to `targetDim`.
//
// The official code resizes the C·p² unfolded elements before pooling them; resizing and
// pooling are both linear maps acting on different axes, so they commute: here each layer is
// pooled on its own grid first and the `pretrainDim` pooled planes are resized (the same
// numbers up to float32 reordering, with far less work).
//
// 'avgpool' aggregation (anomalib): p × p average pooling (stride 1, padding (p − 1)/2, the
// zero padding counted in the border averages), deeper layers bilinearly resized to the first
// grid, channels concatenated ('concat' merge: d = Σ C).
import { avgPool2d, interpolate, Tensor } from '../../engine/index.js';

export interface EmbedOptions {
  /** 'adaptive' (official) or 'avgpool' (anomalib). */
  aggregation: 'adaptive' | 'avgpool';
  /** Neighbourhood side p (odd). */
  patchSize: number;
  /** Per-layer dimension after adaptive pooling ('adaptive' only). */
  pretrainDim: number;
  /** 'adaptive' (pool the concatenation to targetDim) or 'concat'. */
  merge: 'adaptive' | 'concat';
  targetDim: number;
}

/** PyTorch's adaptive average pooling windows for `length` inputs → `out` outputs: [start, end) per output. */
export function adaptiveWindows(length: number, out: number): { start: Int32Array; end: Int32Array } {
  const start = new Int32Array(out);
  const end = new Int32Array(out);
  for (let i = 0; i < out; i++) {
    start[i] = Math.floor((i * length) / out);
    end[i] = Math.floor(((i + 1) * length + out - 1) / out);
  }
  return { start, end };
}

/**
 * The official per-layer reduction: unfold p × p (zero padding) then adaptive-average-pool the
 * C·p² vector of every position to `dim`; x [B, C, h, w] → [B, dim, h, w].
 */
export function unfoldAdaptivePool(x: Tensor, patchSize: number, dim: number): Tensor {
  const [B, C, h, w] = x.shape;
  const p = patchSize;
  const pad = (p - 1) >> 1;
  const L = C * p * p;
  const { start, end } = adaptiveWindows(L, dim);
  const src = x.data;
  const plane = h * w;
  const out = new Float32Array(B * dim * plane);
  const acc = new Float32Array(plane);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < dim; i++) {
      acc.fill(0);
      for (let j = start[i]; j < end[i]; j++) {
        const c = Math.floor(j / (p * p));
        const k = j - c * p * p;
        const dy = Math.floor(k / p) - pad;
        const dx = (k % p) - pad;
        const base = (b * C + c) * plane;
        const y0 = Math.max(0, -dy);
        const y1 = Math.min(h, h - dy);
        const x0 = Math.max(0, -dx);
        const x1 = Math.min(w, w - dx);
        for (let y = y0; y < y1; y++) {
          const srow = base + (y + dy) * w + dx;
          const arow = y * w;
          for (let xx = x0; xx < x1; xx++) acc[arow + xx] += src[srow + xx];
        }
      }
      const inv = 1 / (end[i] - start[i]);
      const o = (b * dim + i) * plane;
      for (let q = 0; q < plane; q++) out[o + q] = acc[q] * inv;
    }
  }
  return Tensor.fromData(out, [B, dim, h, w]);
}

/** Embedding dimension d for layers with these channel counts. */
export function embedDim(channels: readonly number[], opts: EmbedOptions): number {
  if (opts.merge === 'adaptive') return opts.targetDim;
  if (opts.aggregation === 'adaptive') return channels.length * opts.pretrainDim;
  return channels.reduce((a, c) => a + c, 0);
}

/**
 * The patch embeddings of a batch: maps (in layer order, the first one's grid is the patch
 * grid) → [B·h·w, d] row-major (image-major, then row, then column), and the grid.
 */
export function embedPatches(maps: readonly Tensor[], opts: EmbedOptions): { patches: Float32Array; gh: number; gw: number; dim: number } {
  if (maps.length === 0) throw new RangeError('embedPatches: no feature maps');
  if (opts.patchSize < 1 || opts.patchSize % 2 !== 1) throw new RangeError(`embedPatches: patchSize must be odd, got ${opts.patchSize}`);
  const [B, , gh, gw] = maps[0].shape;
  const pad = (opts.patchSize - 1) >> 1;
  // Per layer: [B, D_l, gh, gw] planes on the reference grid.
  const planes: Tensor[] = maps.map((m) => {
    let y =
      opts.aggregation === 'adaptive'
        ? unfoldAdaptivePool(m, opts.patchSize, opts.pretrainDim)
        : opts.patchSize === 1
          ? m
          : avgPool2d(m, { kernelSize: opts.patchSize, stride: 1, padding: pad, countIncludePad: true });
    if (y.shape[2] !== gh || y.shape[3] !== gw) y = interpolate(y, { size: [gh, gw], mode: 'bilinear', alignCorners: false });
    return y;
  });
  const dims = planes.map((t) => t.shape[1]);
  const total = dims.reduce((a, c) => a + c, 0);
  const d = opts.merge === 'adaptive' ? opts.targetDim : total;
  const P = gh * gw;
  const out = new Float32Array(B * P * d);
  // Concatenated element j → (layer, channel).
  const layerOf = new Int32Array(total);
  const chanOf = new Int32Array(total);
  for (let l = 0, j = 0; l < dims.length; l++) for (let c = 0; c < dims[l]; c++, j++) {
    layerOf[j] = l;
    chanOf[j] = c;
  }
  const plane = (b: number, j: number): { data: Float32Array; off: number } => {
    const l = layerOf[j];
    return { data: planes[l].data, off: (b * dims[l] + chanOf[j]) * P };
  };
  const acc = new Float32Array(P);
  if (opts.merge === 'concat') {
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < total; j++) {
        const { data, off } = plane(b, j);
        for (let q = 0; q < P; q++) out[(b * P + q) * d + j] = data[off + q];
      }
    }
  } else {
    const { start, end } = adaptiveWindows(total, d);
    for (let b = 0; b < B; b++) {
      for (let i = 0; i < d; i++) {
        acc.fill(0);
        for (let j = start[i]; j < end[i]; j++) {
          const { data, off } = plane(b, j);
          for (let q = 0; q < P; q++) acc[q] += data[off + q];
        }
        const inv = 1 / (end[i] - start[i]);
        for (let q = 0; q < P; q++) out[(b * P + q) * d + i] = acc[q] * inv;
      }
    }
  }
  return { patches: out, gh, gw, dim: d };
}
