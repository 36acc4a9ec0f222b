// FAE's image scores.
//
// Official (FeliMe/feature-autoencoder, FeatureReconstructor.predict_anomaly): inside the
// foreground — the pixels where the [0, 1] input is > 0, i.e. where the library's [-1, 1]
// input is > −1 — take q = torch.quantile(map, 0.9) of the upsampled map and average the
// values strictly above q. torch.quantile is reproduced as PyTorch 1.13 computes it in float32
// (rank = 0.9·(n − 1) rounded to float32, linear interpolation by its lerp), so the set of
// values above q is the same as the reference's, ties included.
// Two cases the reference leaves undefined (an error or NaN there) get a value here:
// - an image without foreground (all pixels at −1): the whole map is used;
// - no value strictly above q (a constant map, or few distinct values): the score is q.
// Colour input (the reference takes one channel): a pixel is foreground when any channel is
// above −1.
//
// FAE-AUCp (mahfuzmohammad/AUCp): the mean of the channel-mean map before upsampling.

const f32 = Math.fround;

/** torch.quantile(values, q) with linear interpolation, in PyTorch 1.13's float32 arithmetic; sorts `values` in place. */
export function torchQuantile(values: Float32Array, q: number): number {
  const n = values.length;
  if (n === 0) throw new RangeError('torchQuantile: no values');
  values.sort();
  const rank = f32(f32(q) * (n - 1));
  const below = Math.floor(rank);
  const above = Math.ceil(rank);
  const w = f32(rank - below);
  const a = values[below];
  const b = values[above];
  // at::native lerp: self + w·(end − self) for |w| < 0.5, else end − (end − self)·(1 − w).
  return w < 0.5 ? f32(a + f32(w * f32(b - a))) : f32(b - f32(f32(b - a) * f32(1 - w)));
}

/** Mean of the values strictly above their q-quantile (q itself when none is). */
export function meanAboveQuantile(values: Float32Array, q = 0.9): number {
  const sorted = values.slice();
  const t = torchQuantile(sorted, q);
  let sum = 0;
  let count = 0;
  for (let i = sorted.length - 1; i >= 0 && sorted[i] > t; i--) {
    sum += sorted[i];
    count++;
  }
  return count ? sum / count : t;
}

/**
 * The official score of each map: maps [B·S·S] (upsampled to the input size), images
 * [B·C·S·S] in [-1, 1] giving the foreground.
 */
export function foregroundTopScores(maps: Float32Array, images: Float32Array, b: number, channels: number, size: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(b);
  for (let i = 0; i < b; i++) {
    const map = maps.subarray(i * plane, (i + 1) * plane);
    const roi = new Float32Array(plane);
    let n = 0;
    for (let p = 0; p < plane; p++) {
      let fg = false;
      for (let c = 0; c < channels && !fg; c++) fg = images[(i * channels + c) * plane + p] > -1;
      if (fg) roi[n++] = map[p];
    }
    out[i] = meanAboveQuantile(n ? roi.subarray(0, n) : map, 0.9);
  }
  return out;
}

/** FAE-AUCp's score: the mean of each [h·w] map (before upsampling). */
export function meanScores(maps: Float32Array, b: number): Float32Array {
  const per = maps.length / b;
  const out = new Float32Array(b);
  for (let i = 0; i < b; i++) {
    let s = 0;
    for (let j = i * per; j < (i + 1) * per; j++) s += maps[j];
    out[i] = s / per;
  }
  return out;
}
