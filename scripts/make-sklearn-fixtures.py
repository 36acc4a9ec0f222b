#!/usr/bin/python3
"""Reference values for src/metrics from scikit-learn (Debian python3-sklearn).

Writes test/fixtures/sklearn/{image,pixel,large}.json:

  image.json  small score/label sets (heavy ties, all-equal scores, perfect and inverted
              rankings, two-item sets, negative zero, float32 scores, ...) with
              roc_auc_score, average_precision_score and the F1-max derived from
              precision_recall_curve (value, and the largest threshold attaining it).
  pixel.json  a few score maps and masks with the pooled pixel AUROC / AP (scikit-learn
              on the flattened pixels), the reference ⌈Dice⌉ procedure (a port of
              MedIAnomaly reconstruction/utils/util.py compute_best_dice, without the
              process pool) for several quantile counts, and AUPRO from an independent
              NumPy/SciPy implementation of the MVTec AD definition (scipy.ndimage.label
              with a 3×3 structure = 8-connectivity, cumulative sums over a descending
              sort, ties merged, trapezoid with interpolation at the limit).
  ledoit-wolf.json  scikit-learn LedoitWolf (assume_centered=False) fits in float64 on a few
              sample sets (n > p, n < p, one feature, one sample, L2-normalised embeddings
              like the resnet18-in baseline): location_, covariance_, shrinkage_,
              precision_ (SciPy pinvh) and the squared Mahalanobis distances
              (LedoitWolf.mahalanobis) of held-out points.
  large.json  answers only for 10⁵-sample sets drawn from a 32-bit LCG that the tests
              re-create bit for bit in TypeScript (test/metrics/lcg.ts), so the fixture
              stays small.

Run: /usr/bin/python3 scripts/make-sklearn-fixtures.py
"""

import json
import os
import sys
import warnings

import numpy as np
import sklearn
from scipy import ndimage
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'sklearn')


# ---------------------------------------------------------------------------------------
# The LCG shared with test/metrics/lcg.ts: x ← (1664525·x + 1013904223) mod 2³².
# Only exact operations follow (shifts, division by powers of two, one rounded
# addition), so Python and JavaScript produce identical doubles.

class Lcg:
    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFF

    def next(self):
        self.state = (1664525 * self.state + 1013904223) & 0xFFFFFFFF
        return self.state


def lcg_tied(seed, n):
    """256 distinct scores in [0, 1); P(anomalous) = 0.1 + 0.5·score."""
    g = Lcg(seed)
    scores = np.empty(n)
    labels = np.empty(n, dtype=np.int64)
    for i in range(n):
        s = (g.next() >> 24) / 256
        u = (g.next() >> 8) / 16777216
        scores[i] = s
        labels[i] = 1 if u < 0.1 + 0.5 * s else 0
    return scores, labels


def lcg_continuous(seed, n):
    """Scores a/2³² rounded to float32 (few ties); 5 % anomalous, shifted up by 0.25."""
    g = Lcg(seed)
    scores = np.empty(n)
    labels = np.empty(n, dtype=np.int64)
    for i in range(n):
        a = g.next() / 4294967296
        u = (g.next() >> 8) / 16777216
        y = 1 if u < 0.05 else 0
        scores[i] = float(np.float32(a + 0.25 * y))
        labels[i] = y
    return scores, labels


# ---------------------------------------------------------------------------------------

def f1_max(labels, scores):
    """F1-max over the precision–recall curve; the largest threshold attaining it."""
    p, r, t = precision_recall_curve(labels, scores)
    p, r = p[:-1], r[:-1]  # the last point (P = 1, R = 0) has no threshold
    with np.errstate(invalid='ignore', divide='ignore'):
        f1 = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    best = f1.max()
    return float(best), float(t[f1 >= best - 1e-12].max())


def image_answers(scores, labels):
    f1, thr = f1_max(labels, scores)
    return {
        'auroc': float(roc_auc_score(labels, scores)),
        'ap': float(average_precision_score(labels, scores)),
        'f1Max': f1,
        'f1Threshold': thr,
    }


def image_case(name, scores, labels, float32=False):
    scores = np.asarray(scores, dtype=np.float32 if float32 else np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    case = {'name': name, 'float32': float32, 'scores': [float(v) for v in scores],
            'labels': [int(v) for v in labels]}
    case.update(image_answers(scores, labels))
    return case


def image_cases():
    rng = np.random.RandomState(20240601)
    cases = []
    cases.append(image_case('heavy ties (5 levels)', rng.randint(0, 5, 40) / 4, rng.randint(0, 2, 40)))
    y = rng.randint(0, 2, 60)
    cases.append(image_case('heavy ties correlated', np.round(rng.rand(60) * 3 + y) / 2, y))
    cases.append(image_case('all equal scores', [0.5] * 10, [0, 1, 0, 0, 1, 0, 1, 0, 0, 0]))
    cases.append(image_case('perfect ranking', np.arange(12) / 11, [0] * 7 + [1] * 5))
    cases.append(image_case('inverted ranking', np.arange(12) / 11, [1] * 5 + [0] * 7))
    cases.append(image_case('two items, positive above', [0.9, 0.1], [1, 0]))
    cases.append(image_case('two items, positive below', [0.1, 0.9], [1, 0]))
    cases.append(image_case('two items, tied', [0.3, 0.3], [0, 1]))
    y = (rng.rand(200) < 0.3).astype(int)
    cases.append(image_case('continuous normal scores', rng.randn(200) + 0.8 * y, y))
    cases.append(image_case('negative, zero and minus zero',
                            [-2.5, -0.0, 0.0, 1e-300, -1e-300, 3e8, -0.0, 0.0, 2.5, -2.5],
                            [0, 1, 0, 1, 0, 1, 1, 0, 0, 1]))
    y = (rng.rand(150) < 0.4).astype(int)
    cases.append(image_case('float32 scores', rng.rand(150) * 0.01 + 0.002 * y, y, float32=True))
    y = (rng.rand(80) < 0.9).astype(int)
    cases.append(image_case('mostly anomalous', rng.randint(0, 10, 80) + y * 2, y))
    cases.append(image_case('one positive', [0.2, 0.4, 0.1, 0.4, 0.3], [0, 1, 0, 0, 0]))
    cases.append(image_case('one negative', [0.2, 0.4, 0.1, 0.4, 0.3], [1, 1, 1, 0, 1]))
    return cases


# ---------------------------------------------------------------------------------------
# Pixel level.

def reference_best_dice(preds, targets, n_thresh):
    """MedIAnomaly compute_best_dice: quantile thresholds, strict >, first argmax."""
    preds = np.asarray(preds).reshape(-1)
    targets = np.asarray(targets).reshape(-1)
    num = preds.size
    step = num // n_thresh
    indices = np.arange(0, num, step)
    thresholds = np.sort(preds)[indices]
    scores = []
    for t in thresholds:
        p = np.where(preds > t, 1, 0)
        scores.append(2 * np.sum(p[targets == 1]) / (np.sum(p) + np.sum(targets)))
    scores = np.stack(scores, 0)
    return float(scores.max()), float(thresholds[scores.argmax()]), int(len(thresholds))


def mvtec_pro_curve(maps, masks):
    """FPR and PRO at every distinct score, from (0, 0) to (1, 1) (MVTec AD definition)."""
    structure = np.ones((3, 3), dtype=int)  # 8-connectivity
    fp_change = np.zeros(maps.shape, dtype=np.float64)
    pro_change = np.zeros(maps.shape, dtype=np.float64)
    ok_pixels = 0
    regions = 0
    for i, mask in enumerate(masks):
        labelled, n = ndimage.label(mask, structure=structure)
        regions += n
        ok = labelled == 0
        ok_pixels += int(ok.sum())
        fp_change[i][ok] = 1
        for k in range(1, n + 1):
            region = labelled == k
            pro_change[i][region] = 1.0 / region.sum()
    flat = maps.ravel()
    order = np.argsort(flat, kind='stable')[::-1]
    scores = flat[order]
    fprs = np.cumsum(fp_change.ravel()[order]) / ok_pixels
    pros = np.cumsum(pro_change.ravel()[order]) / regions
    keep = np.append(np.diff(scores) != 0, True)  # merge ties: keep each group's last index
    fprs = np.clip(fprs[keep], None, 1.0)
    pros = np.clip(pros[keep], None, 1.0)
    return np.concatenate(([0.0], fprs, [1.0])), np.concatenate(([0.0], pros, [1.0]))


def trapezoid_to(x, y, x_max):
    correction = 0.0
    if x_max not in x:
        ins = int(np.searchsorted(x, x_max, side='right'))
        y_at = y[ins - 1] + (y[ins] - y[ins - 1]) * (x_max - x[ins - 1]) / (x[ins] - x[ins - 1])
        correction = 0.5 * (y_at + y[ins - 1]) * (x_max - x[ins - 1])
    keep = x <= x_max
    x, y = x[keep], y[keep]
    return float(np.sum(0.5 * (y[1:] + y[:-1]) * (x[1:] - x[:-1])) + correction)


def aupro_reference(maps, masks, limit):
    fprs, pros = mvtec_pro_curve(maps, masks)
    return trapezoid_to(fprs, pros, limit) / limit


def blob_masks(rng, count, h, w):
    masks = np.zeros((count, h, w), dtype=np.uint8)
    for i in range(count):
        if i % 3 == 0:
            continue  # a normal image: all-zero mask
        for _ in range(rng.randint(1, 4)):
            cy, cx = rng.randint(0, h), rng.randint(0, w)
            ry, rx = rng.randint(1, h // 4 + 1), rng.randint(1, w // 4 + 1)
            yy, xx = np.ogrid[:h, :w]
            masks[i][((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1] = 1
    # Two regions that touch only at a corner: one region under 8-connectivity.
    masks[1][0:3, 0:3] = 0
    masks[1][0, 0] = 1
    masks[1][1, 1] = 1
    masks[1][2, 0] = 0
    return masks


def pixel_case(name, maps, masks, quantiles, limits):
    maps = np.asarray(maps, dtype=np.float32)
    masks = np.asarray(masks, dtype=np.uint8)
    flat_scores = maps.reshape(-1)
    flat_labels = masks.reshape(-1)
    f1, thr = f1_max(flat_labels, flat_scores)
    dice = {}
    for q in quantiles:
        d, t, n = reference_best_dice(flat_scores, flat_labels, q)
        dice[str(q)] = {'dice': d, 'threshold': t, 'thresholds': n}
    return {
        'name': name,
        'height': int(maps.shape[1]),
        'width': int(maps.shape[2]),
        'maps': [[float(v) for v in m.reshape(-1)] for m in maps],
        'masks': [''.join(str(int(v)) for v in m.reshape(-1)) for m in masks],
        'pixelAuroc': float(roc_auc_score(flat_labels, flat_scores)),
        'pixelAp': float(average_precision_score(flat_labels, flat_scores)),
        'diceAll': {'dice': f1, 'threshold': thr},
        'dice': dice,
        'aupro': {str(l): aupro_reference(maps.astype(np.float64), masks, l) for l in limits},
    }


def pixel_cases():
    rng = np.random.RandomState(7)
    cases = []
    # Reconstruction-like maps: exact 0 on a "background" border (massive ties), noise
    # elsewhere, raised inside lesions; quantised to 1/64 for more ties.
    n, h, w = 8, 32, 32
    masks = blob_masks(rng, n, h, w)
    maps = np.abs(rng.randn(n, h, w)) * 0.3 + masks * rng.rand(n, h, w) * 1.2
    maps = np.round(maps * 64) / 64
    maps[:, :4, :] = 0
    maps[:, :, :3] = 0
    cases.append(pixel_case('quantised maps with zero background', maps, masks, [200, 100, 7, 3], [0.3, 0.05, 1.0]))
    # Continuous scores, non-square images (width needed for regions).
    n, h, w = 5, 12, 20
    masks = blob_masks(rng, n, h, w)
    maps = rng.rand(n, h, w) + masks * 0.6
    cases.append(pixel_case('continuous maps, 12x20 images', maps, masks, [200, 50], [0.3, 0.1]))
    return cases


# ---------------------------------------------------------------------------------------
# Ledoit–Wolf (src/stats/ledoit-wolf.ts).

def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).reshape(-1)]


def ledoit_wolf_case(name, x, queries):
    from sklearn.covariance import LedoitWolf
    x = np.asarray(x, dtype=np.float64)
    queries = np.asarray(queries, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # one sample: "Only one sample available"
        lw = LedoitWolf().fit(x)
    return {
        'name': name, 'n': int(x.shape[0]), 'p': int(x.shape[1]), 'x': flat(x),
        'location': flat(lw.location_), 'covariance': flat(lw.covariance_),
        'shrinkage': float(lw.shrinkage_), 'precision': flat(lw.precision_),
        'queries': flat(queries), 'mahalanobis': flat(lw.mahalanobis(queries)),
    }


def ledoit_wolf_cases():
    rng = np.random.RandomState(4242)
    cases = []
    mix = rng.randn(12, 12) * 0.5 + np.eye(12)
    cases.append(ledoit_wolf_case('n > p, correlated features', rng.randn(40, 12) @ mix + 3.0,
                                  rng.randn(6, 12) @ mix + 3.0))
    cases.append(ledoit_wolf_case('n < p', rng.rand(10, 30) * 2 - 1, rng.rand(4, 30) * 2 - 1))
    cases.append(ledoit_wolf_case('one feature', rng.randn(25, 1) * 2 + 1, rng.randn(3, 1)))
    cases.append(ledoit_wolf_case('one sample', rng.randn(1, 4), rng.randn(2, 4)))
    # resnet18-in-like: non-negative (post-ReLU average-pooled) embeddings, L2-normalised.
    e = np.abs(rng.randn(50, 32) + 0.5 * rng.randn(50, 1)) * rng.rand(32)
    q = np.abs(rng.randn(5, 32)) * rng.rand(32)
    unit = lambda a: a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    cases.append(ledoit_wolf_case('L2-normalised embeddings', unit(e), unit(q)))
    return cases


def main():
    os.makedirs(OUT, exist_ok=True)
    meta = {'generator': 'scripts/make-sklearn-fixtures.py', 'sklearn': sklearn.__version__,
            'numpy': np.__version__, 'python': sys.version.split()[0]}
    with open(os.path.join(OUT, 'image.json'), 'w') as f:
        json.dump({'meta': meta, 'cases': image_cases()}, f)
    with open(os.path.join(OUT, 'pixel.json'), 'w') as f:
        json.dump({'meta': meta, 'cases': pixel_cases()}, f)
    with open(os.path.join(OUT, 'ledoit-wolf.json'), 'w') as f:
        json.dump({'meta': meta, 'cases': ledoit_wolf_cases()}, f)
    large = []
    for seed, kind, fn in [(12345, 'tied', lcg_tied), (777, 'continuous', lcg_continuous)]:
        scores, labels = fn(seed, 100000)
        entry = {'seed': seed, 'kind': kind, 'n': 100000, 'positives': int(labels.sum()),
                 'scoreSum': float(scores.sum())}
        entry.update(image_answers(scores, labels))
        large.append(entry)
    with open(os.path.join(OUT, 'large.json'), 'w') as f:
        json.dump({'meta': meta, 'cases': large}, f, indent=1)
    for name in ('image.json', 'pixel.json', 'ledoit-wolf.json', 'large.json'):
        print(name, os.path.getsize(os.path.join(OUT, name)), 'bytes')


if __name__ == '__main__':
    main()
