#!/usr/bin/python3
"""cv2.seamlessClone reference outputs for test/anomalies/seamless-clone.test.ts.

Run with Debian's python3 and python3-opencv (4.6):
    /usr/bin/python3 scripts/make-opencv-fixtures.py
Writes test/fixtures/opencv/seamless-clone.json (the cases) and seamless-clone.bin.gz (per case,
OpenCV's output inside the blended rectangle, H x W x 3 uint8, concatenated).

Inputs are not stored: images and masks come from integer formulas that the test reproduces
exactly (texture(), mask() below and their twins in the test), so only OpenCV's outputs are
committed. Textures are triangle-wave gradients plus hashed noise, so that mixed cloning has
gradients of both images to choose between. Grey cases replicate one channel into 3 for OpenCV
(which needs 3 channels); the library clones the 1-channel image and is compared with channel 0.
"""
import gzip
import json
import os
import sys

import cv2
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'opencv')


def hash32(x, y, c, seed):
    """A 32-bit integer hash (uint32 arithmetic; the test's twin uses Math.imul)."""
    h = (x * 374761393 + y * 668265263 + c * 2246822519 + seed * 3266489917) & 0xFFFFFFFF
    h = ((h ^ (h >> 15)) * 2246822519) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * 3266489917) & 0xFFFFFFFF
    return h ^ (h >> 16)


def texture(w, h, seed, grey):
    """H x W x 3 uint8: a triangle wave along a seed-dependent direction plus noise in [-24, 24]."""
    img = np.zeros((h, w, 3), np.uint8)
    ax, ay = 1 + seed % 5, 1 + (seed // 5) % 4
    for y in range(h):
        for x in range(w):
            for c in range(3):
                cc = 0 if grey else c
                t = (x * ax * (cc + 1) + y * ay * (3 - cc) + seed * 37) % 512
                tri = t if t < 256 else 511 - t
                v = 16 + (tri * 3) // 4 + hash32(x, y, cc, seed) % 49 - 24
                img[y, x, c] = min(255, max(0, v))
    return img


def mask(kind, w, h):
    """H x W uint8 mask of a named shape (integer rules only)."""
    m = np.zeros((h, w), np.uint8)
    for y in range(h):
        for x in range(w):
            if kind == 'full':  # patch_ex: a mask of ones over the whole patch
                v = 255
            elif kind == 'rect':
                v = 255 if 6 <= x < w - 9 and 4 <= y < h - 7 else 0
            elif kind == 'disk':
                v = 255 if (2 * x - w + 1) ** 2 + (2 * y - h + 1) ** 2 <= (min(w, h) - 6) ** 2 else 0
            elif kind == 'ellipse':
                v = 255 if 4 * (2 * x - w + 1) ** 2 * h * h + 9 * (2 * y - h + 1) ** 2 * w * w <= 4 * w * w * h * h // 2 else 0
            elif kind == 'lshape':
                v = 255 if (5 <= x < w - 5 and 5 <= y < h // 2) or (5 <= x < w // 2 and 5 <= y < h - 5) else 0
            elif kind == 'two':
                v = 255 if (x - w // 4) ** 2 + (y - h // 3) ** 2 <= (w // 6) ** 2 or (x - 3 * w // 4) ** 2 + (y - 2 * h // 3) ** 2 <= (w // 5) ** 2 else 0
            elif kind == 'ring':
                d = (2 * x - w + 1) ** 2 + (2 * y - h + 1) ** 2
                v = 255 if (min(w, h) // 4) ** 2 <= d <= (min(w, h) - 4) ** 2 else 0
            elif kind == 'half':  # a mask of value 128: OpenCV weighs the patch by 128/255
                v = 128 if 3 <= x < w - 3 and 3 <= y < h - 3 else 0
            else:
                raise ValueError(kind)
            m[y, x] = v
    return m


# name, src w/h/seed, dst w/h/seed, mask kind, center (None: dst centre), mode, grey
CASES = [
    ('full-normal', (48, 40, 1), (80, 72, 2), 'full', None, 'normal', False),
    ('full-mixed', (48, 40, 1), (80, 72, 2), 'full', None, 'mixed', False),
    ('rect-mixed-topleft', (56, 48, 3), (64, 64, 4), 'rect', 'topleft', 'mixed', False),
    ('disk-normal-bottomright', (60, 60, 5), (96, 80, 6), 'disk', 'bottomright', 'normal', False),
    ('ellipse-mixed', (72, 48, 7), (96, 96, 8), 'ellipse', (50, 45), 'mixed', False),
    ('lshape-normal-grey', (64, 64, 9), (80, 80, 10), 'lshape', (41, 38), 'normal', True),
    ('lshape-mixed-grey', (64, 64, 9), (80, 80, 10), 'lshape', (41, 38), 'mixed', True),
    ('two-mixed', (64, 56, 11), (72, 72, 12), 'two', 'topright', 'mixed', False),
    ('ring-normal', (50, 50, 13), (60, 60, 14), 'ring', None, 'normal', False),
    ('half-weight-mixed-grey', (48, 48, 15), (64, 56, 16), 'half', 'bottomleft', 'mixed', True),
]


def bbox(m):
    inner = m.copy()
    inner[0, :] = 0
    inner[-1, :] = 0
    inner[:, 0] = 0
    inner[:, -1] = 0
    ys, xs = np.nonzero(inner)
    return xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = []
    blobs = []
    offset = 0
    for name, (sw, sh, ss), (dw, dh, ds), kind, where, mode, grey in CASES:
        src = texture(sw, sh, ss, grey)
        dst = texture(dw, dh, ds, grey)
        m = mask(kind, sw, sh)
        x0, y0, w, h = bbox(m)
        lo = (w // 2, h // 2)  # the smallest centre keeping the box inside dst
        hi = (dw - w + w // 2, dh - h + h // 2)
        if where is None:
            center = (dw // 2, dh // 2)
        elif where == 'topleft':
            center = lo
        elif where == 'bottomright':
            center = hi
        elif where == 'topright':
            center = (hi[0], lo[1])
        elif where == 'bottomleft':
            center = (lo[0], hi[1])
        else:
            center = where
        flag = cv2.MIXED_CLONE if mode == 'mixed' else cv2.NORMAL_CLONE
        out = cv2.seamlessClone(src, dst, m, center, flag)
        rx, ry = center[0] - w // 2, center[1] - h // 2
        outside = np.ones((dh, dw), bool)
        outside[ry:ry + h, rx:rx + w] = False
        assert (out[outside] == dst[outside]).all(), name  # OpenCV only writes the rectangle
        if grey:
            assert (out[..., 0] == out[..., 1]).all() and (out[..., 0] == out[..., 2]).all(), name
        region = np.ascontiguousarray(out[ry:ry + h, rx:rx + w])
        blobs.append(region.tobytes())
        cases.append({
            'name': name, 'src': [sw, sh, ss], 'dst': [dw, dh, ds], 'mask': kind, 'center': [int(center[0]), int(center[1])],
            'mode': mode, 'grey': grey, 'roi': [int(rx), int(ry), int(w), int(h)], 'offset': offset,
            'changed': int((region != dst[ry:ry + h, rx:rx + w]).any(axis=2).sum()),
        })
        offset += region.size
        print(f'{name}: box {w}x{h} at ({rx}, {ry}), {cases[-1]["changed"]} pixels changed', file=sys.stderr)
    with open(os.path.join(OUT, 'seamless-clone.json'), 'w') as f:
        json.dump({'opencv': cv2.__version__, 'generator': 'scripts/make-opencv-fixtures.py', 'cases': cases}, f, indent=1)
        f.write('\n')
    with gzip.GzipFile(os.path.join(OUT, 'seamless-clone.bin.gz'), 'wb', mtime=0) as f:
        f.write(b''.join(blobs))


if __name__ == '__main__':
    main()
