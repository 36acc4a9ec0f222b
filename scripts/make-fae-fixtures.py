#!/usr/bin/env python3
"""Generate the FAE reference fixtures in test/fixtures/fae/.

Run with Debian's python3, python3-torch (1.13) and python3-torchvision (0.14):

    /usr/bin/python3 scripts/make-fae-fixtures.py

FAE (Meissen et al. 2022) as its official code (FeliMe/feature-autoencoder @ 16ee46d:
fae/models/feature_extractor.py, fae/models/models.py, fae/utils/pytorch_ssim.py with
window_size 5) defines it, written out here from that description with the official module
names:

- the extractor: torchvision's resnet18 cut into layer0 (= conv1, bn1, relu, maxpool),
  layer1, layer2; input (x - 0.5)*2 of [0, 1] images, grey repeated to 3 channels; each map
  resized to S/4 (bilinear, align_corners=True) and concatenated; the forward under no_grad;
- the autoencoder at full width (hidden 100, 150, 200, 300 on 256 channels) without dropout
  (dropout 0 builds no Dropout2d, as the official `if dropout > 0`);
- every state-dict entry of the backbone filled with the deterministic formula of
  scripts/make-backbone-fixtures.py (mirrored by test/models/backbones/fill.ts; t = index in
  torchvision's state dict), every entry of the autoencoder with t = 500 + its index in the
  autoencoder's own state dict (`enc.*` then `dec.*`).

Input: two 128 x 128 grey images (batch 2; 128 px keeps the autoencoder's 2 x 2 bottleneck,
where batch norm over a batch of 2 is still well conditioned), a disc of values in the
middle and exact zeros (the background, -1 in the library's [-1, 1] space) around it, on a
2^-12 grid so that (x - 0.5)*2 is exact; see make_x() (the test rebuilds it; fae.json holds
its sum as a check).

Cases (each from the same filled initial state):
  ssim         model.train() (the backbone's batch norm in training mode, the official quirk):
               the loss mean(-SSIM(rec, feats)) and its gradients; the features; the running
               statistics of the backbone and of the autoencoder after that forward
  mse          the same with the squared error
  ssim-evalbn  the backbone in eval mode during the training forward (backboneBatchNorm=eval)
  imagenet     ssim with ImageNet normalisation of [0, 1] RGB input instead of (x - 0.5)*2
then, after the ssim case's forward (its updated running statistics), model.eval():
  the anomaly map (channel mean of -SSIM, upsampled to 128 x 128 with align_corners=True;
  every MAP_STEP-th element stored), the
  official image score (mean of the values above torch.quantile(., 0.9) of the foreground
  x > 0) and FAE-AUCp's (mean of the 16 x 16 map); the same for the mse map.

Per gradient: sum and sum of squares (float64, in fae.json) and 16 entries at flat indices
round(k (n - 1) / 15), k = 0..15 (in fae.safetensors).

Writes fae.safetensors (float32) and fae.json (shapes and scalars).
"""
import copy
import json
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from importlib import import_module

bb = import_module("make-backbone-fixtures")  # hash_u, fill_value, fill_model, write_safetensors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "fae")
S, B = 128, 2
HIDDEN = [100, 150, 200, 300]
AE_T0 = 500
SAMPLES = 16
FEATURE_STEP = 127
MAP_STEP = 7

torch.set_num_threads(1)


# ---- the official networks ----

class ResNetFeatureExtractor(nn.Module):
    def __init__(self, resnet, layer_names):
        super().__init__()
        for p in resnet.parameters():
            p.requires_grad = False
        self.layer0 = nn.Sequential(*list(resnet.children())[:4])
        self.layer1 = resnet.layer1
        self.layer2 = resnet.layer2
        self.layer_names = layer_names

    def forward(self, inp):
        if inp.shape[1] == 1:
            inp = inp.repeat(1, 3, 1, 1)
        out = {}
        for name, module in self._modules.items():
            inp = module(inp)
            if name in self.layer_names:
                out[name] = inp
            if name == self.layer_names[-1]:
                break
        return out


class Extractor(nn.Module):
    def __init__(self, resnet, normalisation="half"):
        super().__init__()
        self.backbone = ResNetFeatureExtractor(resnet, ["layer0", "layer1", "layer2"])
        self.featmap_size = S // 4
        self.normalisation = normalisation

    def forward(self, inp):
        if self.normalisation == "half":
            inp = (inp - 0.5) * 2
        else:  # FAE-AUCp: RGB [0, 1] images, ImageNet mean/std
            inp = inp.repeat(1, 3, 1, 1)
            mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
            std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
            inp = (inp - mean) / std
        feats = [F.interpolate(m, size=self.featmap_size, mode="bilinear", align_corners=True) for m in self.backbone(inp).values()]
        return torch.cat(feats, dim=1)


def encoder(in_channels, hidden):
    enc = nn.Sequential()
    for i in range(len(hidden)):
        layer = nn.Sequential()
        layer.add_module(f"encoder_conv_{i}", nn.Conv2d(in_channels, hidden[i], 5, stride=2, padding=2, bias=False))
        layer.add_module(f"encoder_norm_{i}", nn.BatchNorm2d(hidden[i]))
        layer.add_module(f"encoder_relu_{i}", nn.LeakyReLU())
        enc.add_module(f"encoder_layer_{i}", layer)
        in_channels = hidden[i]
    enc.add_module("encoder_conv_final", nn.Conv2d(in_channels, in_channels, 5, stride=1, padding=2, bias=False))
    return enc


def decoder(out_channels, hidden):
    dims = [out_channels] + hidden
    dec = nn.Sequential()
    for i in range(len(dims) - 1, 0, -1):
        layer = nn.Sequential()
        layer.add_module(f"decoder_tconv_{i}", nn.ConvTranspose2d(dims[i], dims[i - 1], 6, stride=2, padding=2, bias=False))
        layer.add_module(f"decoder_norm_{i}", nn.BatchNorm2d(dims[i - 1]))
        layer.add_module(f"decoder_relu_{i}", nn.LeakyReLU())
        dec.add_module(f"decoder_layer_{i}", layer)
    dec.add_module("decoder_conv_final", nn.Conv2d(dims[0], out_channels, 1, bias=False))
    return dec


class FeatureAutoencoder(nn.Module):
    def __init__(self, channels, hidden):
        super().__init__()
        self.enc = encoder(channels, hidden)
        self.dec = decoder(channels, hidden)

    def forward(self, x):
        return self.dec(self.enc(x))


class FeatureReconstructor(nn.Module):
    def __init__(self, resnet, normalisation="half"):
        super().__init__()
        self.extractor = Extractor(resnet, normalisation)
        self.ae = FeatureAutoencoder(256, HIDDEN)

    def forward(self, x):
        with torch.no_grad():
            feats = self.extractor(x)
        return feats, self.ae(feats)


# ---- fae/utils/pytorch_ssim.py, window 5, negated, no reduction ----

def gaussian(window_size, sigma):
    g = torch.Tensor([np.exp(-(x - window_size // 2) ** 2 / float(2 * sigma ** 2)) for x in range(window_size)])
    return g / g.sum()


def neg_ssim_map(img1, img2, window_size=5):
    c = img1.shape[1]
    w1 = gaussian(window_size, 1.5).unsqueeze(1)
    window = (w1 @ w1.T)[None, None].expand(c, 1, window_size, window_size).contiguous()
    p = window_size // 2
    mu1 = F.conv2d(img1, window, padding=p, groups=c)
    mu2 = F.conv2d(img2, window, padding=p, groups=c)
    mu1_sq, mu2_sq, mu1_mu2 = mu1.pow(2), mu2.pow(2), mu1 * mu2
    s1 = F.conv2d(img1 * img1, window, padding=p, groups=c) - mu1_sq
    s2 = F.conv2d(img2 * img2, window, padding=p, groups=c) - mu2_sq
    s12 = F.conv2d(img1 * img2, window, padding=p, groups=c) - mu1_mu2
    C1, C2 = 0.01 ** 2, 0.03 ** 2
    return -(((2 * mu1_mu2 + C1) * (2 * s12 + C2)) / ((mu1_sq + mu2_sq + C1) * (s1 + s2 + C2)))


LOSSES = {"ssim": neg_ssim_map, "mse": lambda a, b: F.mse_loss(a, b, reduction="none")}


# ---- fixture pieces ----

def make_x():
    """[B, 1, S, S] in [0, 1]: a disc of values on a 2^-12 grid, exact 0 outside it."""
    u = bb.hash_u(1000, B * S * S).reshape(B, 1, S, S)
    v = np.floor((u * 1.6 + 0.6) * 4096.0) / 4096.0  # in [-0.2, 1.4) before clipping
    v = np.clip(v, 0.0, 1.0)
    yy, xx = np.mgrid[0:S, 0:S]
    for b in range(B):
        r = S * (0.34 + 0.06 * b)
        disc = (yy - S / 2 + 0.5) ** 2 + (xx - S / 2 + 1.5 - 2 * b) ** 2 < r * r
        v[b, 0][~disc] = 0.0
    return torch.from_numpy(v.astype(np.float32))


def build(normalisation="half"):
    resnet = torchvision.models.resnet18()
    bb.fill_model("resnet18", resnet)
    model = FeatureReconstructor(resnet, normalisation)
    sd = model.ae.state_dict()
    model.ae.load_state_dict(OrderedDict((k, bb.fill_value(AE_T0 + t, k, list(v.shape))) for t, (k, v) in enumerate(sd.items())))
    return model


def sample_indices(n):
    return [int(round(k * (n - 1) / (SAMPLES - 1))) for k in range(SAMPLES)]


def grads(model, tensors, index, tag):
    out = OrderedDict()
    for name, p in model.ae.named_parameters():
        g = p.grad.detach().reshape(-1)
        g64 = g.double()
        out[name] = {"sum": float(g64.sum()), "sumsq": float((g64 * g64).sum()), "absmax": float(g64.abs().max())}
        tensors[f"grad/{tag}/{name}"] = g[sample_indices(g.numel())].clone()
    index["grads"][tag] = out


def train_forward(model, x, loss, backbone_eval=False):
    model.train()
    if backbone_eval:
        model.extractor.eval()
    model.zero_grad()
    feats, rec = model(x)
    value = LOSSES[loss](rec, feats).mean()
    value.backward()
    return feats, value


def score(model, x, loss):
    model.eval()
    with torch.no_grad():
        feats, rec = model(x)
        small = LOSSES[loss](rec, feats).mean(1, keepdim=True)
        amap = F.interpolate(small, x.shape[-2:], mode="bilinear", align_corners=True)
        top = []
        for i in range(x.shape[0]):
            roi = amap[i][x[i] > 0]
            roi = roi[roi > torch.quantile(roi, 0.9)]
            top.append(float(roi.mean()))
        return amap[:, 0], top, [float(v) for v in small.mean((1, 2, 3))]


def main():
    os.makedirs(OUT, exist_ok=True)
    tensors = OrderedDict()
    x01 = make_x()
    x = x01 * 2 - 1
    assert torch.equal((x + 1) / 2, x01)
    index = {"size": S, "batch": B, "hidden": HIDDEN, "aeT0": AE_T0, "samples": SAMPLES, "featureStep": FEATURE_STEP, "mapStep": MAP_STEP,
             "xSum": float(x.double().sum()),
             "foreground": [int((x01[b] > 0).sum()) for b in range(B)], "loss": {}, "grads": {}}

    initial = build()
    index["aeStateDict"] = [[k, list(v.shape)] for k, v in initial.ae.state_dict().items()]

    # ssim, backbone batch norm in training mode (the official quirk)
    model = copy.deepcopy(initial)
    feats, value = train_forward(model, x01, "ssim")
    index["loss"]["ssim"] = float(value)
    grads(model, tensors, index, "ssim")
    f = feats.reshape(-1).double()
    index["features"] = {"shape": list(feats.shape), "sum": float(f.sum()), "sumsq": float((f * f).sum())}
    tensors["features/sample"] = feats.reshape(-1)[::FEATURE_STEP].clone()
    index["backboneStats"] = []
    for name, v in model.extractor.backbone.state_dict().items():
        if name.endswith("running_mean") or name.endswith("running_var"):
            tensors[f"extractor.backbone.{name}"] = v.clone()
            index["backboneStats"].append(f"extractor.backbone.{name}")
        elif name.endswith("num_batches_tracked"):
            assert int(v) == 1
    for name, v in model.ae.state_dict().items():
        if name.endswith("running_mean") or name.endswith("running_var"):
            tensors[f"ae.{name}"] = v.clone()
    amap, top, mean = score(model, x01, "ssim")
    tensors["map/ssim"] = amap.reshape(-1)[::MAP_STEP].clone()
    index["scores"] = {"ssim": {"top10": top, "mean": mean}}
    amap, top, mean = score(model, x01, "mse")
    tensors["map/mse"] = amap.reshape(-1)[::MAP_STEP].clone()
    index["scores"]["mse"] = {"top10": top, "mean": mean}

    for tag, loss, bn_eval, norm in [("mse", "mse", False, "half"), ("ssim-evalbn", "ssim", True, "half"), ("imagenet", "ssim", False, "imagenet")]:
        model = copy.deepcopy(initial)
        model.extractor.normalisation = norm
        _, value = train_forward(model, x01, loss, bn_eval)
        index["loss"][tag] = float(value)
        grads(model, tensors, index, tag)

    bb.write_safetensors(os.path.join(OUT, "fae.safetensors"), tensors, {"generator": "scripts/make-fae-fixtures.py"})
    with open(os.path.join(OUT, "fae.json"), "w") as fh:
        json.dump(index, fh, indent=1)
        fh.write("\n")
    print("losses", index["loss"], "scores", index["scores"])


if __name__ == "__main__":
    main()
