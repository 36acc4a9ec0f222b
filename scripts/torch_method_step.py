#!/usr/bin/env python3
"""PyTorch side of bench/methods.ts: training throughput of MemAE and DAE (CPU).

The networks follow docs/methods.md (MemAE: §4.1 + §5.10; DAE: §4.4 + §5.14,
noise included in the step). The unified AE itself is timed by the reference script
scripts/torch_ae_step.py. Run with Debian's python3 (apt-get install python3-torch).

Prints one JSON line per thread count:
  {"method": "memae", "threads": 1, "batch": 64, "size": 64, "train_step_ms": ..., "images_per_s": ..., "torch": "..."}
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------- MemAE (§4.1, §5.10)

from torch_ae_step import down, up  # noqa: E402  (the unified AE's blocks; scripts/ is sys.path[0])


class MemAE(nn.Module):
    def __init__(self, in_c=1, latent=16, hidden=1024, size=64, slots=25, shrink=0.0025):
        super().__init__()
        s = size // 16
        self.s = s
        self.shrink = shrink
        self.enc = nn.Sequential(*down(in_c, 16), *down(16, 32), *down(32, 64), *down(64, 64))
        flat = 64 * s * s
        self.enc_mlp = nn.Sequential(nn.Linear(flat, hidden), nn.BatchNorm1d(hidden), nn.ReLU(True), nn.Linear(hidden, latent))
        bound = 1 / math.sqrt(latent)
        self.memory = nn.Parameter(torch.empty(slots, latent).uniform_(-bound, bound))
        self.dec_mlp = nn.Sequential(nn.Linear(latent, hidden), nn.BatchNorm1d(hidden), nn.ReLU(True), nn.Linear(hidden, flat))
        self.dec = nn.Sequential(*up(64, 64), *up(64, 32), *up(32, 16), *up(16, in_c, last=True))

    def forward(self, x):
        z = self.enc_mlp(self.enc(x).flatten(1))
        w = F.softmax(z @ self.memory.t(), dim=1)
        w = F.relu(w - self.shrink) * w / (torch.abs(w - self.shrink) + 1e-12)
        w = w / torch.clamp(w.abs().sum(dim=1, keepdim=True), min=1e-12)
        zhat = w @ self.memory
        out = self.dec(self.dec_mlp(zhat).view(-1, 64, self.s, self.s))
        return out, w


def memae_loss(model, x):
    out, w = model(x)
    entropy = (-w * torch.log(w + 1e-12)).sum(dim=1).mean()
    return ((x - out) ** 2).mean() + 0.0002 * entropy


# ---------------------------------------------------------------- DAE U-Net (§4.4, §5.14)

class WSConv2d(nn.Conv2d):
    def forward(self, x):
        w = self.weight
        flat = w.view(w.size(0), -1)
        w = (w - flat.mean(1).view(-1, 1, 1, 1)) / (flat.std(1).view(-1, 1, 1, 1) + 1e-5)
        return F.conv2d(x, w, self.bias, self.stride, self.padding)


def groups(c):
    divisors = [d for d in range(1, c + 1) if c % d == 0]
    return divisors[len(divisors) // 2]


class Swish(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


def conv_block(i, o):
    return nn.Sequential(
        nn.ReflectionPad2d(1), WSConv2d(i, o, 3), Swish(), nn.GroupNorm(groups(o), o),
        nn.ReflectionPad2d(1), WSConv2d(o, o, 3), Swish(), nn.GroupNorm(groups(o), o),
    )


class UNet(nn.Module):
    def __init__(self, in_c=1):
        super().__init__()
        widths = [64, 128, 256, 512, 1024]
        self.downs = nn.ModuleList()
        prev = in_c
        for w in widths:
            self.downs.append(conv_block(prev, w))
            prev = w
        self.ups = nn.ModuleList()
        self.up_blocks = nn.ModuleList()
        for w in reversed(widths[:-1]):
            self.ups.append(nn.ConvTranspose2d(prev, w, 2, 2))
            self.up_blocks.append(conv_block(2 * w, w))
            prev = w
        self.last = nn.Conv2d(prev, in_c, 1)

    def forward(self, x):
        skips = []
        for i, block in enumerate(self.downs):
            if i > 0:
                x = F.avg_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        for i, (upc, block) in enumerate(zip(self.ups, self.up_blocks)):
            x = upc(x)
            x = block(torch.cat([x, skips[-i - 2]], 1))
        return self.last(x)


def dae_loss(model, x):
    b, c, h, w = x.shape
    n = torch.randn(b, c, 16, 16) * 0.2
    n = F.interpolate(n, size=(h, w), mode="bilinear", align_corners=True)
    n = torch.roll(n, shifts=(int(torch.randint(h, ())), int(torch.randint(w, ()))), dims=(2, 3))
    n = (n - 0.5) * 2
    return ((x - model(x + n)) ** 2).mean()


# ---------------------------------------------------------------- timing

METHODS = {
    "memae": (lambda size: MemAE(size=size), memae_loss, 64, 64),
    "dae": (lambda size: UNet(), dae_loss, 128, 16),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", choices=sorted(METHODS), required=True)
    ap.add_argument("--threads", default="1", help="comma-separated thread counts")
    ap.add_argument("--batch", type=int)
    ap.add_argument("--size", type=int)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    build, loss_fn, default_size, default_batch = METHODS[a.method]
    size = a.size or default_size
    batch = a.batch or default_batch
    for th in [int(t) for t in a.threads.split(",")]:
        torch.set_num_threads(th)
        torch.manual_seed(0)
        model = build(size)
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        x = torch.rand(batch, 1, size, size) * 2 - 1
        model.train()

        def step():
            opt.zero_grad()
            loss = loss_fn(model, x)
            loss.backward()
            opt.step()

        for _ in range(a.warmup):
            step()
        times = []
        for _ in range(a.steps):
            t = time.perf_counter()
            step()
            times.append(time.perf_counter() - t)
        ms = sorted(times)[len(times) // 2] * 1e3
        print(json.dumps({
            "method": a.method, "threads": th, "batch": batch, "size": size,
            "train_step_ms": ms, "images_per_s": batch / ms * 1e3, "torch": torch.__version__,
        }), flush=True)


if __name__ == "__main__":
    main()
