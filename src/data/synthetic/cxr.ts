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
  cos: number;
  sin: number;
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
  const lung = rng.range(0.9, 1.08);
  const domeR = rng.range(0.36, 0.46);
  return {
    cx: 0.04 * rng.normal(),
    cy: 0.04 * rng.normal(),
    cos: Math.cos(theta),
    sin: Math.sin(theta),
    scale: rng.range(0.92, 1.05),
    lungW: [0.74 * lung * rng.range(0.97, 1.03), 0.72 * lung * rng.range(0.97, 1.03)],
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
    bodyW: rng.range(0.86, 0.94),
    gastric: rng.chance(0.6) ? rng.range(0.06, 0.12) : 0,
    contrast: rng.range(0.85, 1.15),
    gamma: rng.range(0.8, 1.2),
    offset: rng.range(-0.05, 0.05),
    sigma: rng.range(0.012, 0.03),
  };
}

interface Opacity {
  blob: Blob;
  density: number;
}

export function renderCxr(size: number, rng: Rng, abnormal: boolean, difficulty: number): Rendered {
  const C = drawChest(rng.fork('anatomy'));
  const n = size * size;
  const F = rng.fork('fields');
  const vessels = addValueNoise(scratch('cxr.vessels', n), size, F, 14);
  const mottle = addValueNoise(scratch('cxr.mottle', n), size, F, 6);
  const atten = scratch('cxr.atten', n);
  const lungW = scratch('cxr.lung', n);
  paintChest(size, C, vessels, mottle, atten, lungW);
  const mask = abnormal ? paintOpacity(size, C, rng.fork('lesion'), difficulty, atten, lungW) : null;
  const image = expose(size, C, atten, rng.fork('noise'));
  const region = new Uint8Array(n);
  for (let p = 0; p < n; p++) region[p] = lungW[p] > 0.5 ? 1 : 0;
  return { image, mask, region };
}

/** Math.hypot for two arguments, without its variadic overhead (it dominated the profile). */
function hypot(a: number, b: number): number {
  return Math.sqrt(a * a + b * b);
}

function bodyX(C: Chest, u: number, v: number): number {
  return (C.cos * (u - C.cx) + C.sin * (v - C.cy)) / C.scale;
}

function bodyY(C: Chest, u: number, v: number): number {
  return (-C.sin * (u - C.cx) + C.cos * (v - C.cy)) / C.scale;
}

/**
 * How much of a lung field (0..1, before the heart and mediastinum cover it) lies at
 * (x', y) on side s (0 = patient's right = image left, 1 = patient's left).
 */
function lungField(C: Chest, s: 0 | 1, xl: number, y: number, soft: number): number {
  const w = C.lungW[s];
  const medial = 0.1;
  // Outline: a superellipse (exponent 4: rounded apex, nearly straight lateral wall)
  // centred low in the chest, so its widest part reaches down to the costophrenic
  // angle, where the dome cuts it.
  const aw = 0.5 * (w - medial) + 0.03;
  const xc = w - aw;
  const yc = C.domeY[s] + 0.04;
  const ah = yc - C.apexY;
  const dx = Math.abs(xl - xc) / aw;
  const dy = Math.abs(y - yc) / ah;
  const r = Math.sqrt(Math.sqrt(dx * dx * dx * dx + dy * dy * dy * dy));
  // Dome: a parabola peaking a little lateral of the lung's middle.
  const ddx = xl - 0.42 * w;
  const dome = C.domeY[s] + 0.9 * ddx * ddx + (ddx > 0 ? 0.5 * ddx * ddx * ddx : 0);
  const e = 0.5 * soft;
  return smoothstep(-e, 0.05, (1 - r) * aw) * smoothstep(-e, 0.05, xl - medial) * smoothstep(-e, 0.035, dome - y);
}

// Half-widths of the cardiomediastinal silhouette at heights ty (0 at the lung apex,
// 1 at that side's dome). Right (image left): superior vena cava, then the right
// atrium. Left (image right): aortic knob, its notch, the pulmonary trunk, the left
// atrial appendage, then the left ventricle sloping out to the cardiac apex.
const SIL_T = [[0, 0.3, 0.52, 0.68, 0.85, 1.0], [0, 0.28, 0.36, 0.45, 0.55, 0.7, 0.86, 1.0]];
const SIL_W = [[0.11, 0.13, 0.15, 0.22, 0.26, 0.25], [0.11, 0.2, 0.17, 0.2, 0.22, 0.34, 0.44, 0.46]];

function silhouette(C: Chest, s: 0 | 1, y: number): number {
  const ty = (y - C.apexY) / (C.domeY[s] - C.apexY);
  const w = spline(SIL_T[s], SIL_W[s], ty);
  // Upper half scales with the pedicle, lower half with the heart.
  const k = lerp(C.pedicle, C.heart, smoothstep(0.45, 0.7, ty));
  return 0.1 + (w - 0.1) * k;
}

function paintChest(size: number, C: Chest, vessels: Float32Array, mottle: Float32Array, atten: Float32Array, lungW: Float32Array): void {
  const px = 2 / size / C.scale; // one pixel in body-frame units
  const soft = 0.6 * px;
  for (let i = 0; i < size; i++) {
    const v = ((i + 0.5) / size) * 2 - 1;
    for (let j = 0; j < size; j++) {
      const p = i * size + j;
      const u = ((j + 0.5) / size) * 2 - 1;
      const x = bodyX(C, u, v);
      const y = bodyY(C, u, v);
      const s: 0 | 1 = x < 0 ? 0 : 1;
      const xl = Math.abs(x);
      const w = C.lungW[s];

      // Torso outline: neck at the top, sloping shoulders, then the chest wall.
      const shoulder = smoothstep(-1.15, -0.7, y);
      const half = lerp(0.3, C.bodyW, shoulder) + 0.04 * smoothstep(-0.2, 1, y);
      const torso = inside(xl, half, soft + 0.015);
      // Arms alongside the chest, separated by a thin gap of air.
      const arm = smoothstep(half + 0.04, half + 0.08, xl) * smoothstep(-0.8, -0.5, y) * 0.8;
      const thick = Math.sqrt(Math.max(0, 1 - (xl / (half + 0.03)) ** 2));
      let a = 0.04 + (torso * (0.7 + 0.3 * thick) + arm * 0.75) * C.soft;

      // Abdomen below the domes (liver on the right), denser than the chest wall.
      const dx = xl - 0.42 * w;
      const domeLine = C.domeY[s] + 0.9 * dx * dx;
      const abdomen = smoothstep(domeLine - 0.015, domeLine + 0.05, y) * torso;
      a += (0.14 + 0.04 * smoothstep(0, 0.4, y - domeLine)) * abdomen;

      // Cardiomediastinal silhouette: dense, and it hides the lungs behind it.
      const cover = inside(xl, silhouette(C, s, y), soft + 0.012);
      a += 0.12 * cover * torso * (1 - abdomen);

      // Lungs: air lowers the attenuation, most where the lung is thickest.
      const field = lungField(C, s, xl, y, soft);
      const visible = field * (1 - cover);
      lungW[p] = visible;
      if (visible > 0) {
        const central = clamp(1 - Math.abs(xl - 0.5 * w) / (0.6 * w), 0, 1);
        // Vascular markings fan out from the hila and fade towards the periphery.
        const hy = y - (C.apexY + 0.5 * (C.domeY[s] - C.apexY));
        const hilum = Math.exp(-((xl - 0.19) ** 2 + hy * hy) / 0.01);
        const periphery = clamp(1 - hypot(xl - 0.17, hy) / (0.85 * w), 0, 1);
        // Perihilar vessels: a ridge network (|noise| near 0), densest near the hila.
        const ridge = 1 - Math.min(1, Math.abs(vessels[p]) * 5);
        const markings = (0.03 + 0.07 * ridge) * (0.2 + periphery) + 0.12 * hilum;
        a -= visible * (C.lungDark * Math.sqrt(field) * (0.8 + 0.2 * central) - markings);
      }
      // Breast shadows over the lower lateral lung fields.
      a += C.breast * smoothstep(0.0, 0.35, y) * smoothstep(0.3, 0.6, xl) * torso;
      // Gastric bubble under the left hemidiaphragm.
      if (C.gastric > 0 && s === 1) {
        a -= C.gastric * inside(hypot((xl - 0.38 * w) / 1.4, y - domeLine - 0.1), 0.07, 0.03) * abdomen;
      }

      // Bones: ribs show best against lung air; the spine shows through the mediastinum.
      const chest = torso * (1 - 0.6 * abdomen);
      const ribShow = (0.45 + 0.55 * visible) * (1 - 0.6 * cover);
      a += C.bone * chest * (ribShow * ribs(C, xl, y, w, px) + clavicle(xl, y, C, px) + 0.35 * spine(xl, y, C, px));
      // Trachea: the air column over the upper spine.
      const carina = C.apexY + 0.55;
      a -= 0.08 * inside(xl, 0.028, soft + 0.01) * (1 - smoothstep(carina - 0.05, carina, y)) * torso;
      // Main bronchi below the carina, diverging to the hila.
      const bronchus = Math.abs(y - carina - 0.7 * (xl - 0.01)) * 0.8;
      a -= 0.05 * inside(bronchus, 0.018, soft + 0.01) * smoothstep(0.0, 0.02, y - carina + 0.02) * (1 - smoothstep(0.12, 0.17, xl)) * torso;

      a += 0.012 * mottle[p] * torso;
      atten[p] = a;
    }
  }
}

/** Rib shadows at (x', y): posterior arches and fainter anterior ribs, cortical edges brighter. */
function ribs(C: Chest, xl: number, y: number, w: number, px: number): number {
  if (xl < 0.04 || xl > w + 0.12) return 0;
  // Posterior ribs: y = y0 + k·spacing − rise·x' + fall·x'³ for rib k.
  const base = y + C.ribRise * xl - C.ribFall * xl * xl * xl;
  const k = (base - C.ribY0) / C.ribSpacing;
  if (k < -0.2 || k > 9.5) return 0;
  const f = k - Math.floor(k);
  const th = 0.36; // rib thickness as a fraction of the spacing
  const edge = (0.6 * px) / C.ribSpacing;
  const band = inside(Math.abs(f - th / 2), th / 2, edge);
  const cortex = band * (0.7 + 0.3 * smoothstep(0.2, 0.45, Math.abs(f - th / 2) / th));
  const fade = smoothstep(0.03, 0.12, xl) * (1 - smoothstep(w - 0.02, w + 0.12, xl));
  // Anterior ribs: run down towards the sternum, visible lateral of the costal cartilages.
  const ka = (y - 0.55 * xl - C.ribY0 + 0.1) / (C.ribSpacing * 1.25);
  const fa = ka - Math.floor(ka);
  const ant = ka > 0 && ka < 6 ? inside(Math.abs(fa - 0.15), 0.12, edge) * smoothstep(0.25, 0.4, xl) * 0.35 : 0;
  return cortex * fade + ant * fade;
}

/** Clavicles: from the sternal notch laterally and a little upwards, gently S-shaped. */
function clavicle(xl: number, y: number, C: Chest, px: number): number {
  if (xl > 0.75) return 0;
  const t = xl - 0.06;
  const line = C.apexY + 0.26 - 0.36 * t + 0.28 * t * t;
  const th = 0.025 + 0.01 * smoothstep(0.4, 0.65, xl); // thicker at the acromial end
  return 1.2 * inside(Math.abs(y - line), th, 0.6 * px) * smoothstep(0.05, 0.09, xl) * (1 - smoothstep(0.62, 0.72, xl));
}

/** Thoracic spine behind the mediastinum: vertebral bodies with pedicles and disc spaces. */
function spine(xl: number, y: number, C: Chest, px: number): number {
  if (xl > 0.08) return 0;
  const body = inside(xl, 0.055, 0.6 * px + 0.01);
  const level = (y - C.apexY) / 0.105;
  const f = level - Math.floor(level);
  const disc = 1 - 0.35 * inside(Math.abs(f - 0.92), 0.06, 0.05);
  const pedicle = inside(hypot((xl - 0.04) / 0.6, (f - 0.4) * 0.105), 0.012, 0.6 * px);
  return 0.8 * body * disc + 0.4 * pedicle;
}

/** A consolidation in one lung: soft, patchy, brighter than air; returns its mask. */
function paintOpacity(size: number, C: Chest, rng: Rng, difficulty: number, atten: Float32Array, lungW: Float32Array): Uint8Array {
  const n = size * size;
  const patch = addValueNoise(scratch('cxr.patch', n), size, rng, 10);
  const rough = addValueNoise(scratch('cxr.rough', n), size, rng, 7);
  const s = rng.chance(0.55) ? 0 : 1; // the right lung is involved a little more often
  const w = C.lungW[s];
  const r = Math.max(0.22 * lesionSizeScale(difficulty) * rng.range(0.7, 1.3), 3 / size);
  // Centre: a point well inside the chosen lung field, clear of the mediastinum.
  let xl = 0.4 * w;
  let y = 0;
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
  const op: Opacity = { blob, density: 0.5 * lesionContrastScale(difficulty) * rng.range(0.8, 1.2) };
  const mask = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const lung = lungW[p];
    if (lung <= 0) continue;
    const u = (((p % size) + 0.5) / size) * 2 - 1;
    const v = ((Math.floor(p / size) + 0.5) / size) * 2 - 1;
    const rho = op.blob.rho(bodyX(C, u, v), bodyY(C, u, v)) + 0.3 * rough[p];
    if (rho >= 1.2) continue;
    // Dense core, soft fading margin, patchy (air bronchograms, sparing).
    const core = 1 - smoothstep(0.55, 1.15, rho);
    atten[p] += op.density * core * (0.8 + 0.4 * patch[p]) * lung;
    if (rho < 0.85 && lung > 0.5) mask[p] = 1;
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
