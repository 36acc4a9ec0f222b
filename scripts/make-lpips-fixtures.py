#!/usr/bin/env python3
"""Generate the LPIPS-squeeze reference fixtures in test/fixtures/diffusion/.

Run with Debian's python3, python3-torch (1.13) and python3-torchvision (0.14):

    /usr/bin/python3 scripts/make-lpips-fixtures.py

The metric is rebuilt here from richzhang/PerceptualSimilarity `lpips/lpips.py` and
`lpips/pretrained_networks.py` (the lpips package is not installed): LPIPS(net='squeeze',
version='0.1', lpips=True, spatial=True) in eval mode — ScalingLayer, torchvision's
squeezenet1_1().features cut into the reference's seven slices ([0:2], [2:5], [5:8], [8:10],
[10], [11], [12]), normalize_tensor (eps 1e-10), squared differences, NetLinLayer
(Sequential(Dropout, Conv2d(c, 1, 1, bias=False))), upsample (bilinear, align_corners False)
to the input size, and `val = res[0]; val += res[l]`.

Weights, in the formats of the published files (torch.save's legacy pre-1.6 format, as
torchvision's 2017 squeezenet1_1-b8a52dc0.pth and LPIPS's 2018 v0.1 squeeze.pth have):
  lpips-squeezenet1_1.pth  torch.manual_seed(0); torchvision.models.squeezenet1_1() (its own
                           initialisation), `features.*` only, each tensor rounded to float16 and
                           STORED as float16 (1.4 MB instead of 2.9 MB; the importer converts
                           F16 → F32 exactly; the classifier, 0.5 M values the importer drops
                           anyway, is left out for size). The reference runs on the same rounded
                           values in float32.
  lpips-squeeze.pth        torch.manual_seed(1); lin{k}.model.1.weight [1, C, 1, 1] drawn
                           U(0, 2/C) (the trained layers are non-negative), float32.

Inputs and outputs (lpips.safetensors, float32):
  a1, b1       [2, 1, 64, 56] in [−1, 1]: smooth random fields plus noise (1 channel: the
               scaling layer broadcasts to 3, AutoDDPM's grey images)
  map1         the spatial map [2, 1, 64, 56]
  tap1.{k}     the seven upsampled per-tap maps (k = 0..6) whose sum is map1
  a2, b2       [1, 3, 37, 45] (odd sizes: ceil_mode pooling, 1×1-ish deep taps)
  map2         the spatial map [1, 1, 37, 45]
  same         the map of (a1, a1): exactly 0
"""
import io
import os
import sys
from collections import OrderedDict
from importlib import import_module

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "diffusion")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
torch_fx = import_module("make-torch-fixtures")

torch.set_num_threads(1)
CHNS = [64, 128, 256, 384, 384, 512, 512]


class ScalingLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("shift", torch.Tensor([-0.030, -0.088, -0.188])[None, :, None, None])
        self.register_buffer("scale", torch.Tensor([0.458, 0.448, 0.450])[None, :, None, None])

    def forward(self, inp):
        return (inp - self.shift) / self.scale


class NetLinLayer(nn.Module):
    def __init__(self, chn_in, chn_out=1):
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(), nn.Conv2d(chn_in, chn_out, 1, stride=1, padding=0, bias=False))

    def forward(self, x):
        return self.model(x)


class Squeeze(nn.Module):
    """lpips.pretrained_networks.squeezenet: the features cut into seven slices."""

    def __init__(self, features):
        super().__init__()
        cuts = [(0, 2), (2, 5), (5, 8), (8, 10), (10, 11), (11, 12), (12, 13)]
        self.slices = nn.ModuleList([nn.Sequential(*[features[i] for i in range(a, b)]) for a, b in cuts])

    def forward(self, x):
        outs = []
        h = x
        for s in self.slices:
            h = s(h)
            outs.append(h)
        return outs


def normalize_tensor(in_feat, eps=1e-10):
    norm_factor = torch.sqrt(torch.sum(in_feat ** 2, dim=1, keepdim=True))
    return in_feat / (norm_factor + eps)


class LPIPS(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.scaling_layer = ScalingLayer()
        self.net = Squeeze(features)
        self.lins = nn.ModuleList([NetLinLayer(c) for c in CHNS])

    def taps(self, in0, in1):
        in0_input, in1_input = self.scaling_layer(in0), self.scaling_layer(in1)
        outs0, outs1 = self.net(in0_input), self.net(in1_input)
        res = []
        for kk in range(len(CHNS)):
            f0, f1 = normalize_tensor(outs0[kk]), normalize_tensor(outs1[kk])
            d = (f0 - f1) ** 2
            res.append(nn.Upsample(size=tuple(in0.shape[2:]), mode="bilinear", align_corners=False)(self.lins[kk](d)))
        return res

    def forward(self, in0, in1):
        res = self.taps(in0, in1)
        val = res[0]
        for l in range(1, len(CHNS)):
            val += res[l]
        return val


def save_legacy(obj, name):
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=False)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(buf.getvalue())


def image(shape, g):
    """Smooth random field (upsampled coarse noise) plus fine noise, squashed into [−1, 1]."""
    n, c, h, w = shape
    coarse = torch.randn(n, c, max(2, h // 8), max(2, w // 8), generator=g)
    smooth = F.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    return torch.tanh(smooth + 0.3 * torch.randn(shape, generator=g))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    sq = torchvision.models.squeezenet1_1()
    trunk = OrderedDict()
    for k, v in sq.state_dict().items():
        if k.startswith("features."):
            trunk[k] = v.detach().to(torch.float16).clone()
    save_legacy(trunk, "lpips-squeezenet1_1.pth")
    # The reference network runs on exactly the stored (float16) values.
    sq.load_state_dict({k: v.to(torch.float32) for k, v in trunk.items()}, strict=False)

    torch.manual_seed(1)
    lins = OrderedDict()
    for k, c in enumerate(CHNS):
        lins[f"lin{k}.model.1.weight"] = torch.rand(1, c, 1, 1) * (2.0 / c)
    save_legacy(lins, "lpips-squeeze.pth")

    model = LPIPS(sq.features)
    for k in range(len(CHNS)):
        model.lins[k].model[1].weight.data.copy_(lins[f"lin{k}.model.1.weight"])
    model.eval()

    g = torch.Generator().manual_seed(2)
    a1, b1 = image([2, 1, 64, 56], g), image([2, 1, 64, 56], g)
    a2, b2 = image([1, 3, 37, 45], g), image([1, 3, 37, 45], g)
    store = OrderedDict()
    with torch.no_grad():
        store["a1"], store["b1"] = a1, b1
        store["map1"] = model(a1, b1)
        for k, t in enumerate(model.taps(a1, b1)):
            store[f"tap1.{k}"] = t
        store["a2"], store["b2"] = a2, b2
        store["map2"] = model(a2, b2)
        store["same"] = model(a1, a1)
    torch_fx.save_safetensors(os.path.join(OUT, "lpips.safetensors"), store, {"torch": torch.__version__, "torchvision": torchvision.__version__})
    for name in ("lpips-squeezenet1_1.pth", "lpips-squeeze.pth", "lpips.safetensors"):
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")
    print("map1 mean", float(store["map1"].mean()), "max", float(store["map1"].max()), "map2 mean", float(store["map2"].mean()))


if __name__ == "__main__":
    main()
