#!/usr/bin/env python3
"""PyTorch side of the one-stage SSL network (methods.md §4.5): its fixture and its bench.

Run with Debian's python3 and python3-torch (1.13). The module below is the reference's
ResNet18 encoder–decoder (`resnet18_enc_dec` with pool = True, preact = False, 1 input
channel, 1 class, sigmoid), rewritten here with the same attribute names so that its
state dict carries the names the library's src/models/ssl-resnet.ts must have.

  torch_ssl_step.py fixture
      writes test/fixtures/ssl/ssl-resnet.safetensors and ssl-resnet.json: the state-dict
      names and shapes, and one training-mode forward/backward at 64 px, batch 2, with
      deterministic weights (the fill rule of scripts/make-backbone-fixtures.py, mirrored by
      test/models/backbones/fill.ts): input x = 0.5 + 0.5·u(1000, i), target t = 0.5 + u(1001, i)
      (a soft label in [0, 1)); the sigmoid output, BCE(mean), the gradient of x and of a few
      parameters, two running statistics after the step's forward, and the eval-mode output
      (running statistics updated once). Also rotation.json: Pillow's
      Image.rotate(angle, NEAREST, expand=False, fillcolor=0) of small random 8-bit images at
      a few angles (what torchvision's RandomRotation does to the reference's PIL images).

  torch_ssl_step.py bench --threads 1 --batch 16 --size 224 --repeats 3
      one training step (zero_grad, forward, BCE, backward, Adam 1e-3) on random input and
      labels; prints one JSON line with the best of `repeats` timed steps after two warm-up
      steps, in ms. Set OMP_NUM_THREADS and OPENBLAS_NUM_THREADS to the thread count too:
      Debian's torch runs 1×1 convolutions on OpenBLAS, whose pool ignores set_num_threads.
"""
import argparse
import json
import math
import os
import struct
import sys
import time
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- the network -----------------------------------------------------------------------

class Block(nn.Module):
    """torchvision's BasicBlock: conv3×3(s) bn relu conv3×3 bn (+ shortcut) relu."""

    def __init__(self, cin, cout, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        short = x if self.downsample is None else self.downsample(x)
        return self.relu(out + short)


class UpBlock(nn.Module):
    """The transposed block: ConvT3×3/2 (p1, op1) bn relu conv3×3 bn (+ ConvT1×1/2 bn) relu."""

    def __init__(self, cin, cout, upsample):
        super().__init__()
        self.conv1 = nn.ConvTranspose2d(cin, cout, 3, 2, 1, output_padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.upsample = upsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + self.upsample(x))


class EncDec(nn.Module):
    def __init__(self, in_channels=1, num_classes=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.inplanes = 64
        self.layer1 = self._down(64, 1)
        self.layer2 = self._down(128, 2)
        self.layer3 = self._down(256, 2)
        self.layer4 = self._down(512, 2)
        self.nin = nn.Sequential(nn.Conv2d(512, 256, 1, bias=False), nn.ReLU(inplace=True),
                                 nn.Conv2d(256, 128, 1, bias=False), nn.ReLU(inplace=True))
        self.inplanes = 128
        self.uplayer1 = self._up(64)
        self.uplayer2 = self._up(32)
        self.uplayer3 = self._up(16)
        self.upsample = nn.UpsamplingBilinear2d(scale_factor=2)
        self.convtranspose1 = nn.ConvTranspose2d(16, num_classes, 7, 2, 3, output_padding=1, bias=False)
        self.final_activation = nn.Sigmoid()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _down(self, planes, stride):
        ds = None
        if stride != 1 or self.inplanes != planes:
            ds = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
        blocks = [Block(self.inplanes, planes, stride, ds), Block(planes, planes)]
        self.inplanes = planes
        return nn.Sequential(*blocks)

    def _up(self, planes):
        short = nn.Sequential(nn.ConvTranspose2d(self.inplanes, planes, 1, 2, bias=False, output_padding=1), nn.BatchNorm2d(planes))
        block = UpBlock(self.inplanes, planes, short)
        self.inplanes = planes
        return nn.Sequential(block)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.nin(x)
        x = self.uplayer3(self.uplayer2(self.uplayer1(x)))
        x = self.convtranspose1(self.upsample(x))
        return self.final_activation(x)


# ---- deterministic fill: scripts/make-backbone-fixtures.py's hash_u, fill_value and
# write_safetensors (mirrored by test/models/backbones/fill.ts), loaded only for the fixture
# so that the bench needs no torchvision.

def backbone_fixtures():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from importlib import import_module
    return import_module("make-backbone-fixtures")


# Parameters whose gradient the fixture keeps (every STEP-th element of the big ones).
GRADS = {
    "conv1.weight": 1,
    "bn1.weight": 1,
    "layer1.0.conv1.weight": 7,
    "layer2.0.downsample.0.weight": 3,
    "layer4.1.conv2.weight": 997,
    "layer4.1.bn2.bias": 1,
    "nin.0.weight": 61,
    "nin.2.weight": 31,
    "uplayer1.0.conv1.weight": 23,
    "uplayer2.0.upsample.0.weight": 1,
    "uplayer3.0.bn2.weight": 1,
    "convtranspose1.weight": 1,
}
STATS = ["bn1.running_mean", "bn1.running_var", "layer4.1.bn2.running_var", "uplayer3.0.upsample.1.running_mean"]


def fixture():
    bb = backbone_fixtures()
    hash_u, fill_value, write_safetensors = bb.hash_u, bb.fill_value, bb.write_safetensors
    torch.set_num_threads(1)
    out_dir = os.path.join(ROOT, "test", "fixtures", "ssl")
    os.makedirs(out_dir, exist_ok=True)
    net = EncDec()
    sd = net.state_dict()
    names = [[k, list(v.shape)] for k, v in sd.items()]
    net.load_state_dict(OrderedDict((k, fill_value(t, k, list(v.shape))) for t, (k, v) in enumerate(sd.items())))
    n, s = 2, 64
    x = torch.from_numpy((0.5 + 0.5 * hash_u(1000, n * s * s)).astype(np.float32).reshape(n, 1, s, s)).requires_grad_(True)
    target = torch.from_numpy((0.5 + hash_u(1001, n * s * s)).astype(np.float32).reshape(n, 1, s, s))
    net.train()
    y = net(x)
    loss = F.binary_cross_entropy(y, target)
    loss.backward()
    params = dict(net.named_parameters())
    buffers = dict(net.named_buffers())
    t = OrderedDict()
    t["x"] = x.detach()
    t["target"] = target
    t["y"] = y.detach()
    t["loss"] = loss.detach().reshape(1)
    t["grad/x"] = x.grad
    for k, step in GRADS.items():
        t[f"grad/{k}"] = params[k].grad.reshape(-1)[::step].clone()
    for k in STATS:
        t[f"stat/{k}"] = buffers[k].clone()
    net.eval()
    with torch.no_grad():
        t["eval_y"] = net(x.detach())
    write_safetensors(os.path.join(out_dir, "ssl-resnet.safetensors"), t)
    meta = {"torch": torch.__version__, "input": [n, 1, s, s], "state": names, "grads": GRADS, "stats": STATS,
            "parameters": sum(p.numel() for p in net.parameters())}
    with open(os.path.join(out_dir, "ssl-resnet.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"loss {loss.item():.6f}; {meta['parameters']} parameters; wrote {out_dir}")
    rotation_fixture(out_dir)


def rotation_fixture(out_dir):
    import PIL
    from PIL import Image
    rng = np.random.RandomState(0)
    cases = []
    for w, h, angle in [(24, 24, 2.3), (24, 24, -2.9), (17, 17, 1.1), (32, 32, -0.4), (20, 20, 2.999)]:
        a = rng.randint(0, 256, (h, w)).astype(np.uint8)
        r = np.asarray(Image.fromarray(a).rotate(angle, Image.NEAREST, expand=False, fillcolor=0))
        cases.append({"width": w, "height": h, "angle": angle, "src": a.ravel().tolist(), "out": r.ravel().tolist()})
    with open(os.path.join(out_dir, "rotation.json"), "w") as f:
        json.dump({"pillow": PIL.__version__, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")


def bench(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = EncDec().train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.rand(a.batch, 1, a.size, a.size)
    t = (torch.rand(a.batch, 1, a.size, a.size) > 0.9).float()

    def step():
        opt.zero_grad()
        loss = F.binary_cross_entropy(net(x), t)
        loss.backward()
        opt.step()

    step()
    step()
    best = float("inf")
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        step()
        best = min(best, (time.perf_counter() - t0) * 1e3)
    print(json.dumps({"net": "ssl-resnet", "threads": a.threads, "batch": a.batch, "size": a.size, "ms": round(best, 1),
                      "torch": torch.__version__}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["fixture", "bench"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    if a.mode == "fixture":
        fixture()
    else:
        bench(a)


if __name__ == "__main__":
    sys.exit(main())
