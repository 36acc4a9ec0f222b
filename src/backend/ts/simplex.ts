// Multi-octave 3-D OpenSimplex noise: the twin of native/cpu/simplex.cc, the same float64
// operations in the same order (K. Spencer's 2014 OpenSimplex as lmas/opensimplex v0.4
// `_noise3` computes it), hence the same bits. tables = perm[256] then pgi3[256], pgi3[i] =
// (perm[i] mod 24)·3; the seeding is src/engine/ops/simplex.ts's simplexPermutation.
import type { F64, I32, SimplexFieldParams } from '../types.js';

const STRETCH3 = -1.0 / 6; // (1/√4 − 1)/3
const SQUISH3 = 1.0 / 3; // (√4 − 1)/3
const NORM3 = 103;

/** 3-D gradients: the 24 directions to a rhombicuboctahedron's vertices, as (x, y, z) triples. */
const GRAD3 = new Int8Array([
  -11, 4, 4, -4, 11, 4, -4, 4, 11, 11, 4, 4, 4, 11, 4, 4, 4, 11, -11, -4, 4, -4, -11, 4, -4, -4, 11, 11, -4, 4, 4, -11, 4, 4, -4, 11, -11, 4, -4, -4, 11, -4, -4, 4, -11, 11,
  4, -4, 4, 11, -4, 4, 4, -11, -11, -4, -4, -4, -11, -4, -4, -4, -11, 11, -4, -4, 4, -11, -4, 4, -4, -11,
]);

/** g · d of the lattice point (xsb, ysb, zsb). */
function extrapolate3(t: ArrayLike<number>, xsb: number, ysb: number, zsb: number, dx: number, dy: number, dz: number): number {
  const i = t[256 + ((t[(t[xsb & 0xff] + ysb) & 0xff] + zsb) & 0xff)];
  return GRAD3[i] * dx + GRAD3[i + 1] * dy + GRAD3[i + 2] * dz;
}

/** The (2 − |d|²)⁴ (g · d) contribution of one 3-D lattice point (0 outside its reach). */
function point3(t: ArrayLike<number>, xsv: number, ysv: number, zsv: number, dx: number, dy: number, dz: number): number {
  let attn = 2 - dx * dx - dy * dy - dz * dz;
  if (!(attn > 0)) return 0;
  attn *= attn;
  return attn * attn * extrapolate3(t, xsv, ysv, zsv, dx, dy, dz);
}

/** N3(x, y, z) with the seeded tables (perm[256] then pgi3[256]). */
export function simplexNoise3(t: ArrayLike<number>, x: number, y: number, z: number): number {
  // Skew onto the cubic lattice; (xsb, ysb, zsb) is the rhombohedral cell's origin.
  const stretch = (x + y + z) * STRETCH3;
  const xs = x + stretch;
  const ys = y + stretch;
  const zs = z + stretch;
  const xsb = Math.floor(xs);
  const ysb = Math.floor(ys);
  const zsb = Math.floor(zs);
  const squish = (xsb + ysb + zsb) * SQUISH3;
  const xins = xs - xsb;
  const yins = ys - ysb;
  const zins = zs - zsb;
  const inSum = xins + yins + zins;
  const dx0 = x - (xsb + squish);
  const dy0 = y - (ysb + squish);
  const dz0 = z - (zsb + squish);

  // The two extra lattice points beyond the sample's simplex (or octahedron).
  let xsv0: number, ysv0: number, zsv0: number, dxe0: number, dye0: number, dze0: number;
  let xsv1: number, ysv1: number, zsv1: number, dxe1: number, dye1: number, dze1: number;
  let value = 0;

  if (inSum <= 1) {
    // The tetrahedron at (0, 0, 0): which two of (1,0,0), (0,1,0), (0,0,1) are closest.
    let aPoint = 0x01;
    let aScore = xins;
    let bPoint = 0x02;
    let bScore = yins;
    if (aScore >= bScore && zins > bScore) {
      bScore = zins;
      bPoint = 0x04;
    } else if (aScore < bScore && zins > aScore) {
      aScore = zins;
      aPoint = 0x04;
    }
    const wins = 1 - inSum;
    if (wins > aScore || wins > bScore) {
      // (0,0,0) is one of the two closest vertices; the other is c.
      const c = bScore > aScore ? bPoint : aPoint;
      if ((c & 0x01) === 0) {
        [xsv0, xsv1, dxe0, dxe1] = [xsb - 1, xsb, dx0 + 1, dx0];
      } else {
        xsv0 = xsv1 = xsb + 1;
        dxe0 = dxe1 = dx0 - 1;
      }
      if ((c & 0x02) === 0) {
        ysv0 = ysv1 = ysb;
        dye0 = dye1 = dy0;
        if ((c & 0x01) === 0) {
          ysv1 -= 1;
          dye1 += 1;
        } else {
          ysv0 -= 1;
          dye0 += 1;
        }
      } else {
        ysv0 = ysv1 = ysb + 1;
        dye0 = dye1 = dy0 - 1;
      }
      if ((c & 0x04) === 0) {
        [zsv0, zsv1, dze0, dze1] = [zsb, zsb - 1, dz0, dz0 + 1];
      } else {
        zsv0 = zsv1 = zsb + 1;
        dze0 = dze1 = dz0 - 1;
      }
    } else {
      // (0,0,0) is not among the two closest: the extras follow from both of them.
      const c = aPoint | bPoint;
      if ((c & 0x01) === 0) {
        [xsv0, xsv1, dxe0, dxe1] = [xsb, xsb - 1, dx0 - 2 * SQUISH3, dx0 + 1 - SQUISH3];
      } else {
        xsv0 = xsv1 = xsb + 1;
        [dxe0, dxe1] = [dx0 - 1 - 2 * SQUISH3, dx0 - 1 - SQUISH3];
      }
      if ((c & 0x02) === 0) {
        [ysv0, ysv1, dye0, dye1] = [ysb, ysb - 1, dy0 - 2 * SQUISH3, dy0 + 1 - SQUISH3];
      } else {
        ysv0 = ysv1 = ysb + 1;
        [dye0, dye1] = [dy0 - 1 - 2 * SQUISH3, dy0 - 1 - SQUISH3];
      }
      if ((c & 0x04) === 0) {
        [zsv0, zsv1, dze0, dze1] = [zsb, zsb - 1, dz0 - 2 * SQUISH3, dz0 + 1 - SQUISH3];
      } else {
        zsv0 = zsv1 = zsb + 1;
        [dze0, dze1] = [dz0 - 1 - 2 * SQUISH3, dz0 - 1 - SQUISH3];
      }
    }
    // The tetrahedron's own vertices (0,0,0), (1,0,0), (0,1,0), (0,0,1).
    value += point3(t, xsb, ysb, zsb, dx0, dy0, dz0);
    const dx1 = dx0 - 1 - SQUISH3;
    const dy1 = dy0 - 0 - SQUISH3;
    const dz1 = dz0 - 0 - SQUISH3;
    value += point3(t, xsb + 1, ysb, zsb, dx1, dy1, dz1);
    const dx2 = dx0 - 0 - SQUISH3;
    const dy2 = dy0 - 1 - SQUISH3;
    value += point3(t, xsb, ysb + 1, zsb, dx2, dy2, dz1);
    value += point3(t, xsb, ysb, zsb + 1, dx2, dy1, dz0 - 1 - SQUISH3);
  } else if (inSum >= 2) {
    // The tetrahedron at (1, 1, 1): which two of (1,1,0), (1,0,1), (0,1,1) are closest.
    let aPoint = 0x06;
    let aScore = xins;
    let bPoint = 0x05;
    let bScore = yins;
    if (aScore <= bScore && zins < bScore) {
      bScore = zins;
      bPoint = 0x03;
    } else if (aScore > bScore && zins < aScore) {
      aScore = zins;
      aPoint = 0x03;
    }
    const wins = 3 - inSum;
    if (wins < aScore || wins < bScore) {
      // (1,1,1) is one of the two closest vertices; the other is c.
      const c = bScore < aScore ? bPoint : aPoint;
      if ((c & 0x01) !== 0) {
        [xsv0, xsv1, dxe0, dxe1] = [xsb + 2, xsb + 1, dx0 - 2 - 3 * SQUISH3, dx0 - 1 - 3 * SQUISH3];
      } else {
        xsv0 = xsv1 = xsb;
        dxe0 = dxe1 = dx0 - 3 * SQUISH3;
      }
      if ((c & 0x02) !== 0) {
        ysv0 = ysv1 = ysb + 1;
        dye0 = dye1 = dy0 - 1 - 3 * SQUISH3;
        if ((c & 0x01) !== 0) {
          ysv1 += 1;
          dye1 -= 1;
        } else {
          ysv0 += 1;
          dye0 -= 1;
        }
      } else {
        ysv0 = ysv1 = ysb;
        dye0 = dye1 = dy0 - 3 * SQUISH3;
      }
      if ((c & 0x04) !== 0) {
        [zsv0, zsv1, dze0, dze1] = [zsb + 1, zsb + 2, dz0 - 1 - 3 * SQUISH3, dz0 - 2 - 3 * SQUISH3];
      } else {
        zsv0 = zsv1 = zsb;
        dze0 = dze1 = dz0 - 3 * SQUISH3;
      }
    } else {
      // (1,1,1) is not among the two closest: the extras follow from what they share.
      const c = aPoint & bPoint;
      if ((c & 0x01) !== 0) {
        [xsv0, xsv1, dxe0, dxe1] = [xsb + 1, xsb + 2, dx0 - 1 - SQUISH3, dx0 - 2 - 2 * SQUISH3];
      } else {
        xsv0 = xsv1 = xsb;
        [dxe0, dxe1] = [dx0 - SQUISH3, dx0 - 2 * SQUISH3];
      }
      if ((c & 0x02) !== 0) {
        [ysv0, ysv1, dye0, dye1] = [ysb + 1, ysb + 2, dy0 - 1 - SQUISH3, dy0 - 2 - 2 * SQUISH3];
      } else {
        ysv0 = ysv1 = ysb;
        [dye0, dye1] = [dy0 - SQUISH3, dy0 - 2 * SQUISH3];
      }
      if ((c & 0x04) !== 0) {
        [zsv0, zsv1, dze0, dze1] = [zsb + 1, zsb + 2, dz0 - 1 - SQUISH3, dz0 - 2 - 2 * SQUISH3];
      } else {
        zsv0 = zsv1 = zsb;
        [dze0, dze1] = [dz0 - SQUISH3, dz0 - 2 * SQUISH3];
      }
    }
    // The tetrahedron's own vertices (1,1,0), (1,0,1), (0,1,1), (1,1,1).
    const dx3 = dx0 - 1 - 2 * SQUISH3;
    const dy3 = dy0 - 1 - 2 * SQUISH3;
    value += point3(t, xsb + 1, ysb + 1, zsb, dx3, dy3, dz0 - 0 - 2 * SQUISH3);
    const dz2 = dz0 - 1 - 2 * SQUISH3;
    value += point3(t, xsb + 1, ysb, zsb + 1, dx3, dy0 - 0 - 2 * SQUISH3, dz2);
    value += point3(t, xsb, ysb + 1, zsb + 1, dx0 - 0 - 2 * SQUISH3, dy3, dz2);
    value += point3(t, xsb + 1, ysb + 1, zsb + 1, dx0 - 1 - 3 * SQUISH3, dy0 - 1 - 3 * SQUISH3, dz0 - 1 - 3 * SQUISH3);
  } else {
    // The octahedron between the two tetrahedra.
    // Closest of (0,0,1) and (1,1,0):
    let aScore: number, aPoint: number, aFar: boolean;
    const p1 = xins + yins;
    if (p1 > 1) [aScore, aPoint, aFar] = [p1 - 1, 0x03, true];
    else [aScore, aPoint, aFar] = [1 - p1, 0x04, false];
    // Closest of (0,1,0) and (1,0,1):
    let bScore: number, bPoint: number, bFar: boolean;
    const p2 = xins + zins;
    if (p2 > 1) [bScore, bPoint, bFar] = [p2 - 1, 0x05, true];
    else [bScore, bPoint, bFar] = [1 - p2, 0x02, false];
    // The closer of (1,0,0) and (0,1,1) replaces the farther of the two above when closer.
    const p3 = yins + zins;
    if (p3 > 1) {
      const score = p3 - 1;
      if (aScore <= bScore && aScore < score) [aPoint, aFar] = [0x06, true];
      else if (aScore > bScore && bScore < score) [bPoint, bFar] = [0x06, true];
    } else {
      const score = 1 - p3;
      if (aScore <= bScore && aScore < score) [aPoint, aFar] = [0x01, false];
      else if (aScore > bScore && bScore < score) [bPoint, bFar] = [0x01, false];
    }

    if (aFar === bFar) {
      if (aFar) {
        // Both on the (1,1,1) side: one extra is (1,1,1), the other lies along the shared axis.
        [dxe0, dye0, dze0] = [dx0 - 1 - 3 * SQUISH3, dy0 - 1 - 3 * SQUISH3, dz0 - 1 - 3 * SQUISH3];
        [xsv0, ysv0, zsv0] = [xsb + 1, ysb + 1, zsb + 1];
        const c = aPoint & bPoint;
        if ((c & 0x01) !== 0) {
          [dxe1, dye1, dze1] = [dx0 - 2 - 2 * SQUISH3, dy0 - 2 * SQUISH3, dz0 - 2 * SQUISH3];
          [xsv1, ysv1, zsv1] = [xsb + 2, ysb, zsb];
        } else if ((c & 0x02) !== 0) {
          [dxe1, dye1, dze1] = [dx0 - 2 * SQUISH3, dy0 - 2 - 2 * SQUISH3, dz0 - 2 * SQUISH3];
          [xsv1, ysv1, zsv1] = [xsb, ysb + 2, zsb];
        } else {
          [dxe1, dye1, dze1] = [dx0 - 2 * SQUISH3, dy0 - 2 * SQUISH3, dz0 - 2 - 2 * SQUISH3];
          [xsv1, ysv1, zsv1] = [xsb, ysb, zsb + 2];
        }
      } else {
        // Both on the (0,0,0) side: one extra is (0,0,0), the other lies along the omitted axis.
        [dxe0, dye0, dze0] = [dx0, dy0, dz0];
        [xsv0, ysv0, zsv0] = [xsb, ysb, zsb];
        const c = aPoint | bPoint;
        if ((c & 0x01) === 0) {
          [dxe1, dye1, dze1] = [dx0 + 1 - SQUISH3, dy0 - 1 - SQUISH3, dz0 - 1 - SQUISH3];
          [xsv1, ysv1, zsv1] = [xsb - 1, ysb + 1, zsb + 1];
        } else if ((c & 0x02) === 0) {
          [dxe1, dye1, dze1] = [dx0 - 1 - SQUISH3, dy0 + 1 - SQUISH3, dz0 - 1 - SQUISH3];
          [xsv1, ysv1, zsv1] = [xsb + 1, ysb - 1, zsb + 1];
        } else {
          [dxe1, dye1, dze1] = [dx0 - 1 - SQUISH3, dy0 - 1 - SQUISH3, dz0 + 1 - SQUISH3];
          [xsv1, ysv1, zsv1] = [xsb + 1, ysb + 1, zsb - 1];
        }
      }
    } else {
      // One on each side: c1 on the (1,1,1) side, c2 on the (0,0,0) side.
      const [c1, c2] = aFar ? [aPoint, bPoint] : [bPoint, aPoint];
      // One extra is a permutation of (1, 1, −1) ...
      if ((c1 & 0x01) === 0) {
        [dxe0, dye0, dze0] = [dx0 + 1 - SQUISH3, dy0 - 1 - SQUISH3, dz0 - 1 - SQUISH3];
        [xsv0, ysv0, zsv0] = [xsb - 1, ysb + 1, zsb + 1];
      } else if ((c1 & 0x02) === 0) {
        [dxe0, dye0, dze0] = [dx0 - 1 - SQUISH3, dy0 + 1 - SQUISH3, dz0 - 1 - SQUISH3];
        [xsv0, ysv0, zsv0] = [xsb + 1, ysb - 1, zsb + 1];
      } else {
        [dxe0, dye0, dze0] = [dx0 - 1 - SQUISH3, dy0 - 1 - SQUISH3, dz0 + 1 - SQUISH3];
        [xsv0, ysv0, zsv0] = [xsb + 1, ysb + 1, zsb - 1];
      }
      // ... the other a permutation of (0, 0, 2).
      [dxe1, dye1, dze1] = [dx0 - 2 * SQUISH3, dy0 - 2 * SQUISH3, dz0 - 2 * SQUISH3];
      [xsv1, ysv1, zsv1] = [xsb, ysb, zsb];
      if ((c2 & 0x01) !== 0) {
        dxe1 -= 2;
        xsv1 += 2;
      } else if ((c2 & 0x02) !== 0) {
        dye1 -= 2;
        ysv1 += 2;
      } else {
        dze1 -= 2;
        zsv1 += 2;
      }
    }
    // The octahedron's six vertices.
    const dx1 = dx0 - 1 - SQUISH3;
    const dy1 = dy0 - 0 - SQUISH3;
    const dz1 = dz0 - 0 - SQUISH3;
    value += point3(t, xsb + 1, ysb, zsb, dx1, dy1, dz1);
    const dx2 = dx0 - 0 - SQUISH3;
    const dy2 = dy0 - 1 - SQUISH3;
    value += point3(t, xsb, ysb + 1, zsb, dx2, dy2, dz1);
    value += point3(t, xsb, ysb, zsb + 1, dx2, dy1, dz0 - 1 - SQUISH3);
    const dx4 = dx0 - 1 - 2 * SQUISH3;
    const dy4 = dy0 - 1 - 2 * SQUISH3;
    value += point3(t, xsb + 1, ysb + 1, zsb, dx4, dy4, dz0 - 0 - 2 * SQUISH3);
    const dz5 = dz0 - 1 - 2 * SQUISH3;
    value += point3(t, xsb + 1, ysb, zsb + 1, dx4, dy0 - 0 - 2 * SQUISH3, dz5);
    value += point3(t, xsb, ysb + 1, zsb + 1, dx0 - 0 - 2 * SQUISH3, dy4, dz5);
  }
  value += point3(t, xsv0, ysv0, zsv0, dxe0, dye0, dze0);
  value += point3(t, xsv1, ysv1, zsv1, dxe1, dye1, dze1);
  return value / NORM3;
}

export function simplexField3(p: SimplexFieldParams, tables: I32, z: F64, out: F64): void {
  const { depth: D, height: H, width: W, octaves: K } = p;
  if (D === 0 || H === 0 || W === 0) return;
  // Amplitudes and periods of the octaves, as the reference forms them (repeated · p and / 2).
  const amp = new Float64Array(K);
  const per = new Float64Array(K);
  let a = 1;
  let f = p.period;
  for (let o = 0; o < K; o++) {
    amp[o] = a;
    per[o] = f;
    f /= 2;
    a *= p.persistence;
  }
  for (let r = 0; r < D * H; r++) {
    const k = Math.floor(r / H);
    const i = r % H;
    const row = r * W;
    const y = p.y0 + i;
    for (let j = 0; j < W; j++) {
      const x = p.x0 + j;
      let v = 0;
      for (let o = 0; o < K; o++) v += amp[o] * simplexNoise3(tables, x / per[o], y / per[o], z[k] / per[o]);
      out[row + j] = v;
    }
  }
}
