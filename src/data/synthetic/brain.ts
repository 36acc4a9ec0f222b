// `synth-brain`: axial brain MRI slices with a FLAIR-like look.
//
// One slice is painted from the outside in, in a head-centred frame (x to the
// patient's left = image right, y posterior = image down, units of half the
// image width): scalp (bright fat), skull (dark bone with a faint diploë line),
// a thin dark CSF rim, cortex (grey matter, brighter than white matter in FLAIR)
// with sulci and the interhemispheric fissure, white matter, deep grey nuclei and
// the dark lateral ventricles (butterfly-shaped frontal horns, bodies, atria).
// Then an optional tumour (mass + vasogenic oedema), a smooth multiplicative
// bias field, and Rician noise (magnitude of a complex signal with Gaussian
// noise in both channels, as in magnitude MR images).
//
// Anatomy, lesion and noise draw from separate child streams, so an abnormal
// item's anatomy does not depend on the difficulty, and changing the difficulty
// changes the lesion alone.

import { addValueNoise, fillNormalPairs } from './noise.js';
import { scratch } from './scratch.js';
import type { Rng } from './rng.js';
import { Blob, Harmonics, inside, lerp, profile, smoothstep } from './shape.js';
import type { Rendered } from './render.js';
import { lesionContrastScale, lesionSizeScale } from './render.js';

/** Intensity that maps to +1 in the output; lesions at 'easy' reach it, normal tissue does not. */
const WINDOW = 1.0;

// Lateral ventricle outline along the antero-posterior axis: t = 0 at the tip of
// the frontal horn, 1 at the tip of the occipital horn. Centre line distance from
// the midline (c) and half-width (w), as fractions of the head's half-width.
// Frontal horns flare anterolaterally (the "butterfly"), the bodies run close to
// the septum, and the atria swing laterally before the occipital horns taper.
const VENT_T = [0, 0.08, 0.22, 0.42, 0.6, 0.78, 0.92, 1];
const VENT_C = [0.14, 0.125, 0.085, 0.07, 0.09, 0.15, 0.18, 0.17];
const VENT_W = [0.0, 0.045, 0.05, 0.03, 0.03, 0.055, 0.035, 0.0];

interface Anatomy {
  cx: number;
  cy: number;
  cos: number;
  sin: number;
  ax: number;
  ay: number;
  egg: number;
  outline: Harmonics;
  scalpInner: number;
  boneInner: number;
  brainEdge: number;
  cortex: number;
  sulcalDepth: number;
  gyralWidth: number;
  sulcalWidth: number;
  ventScale: number;
  ventFront: number;
  ventBack: number;
  wm: number;
  gm: number;
  csf: number;
  scalp: number;
  bone: number;
  gain: number;
  bias: number[];
  sigma: number;
}

function drawAnatomy(rng: Rng): Anatomy {
  const scale = rng.range(0.86, 1.0);
  const theta = rng.range(-0.16, 0.16);
  const wm = rng.range(0.36, 0.44);
  const scalpInner = 1 - rng.range(0.05, 0.075);
  const boneInner = scalpInner - rng.range(0.035, 0.05);
  return {
    cx: 0.03 * rng.normal(),
    cy: 0.03 * rng.normal(),
    cos: Math.cos(theta),
    sin: Math.sin(theta),
    ax: 0.7 * scale * rng.range(0.92, 1.05),
    ay: 0.86 * scale * rng.range(0.96, 1.04),
    egg: rng.range(0.03, 0.1),
    outline: Harmonics.random(rng, 2, 5, (k) => 0.022 / k),
    scalpInner,
    boneInner,
    brainEdge: boneInner - 0.015,
    cortex: rng.range(0.035, 0.05),
    sulcalDepth: rng.range(0.12, 0.2),
    gyralWidth: rng.range(0.1, 0.14),
    sulcalWidth: rng.range(0.04, 0.06),
    ventScale: rng.range(0.7, 1.45),
    ventFront: -rng.range(0.3, 0.36),
    ventBack: rng.range(0.3, 0.38),
    wm,
    gm: wm + rng.range(0.11, 0.16),
    csf: rng.range(0.04, 0.08),
    scalp: rng.range(0.52, 0.66),
    bone: rng.range(0.03, 0.07),
    gain: rng.range(0.9, 1.1),
    bias: [rng.range(-0.15, 0.15), rng.range(-0.15, 0.15), rng.range(-0.08, 0.08), rng.range(-0.08, 0.08), rng.range(-0.08, 0.08)],
    sigma: rng.range(0.018, 0.04),
  };
}

interface Tumour {
  mass: Blob;
  oedema: Blob;
  contrast: number;
  oedemaContrast: number;
  necrosis: number;
}

export function renderBrain(size: number, rng: Rng, abnormal: boolean, difficulty: number): Rendered {
  const A = drawAnatomy(rng.fork('anatomy'));
  const n = size * size;
  const F = rng.fork('fields');
  const fields: Fields = {
    gyri: addValueNoise(scratch('brain.gyri', n), size, F, 15),
    cortexVar: addValueNoise(scratch('brain.cortexVar', n), size, F, 5),
    texture: addValueNoise(scratch('brain.texture', n), size, F, 16),
  };
  const tumour = abnormal ? drawTumour(rng.fork('lesion'), A, difficulty, size) : null;
  const maps = paintAnatomy(size, A, fields, tumour ? massEffect(tumour, A) : 0);
  const mask = tumour ? paintTumour(tumour, size, rng.fork('lesion-fields'), maps, fields.texture, A) : null;
  const image = acquire(size, maps.tissue, A, rng.fork('noise'));
  const region = new Uint8Array(n);
  for (let p = 0; p < n; p++) region[p] = maps.brainW[p] > 0.5 ? 1 : 0;
  return { image, mask, region };
}

interface Fields {
  /** Gyral field: sulci run along its zero-crossings. */
  gyri: Float32Array;
  /** Slow variation of cortical thickness and sulcal depth. */
  cortexVar: Float32Array;
  /** Fine tissue texture. */
  texture: Float32Array;
}

interface Maps {
  /** Noise-free intensity. */
  tissue: Float32Array;
  /** Brain parenchyma weight (0..1), ventricles included. */
  brainW: Float32Array;
  ventW: Float32Array;
  wmW: Float32Array;
  /** Half-width of an anti-aliased edge, in frame units. */
  soft: number;
}

/** The normal anatomy, painted from the outside in. `shift` moves the ventricles sideways (mass effect). */
function paintAnatomy(size: number, A: Anatomy, fields: Fields, shift: number): Maps {
  const n = size * size;
  const px = 2 / size; // one pixel in frame units
  const soft = 0.6 * px;
  const e = soft / A.ax; // edge softness in rho units
  const maps: Maps = {
    tissue: scratch('brain.tissue', n),
    brainW: scratch('brain.brainW', n),
    ventW: scratch('brain.ventW', n),
    wmW: scratch('brain.wmW', n),
    soft,
  };
  const { tissue, brainW } = maps;
  const { gyri, cortexVar, texture } = fields;
  const scalpMidR = (1 + A.scalpInner) / 2;
  const scalpHalf = (1 - A.scalpInner) / 2;
  const boneMidR = (A.scalpInner + A.boneInner) / 2;
  const diploeHalf = 0.3 * (A.scalpInner - A.boneInner);
  const deepBrain = A.brainEdge - 0.01 - e; // below this, brain weight is exactly 1

  for (let i = 0; i < size; i++) {
    const v = ((i + 0.5) / size) * 2 - 1;
    for (let j = 0; j < size; j++) {
      const p = i * size + j;
      const u = ((j + 0.5) / size) * 2 - 1;
      const x = headX(A, u, v);
      const y = headY(A, u, v);
      // Egg-shaped head: wider at the back (y > 0) than at the forehead.
      const xs = x / (A.ax * (1 + A.egg * (y / A.ay)));
      const ys = y / A.ay;
      const q = Math.sqrt(xs * xs + ys * ys);
      // Well outside the head (the outline deviates from the ellipse by < 5 %): background.
      if (q > 1.06 + e) continue;
      const rho = q < 1e-9 ? 0 : q / (1 + A.outline.at(xs / q, ys / q));
      const head = inside(rho, 1, e);
      if (head <= 0) continue;

      let val = 0;
      // The outer layers matter only where the brain does not cover them completely.
      if (rho > deepBrain) {
        // Scalp: skin and subcutaneous fat, brightest in its middle.
        const scalpMid = 1 - smoothstep(0, 1, Math.abs(rho - scalpMidR) / scalpHalf);
        val = head * A.scalp * (0.75 + 0.25 * scalpMid) * (1 + 0.08 * texture[p]);
        // Skull: dark cortical bone, faint diploë (marrow fat) along its middle.
        const diploe = Math.max(0, 1 - Math.abs(rho - boneMidR) / diploeHalf);
        val = lerp(val, A.bone + 0.18 * A.scalp * diploe, inside(rho, A.scalpInner, e));
        // Thin CSF rim between skull and brain.
        val = lerp(val, A.csf, inside(rho, A.boneInner, e));
      }

      // Brain surface with shallow sulcal notches.
      const g = gyri[p];
      const ag = Math.abs(g);
      const surface = A.brainEdge - 0.01 * (1 - smoothstep(0, 0.12, ag));
      const brain = inside(rho, surface, e);
      if (brain > 0) {
        const t = brainTissue(x, y, surface - rho, g, cortexVar[p], texture[p], A, maps, p, px, e, shift);
        val = lerp(val, t, brain);
      }
      brainW[p] = brain;
      tissue[p] = val;
    }
  }
  return maps;
}

/** Intensity of brain tissue at head-frame (x, y), `depth` below the brain surface (rho units). */
function brainTissue(
  x: number,
  y: number,
  depth: number,
  g: number,
  cortexVar: number,
  texture: number,
  A: Anatomy,
  maps: Maps,
  p: number,
  px: number,
  e: number,
  shift: number,
): number {
  const soft = maps.soft;
  const ag = Math.abs(g);
  // Gyri: sulci are the zero-crossings of the gyral field inside the outer mantle;
  // grey matter is an outer shell plus a lining along every sulcus, so each gyrus
  // gets a white-matter core and the cortex folds like a real one.
  const cortex = A.cortex * (1 + 0.35 * cortexVar);
  const sulcalDepth = A.sulcalDepth * (1 + 0.4 * cortexVar);
  let grey = 0;
  let t: number;
  if (depth < sulcalDepth + cortex + e) {
    const fold = 1 - smoothstep(sulcalDepth, sulcalDepth + cortex, depth);
    const shell = 1 - smoothstep(cortex - e, cortex + e, depth);
    const lining = fold * (1 - smoothstep(A.gyralWidth * 0.8, A.gyralWidth * 1.25, ag));
    grey = Math.max(shell, lining);
    t = lerp(A.wm, A.gm, grey) * (1 + 0.05 * texture);
    const sulcus = (1 - smoothstep(0, 1, depth / sulcalDepth)) * (1 - smoothstep(A.sulcalWidth * 0.5, A.sulcalWidth * 1.5, ag));
    t = lerp(t, A.csf, 0.9 * sulcus);
  } else {
    t = A.wm * (1 + 0.05 * texture);
  }
  // Interhemispheric fissure, frontal and occipital, with a slight wobble.
  const front = 1 - smoothstep(A.ventFront * A.ay - 0.1, A.ventFront * A.ay + 0.02, y);
  const back = smoothstep(A.ventBack * A.ay + 0.08, A.ventBack * A.ay + 0.2, y);
  const fissure = Math.max(front, back);
  if (fissure > 0) t = lerp(t, A.csf, 0.9 * fissure * inside(Math.abs(x - 0.01 * g), 0.6 * px + 0.008, soft));

  let vent = 0;
  // Deep structures lie in a central box; most pixels skip them.
  if (Math.abs(x) < 0.45 * A.ax && Math.abs(y) < 0.45 * A.ay) {
    // Deep grey matter: thalami either side of the third ventricle, lentiform nuclei laterally.
    const ax = A.ax;
    const ax2 = Math.abs(x);
    const thal = ellipse(ax2, y, 0.13 * ax, 0.08 * A.ay, 0.09 * ax, 0.1 * A.ay, soft);
    const lent = ellipse(ax2, y, 0.3 * ax, -0.03 * A.ay, 0.07 * ax, 0.14 * A.ay, soft);
    t = lerp(t, A.gm - 0.02, 0.8 * thal + 0.5 * lent);
    // Lateral ventricles and the slit of the third ventricle.
    vent = Math.max(ventricles(x - shift, y, A, soft), thirdVentricle(x - shift, y, A, px, soft));
    t = lerp(t, A.csf, vent);
  }
  maps.ventW[p] = vent;
  maps.wmW[p] = (1 - grey) * (1 - vent);
  return t;
}

/** Receiver gain, multiplicative bias field and Rician noise, windowed to [-1, 1]. */
function acquire(size: number, tissue: Float32Array, A: Anatomy, rng: Rng): Float32Array {
  const n = size * size;
  const image = new Float32Array(n);
  const na = scratch('brain.noiseRe', n);
  const nb = scratch('brain.noiseIm', n);
  fillNormalPairs(rng, na, nb);
  const s = A.sigma;
  const scale = 2 / WINDOW;
  // Bias field: exp of a random quadratic in (u, v), the smooth shading across the
  // slice that receive coils produce; the exp is evaluated by a cubic Taylor series
  // (the exponent stays within ±0.4).
  const [b1, b2, b3, b4, b5] = A.bias;
  const gain = A.gain;
  for (let i = 0; i < size; i++) {
    const v = ((i + 0.5) / size) * 2 - 1;
    for (let j = 0; j < size; j++) {
      const p = i * size + j;
      const u = ((j + 0.5) / size) * 2 - 1;
      const z = b1 * u + b2 * v + b3 * u * u + b4 * v * v + b5 * u * v;
      const b = gain * (1 + z * (1 + z * (0.5 + z / 6)));
      // Magnitude image: |signal + complex Gaussian noise| is Rician distributed.
      const re = tissue[p] * b + s * na[p];
      const im = s * nb[p];
      const out = scale * Math.sqrt(re * re + im * im) - 1;
      image[p] = out > 1 ? 1 : out;
    }
  }
  return image;
}

/** Image coordinates (u right, v down, in [-1, 1]) to the head frame (rotated, centred). */
function headX(A: Anatomy, u: number, v: number): number {
  return A.cos * (u - A.cx) + A.sin * (v - A.cy);
}

function headY(A: Anatomy, u: number, v: number): number {
  return -A.sin * (u - A.cx) + A.cos * (v - A.cy);
}

function ellipse(x: number, y: number, cx: number, cy: number, rx: number, ry: number, soft: number): number {
  const dx = (x - cx) / rx;
  const dy = (y - cy) / ry;
  return inside(Math.sqrt(dx * dx + dy * dy), 1, soft / Math.min(rx, ry));
}

function ventricles(x: number, y: number, A: Anatomy, soft: number): number {
  const y0 = A.ventFront * A.ay;
  const y1 = A.ventBack * A.ay;
  const t = (y - y0) / (y1 - y0);
  if (t <= 0 || t >= 1) return 0;
  // Bigger ventricles are wider more than longer (atrophy, hydrocephalus).
  const c = profile(VENT_T, VENT_C, t) * A.ax * (0.8 + 0.2 * A.ventScale);
  const w = profile(VENT_T, VENT_W, t) * A.ax * A.ventScale;
  return inside(Math.abs(Math.abs(x) - c), w, soft);
}

function thirdVentricle(x: number, y: number, A: Anatomy, px: number, soft: number): number {
  const along = inside(Math.abs(y - 0.07 * A.ay), 0.08 * A.ay, soft);
  return along * inside(Math.abs(x), 0.3 * px + 0.006 * A.ventScale, soft);
}

function drawTumour(rng: Rng, A: Anatomy, difficulty: number, size: number): Tumour {
  // Radius in frame units; never below ~1.3 pixels so a mask always exists.
  const r = Math.max(0.2 * lesionSizeScale(difficulty) * rng.range(0.7, 1.3) * A.ax, 2.6 / size);
  // Centre: inside the brain, away from the cortex edge, not in a ventricle.
  let cx = 0;
  let cy = 0;
  for (let tries = 0; tries < 50; tries++) {
    const a = rng.range(0, 2 * Math.PI);
    const d = Math.sqrt(rng.float());
    cx = 0.62 * A.ax * d * Math.cos(a);
    cy = 0.68 * A.ay * d * Math.sin(a);
    if (ventricles(cx, cy, A, 0) < 0.5 && Math.abs(cx) > 0.08) break;
  }
  const angle = rng.range(0, Math.PI);
  const elong = rng.range(0.75, 1.3);
  const mass = new Blob(cx, cy, r * elong, r / elong, angle, Harmonics.random(rng, 2, 5, (k) => 0.16 / k));
  const spread = rng.range(1.5, 2.4);
  const oedema = new Blob(cx, cy, r * spread * elong, (r * spread) / elong, angle + rng.range(-0.5, 0.5), Harmonics.random(rng, 2, 6, (k) => 0.22 / k));
  const contrast = 0.5 * lesionContrastScale(difficulty) * rng.range(0.8, 1.2);
  return {
    mass,
    oedema,
    contrast,
    oedemaContrast: contrast * rng.range(0.5, 0.75),
    necrosis: r > 0.1 && rng.chance(0.4) ? rng.range(0.4, 0.8) : 0,
  };
}

/** Mass effect: the ventricles are pushed away from the lesion side, more by larger, closer lesions. */
function massEffect(t: Tumour, A: Anatomy): number {
  const r = t.oedema.rx + t.oedema.ry;
  const proximity = Math.exp(-(t.mass.cx ** 2 + t.mass.cy ** 2) / (0.5 * A.ax) ** 2);
  return -Math.sign(t.mass.cx) * 0.25 * r * proximity;
}

function paintTumour(t: Tumour, size: number, rng: Rng, maps: Maps, texture: Float32Array, A: Anatomy): Uint8Array {
  const { tissue, brainW, ventW, wmW, soft } = maps;
  const n = size * size;
  const rough = addValueNoise(scratch('brain.rough', n), size, rng, 9); // boundary irregularity of the mass
  const fingers = addValueNoise(scratch('brain.fingers', n), size, rng, 7); // finger-like spread of the oedema
  const mask = new Uint8Array(n);
  const eM = soft / Math.min(t.mass.rx, t.mass.ry);
  const eO = soft / Math.min(t.oedema.rx, t.oedema.ry);
  const side = t.mass.cx < 0 ? -1 : 1;
  let count = 0;
  let best = -1; // strongest lesion pixel, the mask's fallback for a lesion thinner than the threshold
  let bestW = 0;
  for (let p = 0; p < n; p++) {
    if (brainW[p] <= 0) continue;
    const u = (((p % size) + 0.5) / size) * 2 - 1;
    const v = ((Math.floor(p / size) + 0.5) / size) * 2 - 1;
    const x = headX(A, u, v);
    const y = headY(A, u, v);
    // The tumour stays in the parenchyma of its own hemisphere (the falx stops it).
    const room = brainW[p] * (1 - ventW[p]) * smoothstep(-soft, soft, side * x - 0.006);
    if (room <= 0) continue;
    const rm = t.mass.rho(x, y) + 0.25 * rough[p];
    const ro = t.oedema.rho(x, y) + 0.35 * fingers[p];
    const massA = inside(rm, 1, eM);
    const oedA = inside(ro, 1, eO);
    if (massA <= 0 && oedA <= 0) continue;
    // Vasogenic oedema tracks white matter and spares much of the cortex.
    const oed = t.oedemaContrast * oedA * (0.55 + 0.45 * wmW[p]);
    const core = t.necrosis * (1 - smoothstep(0.3, 0.6, rm));
    const massV = A.wm + t.contrast * (1 + 0.12 * texture[p]) * (1 - core);
    const withOedema = tissue[p] + oed;
    tissue[p] = lerp(tissue[p], lerp(withOedema, Math.max(massV, withOedema), massA), room);
    if ((massA > 0.5 || oedA > 0.5) && room > 0.5) {
      mask[p] = 1;
      count++;
    }
    const weight = Math.max(massA, oedA) * room;
    if (weight > bestW) {
      bestW = weight;
      best = p;
    }
  }
  // An abnormal image always has a non-empty mask, even when its lesion is tiny.
  if (count === 0 && best >= 0) mask[best] = 1;
  return mask;
}
