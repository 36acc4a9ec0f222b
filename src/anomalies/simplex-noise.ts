// Seeded OpenSimplex noise in 2-D and 3-D, and its fractal (octave) sums.
//
// The algorithm is KdotJPG's original OpenSimplex (2014) as the Python package `opensimplex`
// (lmas/opensimplex, 0.3–0.4) computes it, which RD++ (tientrandinh/Revisiting-Reverse-
// Distillation, `dataset/noise.py`) copies for its pseudo-anomalies and the simplex-noise
// diffusion models use:
//
// - The seed (any integer, 64-bit two's complement arithmetic) drives Knuth's MMIX LCG
//   s ← s·6364136223846793005 + 1442695040888963407 (mod 2⁶⁴): three steps, then one step per
//   entry of a 256-entry permutation built by a Fisher–Yates pass from the top, taking
//   r = (s + 31) mod (i + 1) (Python's non-negative modulo of the unwrapped sum). The same
//   seed gives the same field as the Python package, value for value.
// - 2-D: the plane is skewed onto a rhombus lattice (stretch (1/√3 − 1)/2, squish (√3 − 1)/2);
//   the 3 or 4 lattice points that can reach a sample contribute (2 − |d|²)⁴ · (g · d) with
//   g one of 8 gradients (±5, ±2 / ±2, ±5), summed and divided by 47.
// - 3-D: the same on the skewed cubic lattice (stretch −1/6, squish 1/3), 6 to 8 contributing
//   points chosen by which tetrahedron or octahedron of the cell holds the sample, 24
//   gradients (permutations of ±11, ±4, ±4), divided by 103.
// Every value is computed in float64 with the operations in the reference's order, so the
// results are the package's to the last bit. Values lie roughly in [−1, 1].
//
// Fractal noise (`fractalNoise3`, `fractalNoise2`): the sum over octaves o = 0..n−1 of
// persistenceᵒ · noise(coords / (period / 2ᵒ)), the coordinates being the integer indices
// of the output grid — RD++'s `rand_3d_octaves` / `rand_2d_octaves` (whose argument
// `frequency` is this period). RD++ uses 6 octaves, persistence 0.6, period 32 on a
// [3, h, w] grid (one z slice per RGB channel): `RDPP_FRACTAL`.

/** The LCG's multiplier and increment (Knuth's MMIX). */
const LCG_A = 6364136223846793005n;
const LCG_C = 1442695040888963407n;

const STRETCH2 = -0.211324865405187; // (1/√3 − 1)/2
const SQUISH2 = 0.366025403784439; // (√3 − 1)/2
const STRETCH3 = -1.0 / 6; // (1/√4 − 1)/3
const SQUISH3 = 1.0 / 3; // (√4 − 1)/3
const NORM2 = 47;
const NORM3 = 103;

/** 2-D gradients: the 8 directions to an octagon's vertices, as (x, y) pairs. */
const GRAD2 = new Int8Array([5, 2, 2, 5, -5, 2, -2, 5, 5, -2, 2, -5, -5, -2, -2, -5]);

/** 3-D gradients: the 24 directions to a rhombicuboctahedron's vertices, as (x, y, z) triples. */
const GRAD3 = new Int8Array([
  -11, 4, 4, -4, 11, 4, -4, 4, 11, 11, 4, 4, 4, 11, 4, 4, 4, 11, -11, -4, 4, -4, -11, 4, -4, -4, 11, 11, -4, 4, 4, -11, 4, 4, -4, 11, -11, 4, -4, -4, 11, -4, -4, 4, -11, 11,
  4, -4, 4, 11, -4, 4, 4, -11, -11, -4, -4, -4, -11, -4, -4, -4, -11, 11, -4, -4, 4, -11, -4, 4, -4, -11,
]);

/** The permutation of a seed, and the 3-D gradient offset of each entry. */
export function simplexPermutation(seed: number | bigint): { perm: Uint8Array; gradIndex3: Uint8Array } {
  let s = toSeed(seed);
  const step = (v: bigint): bigint => BigInt.asIntN(64, v * LCG_A + LCG_C);
  s = step(step(step(s)));
  const source = new Uint8Array(256);
  for (let i = 0; i < 256; i++) source[i] = i;
  const perm = new Uint8Array(256);
  const gradIndex3 = new Uint8Array(256);
  for (let i = 255; i >= 0; i--) {
    s = step(s);
    const m = BigInt(i + 1);
    // Python's modulo of the unwrapped s + 31: never negative.
    const r = Number((((s + 31n) % m) + m) % m);
    perm[i] = source[r];
    gradIndex3[i] = (perm[i] % 24) * 3;
    source[r] = source[i];
  }
  return { perm, gradIndex3 };
}

function toSeed(seed: number | bigint): bigint {
  if (typeof seed === 'bigint') return seed;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new TypeError(`OpenSimplex: seed must be a safe integer or a bigint, got ${String(seed)}`);
  }
  return BigInt(seed);
}

/** A seeded OpenSimplex noise field (the `opensimplex` package's OpenSimplex(seed)). */
export class OpenSimplex {
  readonly seed: bigint;
  private readonly perm: Uint8Array;
  private readonly gradIndex3: Uint8Array;

  constructor(seed: number | bigint) {
    this.seed = toSeed(seed);
    const { perm, gradIndex3 } = simplexPermutation(this.seed);
    this.perm = perm;
    this.gradIndex3 = gradIndex3;
  }

  /** g · d of the lattice point (xsb, ysb). */
  private extrapolate2(xsb: number, ysb: number, dx: number, dy: number): number {
    const p = this.perm;
    const i = p[(p[xsb & 0xff] + ysb) & 0xff] & 0x0e;
    return GRAD2[i] * dx + GRAD2[i + 1] * dy;
  }

  /** g · d of the lattice point (xsb, ysb, zsb). */
  private extrapolate3(xsb: number, ysb: number, zsb: number, dx: number, dy: number, dz: number): number {
    const p = this.perm;
    const i = this.gradIndex3[(p[(p[xsb & 0xff] + ysb) & 0xff] + zsb) & 0xff];
    return GRAD3[i] * dx + GRAD3[i + 1] * dy + GRAD3[i + 2] * dz;
  }

  /** The (2 − |d|²)⁴ (g · d) contribution of one 2-D lattice point (0 outside its reach). */
  private point2(xsv: number, ysv: number, dx: number, dy: number): number {
    let attn = 2 - dx * dx - dy * dy;
    if (!(attn > 0)) return 0;
    attn *= attn;
    return attn * attn * this.extrapolate2(xsv, ysv, dx, dy);
  }

  /** The (2 − |d|²)⁴ (g · d) contribution of one 3-D lattice point (0 outside its reach). */
  private point3(xsv: number, ysv: number, zsv: number, dx: number, dy: number, dz: number): number {
    let attn = 2 - dx * dx - dy * dy - dz * dz;
    if (!(attn > 0)) return 0;
    attn *= attn;
    return attn * attn * this.extrapolate3(xsv, ysv, zsv, dx, dy, dz);
  }

  /** Noise at (x, y). */
  noise2(x: number, y: number): number {
    // Skew onto the rhombus lattice; (xsb, ysb) is the super-cell's origin.
    const stretch = (x + y) * STRETCH2;
    const xs = x + stretch;
    const ys = y + stretch;
    let xsb = Math.floor(xs);
    let ysb = Math.floor(ys);
    const squish = (xsb + ysb) * SQUISH2;
    const xins = xs - xsb;
    const yins = ys - ysb;
    const inSum = xins + yins;
    let dx0 = x - (xsb + squish);
    let dy0 = y - (ysb + squish);

    // Terms are added one at a time, in the reference's order (float sums are order-dependent).
    let value = 0;
    value += this.point2(xsb + 1, ysb + 0, dx0 - 1 - SQUISH2, dy0 - 0 - SQUISH2);
    value += this.point2(xsb + 0, ysb + 1, dx0 - 0 - SQUISH2, dy0 - 1 - SQUISH2);

    let xsvExt: number, ysvExt: number, dxExt: number, dyExt: number;
    if (inSum <= 1) {
      // The triangle at (0, 0).
      const zins = 1 - inSum;
      if (zins > xins || zins > yins) {
        if (xins > yins) {
          [xsvExt, ysvExt, dxExt, dyExt] = [xsb + 1, ysb - 1, dx0 - 1, dy0 + 1];
        } else {
          [xsvExt, ysvExt, dxExt, dyExt] = [xsb - 1, ysb + 1, dx0 + 1, dy0 - 1];
        }
      } else {
        [xsvExt, ysvExt, dxExt, dyExt] = [xsb + 1, ysb + 1, dx0 - 1 - 2 * SQUISH2, dy0 - 1 - 2 * SQUISH2];
      }
    } else {
      // The triangle at (1, 1).
      const zins = 2 - inSum;
      if (zins < xins || zins < yins) {
        if (xins > yins) {
          [xsvExt, ysvExt, dxExt, dyExt] = [xsb + 2, ysb + 0, dx0 - 2 - 2 * SQUISH2, dy0 + 0 - 2 * SQUISH2];
        } else {
          [xsvExt, ysvExt, dxExt, dyExt] = [xsb + 0, ysb + 2, dx0 + 0 - 2 * SQUISH2, dy0 - 2 - 2 * SQUISH2];
        }
      } else {
        [xsvExt, ysvExt, dxExt, dyExt] = [xsb, ysb, dx0, dy0];
      }
      xsb += 1;
      ysb += 1;
      dx0 = dx0 - 1 - 2 * SQUISH2;
      dy0 = dy0 - 1 - 2 * SQUISH2;
    }
    value += this.point2(xsb, ysb, dx0, dy0);
    value += this.point2(xsvExt, ysvExt, dxExt, dyExt);
    return value / NORM2;
  }

  /** Noise at (x, y, z). */
  noise3(x: number, y: number, z: number): number {
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
      value += this.point3(xsb, ysb, zsb, dx0, dy0, dz0);
      const dx1 = dx0 - 1 - SQUISH3;
      const dy1 = dy0 - 0 - SQUISH3;
      const dz1 = dz0 - 0 - SQUISH3;
      value += this.point3(xsb + 1, ysb, zsb, dx1, dy1, dz1);
      const dx2 = dx0 - 0 - SQUISH3;
      const dy2 = dy0 - 1 - SQUISH3;
      value += this.point3(xsb, ysb + 1, zsb, dx2, dy2, dz1);
      value += this.point3(xsb, ysb, zsb + 1, dx2, dy1, dz0 - 1 - SQUISH3);
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
      value += this.point3(xsb + 1, ysb + 1, zsb, dx3, dy3, dz0 - 0 - 2 * SQUISH3);
      const dz2 = dz0 - 1 - 2 * SQUISH3;
      value += this.point3(xsb + 1, ysb, zsb + 1, dx3, dy0 - 0 - 2 * SQUISH3, dz2);
      value += this.point3(xsb, ysb + 1, zsb + 1, dx0 - 0 - 2 * SQUISH3, dy3, dz2);
      value += this.point3(xsb + 1, ysb + 1, zsb + 1, dx0 - 1 - 3 * SQUISH3, dy0 - 1 - 3 * SQUISH3, dz0 - 1 - 3 * SQUISH3);
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
      value += this.point3(xsb + 1, ysb, zsb, dx1, dy1, dz1);
      const dx2 = dx0 - 0 - SQUISH3;
      const dy2 = dy0 - 1 - SQUISH3;
      value += this.point3(xsb, ysb + 1, zsb, dx2, dy2, dz1);
      value += this.point3(xsb, ysb, zsb + 1, dx2, dy1, dz0 - 1 - SQUISH3);
      const dx4 = dx0 - 1 - 2 * SQUISH3;
      const dy4 = dy0 - 1 - 2 * SQUISH3;
      value += this.point3(xsb + 1, ysb + 1, zsb, dx4, dy4, dz0 - 0 - 2 * SQUISH3);
      const dz5 = dz0 - 1 - 2 * SQUISH3;
      value += this.point3(xsb + 1, ysb, zsb + 1, dx4, dy0 - 0 - 2 * SQUISH3, dz5);
      value += this.point3(xsb, ysb + 1, zsb + 1, dx0 - 0 - 2 * SQUISH3, dy4, dz5);
    }
    value += this.point3(xsv0, ysv0, zsv0, dxe0, dye0, dze0);
    value += this.point3(xsv1, ysv1, zsv1, dxe1, dye1, dze1);
    return value / NORM3;
  }

  /** Noise on the grid xs × ys: [ys.length, xs.length] row-major (the package's noise2array). */
  noise2Grid(xs: ArrayLike<number>, ys: ArrayLike<number>): Float64Array {
    const out = new Float64Array(xs.length * ys.length);
    for (let j = 0; j < ys.length; j++) for (let i = 0; i < xs.length; i++) out[j * xs.length + i] = this.noise2(xs[i], ys[j]);
    return out;
  }

  /** Noise on the grid xs × ys × zs: [zs.length, ys.length, xs.length] row-major (the package's noise3array). */
  noise3Grid(xs: ArrayLike<number>, ys: ArrayLike<number>, zs: ArrayLike<number>): Float64Array {
    const nx = xs.length;
    const ny = ys.length;
    const out = new Float64Array(nx * ny * zs.length);
    for (let k = 0; k < zs.length; k++) {
      for (let j = 0; j < ny; j++) {
        const row = (k * ny + j) * nx;
        for (let i = 0; i < nx; i++) out[row + i] = this.noise3(xs[i], ys[j], zs[k]);
      }
    }
    return out;
  }
}

export interface FractalOptions {
  /** Number of octaves summed (≥ 1). */
  octaves: number;
  /** Amplitude ratio of consecutive octaves, in (0, 1]. */
  persistence: number;
  /** Period (in grid steps) of the first octave; halved at each octave (RD++ calls it `frequency`). */
  period: number;
}

/** RD++'s pseudo-anomaly noise: 6 octaves, persistence 0.6, first period 32. */
export const RDPP_FRACTAL: Readonly<FractalOptions> = Object.freeze({ octaves: 6, persistence: 0.6, period: 32 });

function checkFractal(where: string, shape: readonly number[], rank: number, o: FractalOptions): void {
  if (shape.length !== rank || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(`${where}: shape must be ${rank} non-negative integers, got [${shape.join(', ')}]`);
  }
  if (!Number.isInteger(o.octaves) || o.octaves < 1) throw new RangeError(`${where}: octaves must be an integer ≥ 1, got ${o.octaves}`);
  if (!(o.persistence > 0 && o.persistence <= 1)) throw new RangeError(`${where}: persistence must be in (0, 1], got ${o.persistence}`);
  if (!(o.period > 0 && Number.isFinite(o.period))) throw new RangeError(`${where}: period must be a positive number, got ${o.period}`);
}

/** The indices 0..n−1 divided by f (as NumPy divides an integer range by a float). */
function coords(n: number, f: number): Float64Array {
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) c[i] = i / f;
  return c;
}

/**
 * Fractal 3-D noise on the integer grid [depth, height, width] (row-major, z slowest): the
 * sum over octaves of persistenceᵒ · noise3(x/pₒ, y/pₒ, z/pₒ), pₒ = period/2ᵒ (RD++'s
 * `rand_3d_octaves(shape, octaves, persistence, frequency)`).
 */
export function fractalNoise3(noise: OpenSimplex, shape: readonly [number, number, number], opts: FractalOptions = RDPP_FRACTAL): Float64Array {
  checkFractal('fractalNoise3', shape, 3, opts);
  const [d, h, w] = shape;
  const out = new Float64Array(d * h * w);
  let amplitude = 1;
  let period = opts.period;
  for (let o = 0; o < opts.octaves; o++) {
    const octave = noise.noise3Grid(coords(w, period), coords(h, period), coords(d, period));
    for (let i = 0; i < out.length; i++) out[i] += amplitude * octave[i];
    period /= 2;
    amplitude *= opts.persistence;
  }
  return out;
}

/** Fractal 2-D noise on the integer grid [height, width] (row-major): as fractalNoise3 with noise2. */
export function fractalNoise2(noise: OpenSimplex, shape: readonly [number, number], opts: FractalOptions = RDPP_FRACTAL): Float64Array {
  checkFractal('fractalNoise2', shape, 2, opts);
  const [h, w] = shape;
  const out = new Float64Array(h * w);
  let amplitude = 1;
  let period = opts.period;
  for (let o = 0; o < opts.octaves; o++) {
    const octave = noise.noise2Grid(coords(w, period), coords(h, period));
    for (let i = 0; i < out.length; i++) out[i] += amplitude * octave[i];
    period /= 2;
    amplitude *= opts.persistence;
  }
  return out;
}
