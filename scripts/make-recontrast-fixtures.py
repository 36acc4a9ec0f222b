#!/usr/bin/env python3
"""Generate the ReContrast reference fixtures in test/fixtures/recontrast/.

Run with Debian's python3, python3-torch (1.13), python3-torchvision (0.14) and python3-scipy:

    /usr/bin/python3 scripts/make-recontrast-fixtures.py

The networks are those of guojiajeremy/ReContrast (models/recontrast.py ReContrast,
models/resnet.py BN_layer, models/de_resnet.py ResNet with output_conv=2), written out below
for resnet18 (BasicBlock OCBE and decoder) at a small size; the loss is utils.py
global_cosine_hm with its backward hook, the map utils.py cal_anomaly_map(amap_mode='a') +
scipy gaussian_filter(σ 4), the optimisers those of recontrast_mvtec.py (AdamW).

Random weights: every state entry is filled with the deterministic formula of
scripts/make-backbone-fixtures.py (mirrored by test/models/backbones/fill.ts): the frozen
backbone (torchvision resnet18) with tensor indices t = 0, 1, ... (its state-dict order, fc
excluded), the trainable encoder as its copy, OCBE with t = 300 + i and the decoder with
t = 600 + i (i its own state-dict index). The input x [2, 3, 128, 128] is u(1000, ·)·2.

The step is run twice, in float64 (the reference stored) and in float32 (PyTorch's own
rounding error against it, stored per parameter as float32Error): through some twenty
train-mode batch norms and ReLUs, a unit whose input lies within float32 rounding of 0 can
switch, so float32 gradients of the earliest layers differ from the exact ones by up to a
few 1e-3 of their rms; the test bounds the library's error by the same yardstick. At 64 px
the 2 × 2 bottleneck made that error reach 30 %, hence 128 px.

Writes recontrast.json:
  step     one training step (model.train(encoder_bn_train=True)) at iteration 170 of 2000
           (α = 0.4): loss, its two halves (float64; the float32 values beside them), per
           pair and level the positions whose gradient is kept (with the threshold, σ and the
           nearest distance's margin to it in σ); per parameter (encoder.*, bottleneck.*,
           decoder.*) the gradient's sum, sum of squares and entries at flat indices 0, n//3,
           2n//3, n−1, and float32Error; then both AdamW steps (lr 2e-3 / 1e-5, wd 1e-5) and
           the same entries of every parameter after them
  maps     the eval-mode maps' image scores (max and mean) before and after the step
  adamw    torch.optim.AdamW trajectories of a 7-vector for fixed gradient sequences (float32)
and maps.safetensors: those maps at even rows and columns, `before` and `after` [2, 64, 64]
(float32).
"""
import copy
import json
import os
import sys
from collections import OrderedDict
from importlib import import_module

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from scipy.ndimage import gaussian_filter
from torchvision.models.resnet import BasicBlock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "recontrast")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
fill = import_module("make-backbone-fixtures")

torch.set_num_threads(1)
B, S = 2, 128
IT, TOTAL = 170, 2000


# ---- models/resnet.py BN_layer (BasicBlock: resnet18) ----

def conv3x3(i, o, stride=1):
    return nn.Conv2d(i, o, 3, stride=stride, padding=1, bias=False)


def conv1x1(i, o, stride=1):
    return nn.Conv2d(i, o, 1, stride=stride, bias=False)


class BNLayer(nn.Module):
    def __init__(self, layers=2):
        super().__init__()
        e = 1
        downsample = nn.Sequential(conv1x1(256 * e * 3, 512 * e, 2), nn.BatchNorm2d(512 * e))
        blocks = [BasicBlock(256 * e * 3, 512, 2, downsample)] + [BasicBlock(512 * e, 512) for _ in range(1, layers)]
        self.bn_layer = nn.Sequential(*blocks)
        self.conv1 = conv3x3(64 * e, 128 * e, 2)
        self.bn1 = nn.BatchNorm2d(128 * e)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(128 * e, 256 * e, 2)
        self.bn2 = nn.BatchNorm2d(256 * e)
        self.conv3 = conv3x3(128 * e, 256 * e, 2)
        self.bn3 = nn.BatchNorm2d(256 * e)
        self.conv4 = conv1x1(1024 * e, 512 * e, 1)
        self.bn4 = nn.BatchNorm2d(512 * e)

    def forward(self, x):
        l1 = self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x[0]))))))
        l2 = self.relu(self.bn3(self.conv3(x[1])))
        return self.bn_layer(torch.cat([l1, l2, x[2]], 1)).contiguous()


# ---- models/de_resnet.py (BasicBlock, output_conv=2: de_resnet18) ----

class DeBasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1, upsample=None):
        super().__init__()
        if stride == 2:
            self.conv1 = nn.ConvTranspose2d(inplanes, planes, 2, stride=stride, bias=False)
        else:
            self.conv1 = conv3x3(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.upsample = upsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = self.upsample(x) if self.upsample is not None else x
        return self.relu(out + identity)


class DeResNet18(nn.Module):
    def __init__(self, output_conv=2):
        super().__init__()
        self.inplanes = 512

        def make(planes, blocks):
            up = nn.Sequential(nn.ConvTranspose2d(self.inplanes, planes, 2, stride=2, bias=False), nn.BatchNorm2d(planes))
            layers = [DeBasicBlock(self.inplanes, planes, 2, up)]
            self.inplanes = planes
            layers += [DeBasicBlock(planes, planes) for _ in range(1, blocks)]
            return nn.Sequential(*layers)

        self.layer1 = make(256, 2)
        self.layer2 = make(128, 2)
        self.layer3 = make(64, 2)
        self.out1 = nn.ModuleList([nn.Conv2d(64, 64, 1) for _ in range(output_conv)])
        self.out2 = nn.ModuleList([nn.Conv2d(128, 128, 1) for _ in range(output_conv)])
        self.out3 = nn.ModuleList([nn.Conv2d(256, 256, 1) for _ in range(output_conv)])

    def forward(self, x):
        f3 = self.layer1(x)
        f2 = self.layer2(f3)
        f1 = self.layer3(f2)
        out = []
        for i in range(len(self.out1)):
            out += [self.out1[i](f1), self.out2[i](f2), self.out3[i](f3)]
        return out


class Encoder(nn.Module):
    """models/resnet.py ResNet forward (stem, layer1..layer3) on torchvision's modules."""

    def __init__(self, tv):
        super().__init__()
        self.conv1, self.bn1, self.relu, self.maxpool = tv.conv1, tv.bn1, tv.relu, tv.maxpool
        self.layer1, self.layer2, self.layer3 = tv.layer1, tv.layer2, tv.layer3

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        a = self.layer1(x)
        b = self.layer2(a)
        return [a, b, self.layer3(b)]


# ---- models/recontrast.py ReContrast ----

class ReContrast(nn.Module):
    def __init__(self, encoder, encoder_freeze, bottleneck, decoder):
        super().__init__()
        self.encoder = encoder
        self.encoder_freeze = encoder_freeze
        self.bottleneck = bottleneck
        self.decoder = decoder

    def forward(self, x):
        en = self.encoder(x)
        with torch.no_grad():
            en_freeze = self.encoder_freeze(x)
        en_2 = [torch.cat([a, b], dim=0) for a, b in zip(en, en_freeze)]
        de = self.decoder(self.bottleneck(en_2))
        de = [a.chunk(dim=0, chunks=2) for a in de]
        de = [de[0][0], de[1][0], de[2][0], de[3][1], de[4][1], de[5][1]]
        return en_freeze + en, de

    def train(self, mode=True, encoder_bn_train=True):
        self.training = mode
        self.encoder.train(mode and encoder_bn_train)
        self.encoder_freeze.train(False)
        self.bottleneck.train(mode)
        self.decoder.train(mode)
        return self


# ---- utils.py ----

KEPT = []


def modify_grad(x, inds, factor=0.0):
    inds = inds.expand_as(x)
    x[inds] *= factor
    return x


def global_cosine_hm(a, b, alpha=1.0, factor=0.0):
    cos_loss = torch.nn.CosineSimilarity()
    loss = 0
    for item in range(len(a)):
        a_ = a[item].detach()
        b_ = b[item]
        with torch.no_grad():
            point_dist = 1 - cos_loss(a_, b_).unsqueeze(1)
        mean_dist = point_dist.mean()
        std_dist = point_dist.reshape(-1).std()
        loss += torch.mean(1 - cos_loss(a_.view(a_.shape[0], -1), b_.view(b_.shape[0], -1)))
        thresh = mean_dist + alpha * std_dist
        inds = point_dist < thresh
        KEPT.append({"kept": int((~inds).sum()), "positions": int(inds.numel()),
                     "threshold": float(thresh), "margin": float((point_dist - thresh).abs().min() / std_dist), "std": float(std_dist)})
        b_.register_hook(lambda g, inds=inds: modify_grad(g, inds, factor))
    return loss


def maps_of(model, x):
    model.eval()
    with torch.no_grad():
        en, de = model(x)
        acc = np.zeros((x.shape[0], S, S))
        for fs, ft in zip(en, de):
            a = (1 - F.cosine_similarity(fs, ft)).unsqueeze(1)
            a = F.interpolate(a, size=S, mode="bilinear", align_corners=True)
            acc += a[:, 0].numpy()  # float32 maps summed into float64, as cal_anomaly_map
    out = np.stack([gaussian_filter(m, sigma=4) for m in acc])
    return out


# ---- fill ----

def fill_with_offset(model, offset):
    sd = model.state_dict()
    new = OrderedDict((name, fill.fill_value(offset + i, name, list(v.shape))) for i, (name, v) in enumerate(sd.items()))
    model.load_state_dict(new)


def picks(n):
    return sorted({0, n // 3, (2 * n) // 3, n - 1})


def summary(t):
    v = t.detach().reshape(-1).double()
    return {"sum": float(v.sum()), "sumsq": float((v * v).sum()), "at": picks(v.numel()), "values": [float(v[i]) for i in picks(v.numel())]}


def step_case(dtype):
    torch.set_default_dtype(dtype)
    tv = torchvision.models.resnet18()
    fill.fill_model("resnet18", tv)
    frozen = Encoder(tv).eval()
    for p in frozen.parameters():
        p.requires_grad_(False)
    encoder = copy.deepcopy(frozen)
    for p in encoder.parameters():
        p.requires_grad_(True)
    bottleneck = BNLayer()
    fill_with_offset(bottleneck, 300)
    decoder = DeResNet18()
    fill_with_offset(decoder, 600)
    model = ReContrast(encoder, frozen, bottleneck, decoder).to(dtype)
    x = torch.from_numpy((fill.hash_u(1000, B * 3 * S * S) * 2.0).astype(np.float32).reshape(B, 3, S, S)).to(dtype)

    maps_before = maps_of(model, x)

    model.train(encoder_bn_train=True)
    alpha = min(-3 + (1 - -3) * IT / (TOTAL * 0.1), 1)
    en, de = model(x)
    KEPT.clear()
    frozen_half = global_cosine_hm(en[:3], de[:3], alpha=alpha, factor=0.0)
    trained_half = global_cosine_hm(en[3:], de[3:], alpha=alpha, factor=0.0)
    loss = frozen_half / 2 + trained_half / 2
    optimizer = torch.optim.AdamW(list(decoder.parameters()) + list(bottleneck.parameters()), lr=2e-3, betas=(0.9, 0.999), weight_decay=1e-5)
    optimizer2 = torch.optim.AdamW(list(encoder.parameters()), lr=1e-5, betas=(0.9, 0.999), weight_decay=1e-5)
    optimizer.zero_grad()
    optimizer2.zero_grad()
    loss.backward()
    named = [("encoder." + n, p) for n, p in encoder.named_parameters()]
    named += [("bottleneck." + n, p) for n, p in bottleneck.named_parameters()]
    named += [("decoder." + n, p) for n, p in decoder.named_parameters()]
    grads = OrderedDict((n, p.grad.detach().double().clone() if p.grad is not None else None) for n, p in named)
    optimizer.step()
    optimizer2.step()
    after = OrderedDict((n, {"at": picks(p.numel()), "values": [float(p.detach().reshape(-1)[i]) for i in picks(p.numel())]}) for n, p in named)
    maps_after = maps_of(model, x)
    print(f"{dtype}: loss {float(loss):.8f} (frozen {float(frozen_half):.8f}, trained {float(trained_half):.8f}), alpha {alpha}")
    print("kept", [(k["kept"], k["positions"], round(k["margin"], 5)) for k in KEPT])

    def map_entry(m):
        return {"max": [float(v.max()) for v in m], "mean": [float(v.mean()) for v in m]}

    torch.set_default_dtype(torch.float32)
    return {
        "input": {"shape": [B, 3, S, S], "fill": "u(1000, i)·2"},
        "fill": {"backbone": 0, "bottleneck": 300, "decoder": 600},
        "it": IT, "total": TOTAL, "alpha": alpha,
        "loss": float(loss), "frozen": float(frozen_half), "trained": float(trained_half),
        "kept": KEPT[:],
        "grads": grads,
        "after": after,
        "maps": {"before": map_entry(maps_before), "after": map_entry(maps_after)},
    }, OrderedDict([("before", torch.from_numpy(maps_before[:, ::2, ::2].astype(np.float32))), ("after", torch.from_numpy(maps_after[:, ::2, ::2].astype(np.float32)))])


def grad_errors(g, ref):
    """The test's error measures of gradient g against the reference summary (see recontrast.test.ts)."""
    v = g.reshape(-1)
    rms = (ref["sumsq"] / v.numel()) ** 0.5
    errs = [abs(float((v * v).sum()) - ref["sumsq"]) / ref["sumsq"], abs(float(v.sum()) - ref["sum"]) / (rms * v.numel() ** 0.5)]
    errs += [abs(float(v[i]) - x) / rms for i, x in zip(ref["at"], ref["values"])]
    return max(errs)


def adamw_case():
    p0 = fill.hash_u(2000, 7) * 4
    grads = [fill.hash_u(2001 + t, 7) * 2 for t in range(4)]
    configs = [
        ("default", {}),
        ("recontrast", dict(lr=2e-3, betas=(0.9, 0.999), weight_decay=1e-5)),
        ("strong_amsgrad", dict(lr=5e-2, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.5, amsgrad=True)),
    ]
    out = {"p0": [float(v) for v in p0.astype(np.float32)], "grads": [[float(v) for v in g.astype(np.float32)] for g in grads], "cases": []}
    for name, kw in configs:
        p = nn.Parameter(torch.from_numpy(p0.astype(np.float32)))
        opt = torch.optim.AdamW([p], **kw)
        traj = []
        for g in grads:
            p.grad = torch.from_numpy(g.astype(np.float32))
            opt.step()
            traj.append([float(v) for v in p.detach()])
        out["cases"].append({"name": name, "args": {k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()}, "trajectory": traj})
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    data = OrderedDict()
    data["step"], maps = step_case(torch.float64)
    f32, _ = step_case(torch.float32)
    assert [k["kept"] for k in f32["kept"]] == [k["kept"] for k in data["step"]["kept"]], "float32 and float64 keep different positions"
    grads = OrderedDict()
    for name, g in data["step"]["grads"].items():
        if g is None:
            grads[name] = None
            continue
        grads[name] = summary(g)
        grads[name]["float32Error"] = grad_errors(f32["grads"][name], grads[name])
    data["step"]["grads"] = grads
    data["step"]["float32"] = {k: f32[k] for k in ["loss", "frozen", "trained"]}
    print("PyTorch float32 vs float64, worst gradient error:", max(g["float32Error"] for g in grads.values() if g))
    fill.write_safetensors(os.path.join(OUT, "maps.safetensors"), maps, {"format": "pt"})
    data["adamw"] = adamw_case()
    data["versions"] = {"torch": torch.__version__, "torchvision": torchvision.__version__}
    path = os.path.join(OUT, "recontrast.json")
    with open(path, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    for name in ["recontrast.json", "maps.safetensors"]:
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


if __name__ == "__main__":
    main()
