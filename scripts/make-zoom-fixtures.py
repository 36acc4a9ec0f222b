#!/usr/bin/python3
"""Reference values for src/metrics/zoom.ts from SciPy's ndimage.zoom (Debian python3-scipy).

The one-stage SSL reference computes ⌈Dice⌉ after resizing the score maps to 64 × 64 with
scipy.ndimage.zoom(order=3) and the masks with order=0 (methods.md §9.4, quirk
sslDiceZoom64); zoom's other arguments are its defaults (mode 'constant', grid_mode False,
prefilter True). Writes test/fixtures/zoom/zoom.json:

  cases   float32 maps drawn from the 32-bit LCG of test/metrics/lcg.ts (exact float32
          values (x >>> 8) / 2²⁴, re-created bit for bit in TypeScript), zoomed per 2-D map
          to a given output shape with order 3 and order 0; outputs stored as float32
          (shortest repr) and 0/1 masks as strings;
  dice    four 256 × 256 maps (a soft blob over a rectangle plus LCG noise) and masks,
          zoomed to 64 × 64 (maps order 3, masks order 0) and scored with the reference
          ⌈Dice⌉ procedure (methods.md §9.3: q = 100 quantiles, step ⌊N/q⌋, strict >).

Run: /usr/bin/python3 scripts/make-zoom-fixtures.py
"""

import json
import os

import numpy as np
import scipy
from scipy import ndimage

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'zoom')


class Lcg:
    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFF

    def next(self):
        self.state = (1664525 * self.state + 1013904223) & 0xFFFFFFFF
        return self.state


def lcg_map(seed, h, w):
    """h × w float32 values (x >> 8) / 2²⁴ (exact in float32)."""
    g = Lcg(seed)
    return np.array([(g.next() >> 8) / 16777216 for _ in range(h * w)], dtype=np.float32).reshape(h, w)


def dice_map(seed, size):
    """A soft blob over a rectangle (the mask) plus LCG noise, float32; mask 0/1 uint8."""
    g = Lcg(seed)
    y0 = 40 + (g.next() >> 24) % 100
    x0 = 40 + (g.next() >> 24) % 100
    h = 20 + (g.next() >> 24) % 60
    w = 20 + (g.next() >> 24) % 60
    mask = np.zeros((size, size), dtype=np.uint8)
    if seed % 4 != 0:  # one normal image (empty mask)
        mask[y0:y0 + h, x0:x0 + w] = 1
    noise = lcg_map(seed + 1000, size, size)
    m = (0.6 * mask + 0.5 * noise).astype(np.float32)
    m[:16, :] = 0  # the zero-padded border of the one-stage maps
    m[-16:, :] = 0
    m[:, :16] = 0
    m[:, -16:] = 0
    return m, mask


def best_dice(v, g, q):
    """methods.md §9.3: thresholds sort(v)[j·s], s = ⌊N/q⌋; p = v > t; the first best wins."""
    n = v.size
    s = n // q
    srt = np.sort(v)
    best, best_t = -1.0, None
    for j in range(0, n, s):
        t = srt[j]
        p = v > t
        inter = float(np.sum(p & g))
        d = 2 * inter / (float(p.sum()) + float(g.sum()))
        if d > best:
            best, best_t = d, float(t)
    return best, best_t


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = []
    for seed, (h, w), (oh, ow) in [
        (1, (256, 256), (64, 64)),
        (2, (20, 13), (7, 9)),
        (3, (5, 6), (12, 11)),
        (4, (32, 32), (32, 32)),
        (5, (2, 3), (4, 4)),
        (6, (96, 90), (40, 37)),
    ]:
        x = lcg_map(seed, h, w)
        z3 = ndimage.zoom(x, (oh / h, ow / w), order=3)
        assert z3.shape == (oh, ow) and z3.dtype == np.float32, (z3.shape, z3.dtype)
        m = (x > 0.5).astype(np.uint8)
        z0 = ndimage.zoom(m, (oh / h, ow / w), order=0)
        cases.append({
            'seed': seed, 'height': h, 'width': w, 'outHeight': oh, 'outWidth': ow,
            'order3': [float(str(np.float32(v))) for v in z3.ravel()],  # shortest float32 repr
            'order0Mask': ''.join(str(int(v)) for v in z0.ravel()),
        })
    dice = {'size': 256, 'out': 64, 'quantiles': 100, 'seeds': [11, 12, 13, 14]}
    maps, masks = [], []
    for seed in dice['seeds']:
        m, k = dice_map(seed, 256)
        maps.append(ndimage.zoom(m, 64 / 256, order=3))
        masks.append(ndimage.zoom(k, 64 / 256, order=0))
    v = np.concatenate([a.ravel() for a in maps])
    g = np.concatenate([a.ravel() for a in masks]).astype(bool)
    dice['dice'], dice['threshold'] = best_dice(v, g, 100)
    # The same procedure at the native 256 × 256 (quirk off), for comparison.
    v256 = np.concatenate([dice_map(s, 256)[0].ravel() for s in dice['seeds']])
    g256 = np.concatenate([dice_map(s, 256)[1].ravel() for s in dice['seeds']]).astype(bool)
    dice['dice256'], dice['threshold256'] = best_dice(v256, g256, 100)
    with open(os.path.join(OUT, 'zoom.json'), 'w') as f:
        json.dump({'scipy': scipy.__version__, 'numpy': np.__version__, 'cases': cases, 'dice': dice}, f, separators=(',', ':'))
        f.write('\n')
    print('wrote', os.path.join(OUT, 'zoom.json'), dice['dice'], dice['dice256'])


if __name__ == '__main__':
    main()
