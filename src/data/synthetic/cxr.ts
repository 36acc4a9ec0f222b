// `synth-cxr`: frontal (PA) chest radiographs.
//
// The film is modelled as an attenuation map, bright where X-rays are absorbed:
// soft tissue of the torso (thicker, so brighter, towards the midline), arms and
// neck, the mediastinum with the spine and the trachea, the heart shadow (two
// thirds to the patient's left, i.e. image right), the hemidiaphragm domes (the
// right one higher) with the abdomen below, posterior ribs (arches that rise from
// the spine and fall at the chest wall), faint anterior ribs, clavicles, hila and
// vascular markings, and two dark lung fields with soft edges and sharp
// costophrenic angles. An exposure curve (contrast, gamma, offset) and quantum
// noise make the pixel values. Opacities (consolidation: soft, patchy, bright
// blobs) replace lung air, so they show only inside the lung fields.
//
// Frame: x to image right (patient's left), y down, units of half the image
// width; per side, x' = ±x is the distance from the midline, lateral positive.

import { addValueNoise, fillNormalPairs } from './noise.js';
import type { Rng } from './rng.js';
import { scratch } from './scratch.js';
import { Blob, clamp, Harmonics, inside, lerp, smoothstep, spline } from './shape.js';
import type { Rendered } from './render.js';
import { lesionContrastScale, lesionSizeScale } from './render.js';

interface Chest {
  cx: number;
  cy: number;
  /** In-plane rotation of the patient (radians). */
  theta: number;
  /** Field-of-view scale: > 1 means a larger patient in the frame. */
  scale: number;
  /** Lung half-width (lateral border at the widest point), per side. */
  lungW: [number, number];
  apexY: number;
  /** Dome tops: right hemidiaphragm (image left) higher than the left. */
  domeY: [number, number];
  /** Heart width factor (cardiothoracic ratio). */
  heart: number;
  /** Width factor of the upper mediastinum (vascular pedicle). */
  pedicle: number;
  ribY0: number;
  ribSpacing: number;
  ribRise: number;
  ribFall: number;
  soft: number;
  lungDark: number;
  bone: number;
  breast: number;
  bodyW: number;
  gastric: number;
  contrast: number;
  gamma: number;
  offset: number;
  sigma: number;
}

function drawChest(rng: Rng): Chest {
  const theta = rng.range(-0.07, 0.07);
  const lung = rng.range(0.92, 1.05);
  const domeR = rng.range(0.36, 0.46);
  return {
    cx: 0.04 * rng.normal(),
    cy: 0.04 * rng.normal(),
    theta,
    scale: rng.range(0.92, 1.05),
    lungW: [0.79 * lung * rng.range(0.97, 1.03), 0.77 * lung * rng.range(0.97, 1.03)],
    apexY: -rng.range(0.72, 0.8),
    domeY: [domeR, domeR + rng.range(0.03, 0.08)],
    heart: rng.range(0.88, 1.12),
    pedicle: rng.range(0.9, 1.1),
    ribY0: -rng.range(0.7, 0.76),
    ribSpacing: rng.range(0.125, 0.145),
    ribRise: rng.range(0.35, 0.45),
    ribFall: rng.range(1.1, 1.4),
    soft: rng.range(0.46, 0.54),
    lungDark: rng.range(0.42, 0.5),
    bone: rng.range(0.07, 0.11),
    breast: rng.chance(0.4) ? rng.range(0.03, 0.07) : 0,
    bodyW: rng.range(0.9, 0.97),
    gastric: rng.chance(0.6) ? rng.range(0.06, 0.12) : 0,
    contrast: rng.range(0.85, 1.15),
    gamma: rng.range(0.8, 1.2),
    offset: rng.range(-0.05, 0.05),
    sigma: rng.range(0.008, 0.022),
  };
}

export function renderCxr(size: number, rng: Rng, abnormal: boolean, difficulty: number): Rendered {
  const C = drawChest(rng.fork('anatomy'));
  const n = size * size;
  const F = rng.fork('fields');
  const vessels = addValueNoise(scratch('cxr.vessels', n), size, F, 14);
  const mottle = addValueNoise(scratch('cxr.mottle', n), size, F, 6);
  // Paint upright on the body's own axes, where every term splits into a per-row
  // and a per-column part; the patient's rotation is applied afterwards by resampling.
  const atten = scratch('cxr.atten', n);
  const lungW = scratch('cxr.lung', n);
  paintChest(size, C, vessels, mottle, atten, lungW);
  const lesion = abnormal ? paintOpacity(size, C, rng.fork('lesion'), difficulty, atten, lungW) : null;
  // One resampling pass turns the film, the lung map and the lesion map together.
  const sources = lesion ? [atten, lungW, lesion] : [atten, lungW];
  const turned = rotate(size, C.theta, sources, ['cxr.turnedAtten', 'cxr.turnedLung', 'cxr.turnedLesion']);
  const image = expose(size, C, turned[0]!, rng.fork('noise'));
  const region = binarise(turned[1]!);
  let mask: Uint8Array | null = null;
  if (lesion) {
    const soft = turned[2]!;
    mask = binarise(soft);
    // Resampling can shave a sliver off the lung edge; keep the mask inside the lung.
    let count = 0;
    let best = -1;
    for (let p = 0; p < n; p++) {
      mask[p] &= region[p]!;
      count += mask[p]!;
      if (region[p] && (best < 0 || soft[p]! > soft[best]!)) best = p;
    }
    // An abnormal image always has a non-empty mask, even when its lesion is tiny.
    if (count === 0 && best >= 0) mask[best] = 1;
  }
  return { image, mask, region };
}

function binarise(a: Float32Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let p = 0; p < a.length; p++) out[p] = a[p] > 0.5 ? 1 : 0;
  return out;
}

/**
 * Rotates size × size maps by theta about the image centre (bilinear, edges clamped)
 * into scratch buffers with the given names; the sampling positions are shared.
 */
function rotate(size: number, theta: number, sources: Float32Array[], names: string[]): Float32Array[] {
  const outs = sources.map((_, k) => scratch(names[k]!, size * size));
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const h = size / 2;
  const last = size - 1;
  for (let i = 0; i < size; i++) {
    const dv = i + 0.5 - h;
    for (let j = 0; j < size; j++) {
      const du = j + 0.5 - h;
      // Source position on the upright grid, in pixel-centre coordinates.
      const sx = clamp(c * du + s * dv + h - 0.5, 0, last);
      const sy = clamp(-s * du + c * dv + h - 0.5, 0, last);
      const j0 = Math.min(Math.floor(sx), last - 1);
      const i0 = Math.min(Math.floor(sy), last - 1);
      const fx = sx - j0;
      const fy = sy - i0;
      const p = i0 * size + j0;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      const o = i * size + j;
      for (let k = 0; k < sources.length; k++) {
        const src = sources[k]!;
        outs[k]![o] = w00 * src[p]! + w01 * src[p + 1]! + w10 * src[p + size]! + w11 * src[p + size + 1]!;
      }
    }
  }
  return outs;
}

/** Body-frame coordinate of pixel centre k along either axis (upright grid). */
function bodyCoord(C: Chest, k: number, size: number, centre: number): number {
  return (((k + 0.5) / size) * 2 - 1 - centre) / C.scale;
}

/** Lung outline constants for side s: a superellipse centred low in the chest. */
function lungShape(C: Chest, s: 0 | 1): { aw: number; xc: number; yc: number; ah: number } {
  const w = C.lungW[s];
  const aw = 0.5 * (w - LUNG_MEDIAL) + 0.03;
  const yc = C.domeY[s] + 0.04;
  return { aw, xc: w - aw, yc, ah: yc - C.apexY };
}

const LUNG_MEDIAL = 0.1;

/** Height of side s's hemidiaphragm at x'. */
function domeAt(C: Chest, s: 0 | 1, xl: number): number {
  const d = xl - 0.42 * C.lungW[s];
  return C.domeY[s] + 0.9 * d * d + (d > 0 ? 0.5 * d * d * d : 0);
}

/**
 * How much of a lung field (0..1, before the heart and mediastinum cover it) lies at
 * (x', y) on side s (0 = patient's right = image left, 1 = patient's left).
 * Outline: a superellipse (exponent 4: rounded apex, nearly straight lateral wall)
 * whose widest part reaches down to the costophrenic angle, where the dome cuts it.
 */
function lungField(C: Chest, s: 0 | 1, xl: number, y: number, soft: number): number {
  const L = lungShape(C, s);
  const dx = (xl - L.xc) / L.aw;
  const dy = (y - L.yc) / L.ah;
  return lungFieldFrom(dx * dx * dx * dx, dy * dy * dy * dy, L.aw, xl, domeAt(C, s, xl) - y, soft);
}

function lungFieldFrom(dx4: number, dy4: number, aw: number, xl: number, aboveDome: number, soft: number): number {
  const r = Math.sqrt(Math.sqrt(dx4 + dy4));
  const e = 0.5 * soft;
  return smoothstep(-e, 0.05, (1 - r) * aw) * smoothstep(-e, 0.05, xl - LUNG_MEDIAL) * smoothstep(-e, 0.035, aboveDome);
}

// Half-widths of the cardiomediastinal silhouette at heights ty (0 at the lung apex,
// 1 at that side's dome). Right (image left): superior vena cava, then the right
// atrium. Left (image right): aortic knob, its notch, the pulmonary trunk, the left
// atrial appendage, then the left ventricle sloping out to the cardiac apex.
const SIL_T = [[0, 0.3, 0.5, 0.6, 0.72, 0.86, 1.0], [0, 0.28, 0.36, 0.45, 0.55, 0.65, 0.76, 0.88, 1.0]];
const SIL_W = [[0.11, 0.13, 0.15, 0.19, 0.235, 0.255, 0.24], [0.11, 0.2, 0.17, 0.2, 0.24, 0.33, 0.405, 0.44, 0.43]];

function silhouette(C: Chest, s: 0 | 1, y: number): number {
  const ty = (y - C.apexY) / (C.domeY[s] - C.apexY);
  const w = spline(SIL_T[s], SIL_W[s], ty);
  // Upper half scales with the pedicle, lower half with the heart.
  const k = lerp(C.pedicle, C.heart, smoothstep(0.45, 0.7, ty));
  return 0.1 + (w - 0.1) * k;
}

/** Terms that depend on the body-frame column alone. */
class Columns {
  readonly x: Float64Array;
  readonly xl: Float64Array;
  readonly side: Uint8Array;
  readonly dome: Float64Array;
  readonly lungDx4: Float64Array;
  readonly ribBase: Float64Array;
  readonly ribFade: Float64Array;
  readonly antRib: Float64Array;
  readonly clavLine: Float64Array;
  readonly clavTh: Float64Array;
  readonly clavFade: Float64Array;
  readonly spine: Float64Array;
  readonly trachea: Float64Array;
  readonly breast: Float64Array;
  readonly hilumX: Float64Array;
  readonly central: Float64Array;

  constructor(C: Chest, size: number, soft: number) {
    const f = () => new Float64Array(size);
    this.x = f();
    this.xl = f();
    this.side = new Uint8Array(size);
    this.dome = f();
    this.lungDx4 = f();
    this.ribBase = f();
    this.ribFade = f();
    this.antRib = f();
    this.clavLine = f();
    this.clavTh = f();
    this.clavFade = f();
    this.spine = f();
    this.trachea = f();
    this.breast = f();
    this.hilumX = f();
    this.central = f();
    const shapes = [lungShape(C, 0), lungShape(C, 1)];
    for (let j = 0; j < size; j++) {
      const x = bodyCoord(C, j, size, C.cx);
      const xl = Math.abs(x);
      const s: 0 | 1 = x < 0 ? 0 : 1;
      const w = C.lungW[s];
      const L = shapes[s];
      this.x[j] = x;
      this.xl[j] = xl;
      this.side[j] = s;
      this.dome[j] = domeAt(C, s, xl);
      const dx = (xl - L.xc) / L.aw;
      this.lungDx4[j] = dx * dx * dx * dx;
      // Posterior ribs: rib k runs along y = y0 + k·spacing − rise·x' + fall·x'³.
      this.ribBase[j] = C.ribRise * xl - C.ribFall * xl * xl * xl;
      this.ribFade[j] = xl < 0.04 || xl > w + 0.12 ? 0 : smoothstep(0.03, 0.12, xl) * (1 - smoothstep(w - 0.02, w + 0.12, xl));
      // Anterior ribs show lateral of the (radiolucent) costal cartilages.
      this.antRib[j] = smoothstep(0.25, 0.4, xl);
      const t = xl - 0.06;
      this.clavLine[j] = C.apexY + 0.33 - 0.36 * t + 0.28 * t * t;
      this.clavTh[j] = 0.025 + 0.01 * smoothstep(0.4, 0.65, xl); // thicker at the acromial end
      this.clavFade[j] = xl > 0.75 ? 0 : smoothstep(0.05, 0.09, xl) * (1 - smoothstep(0.62, 0.72, xl));
      this.spine[j] = inside(xl, 0.055, soft + 0.01);
      this.trachea[j] = inside(xl, 0.028, soft + 0.01);
      this.breast[j] = smoothstep(0.3, 0.6, xl);
      this.hilumX[j] = (xl - 0.19) * (xl - 0.19);
      this.central[j] = clamp(1 - Math.abs(xl - 0.5 * w) / (0.6 * w), 0, 1);
    }
  }
}

function paintChest(size: number, C: Chest, vessels: Float32Array, mottle: Float32Array, atten: Float32Array, lungW: Float32Array): void {
  const px = 2 / size / C.scale; // one pixel in body-frame units
  const soft = 0.6 * px;
  const col = new Columns(C, size, soft);
  const shapes = [lungShape(C, 0), lungShape(C, 1)];
  const hilumY = [C.apexY + 0.5 * (C.domeY[0] - C.apexY), C.apexY + 0.5 * (C.domeY[1] - C.apexY)];
  const ribEdge = (0.6 * px) / C.ribSpacing;
  const ribTh = 0.36; // rib thickness as a fraction of the spacing
  const carina = C.apexY + 0.55;
  const sil = [0, 0];
  const lungDy4 = [0, 0];
  const hy2 = [0, 0];

  for (let i = 0; i < size; i++) {
    const y = bodyCoord(C, i, size, C.cy);
    // Row terms: torso outline (neck, sloping shoulders, chest wall), arms, the
    // cardiomediastinal silhouette and lung outline on each side, trachea, spine.
    const shoulder = smoothstep(-1.15, -0.7, y);
    const half = lerp(0.3, C.bodyW, shoulder) + 0.04 * smoothstep(-0.2, 1, y);
    const armY = smoothstep(-0.8, -0.5, y) * 0.75;
    for (const s of [0, 1] as const) {
      sil[s] = silhouette(C, s, y);
      const dy = (y - shapes[s].yc) / shapes[s].ah;
      lungDy4[s] = dy * dy * dy * dy;
      hy2[s] = (y - hilumY[s]) * (y - hilumY[s]);
    }
    const breastY = C.breast * smoothstep(0.0, 0.35, y);
    const tracheaY = 0.08 * (1 - smoothstep(carina - 0.05, carina, y));
    const belowCarina = smoothstep(0.0, 0.02, y - carina + 0.02);
    const level = (y - C.apexY) / 0.105; // vertebral levels
    const fl = level - Math.floor(level);
    const disc = 1 - 0.35 * inside(Math.abs(fl - 0.92), 0.06, 0.05);
    const ka0 = (y - C.ribY0 + 0.1) / (C.ribSpacing * 1.25);

    for (let j = 0; j < size; j++) {
      const p = i * size + j;
      const xl = col.xl[j];
      const s = col.side[j] as 0 | 1;
      const w = C.lungW[s];

      const torso = inside(xl, half, soft + 0.015);
      const arm = smoothstep(half + 0.04, half + 0.08, xl) * armY;
      const q = xl / (half + 0.03);
      const thick = q < 1 ? Math.sqrt(1 - q * q) : 0;
      let a = 0.04 + (torso * (0.7 + 0.3 * thick) + arm) * C.soft;

      // Abdomen below the domes (liver on the right), denser than the chest wall.
      const domeLine = col.dome[j];
      const abdomen = smoothstep(domeLine - 0.015, domeLine + 0.05, y) * torso;
      a += (0.14 + 0.04 * smoothstep(0, 0.4, y - domeLine)) * abdomen;

      // Cardiomediastinal silhouette: dense, and it hides the lungs behind it.
      const cover = inside(xl, sil[s], soft + 0.012);
      a += 0.12 * cover * torso * (1 - abdomen);

      // Lungs: air lowers the attenuation, most where the lung is thickest.
      let visible = 0;
      if (y < domeLine + 0.05 && xl > LUNG_MEDIAL - soft) {
        const field = lungFieldFrom(col.lungDx4[j], lungDy4[s], shapes[s].aw, xl, domeLine - y, soft);
        visible = field * (1 - cover);
        if (visible > 0) {
          // Vascular markings: a ridge network (|noise| near 0) fanning out from the
          // hila, densest centrally; the hila themselves are dense.
          const d2 = col.hilumX[j] + hy2[s];
          const hilum = d2 < 0.08 ? Math.exp(-d2 / 0.01) : 0;
          const periphery = clamp(1 - Math.sqrt(d2) / (0.85 * w), 0, 1);
          const ridge = 1 - Math.min(1, Math.abs(vessels[p]) * 5);
          const markings = (0.03 + 0.07 * ridge) * (0.2 + periphery) + 0.12 * hilum;
          a -= visible * (C.lungDark * Math.sqrt(field) * (0.8 + 0.2 * col.central[j]) - markings);
        }
      }
      lungW[p] = visible;
      // Breast shadows over the lower lateral lung fields.
      a += breastY * col.breast[j] * torso;
      // Gastric bubble under the left hemidiaphragm.
      if (C.gastric > 0 && s === 1 && abdomen > 0) {
        const gx = (xl - 0.38 * w) / 1.4;
        const gy = y - domeLine - 0.1;
        a -= C.gastric * inside(Math.sqrt(gx * gx + gy * gy), 0.07, 0.03) * abdomen;
      }

      // Bones: ribs show best against lung air; the spine shows through the mediastinum.
      let bone = 0;
      const fade = col.ribFade[j];
      if (fade > 0) {
        const k = (y + col.ribBase[j] - C.ribY0) / C.ribSpacing;
        if (k > -0.2 && k < 9.5) {
          const f = k - Math.floor(k);
          const band = inside(Math.abs(f - ribTh / 2), ribTh / 2, ribEdge);
          // Cortical edges brighter than the marrow.
          bone += band * (0.7 + 0.3 * smoothstep(0.2, 0.45, Math.abs(f - ribTh / 2) / ribTh)) * fade;
        }
        const ka = ka0 - (0.55 * xl) / (C.ribSpacing * 1.25);
        if (ka > 0 && ka < 6) {
          const fa = ka - Math.floor(ka);
          bone += 0.35 * inside(Math.abs(fa - 0.15), 0.12, ribEdge) * col.antRib[j] * fade;
        }
        bone *= (0.45 + 0.55 * visible) * (1 - 0.6 * cover);
      }
      if (col.clavFade[j] > 0) bone += 1.8 * inside(Math.abs(y - col.clavLine[j]), col.clavTh[j], soft) * col.clavFade[j];
      if (col.spine[j] > 0) bone += 0.28 * col.spine[j] * disc;
      a += C.bone * torso * (1 - 0.6 * abdomen) * bone;

      // Trachea down to the carina, then the main bronchi diverging to the hila.
      if (xl < 0.2) {
        a -= tracheaY * col.trachea[j] * torso;
        const bronchus = Math.abs(y - carina - 0.7 * (xl - 0.01)) * 0.8;
        a -= 0.05 * inside(bronchus, 0.018, soft + 0.01) * belowCarina * (1 - smoothstep(0.12, 0.17, xl)) * torso;
      }

      a += 0.012 * mottle[p] * torso;
      atten[p] = a;
    }
  }
}

/** A consolidation in one lung: soft, patchy, brighter than air. Returns its mask (0/1 floats, upright grid). */
function paintOpacity(size: number, C: Chest, rng: Rng, difficulty: number, atten: Float32Array, lungW: Float32Array): Float32Array {
  const n = size * size;
  const patch = addValueNoise(scratch('cxr.patch', n), size, rng, 10);
  const rough = addValueNoise(scratch('cxr.rough', n), size, rng, 7);
  const s = rng.chance(0.55) ? 0 : 1; // the right lung is involved a little more often
  const w = C.lungW[s];
  const r = Math.max(0.22 * lesionSizeScale(difficulty) * rng.range(0.7, 1.3), 3 / size);
  // Centre: a point well inside the chosen lung field, clear of the mediastinum.
  let xl = 0.45 * w;
  let y = 0.5 * (C.apexY + C.domeY[s]);
  for (let tries = 0; tries < 60; tries++) {
    const cx = rng.range(0.15, w - 0.05);
    const cy = rng.range(C.apexY + 0.1, C.domeY[s]);
    if (lungField(C, s, cx, cy, 0) > 0.8 && cx > silhouette(C, s, cy) + 0.5 * r) {
      xl = cx;
      y = cy;
      break;
    }
  }
  const elong = rng.range(0.75, 1.35);
  const blob = new Blob(s === 0 ? -xl : xl, y, r * elong, r / elong, rng.range(0, Math.PI), Harmonics.random(rng, 2, 5, (k) => 0.2 / k));
  const density = 0.66 * lesionContrastScale(difficulty) * rng.range(0.8, 1.2);
  const mask = scratch('cxr.lesion', n);
  for (let i = 0; i < size; i++) {
    const by = bodyCoord(C, i, size, C.cy);
    for (let j = 0; j < size; j++) {
      const p = i * size + j;
      const lung = lungW[p];
      if (lung <= 0) continue;
      const rho = blob.rho(bodyCoord(C, j, size, C.cx), by) + 0.3 * rough[p];
      if (rho >= 1.2) continue;
      // Dense core, soft fading margin, patchy (air bronchograms, sparing).
      const core = 1 - smoothstep(0.55, 1.15, rho);
      atten[p] += density * core * (0.8 + 0.4 * patch[p]) * lung;
      // Soft membership for the resampled mask: 1 inside the outline, fading over a pixel.
      mask[p] = lung > 0.5 ? 1 - smoothstep(0.75, 0.95, rho) : 0;
    }
  }
  return mask;
}

/** Exposure curve, quantum noise and the [-1, 1] window. */
function expose(size: number, C: Chest, atten: Float32Array, rng: Rng): Float32Array {
  const n = size * size;
  const image = new Float32Array(n);
  const na = scratch('cxr.noiseA', n);
  const nb = scratch('cxr.noiseB', n);
  fillNormalPairs(rng, na, nb);
  // The gamma curve through a lookup table: a per-pixel Math.pow cost more than
  // the rest of the exposure step, and the curve is smooth enough to interpolate.
  const LUT = 256;
  const curve = new Float32Array(LUT + 2);
  for (let k = 0; k <= LUT + 1; k++) curve[k] = Math.pow(Math.min(k / LUT, 1), C.gamma);
  for (let p = 0; p < n; p++) {
    const a = clamp(0.45 + C.contrast * (atten[p] - 0.45) + C.offset, 0, 1);
    const f = a * LUT;
    const k = Math.floor(f);
    const g = curve[k] + (curve[k + 1] - curve[k]) * (f - k);
    // Quantum noise, a little stronger where fewer photons arrive (bright areas).
    const val = g + C.sigma * (0.8 + 0.4 * a) * na[p];
    image[p] = clamp(2 * val - 1, -1, 1);
  }
  return image;
}
