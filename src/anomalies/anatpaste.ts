// AnatPaste (methods.md §7.3), as MedIAnomaly's ssl/two_stage/anatpaste.py makes it (adapted
// there from jun-sato/AnatPaste): a CutPaste-Normal patch, turned grey, pasted through a
// blurred ellipse or rectangle of random opacity, restricted to an "anatomy" mask found by
// thresholding.
//
// Anatomy mask (the reference's LungSegment, on Pillow's L of the image):
//   g = CLAHE (scikit-image 0.19 equalize_adapthist: kernel H/8 × W/8, clip 0.01, 256 bins,
//       2^14 grey levels, float32 interpolation, truncation, rescaled to [0, 1]);
//   t = Otsu (scikit-image threshold_otsu, 256 bins over [min, max]);
//   F = 0 < g ≤ t (the reference compares g with the boolean g > t: quirk anatPasteDarkRegion,
//       default true; false uses g > t);
//   opening 3 × 3, clear_border (8-connected components touching the border removed),
//   dilation 3 × 3, 8-connected labels; for each region in label order whose area — counted
//   when reached, after earlier regions' boxes were cleared, as scikit-image's lazy
//   regionprops does — is under 400 px, its bounding box is set to 0; A = label > 0.
// Paste centre: a uniformly drawn pixel of A; when A is empty, x, y uniform in {0, …, 254}
// (quirk anatPasteEmptyRange255, default true; false draws in {0, …, W − 1} × {0, …, H − 1})
// and A becomes everything. Blend mask: blur radius in {0, …, 14}, opacity v in
// {150, …, 254}, ellipse or rectangle (½ each) with a 10-px margin (an inverted box, for
// patches under 20 px, draws nothing), Pillow's GaussianBlur (three extended box blurs),
// times A. The patch (Pillow L) is pasted on a black canvas at (x − w//2, y − h//2) and
// that canvas through the mask onto the image (Pillow's paste: (a·(255 − m) + b·m)/255
// rounded). Label = the mask / 255 (soft).
//
// Float images: the geometry and mask are computed on their uint8 version; the blend is
// float. The ellipse is rasterised by pixel centres inside the box's inscribed ellipse;
// Pillow's ellipse rasteriser can differ on boundary pixels.
import type { Generator } from '../engine/random.js';
import { checkImage, clampByte, toGrey, toUint8, type PixelImage, type SyntheticAnomaly } from './image.js';
import { colorJitter } from './jitter.js';
import { cropZero, drawCutSize } from './cutpaste.js';
import { randint, uniform } from './sampling.js';

export interface AnatPasteOptions {
  areaRatio?: [number, number];
  aspectRatio?: number;
  /** Blur radius drawn in [min, max). Default [0, 15]. */
  blurRatio?: [number, number];
  /** Opacity drawn in [min, max). Default [150, 255]. */
  maskRatio?: [number, number];
  /** Shape margin in pixels. Default 10. */
  margin?: number;
  colorJitter?: number | null;
  /** Minimum region area kept in the anatomy mask. Default 400. */
  areaThreshold?: number;
  /** Quirk: the anatomy mask is 0 < CLAHE ≤ Otsu (dark region). Default true; false: CLAHE > Otsu. */
  anatPasteDarkRegion?: boolean;
  /** Quirk: an empty mask draws the centre in {0..254}. Default true; false: the whole image. */
  anatPasteEmptyRange255?: boolean;
}

export interface AnatPasteResult extends SyntheticAnomaly {
  /** The paste centre (x, y), the patch size, and whether the anatomy mask was empty. */
  center: { x: number; y: number };
  cut: { width: number; height: number };
  emptyAnatomy: boolean;
  shape: 'ellipse' | 'rectangle';
}

const NR_OF_GRAY = 1 << 14;

/** scikit-image 0.19 `equalize_adapthist(img, clip_limit=0.01, nbins=256)` on a uint8 grey plane; float64 in [0, 1]. */
export function clahe(img: Uint8Array, W: number, H: number, clipLimit = 0.01, nbins = 256): Float64Array {
  // img_as_uint, then rescale to 0..2^14 − 1 and round half to even
  let mn = 255;
  let mx = 0;
  for (let i = 0; i < img.length; i++) {
    mn = Math.min(mn, img[i]!);
    mx = Math.max(mx, img[i]!);
  }
  const im = new Int32Array(W * H);
  for (let i = 0; i < im.length; i++) {
    if (mn === mx) im[i] = Math.min(NR_OF_GRAY - 1, img[i]! * 257);
    else {
      const v = ((img[i]! - mn) / (mx - mn)) * (NR_OF_GRAY - 1);
      const r = Math.round(v);
      im[i] = Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
    }
  }
  const kh = Math.max(Math.floor(H / 8), 1);
  const kw = Math.max(Math.floor(W / 8), 1);
  const padT = kh >> 1;
  const padL = kw >> 1;
  const padB = ((kh - (H % kh)) % kh) + Math.ceil(kh / 2);
  const padR = ((kw - (W % kw)) % kw) + Math.ceil(kw / 2);
  const PH = H + padT + padB;
  const PW = W + padL + padR;
  const reflect = (i: number, n: number): number => {
    // numpy 'reflect' (edge not repeated), period 2(n − 1)
    if (n === 1) return 0;
    const p = 2 * (n - 1);
    let k = ((i % p) + p) % p;
    if (k >= n) k = p - k;
    return k;
  };
  const binSize = 1 + Math.floor(NR_OF_GRAY / nbins);
  const pad = new Int32Array(PH * PW);
  for (let y = 0; y < PH; y++) {
    const sy = reflect(y - padT, H);
    for (let x = 0; x < PW; x++) pad[y * PW + x] = Math.floor(im[sy * W + reflect(x - padL, W)]! / binSize);
  }
  const nhY = Math.floor(PH / kh) - 1;
  const nhX = Math.floor(PW / kw) - 1;
  const kernel = kh * kw;
  const clim = clipLimit > 0 ? Math.max(1, Math.trunc(clipLimit * kernel)) : kernel;
  // per-block mappings, edge-padded by one block on each side
  const maps: Int32Array[] = [];
  for (let by = 0; by < nhY; by++) {
    for (let bx = 0; bx < nhX; bx++) {
      const hist = new Int32Array(nbins);
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) hist[pad[((kh >> 1) + by * kh + y) * PW + (kw >> 1) + bx * kw + x]!]!++;
      clipHistogram(hist, clim);
      const m = new Int32Array(nbins);
      let cum = 0;
      const scale = (NR_OF_GRAY - 1) / kernel;
      for (let b = 0; b < nbins; b++) {
        cum += hist[b]!;
        m[b] = Math.trunc(Math.min(NR_OF_GRAY - 1, cum * scale));
      }
      maps.push(m);
    }
  }
  const mapAt = (my: number, mx2: number): Int32Array => maps[Math.min(nhY - 1, Math.max(0, my - 1)) * nhX + Math.min(nhX - 1, Math.max(0, mx2 - 1))]!;
  const nyP = Math.floor(PH / kh);
  const nxP = Math.floor(PW / kw);
  const res = new Float64Array(W * H);
  let rmin = Infinity;
  let rmax = -Infinity;
  for (let by = 0; by < nyP; by++) {
    for (let bx = 0; bx < nxP; bx++) {
      const m00 = mapAt(by, bx);
      const m01 = mapAt(by, bx + 1);
      const m10 = mapAt(by + 1, bx);
      const m11 = mapAt(by + 1, bx + 1);
      for (let y = 0; y < kh; y++) {
        const py = by * kh + y;
        const oy = py - padT;
        if (oy < 0 || oy >= H) continue;
        const fy = y / kh;
        for (let x = 0; x < kw; x++) {
          const px = bx * kw + x;
          const ox = px - padL;
          if (ox < 0 || ox >= W) continue;
          const fx = x / kw;
          const v = pad[py * PW + px]!;
          // float32 accumulation in the order of np.ndindex(2, 2): (0,0), (0,1), (1,0), (1,1)
          let acc = Math.fround(m00[v]! * ((1 - fx) * (1 - fy)));
          acc = Math.fround(acc + Math.fround(m01[v]! * (fx * (1 - fy))));
          acc = Math.fround(acc + Math.fround(m10[v]! * ((1 - fx) * fy)));
          acc = Math.fround(acc + Math.fround(m11[v]! * (fx * fy)));
          const r = Math.trunc(acc); // astype(uint16)
          res[oy * W + ox] = r;
          rmin = Math.min(rmin, r);
          rmax = Math.max(rmax, r);
        }
      }
    }
  }
  // rescale_intensity to [0, 1]
  if (rmax > rmin) for (let i = 0; i < res.length; i++) res[i] = (res[i]! - rmin) / (rmax - rmin);
  else for (let i = 0; i < res.length; i++) res[i] = Math.min(1, Math.max(0, res[i]!));
  return res;
}

/** scikit-image's clip_histogram (integer redistribution of the excess), in place. */
function clipHistogram(hist: Int32Array, clip: number): void {
  const n = hist.length;
  let nExcess = 0;
  for (let i = 0; i < n; i++)
    if (hist[i]! > clip) {
      nExcess += hist[i]! - clip;
      hist[i] = clip;
    }
  const binIncr = Math.floor(nExcess / n);
  const upper = clip - binIncr;
  for (let i = 0; i < n; i++)
    if (hist[i]! < upper) {
      hist[i]! += binIncr;
      nExcess -= binIncr;
    }
  for (let i = 0; i < n; i++)
    if (hist[i]! >= upper && hist[i]! < clip) {
      // mid bins (tested after the low bins were raised, as NumPy's masks are)
      nExcess += hist[i]! - clip;
      hist[i] = clip;
    }
  // bins still under the limit, kept up to date (NumPy recounts them at every index: same value)
  let under = 0;
  for (let i = 0; i < n; i++) if (hist[i]! < clip) under++;
  while (nExcess > 0) {
    const prev = nExcess;
    for (let index = 0; index < n; index++) {
      const step = Math.max(1, Math.floor(under / nExcess));
      let added = 0;
      for (let i = index; i < n; i += step)
        if (hist[i]! < clip) {
          if (++hist[i]! === clip) under--;
          added++;
        }
      nExcess -= added;
      if (nExcess <= 0) break;
    }
    if (prev === nExcess) break;
  }
}

/** scikit-image 0.19 `threshold_otsu(g, nbins=256)` on a float plane (NumPy histogram over [min, max]). */
export function otsuThreshold(g: ArrayLike<number>, nbins = 256): number {
  const first = g[0]!;
  let same = true;
  let mn = Infinity;
  let mx = -Infinity;
  for (let i = 0; i < g.length; i++) {
    if (g[i] !== first) same = false;
    mn = Math.min(mn, g[i]!);
    mx = Math.max(mx, g[i]!);
  }
  if (same) return first;
  const step = (mx - mn) / nbins;
  const edges = new Float64Array(nbins + 1);
  for (let i = 0; i <= nbins; i++) edges[i] = i * step + mn;
  edges[nbins] = mx;
  const counts = new Float64Array(nbins);
  for (let i = 0; i < g.length; i++) {
    const v = g[i]!;
    let k = Math.trunc(((v - mn) / (mx - mn)) * nbins); // NumPy: (x − first) / (last − first) · bins
    if (k === nbins) k--;
    if (v < edges[k]!) k--;
    else if (k !== nbins - 1 && v >= edges[k + 1]!) k++;
    counts[k]!++;
  }
  const centers = new Float64Array(nbins);
  for (let i = 0; i < nbins; i++) centers[i] = (edges[i]! + edges[i + 1]!) / 2;
  const w1 = new Float64Array(nbins);
  const m1 = new Float64Array(nbins);
  let cw = 0;
  let cm = 0;
  for (let i = 0; i < nbins; i++) {
    cw += counts[i]!;
    cm += counts[i]! * centers[i]!;
    w1[i] = cw;
    m1[i] = cm / cw;
  }
  const w2 = new Float64Array(nbins);
  const m2 = new Float64Array(nbins);
  cw = 0;
  cm = 0;
  for (let i = nbins - 1; i >= 0; i--) {
    cw += counts[i]!;
    cm += counts[i]! * centers[i]!;
    w2[i] = cw;
    m2[i] = cm / cw;
  }
  let best = -Infinity;
  let idx = 0;
  for (let i = 0; i < nbins - 1; i++) {
    const v = w1[i]! * w2[i + 1]! * (m1[i]! - m2[i + 1]!) ** 2;
    if (v > best) {
      best = v;
      idx = i;
    }
  }
  return centers[idx]!;
}

/** 3 × 3 grey erosion (min) or dilation (max) of a 0/1 plane, borders replicated (ndimage 'reflect'); separable. */
function morph3(m: Uint8Array, W: number, H: number, dilate: boolean): Uint8Array {
  const tmp = new Uint8Array(W * H);
  const out = new Uint8Array(W * H);
  const op = dilate ? (a: number, b: number, c: number) => a | b | c : (a: number, b: number, c: number) => a & b & c;
  for (let y = 0; y < H; y++) {
    const r = y * W;
    for (let x = 0; x < W; x++) tmp[r + x] = op(m[r + (x > 0 ? x - 1 : 0)]!, m[r + x]!, m[r + (x < W - 1 ? x + 1 : W - 1)]!);
  }
  for (let y = 0; y < H; y++) {
    const up = (y > 0 ? y - 1 : 0) * W;
    const dn = (y < H - 1 ? y + 1 : H - 1) * W;
    const r = y * W;
    for (let x = 0; x < W; x++) out[r + x] = op(tmp[up + x]!, tmp[r + x]!, tmp[dn + x]!);
  }
  return out;
}

/** 8-connected component labels in raster order of first pixel (scikit-image `label`), 0 = background. */
function label8(m: Uint8Array, W: number, H: number): { labels: Int32Array; count: number } {
  const labels = new Int32Array(W * H);
  let count = 0;
  const stack = new Int32Array(W * H);
  let top = 0;
  for (let p = 0; p < W * H; p++) {
    if (!m[p] || labels[p]) continue;
    count++;
    labels[p] = count;
    stack[top++] = p;
    while (top) {
      const q = stack[--top]!;
      const qy = Math.floor(q / W);
      const qx = q % W;
      for (let dy = -1; dy <= 1; dy++)
        for (let dx = -1; dx <= 1; dx++) {
          const y = qy + dy;
          const x = qx + dx;
          if (y < 0 || y >= H || x < 0 || x >= W) continue;
          const r = y * W + x;
          if (m[r] && !labels[r]) {
            labels[r] = count;
            stack[top++] = r;
          }
        }
    }
  }
  return { labels, count };
}

/** The reference's LungSegment on a uint8 grey plane: the anatomy mask (0/1). */
export function anatomyMask(grey: Uint8Array, W: number, H: number, options: { darkRegion?: boolean; areaThreshold?: number } = {}): Uint8Array {
  const g = clahe(grey, W, H);
  const t = otsuThreshold(g);
  const F = new Uint8Array(W * H);
  const dark = options.darkRegion ?? true;
  for (let i = 0; i < F.length; i++) F[i] = dark ? (g[i]! > 0 && g[i]! <= t ? 1 : 0) : g[i]! > t ? 1 : 0;
  const opened = morph3(morph3(F, W, H, false), W, H, true);
  // clear_border: drop 8-connected components touching the one-pixel frame
  const { labels: l1, count: c1 } = label8(opened, W, H);
  const touch = new Uint8Array(c1 + 1);
  for (let x = 0; x < W; x++) (touch[l1[x]!] = 1), (touch[l1[(H - 1) * W + x]!] = 1);
  for (let y = 0; y < H; y++) (touch[l1[y * W]!] = 1), (touch[l1[y * W + W - 1]!] = 1);
  const cleared = new Uint8Array(W * H);
  for (let i = 0; i < cleared.length; i++) cleared[i] = opened[i] && !touch[l1[i]!] ? 1 : 0;
  const dil = morph3(cleared, W, H, true);
  const { labels, count } = label8(dil, W, H);
  // bounding boxes from the labelling; areas counted lazily in the modified image
  const box = new Int32Array(4 * (count + 1));
  for (let k = 1; k <= count; k++) {
    box[4 * k] = H;
    box[4 * k + 1] = W;
    box[4 * k + 2] = -1;
    box[4 * k + 3] = -1;
  }
  for (let y = 0; y < H; y++)
    for (let x = 0; x < W; x++) {
      const k = labels[y * W + x]!;
      if (!k) continue;
      box[4 * k] = Math.min(box[4 * k]!, y);
      box[4 * k + 1] = Math.min(box[4 * k + 1]!, x);
      box[4 * k + 2] = Math.max(box[4 * k + 2]!, y + 1);
      box[4 * k + 3] = Math.max(box[4 * k + 3]!, x + 1);
    }
  const minArea = options.areaThreshold ?? 400;
  const full = new Int32Array(count + 1);
  for (let i = 0; i < labels.length; i++) full[labels[i]!]!++;
  const clearedBoxes: number[][] = [];
  for (let k = 1; k <= count; k++) {
    const r0 = box[4 * k]!;
    const c0 = box[4 * k + 1]!;
    const r1 = box[4 * k + 2]!;
    const c1b = box[4 * k + 3]!;
    let area = full[k]!;
    if (clearedBoxes.some(([a0, b0, a1, b1]) => a0! < r1 && r0 < a1! && b0! < c1b && c0 < b1!)) {
      // an earlier cleared box overlaps: count what is left, as the lazy regionprops area does
      area = 0;
      for (let y = r0; y < r1; y++) for (let x = c0; x < c1b; x++) if (labels[y * W + x] === k) area++;
    }
    if (area < minArea) {
      for (let y = r0; y < r1; y++) labels.fill(0, y * W + c0, y * W + c1b);
      clearedBoxes.push([r0, c0, r1, c1b]);
    }
  }
  const A = new Uint8Array(W * H);
  for (let i = 0; i < A.length; i++) A[i] = labels[i]! > 0 ? 1 : 0;
  return A;
}

/** Pillow's GaussianBlur(radius) on an L plane: three extended box blurs per axis (ImagingGaussianBlur). */
export function pilGaussianBlur(src: Uint8Array, W: number, H: number, radius: number): Uint8Array {
  if (radius <= 0) return src.slice();
  const passes = 3;
  const sigma2 = Math.fround((radius * radius) / passes);
  const L = Math.fround(Math.sqrt(12 * sigma2 + 1));
  const l = Math.floor((L - 1) / 2);
  let a = Math.fround((2 * l + 1) * (l * (l + 1) - 3 * sigma2));
  a = Math.fround(a / (6 * (sigma2 - (l + 1) * (l + 1))));
  const fr = Math.fround(l + a);
  const r = Math.trunc(fr);
  const ww = Math.trunc(Math.fround(16777216 / Math.fround(fr * 2 + 1)));
  const fw = Math.trunc((16777216 - (r * 2 + 1) * ww) / 2);
  // one pass along lines of length n, stride `step` between elements, `lines` lines `lineStep` apart
  const pass = (src: Uint8Array, n: number, step: number, lines: number, lineStep: number): Uint8Array => {
    const out = new Uint8Array(src.length);
    const buf = new Int32Array(n + 2 * r + 4);
    const off = r + 2;
    for (let l = 0; l < lines; l++) {
      const base = l * lineStep;
      for (let i = -off; i < n + off; i++) buf[i + off] = src[base + (i < 0 ? 0 : i >= n ? n - 1 : i) * step]!;
      let acc = 0;
      for (let k = -r - 1; k < r; k++) acc += buf[k + off]!; // the window of x = −1
      for (let x = 0; x < n; x++) {
        acc += buf[x + r + off]! - buf[x - r - 1 + off]!;
        const bulk = acc * ww + (buf[x - r - 1 + off]! + buf[x + r + 1 + off]!) * fw;
        out[base + x * step] = Math.floor((bulk + 8388608) / 16777216);
      }
    }
    return out;
  };
  let cur = src;
  for (let p = 0; p < passes; p++) cur = pass(cur, W, 1, H, W);
  for (let p = 0; p < passes; p++) cur = pass(cur, H, W, W, 1);
  return cur;
}

/** Fills an ellipse or rectangle with corners (x0, y0), (x1, y1) inclusive; nothing when the box is inverted. */
function drawShape(plane: Uint8Array, W: number, H: number, shape: 'ellipse' | 'rectangle', x0: number, y0: number, x1: number, y1: number, value: number): void {
  if (x1 < x0 || y1 < y0) return;
  const cx = (x0 + x1 + 1) / 2;
  const cy = (y0 + y1 + 1) / 2;
  const ax = (x1 + 1 - x0) / 2;
  const ay = (y1 + 1 - y0) / 2;
  for (let y = Math.max(0, y0); y <= Math.min(H - 1, y1); y++)
    for (let x = Math.max(0, x0); x <= Math.min(W - 1, x1); x++) {
      if (shape === 'ellipse') {
        const u = (x + 0.5 - cx) / ax;
        const v = (y + 0.5 - cy) / ay;
        if (u * u + v * v > 1) continue;
      }
      plane[y * W + x] = value;
    }
}

/** AnatPaste (§7.3) on a grey or RGB image; returns the augmented image and its soft label (the blend mask / 255). */
export function anatpaste(image: PixelImage, rng: Generator, options: AnatPasteOptions = {}): AnatPasteResult {
  const who = 'anatpaste';
  checkImage(image, who);
  if (!rng || typeof (rng as Generator).uniform !== 'function') throw new TypeError(`${who}: rng must be the engine's seeded Generator (new Generator(seed))`);
  const W = image.width;
  const H = image.height;
  if (W < 8 || H < 8) throw new RangeError(`${who}: image is ${W} × ${H}; AnatPaste needs at least 8 × 8 (CLAHE works on H/8 × W/8 tiles)`);
  const areaRatio = options.areaRatio ?? [0.02, 0.15];
  const aspectRatio = options.aspectRatio ?? 0.3;
  const blurRatio = options.blurRatio ?? [0, 15];
  const maskRatio = options.maskRatio ?? [150, 255];
  const margin = options.margin ?? 10;
  for (const [n, v] of [
    ['areaRatio', areaRatio],
    ['blurRatio', blurRatio],
    ['maskRatio', maskRatio],
  ] as const) {
    if (!Array.isArray(v) || v.length !== 2 || !v.every(Number.isFinite) || v[0] > v[1] || v[0] < 0) throw new RangeError(`${who}: ${n} must be [min, max] with 0 ≤ min ≤ max, got ${JSON.stringify(v)}`);
  }
  if (!(blurRatio[1] > blurRatio[0]) || !(maskRatio[1] > maskRatio[0]) || maskRatio[1] > 256) throw new RangeError(`${who}: blurRatio and maskRatio are integer ranges [min, max) with min < max (maskRatio max ≤ 256)`);
  if (!(aspectRatio > 0 && aspectRatio <= 1)) throw new RangeError(`${who}: aspectRatio must be in (0, 1], got ${String(aspectRatio)}`);
  if (!Number.isInteger(margin) || margin < 0) throw new RangeError(`${who}: margin must be a non-negative integer, got ${String(margin)}`);
  const jitter = options.colorJitter === undefined ? 0.1 : options.colorJitter;
  if (jitter !== null && (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 0.5))) throw new RangeError(`${who}: colorJitter must be null or a number in [0, 0.5], got ${String(jitter)}`);

  const { cutW, cutH } = drawCutSize(rng, W, H, areaRatio, aspectRatio);
  const fromY = Math.trunc(uniform(rng, 0, W - cutH));
  const fromX = Math.trunc(uniform(rng, 0, H - cutW));
  let patch = cropZero(image, fromX, fromY, fromX + cutW, fromY + cutH);
  if (jitter !== null && patch.width > 0 && patch.height > 0) patch = colorJitter(patch, rng, { brightness: jitter, contrast: jitter, saturation: jitter, hue: jitter });

  const greyU8 = toUint8(toGrey(image)).data as Uint8Array;
  let A = anatomyMask(greyU8, W, H, { darkRegion: options.anatPasteDarkRegion ?? true, areaThreshold: options.areaThreshold ?? 400 });
  let total = 0;
  for (let i = 0; i < A.length; i++) total += A[i]!;
  let x: number;
  let y: number;
  const empty = total === 0;
  if (!empty) {
    let k = rng.int(total);
    let idx = 0;
    for (; idx < A.length; idx++) if (A[idx] && k-- === 0) break;
    x = idx % W;
    y = Math.floor(idx / W);
  } else {
    const r255 = options.anatPasteEmptyRange255 ?? true;
    x = r255 ? randint(rng, 0, 255) : randint(rng, 0, W);
    y = r255 ? randint(rng, 0, 255) : randint(rng, 0, H);
    A = new Uint8Array(W * H).fill(1);
  }
  const blur = randint(rng, blurRatio[0], blurRatio[1]);
  const opacity = randint(rng, maskRatio[0], maskRatio[1]);
  const shape = rng.uniform() < 0.5 ? 'ellipse' : 'rectangle';
  const m = new Uint8Array(W * H);
  drawShape(m, W, H, shape, x - (cutW >> 1) + margin, y - (cutH >> 1) + margin, x + (cutW >> 1) - margin, y + (cutH >> 1) - margin, opacity);
  const blurred = pilGaussianBlur(m, W, H, blur);
  const mask = new Uint8Array(W * H);
  for (let i = 0; i < mask.length; i++) mask[i] = A[i] ? blurred[i]! : 0;

  // the patch in Pillow L on a black canvas
  const pGrey = toGrey(patch);
  const canvas = new Float64Array(W * H);
  const ox = x - (cutW >> 1);
  const oy = y - (cutH >> 1);
  const float = image.data instanceof Float32Array;
  for (let py = 0; py < pGrey.height; py++)
    for (let px = 0; px < pGrey.width; px++) {
      const cx = ox + px;
      const cy = oy + py;
      if (cx < 0 || cx >= W || cy < 0 || cy >= H) continue;
      canvas[cy * W + cx] = float ? pGrey.data[py * pGrey.width + px]! : pGrey.data[py * pGrey.width + px]!;
    }
  const out: PixelImage = { ...image, data: image.data.slice() };
  const C = image.channels;
  const label = new Float32Array(W * H);
  for (let p = 0; p < W * H; p++) {
    const mv = mask[p]!;
    label[p] = mv / 255;
    if (!mv) continue;
    for (let c = 0; c < C; c++) {
      const a = image.data[p * C + c]!;
      const b = canvas[p]!;
      if (float) out.data[p * C + c] = (a * (255 - mv) + b * mv) / 255;
      else {
        const t = a * (255 - mv) + b * mv + 128; // Pillow's DIV255 rounding
        out.data[p * C + c] = clampByte(((t >> 8) + t) >> 8);
      }
    }
  }
  return { image: out, label, center: { x, y }, cut: { width: cutW, height: cutH }, emptyAnatomy: empty, shape };
}
