#!/usr/bin/python3
"""Reference values for the deterministic sub-steps of the synthetic-anomaly generators
(src/anomalies/): scikit-image 0.19 CLAHE, Otsu and the AnatPaste anatomy mask (the
reference's LungSegment), Pillow's GaussianBlur, rotate(expand=True) and ColorJitter
pieces (ImageEnhance, convert('L'), torchvision's PIL adjust_hue), OpenCV medianBlur and
INTER_LINEAR resize, and scikit-image's median over disk(5).

Run with Debian's python3 (python3-skimage, python3-opencv, python3-pil, torchvision):
    /usr/bin/python3 scripts/make-anomaly-fixtures.py
Writes test/fixtures/anomalies/reference.json (arrays as base64 of little-endian bytes).
"""
import base64, json, os, math
import numpy as np
import cv2
import skimage
from PIL import Image, ImageEnhance, ImageFilter
from skimage.exposure import equalize_adapthist
from skimage.filters import threshold_otsu, median
from skimage.morphology import disk, square, opening, dilation
from skimage.segmentation import clear_border
from skimage.measure import label, regionprops
import torchvision
import torchvision.transforms.functional as TF

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'anomalies', 'reference.json')
b64 = lambda a: base64.b64encode(np.ascontiguousarray(a).tobytes()).decode()


def lung_segment(img, area_threshold=400, dark=True):
    # the reference's LungSegment (ssl/two_stage/anatpaste.py), with the fix as an option
    img = equalize_adapthist(img, kernel_size=None, clip_limit=0.01, nbins=256)
    thresh = threshold_otsu(image=img, nbins=256)
    thresh = img > thresh
    bw = opening((img > thresh) if dark else thresh, square(3)).astype(np.uint8)
    cleared = clear_border(bw)
    cleared = dilation(cleared, square(3)).astype(np.uint8)
    label_image = label(cleared)
    for region in regionprops(label_image):
        if region.area < area_threshold:
            minr, minc, maxr, maxc = region.bbox
            label_image[minr:maxr, minc:maxc] = 0
    return label_image > 0


def chest(h, w, seed):
    """A chest-radiograph-like test picture: bright body, two dark lungs, ribs, noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(float)
    body = 170 - 60 * ((x - w / 2) / (w / 2)) ** 2
    img = body.copy()
    for cx in (0.3 * w, 0.7 * w):
        r = ((x - cx) / (0.16 * w)) ** 2 + ((y - 0.48 * h) / (0.3 * h)) ** 2
        img = np.where(r < 1, 60 + 40 * r, img)
    img += 18 * np.sin(y / 3.1) * (img < 110)
    img += rng.normal(0, 6, size=img.shape)
    img[:, :3] = 0
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


fx = {'versions': {'skimage': skimage.__version__, 'cv2': cv2.__version__, 'numpy': np.__version__,
                   'pillow': Image.__version__, 'torchvision': torchvision.__version__}}

# --- CLAHE (stored as float32), Otsu, anatomy mask on two pictures, neither square
cases = []
for (h, w, seed) in ((96, 128, 1), (144, 112, 2)):
    img = chest(h, w, seed)
    g = equalize_adapthist(img, kernel_size=None, clip_limit=0.01, nbins=256)
    cases.append({'height': h, 'width': w, 'image': b64(img), 'clahe': b64(g.astype('<f4')),
                  'otsu': float(threshold_otsu(g, nbins=256)),
                  'maskDark': b64(lung_segment(img).astype(np.uint8)),
                  'maskBright': b64(lung_segment(img, dark=False).astype(np.uint8))})
fx['anatomy'] = cases

# --- Pillow GaussianBlur of a filled shape, radii 0, 1, 2, 3, 5, 8, 14
blank = Image.new('L', (64, 48))
from PIL import ImageDraw
d = ImageDraw.Draw(blank)
d.rectangle((14, 10, 45, 33), fill=201)
fx['blur'] = {'width': 64, 'height': 48, 'src': b64(np.array(blank)),
              'out': [b64(np.array(blank.filter(ImageFilter.GaussianBlur(r)))) for r in (0, 1, 2, 3, 5, 8, 14)]}

# --- rotate(expand=True, NEAREST) of an RGBA patch
prng = np.random.default_rng(3)
patch = prng.integers(0, 256, size=(21, 9, 3), dtype=np.uint8)
rots = []
for deg in (-44.7, -30.0, -12.25, 0.0, 7.5, 29.9, 45.0):
    r = Image.fromarray(patch, 'RGB').convert('RGBA').rotate(deg, expand=True)
    a = np.array(r)
    rots.append({'deg': deg, 'width': r.size[0], 'height': r.size[1], 'rgba': b64(a)})
fx['rotate'] = {'width': 9, 'height': 21, 'src': b64(patch), 'cases': rots}

# --- ColorJitter pieces on an RGB and a grey picture, fixed factors
crgb = prng.integers(0, 256, size=(12, 10, 3), dtype=np.uint8)
im = Image.fromarray(crgb, 'RGB')
jit = {'width': 10, 'height': 12, 'src': b64(crgb), 'L': b64(np.array(im.convert('L')))}
for f in (0.9, 0.95, 1.07, 1.1):
    jit[f'brightness_{f}'] = b64(np.array(ImageEnhance.Brightness(im).enhance(f)))
    jit[f'contrast_{f}'] = b64(np.array(ImageEnhance.Contrast(im).enhance(f)))
    jit[f'saturation_{f}'] = b64(np.array(ImageEnhance.Color(im).enhance(f)))
for hf in (-0.1, -0.037, 0.02, 0.1):
    jit[f'hue_{hf}'] = b64(np.array(TF.adjust_hue(im, hf)))
fx['jitter'] = jit

# --- OpenCV medianBlur on a 0/1 mask, INTER_LINEAR resize, scikit-image median disk(5)
m = (prng.random((40, 52)) < 0.45).astype(np.uint8)
fx['median'] = {'width': 52, 'height': 40, 'src': b64(m), 'k5': b64(cv2.medianBlur(m, 5)), 'k7': b64(cv2.medianBlur(m, 7))}
dd = (prng.random((30, 34)) * 40).round() * (prng.random((30, 34)) < 0.6)
fx['diskMedian'] = {'width': 34, 'height': 30, 'src': b64(dd.astype('<f8')), 'out': b64(median(dd, disk(5)).astype('<f8'))}
src = prng.integers(0, 256, size=(23, 17), dtype=np.uint8)
fx['resize'] = {'width': 17, 'height': 23, 'src': b64(src),
                'cases': [{'width': w2, 'height': h2, 'out': b64(cv2.resize(src, (w2, h2)))} for (w2, h2) in ((12, 31), (25, 16), (17, 23), (9, 9))]}

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as f:
    json.dump(fx, f)
print('wrote', OUT, os.path.getsize(OUT), 'bytes')
