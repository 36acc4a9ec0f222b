#!/usr/bin/env python3
"""Fixture for AutoDDPM's mask (diffusion spec §3.4 steps 2-4), computed the way
ci-ber/autoDDPM `model_zoo/ddpm.py get_autoDDPM_anomaly` does: torch float32 tensors, numpy's
per-image np.percentile(..., 95) (linear), a scalar or per-image threshold, scipy's
binary_dilation with a 3x3 all-ones element, then the stitch. Writes
test/fixtures/diffusion/autoddpm-mask.json. Run with /usr/bin/python3 (torch 1.13, numpy,
scipy); the test reads only the JSON.

The inputs are seeded random images in [0, 1] (x, x_rec) and a non-negative "LPIPS" map; one
image has x_rec = x on most pixels so that P95(r) = 0 (the reference divides by zero there;
the spec's guard gives r = 1 where r > 0) — its values are written from the guarded formula."""
import json
import os

import numpy as np
import torch
from scipy import ndimage

B, H, W = 3, 12, 12
torch.manual_seed(7)
x = torch.rand(B, 1, H, W)
x_rec = torch.clamp(x + 0.25 * torch.randn(B, 1, H, W), 0, 1)
# Image 2: equal to x except 3 pixels (3 of 144 < 5 %): P95(r) = 0.
x_rec[2] = x[2]
x_rec[2, 0, 1, 2] += 0.3
x_rec[2, 0, 7, 7] -= 0.2
x_rec[2, 0, 11, 0] += 0.1
lpips_map = torch.rand(B, 1, H, W) * 0.8


def residual(x, x_rec):
    x_res = torch.abs(x - x_rec).cpu().numpy()  # float32
    out = []
    for i in range(x_res.shape[0]):
        p = np.percentile(x_res[i], 95)
        if p > 0:
            out.append(x_res[i] / p)
        else:  # the guard (spec §3.5.6): the limit of r / eps
            out.append((x_res[i] > 0).astype(np.float32))
    return np.asarray(out).clip(0, 1)


def mask(threshold):
    x_res = residual(x, x_rec)
    combined_np = lpips_map.cpu().numpy() * x_res
    combined = torch.Tensor(combined_np)
    if threshold >= 0:
        taus = [threshold] * B
        binary = torch.where(combined > threshold, torch.ones_like(combined), torch.zeros_like(combined))
    else:
        taus = [float(np.percentile(combined[i].numpy(), 95).clip(0, 1)) for i in range(B)]
        binary = torch.stack([torch.where(combined[i] > torch.tensor(taus[i], dtype=torch.float64), 1.0, 0.0).float() for i in range(B)])
    dilated = torch.zeros_like(binary)
    for i in range(B):
        m = binary[i][0].numpy()
        if m.sum() < 1:
            dilated[i] = binary[i]
            continue
        dilated[i][0] = torch.Tensor(ndimage.binary_dilation(m, structure=np.ones((3, 3)), iterations=1).astype(np.float32))
    known = (1 - dilated) * x
    stitched = known + dilated * x_rec
    return {
        'threshold': threshold,
        'thresholds': taus,
        'residual': x_res.reshape(-1).tolist(),
        'combined': combined_np.reshape(-1).tolist(),
        'binary': binary.reshape(-1).tolist(),
        'mask': dilated.reshape(-1).tolist(),
        'known': known.reshape(-1).tolist(),
        'stitched': stitched.reshape(-1).tolist(),
    }


out = {
    'shape': [B, 1, H, W],
    'x': x.reshape(-1).tolist(),
    'xRec': x_rec.reshape(-1).tolist(),
    'lpips': lpips_map.reshape(-1).tolist(),
    'cases': [mask(0.13), mask(-1)],
    'versions': {'torch': torch.__version__, 'numpy': np.__version__},
}
path = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'diffusion', 'autoddpm-mask.json')
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, 'w') as f:
    json.dump(out, f)
print(path, os.path.getsize(path), 'bytes')
