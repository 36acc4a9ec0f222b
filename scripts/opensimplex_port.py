"""A small pure-Python port of OpenSimplex noise (2-D and 3-D) as the PyPI package `opensimplex`
(lmas/opensimplex 0.3-0.4, the version RD++'s dataset/noise.py copies) computes it, for fixtures.

The package itself cannot be installed where the fixtures are made (no PyPI), so this port
stands in for it. It reproduces the package's published test values (tests/test_opensimplex.py:
noise2(0.5, 0.5) for seeds -1e9, 0 and 1e9), which `check()` asserts before any fixture is
written; the 3-D code follows the same source line for line (same operations, same order, so
the same float64 bits). src/anomalies/simplex-noise.ts is the library's implementation.

Seeding: Knuth's MMIX LCG on 64-bit two's complement integers, three warm-up steps, then a
Fisher-Yates pass from the top with r = (s + 31) mod (i + 1) (Python's modulo).
"""
from math import floor

M64 = (1 << 64) - 1

STRETCH2 = -0.211324865405187
SQUISH2 = 0.366025403784439
STRETCH3 = -1.0 / 6
SQUISH3 = 1.0 / 3
NORM2 = 47
NORM3 = 103

GRAD2 = (5, 2, 2, 5, -5, 2, -2, 5, 5, -2, 2, -5, -5, -2, -2, -5)
GRAD3 = (
    -11, 4, 4, -4, 11, 4, -4, 4, 11,
    11, 4, 4, 4, 11, 4, 4, 4, 11,
    -11, -4, 4, -4, -11, 4, -4, -4, 11,
    11, -4, 4, 4, -11, 4, 4, -4, 11,
    -11, 4, -4, -4, 11, -4, -4, 4, -11,
    11, 4, -4, 4, 11, -4, 4, 4, -11,
    -11, -4, -4, -4, -11, -4, -4, -4, -11,
    11, -4, -4, 4, -11, -4, 4, -4, -11,
)

PUBLISHED = ((-1000000000, -0.07384566459931621), (0, -0.7752903093693847), (1000000000, 0.014494483991342916))


def _wrap64(v):
    v &= M64
    return v - (1 << 64) if v >> 63 else v


def permutation(seed):
    s = seed
    for _ in range(3):
        s = _wrap64(s * 6364136223846793005 + 1442695040888963407)
    source = list(range(256))
    perm = [0] * 256
    grad3 = [0] * 256
    for i in range(255, -1, -1):
        s = _wrap64(s * 6364136223846793005 + 1442695040888963407)
        r = (s + 31) % (i + 1)
        perm[i] = source[r]
        grad3[i] = (perm[i] % 24) * 3
        source[r] = source[i]
    return perm, grad3


class OpenSimplex:
    def __init__(self, seed):
        self.perm, self.grad3 = permutation(seed)

    def _ext2(self, xsb, ysb, dx, dy):
        p = self.perm
        i = p[(p[xsb & 0xFF] + ysb) & 0xFF] & 0x0E
        return GRAD2[i] * dx + GRAD2[i + 1] * dy

    def _ext3(self, xsb, ysb, zsb, dx, dy, dz):
        p = self.perm
        i = self.grad3[(p[(p[xsb & 0xFF] + ysb) & 0xFF] + zsb) & 0xFF]
        return GRAD3[i] * dx + GRAD3[i + 1] * dy + GRAD3[i + 2] * dz

    def _c2(self, xsv, ysv, dx, dy):
        a = 2 - dx * dx - dy * dy
        if a > 0:
            a *= a
            return a * a * self._ext2(xsv, ysv, dx, dy)
        return 0

    def _c3(self, xsv, ysv, zsv, dx, dy, dz):
        a = 2 - dx * dx - dy * dy - dz * dz
        if a > 0:
            a *= a
            return a * a * self._ext3(xsv, ysv, zsv, dx, dy, dz)
        return 0

    def noise2(self, x, y):
        so = (x + y) * STRETCH2
        xs, ys = x + so, y + so
        xsb, ysb = floor(xs), floor(ys)
        sq = (xsb + ysb) * SQUISH2
        xb, yb = xsb + sq, ysb + sq
        xins, yins = xs - xsb, ys - ysb
        in_sum = xins + yins
        dx0, dy0 = x - xb, y - yb
        value = 0
        value += self._c2(xsb + 1, ysb + 0, dx0 - 1 - SQUISH2, dy0 - 0 - SQUISH2)
        value += self._c2(xsb + 0, ysb + 1, dx0 - 0 - SQUISH2, dy0 - 1 - SQUISH2)
        if in_sum <= 1:
            zins = 1 - in_sum
            if zins > xins or zins > yins:
                if xins > yins:
                    ext = (xsb + 1, ysb - 1, dx0 - 1, dy0 + 1)
                else:
                    ext = (xsb - 1, ysb + 1, dx0 + 1, dy0 - 1)
            else:
                ext = (xsb + 1, ysb + 1, dx0 - 1 - 2 * SQUISH2, dy0 - 1 - 2 * SQUISH2)
        else:
            zins = 2 - in_sum
            if zins < xins or zins < yins:
                if xins > yins:
                    ext = (xsb + 2, ysb + 0, dx0 - 2 - 2 * SQUISH2, dy0 + 0 - 2 * SQUISH2)
                else:
                    ext = (xsb + 0, ysb + 2, dx0 + 0 - 2 * SQUISH2, dy0 - 2 - 2 * SQUISH2)
            else:
                ext = (xsb, ysb, dx0, dy0)
            xsb += 1
            ysb += 1
            dx0 = dx0 - 1 - 2 * SQUISH2
            dy0 = dy0 - 1 - 2 * SQUISH2
        value += self._c2(xsb, ysb, dx0, dy0)
        value += self._c2(*ext)
        return value / NORM2

    def noise3(self, x, y, z):
        S = SQUISH3
        so = (x + y + z) * STRETCH3
        xs, ys, zs = x + so, y + so, z + so
        xsb, ysb, zsb = floor(xs), floor(ys), floor(zs)
        sq = (xsb + ysb + zsb) * S
        xb, yb, zb = xsb + sq, ysb + sq, zsb + sq
        xins, yins, zins = xs - xsb, ys - ysb, zs - zsb
        in_sum = xins + yins + zins
        dx0, dy0, dz0 = x - xb, y - yb, z - zb
        value = 0
        if in_sum <= 1:
            a_pt, a_sc, b_pt, b_sc = 0x01, xins, 0x02, yins
            if a_sc >= b_sc and zins > b_sc:
                b_sc, b_pt = zins, 0x04
            elif a_sc < b_sc and zins > a_sc:
                a_sc, a_pt = zins, 0x04
            wins = 1 - in_sum
            if wins > a_sc or wins > b_sc:
                c = b_pt if b_sc > a_sc else a_pt
                if (c & 0x01) == 0:
                    xv0, xv1, dxe0, dxe1 = xsb - 1, xsb, dx0 + 1, dx0
                else:
                    xv0 = xv1 = xsb + 1
                    dxe0 = dxe1 = dx0 - 1
                if (c & 0x02) == 0:
                    yv0 = yv1 = ysb
                    dye0 = dye1 = dy0
                    if (c & 0x01) == 0:
                        yv1 -= 1
                        dye1 += 1
                    else:
                        yv0 -= 1
                        dye0 += 1
                else:
                    yv0 = yv1 = ysb + 1
                    dye0 = dye1 = dy0 - 1
                if (c & 0x04) == 0:
                    zv0, zv1, dze0, dze1 = zsb, zsb - 1, dz0, dz0 + 1
                else:
                    zv0 = zv1 = zsb + 1
                    dze0 = dze1 = dz0 - 1
            else:
                c = a_pt | b_pt
                if (c & 0x01) == 0:
                    xv0, xv1, dxe0, dxe1 = xsb, xsb - 1, dx0 - 2 * S, dx0 + 1 - S
                else:
                    xv0 = xv1 = xsb + 1
                    dxe0, dxe1 = dx0 - 1 - 2 * S, dx0 - 1 - S
                if (c & 0x02) == 0:
                    yv0, yv1, dye0, dye1 = ysb, ysb - 1, dy0 - 2 * S, dy0 + 1 - S
                else:
                    yv0 = yv1 = ysb + 1
                    dye0, dye1 = dy0 - 1 - 2 * S, dy0 - 1 - S
                if (c & 0x04) == 0:
                    zv0, zv1, dze0, dze1 = zsb, zsb - 1, dz0 - 2 * S, dz0 + 1 - S
                else:
                    zv0 = zv1 = zsb + 1
                    dze0, dze1 = dz0 - 1 - 2 * S, dz0 - 1 - S
            value += self._c3(xsb, ysb, zsb, dx0, dy0, dz0)
            dx1, dy1, dz1 = dx0 - 1 - S, dy0 - 0 - S, dz0 - 0 - S
            value += self._c3(xsb + 1, ysb, zsb, dx1, dy1, dz1)
            dx2, dy2 = dx0 - 0 - S, dy0 - 1 - S
            value += self._c3(xsb, ysb + 1, zsb, dx2, dy2, dz1)
            value += self._c3(xsb, ysb, zsb + 1, dx2, dy1, dz0 - 1 - S)
        elif in_sum >= 2:
            a_pt, a_sc, b_pt, b_sc = 0x06, xins, 0x05, yins
            if a_sc <= b_sc and zins < b_sc:
                b_sc, b_pt = zins, 0x03
            elif a_sc > b_sc and zins < a_sc:
                a_sc, a_pt = zins, 0x03
            wins = 3 - in_sum
            if wins < a_sc or wins < b_sc:
                c = b_pt if b_sc < a_sc else a_pt
                if (c & 0x01) != 0:
                    xv0, xv1, dxe0, dxe1 = xsb + 2, xsb + 1, dx0 - 2 - 3 * S, dx0 - 1 - 3 * S
                else:
                    xv0 = xv1 = xsb
                    dxe0 = dxe1 = dx0 - 3 * S
                if (c & 0x02) != 0:
                    yv0 = yv1 = ysb + 1
                    dye0 = dye1 = dy0 - 1 - 3 * S
                    if (c & 0x01) != 0:
                        yv1 += 1
                        dye1 -= 1
                    else:
                        yv0 += 1
                        dye0 -= 1
                else:
                    yv0 = yv1 = ysb
                    dye0 = dye1 = dy0 - 3 * S
                if (c & 0x04) != 0:
                    zv0, zv1, dze0, dze1 = zsb + 1, zsb + 2, dz0 - 1 - 3 * S, dz0 - 2 - 3 * S
                else:
                    zv0 = zv1 = zsb
                    dze0 = dze1 = dz0 - 3 * S
            else:
                c = a_pt & b_pt
                if (c & 0x01) != 0:
                    xv0, xv1, dxe0, dxe1 = xsb + 1, xsb + 2, dx0 - 1 - S, dx0 - 2 - 2 * S
                else:
                    xv0 = xv1 = xsb
                    dxe0, dxe1 = dx0 - S, dx0 - 2 * S
                if (c & 0x02) != 0:
                    yv0, yv1, dye0, dye1 = ysb + 1, ysb + 2, dy0 - 1 - S, dy0 - 2 - 2 * S
                else:
                    yv0 = yv1 = ysb
                    dye0, dye1 = dy0 - S, dy0 - 2 * S
                if (c & 0x04) != 0:
                    zv0, zv1, dze0, dze1 = zsb + 1, zsb + 2, dz0 - 1 - S, dz0 - 2 - 2 * S
                else:
                    zv0 = zv1 = zsb
                    dze0, dze1 = dz0 - S, dz0 - 2 * S
            dx3, dy3 = dx0 - 1 - 2 * S, dy0 - 1 - 2 * S
            value += self._c3(xsb + 1, ysb + 1, zsb, dx3, dy3, dz0 - 0 - 2 * S)
            dz2 = dz0 - 1 - 2 * S
            value += self._c3(xsb + 1, ysb, zsb + 1, dx3, dy0 - 0 - 2 * S, dz2)
            value += self._c3(xsb, ysb + 1, zsb + 1, dx0 - 0 - 2 * S, dy3, dz2)
            value += self._c3(xsb + 1, ysb + 1, zsb + 1, dx0 - 1 - 3 * S, dy0 - 1 - 3 * S, dz0 - 1 - 3 * S)
        else:
            p1 = xins + yins
            if p1 > 1:
                a_sc, a_pt, a_far = p1 - 1, 0x03, True
            else:
                a_sc, a_pt, a_far = 1 - p1, 0x04, False
            p2 = xins + zins
            if p2 > 1:
                b_sc, b_pt, b_far = p2 - 1, 0x05, True
            else:
                b_sc, b_pt, b_far = 1 - p2, 0x02, False
            p3 = yins + zins
            if p3 > 1:
                score = p3 - 1
                if a_sc <= b_sc and a_sc < score:
                    a_pt, a_far = 0x06, True
                elif a_sc > b_sc and b_sc < score:
                    b_pt, b_far = 0x06, True
            else:
                score = 1 - p3
                if a_sc <= b_sc and a_sc < score:
                    a_pt, a_far = 0x01, False
                elif a_sc > b_sc and b_sc < score:
                    b_pt, b_far = 0x01, False
            if a_far == b_far:
                if a_far:
                    dxe0, dye0, dze0 = dx0 - 1 - 3 * S, dy0 - 1 - 3 * S, dz0 - 1 - 3 * S
                    xv0, yv0, zv0 = xsb + 1, ysb + 1, zsb + 1
                    c = a_pt & b_pt
                    if (c & 0x01) != 0:
                        dxe1, dye1, dze1 = dx0 - 2 - 2 * S, dy0 - 2 * S, dz0 - 2 * S
                        xv1, yv1, zv1 = xsb + 2, ysb, zsb
                    elif (c & 0x02) != 0:
                        dxe1, dye1, dze1 = dx0 - 2 * S, dy0 - 2 - 2 * S, dz0 - 2 * S
                        xv1, yv1, zv1 = xsb, ysb + 2, zsb
                    else:
                        dxe1, dye1, dze1 = dx0 - 2 * S, dy0 - 2 * S, dz0 - 2 - 2 * S
                        xv1, yv1, zv1 = xsb, ysb, zsb + 2
                else:
                    dxe0, dye0, dze0 = dx0, dy0, dz0
                    xv0, yv0, zv0 = xsb, ysb, zsb
                    c = a_pt | b_pt
                    if (c & 0x01) == 0:
                        dxe1, dye1, dze1 = dx0 + 1 - S, dy0 - 1 - S, dz0 - 1 - S
                        xv1, yv1, zv1 = xsb - 1, ysb + 1, zsb + 1
                    elif (c & 0x02) == 0:
                        dxe1, dye1, dze1 = dx0 - 1 - S, dy0 + 1 - S, dz0 - 1 - S
                        xv1, yv1, zv1 = xsb + 1, ysb - 1, zsb + 1
                    else:
                        dxe1, dye1, dze1 = dx0 - 1 - S, dy0 - 1 - S, dz0 + 1 - S
                        xv1, yv1, zv1 = xsb + 1, ysb + 1, zsb - 1
            else:
                c1, c2 = (a_pt, b_pt) if a_far else (b_pt, a_pt)
                if (c1 & 0x01) == 0:
                    dxe0, dye0, dze0 = dx0 + 1 - S, dy0 - 1 - S, dz0 - 1 - S
                    xv0, yv0, zv0 = xsb - 1, ysb + 1, zsb + 1
                elif (c1 & 0x02) == 0:
                    dxe0, dye0, dze0 = dx0 - 1 - S, dy0 + 1 - S, dz0 - 1 - S
                    xv0, yv0, zv0 = xsb + 1, ysb - 1, zsb + 1
                else:
                    dxe0, dye0, dze0 = dx0 - 1 - S, dy0 - 1 - S, dz0 + 1 - S
                    xv0, yv0, zv0 = xsb + 1, ysb + 1, zsb - 1
                dxe1, dye1, dze1 = dx0 - 2 * S, dy0 - 2 * S, dz0 - 2 * S
                xv1, yv1, zv1 = xsb, ysb, zsb
                if (c2 & 0x01) != 0:
                    dxe1 -= 2
                    xv1 += 2
                elif (c2 & 0x02) != 0:
                    dye1 -= 2
                    yv1 += 2
                else:
                    dze1 -= 2
                    zv1 += 2
            dx1, dy1, dz1 = dx0 - 1 - S, dy0 - 0 - S, dz0 - 0 - S
            value += self._c3(xsb + 1, ysb, zsb, dx1, dy1, dz1)
            dx2, dy2 = dx0 - 0 - S, dy0 - 1 - S
            value += self._c3(xsb, ysb + 1, zsb, dx2, dy2, dz1)
            value += self._c3(xsb, ysb, zsb + 1, dx2, dy1, dz0 - 1 - S)
            dx4, dy4 = dx0 - 1 - 2 * S, dy0 - 1 - 2 * S
            value += self._c3(xsb + 1, ysb + 1, zsb, dx4, dy4, dz0 - 0 - 2 * S)
            dz5 = dz0 - 1 - 2 * S
            value += self._c3(xsb + 1, ysb, zsb + 1, dx4, dy0 - 0 - 2 * S, dz5)
            value += self._c3(xsb, ysb + 1, zsb + 1, dx0 - 0 - 2 * S, dy4, dz5)
        value += self._c3(xv0, yv0, zv0, dxe0, dye0, dze0)
        value += self._c3(xv1, yv1, zv1, dxe1, dye1, dze1)
        return value / NORM3

    def fractal3(self, shape, octaves=6, persistence=0.6, period=32.0):
        """RD++'s rand_3d_octaves: [depth][height][width] nested lists (z slowest)."""
        d, h, w = shape
        out = [[[0.0] * w for _ in range(h)] for _ in range(d)]
        amp, f = 1, float(period)
        for _ in range(octaves):
            for k in range(d):
                for j in range(h):
                    row = out[k][j]
                    for i in range(w):
                        row[i] += amp * self.noise3(i / f, j / f, k / f)
            f /= 2
            amp *= persistence
        return out

    def fractal2(self, shape, octaves=6, persistence=0.6, period=32.0):
        """rand_2d_octaves with the package's [height][width] layout."""
        h, w = shape
        out = [[0.0] * w for _ in range(h)]
        amp, f = 1, float(period)
        for _ in range(octaves):
            for j in range(h):
                row = out[j]
                for i in range(w):
                    row[i] += amp * self.noise2(i / f, j / f)
            f /= 2
            amp *= persistence
        return out


def check():
    """Asserts the package's published values (its tests/test_opensimplex.py)."""
    for seed, expected in PUBLISHED:
        got = OpenSimplex(seed).noise2(0.5, 0.5)
        assert got == expected, f"opensimplex port: noise2(0.5, 0.5) with seed {seed} is {got!r}, the package gives {expected!r}"
