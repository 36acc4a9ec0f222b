#!/usr/bin/env python3
"""Generate the PyTorch reference fixtures of AnoDDPM's U-Net in test/fixtures/diffusion/.

Run with Debian's python3 and python3-torch (1.13):

    /usr/bin/python3 scripts/make-anoddpm-unet-fixtures.py

The net below is a PyTorch port of the network of diffusion spec §2.1 (AnoDDPM's UNet.py,
itself guided-diffusion's), written from the spec with the reference's module and
parameter names, so its state dict has the reference's keys in the reference's order.

Writes
  anoddpm-unet.json          parameter counts of the default nets (C 128, S 64 / 128 / 256,
                             counted on the allocated PyTorch modules) and of the mini net;
                             the mini config; its state-dict names and shapes; the loss; the
                             gradient sampling rule
  anoddpm-unet.safetensors   the mini net's one training step:
    x, noise, t              input [2, 1, 16, 16] (u(1000, i)·2), target noise (u(1001, i)·3)
                             and the timesteps
    eps                      ε̂ = net(x, t) with 2 heads, training mode (dropout 0)
    eps_eval1                ε̂ of the same weights rebuilt with 1 head (the reference's
                             detection.py quirk: it rebuilds the net without n_heads)
    g.<name>                 the gradient of loss = mean((ε̂ − noise)²) for each parameter at
                             the sampled flat indices round(k·(n − 1)/(m − 1)), k < m =
                             min(n, SAMPLES) (every entry when n ≤ SAMPLES)
    s.<name>                 [Σg, Σg², max|g|] over the full gradient (float64 sums)

The mini net (S 16, C 64, mults (1, 2, 2), 1 res block, attention at 4×4 with 2 heads) is
filled with make-backbone-fixtures.py's deterministic hash formula (test/models/backbones/
fill.ts reproduces it), t the tensor's index in the state dict: the zero-initialised layers
get non-zero values too, so every gradient is informative. C is 64, not 32, because GroupNorm32
over 32 channels normalises each channel alone and so removes any per-channel constant: the
gradients of the conv bias and of the timestep shift before it would vanish.
"""
import json
import math
import os
import sys
from collections import OrderedDict
from importlib import import_module

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "diffusion")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
backbone_fx = import_module("make-backbone-fixtures")
torch_fx = import_module("make-torch-fixtures")

SAMPLES = 256
MINI = {"size": 16, "baseChannels": 64, "channelMults": [1, 2, 2], "numResBlocks": 1, "attentionResolutions": [4], "heads": 2}
BATCH = 2
TIMESTEPS = [3.0, 617.0]

torch.set_num_threads(1)

DEFAULT_MULTS = {512: (0.5, 1, 1, 2, 2, 4, 4), 256: (1, 1, 2, 2, 4, 4), 128: (1, 1, 2, 3, 4), 64: (1, 2, 3, 4), 32: (1, 2, 3, 4)}


def gn32(c):
    return nn.GroupNorm(32, c, eps=1e-5)


def zeroed(m):
    with torch.no_grad():
        for p in m.parameters():
            p.zero_()
    return m


class SinCos(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, t):
        half = self.dim // 2
        f = torch.exp(torch.arange(half) * -(math.log(10000) / half))
        a = torch.outer(t, f)
        return torch.cat([a.sin(), a.cos()], dim=-1)


class Res(nn.Module):
    def __init__(self, cin, cout, emb, dropout, resample=None):
        super().__init__()
        self.in_layers = nn.Sequential(gn32(cin), nn.SiLU(), nn.Conv2d(cin, cout, 3, padding=1))
        self.resample = resample
        self.embed_layers = nn.Sequential(nn.SiLU(), nn.Linear(emb, cout))
        self.out_layers = nn.Sequential(gn32(cout), nn.SiLU(), nn.Dropout(dropout), zeroed(nn.Conv2d(cout, cout, 3, padding=1)))
        self.skip_connection = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def _resample(self, v):
        if self.resample == "up":
            return F.interpolate(v, scale_factor=2, mode="nearest")
        if self.resample == "down":
            return F.avg_pool2d(v, kernel_size=2, stride=2)
        return v

    def forward(self, x, e):
        h = self.in_layers[1](self.in_layers[0](x))
        h = self.in_layers[2](self._resample(h))
        x = self._resample(x)
        h = h + self.embed_layers(e)[:, :, None, None]
        return self.skip_connection(x) + self.out_layers(h)


class Attn(nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.heads = heads
        self.norm = gn32(c)
        self.to_qkv = nn.Conv1d(c, 3 * c, 1)
        self.proj_out = zeroed(nn.Conv1d(c, c, 1))

    def forward(self, x, e=None):
        b, c, hh, ww = x.shape
        flat = x.reshape(b, c, hh * ww)
        qkv = self.to_qkv(self.norm(flat))
        d = c // self.heads
        # legacy layout: per head [q | k | v], d channels each
        q, k, v = qkv.reshape(b * self.heads, 3 * d, hh * ww).split(d, dim=1)
        s = d ** -0.25
        w = torch.softmax(torch.einsum("bct,bcs->bts", q * s, k * s).float(), dim=-1)
        a = torch.einsum("bts,bcs->bct", w, v).reshape(b, c, hh * ww)
        return (flat + self.proj_out(a)).reshape(b, c, hh, ww)


class Stage(nn.Sequential):
    def forward(self, x, e):
        for m in self:
            x = m(x, e) if isinstance(m, (Res, Attn)) else m(x)
        return x


class Time(nn.Sequential):
    pass


class UNet(nn.Module):
    def __init__(self, size, base=128, mults=None, res_blocks=2, attn_res=(32, 16, 8), heads=1, head_channels=-1, dropout=0.0, channels=1):
        super().__init__()
        mults = mults or DEFAULT_MULTS[size]
        attn_ds = {size // r for r in attn_res}
        emb = 4 * base
        widths = [int(base * m) for m in mults]

        def attn(c):
            return Attn(c, heads if head_channels == -1 else c // head_channels)

        self.time_embedding = Time(SinCos(base), nn.Linear(base, emb), nn.SiLU(), nn.Linear(emb, emb))
        ch = widths[0]
        self.down = nn.ModuleList([Stage(nn.Conv2d(channels, ch, 3, padding=1))])
        skips = [ch]
        ds = 1
        for i, w in enumerate(widths):
            for _ in range(res_blocks):
                layers = [Res(ch, w, emb, dropout)]
                ch = w
                if ds in attn_ds:
                    layers.append(attn(ch))
                self.down.append(Stage(*layers))
                skips.append(ch)
            if i != len(widths) - 1:
                self.down.append(Stage(Res(ch, ch, emb, dropout, "down")))
                ds *= 2
                skips.append(ch)
        self.middle = Stage(Res(ch, ch, emb, dropout), attn(ch), Res(ch, ch, emb, dropout))
        self.up = nn.ModuleList()
        for i in reversed(range(len(widths))):
            for j in range(res_blocks + 1):
                layers = [Res(ch + skips.pop(), widths[i], emb, dropout)]
                ch = widths[i]
                if ds in attn_ds:
                    layers.append(attn(ch))
                if i > 0 and j == res_blocks:
                    layers.append(Res(ch, ch, emb, dropout, "up"))
                    ds //= 2
                self.up.append(Stage(*layers))
        self.out = nn.Sequential(gn32(ch), nn.SiLU(), zeroed(nn.Conv2d(ch, channels, 3, padding=1)))

    def forward(self, x, t):
        e = self.time_embedding(t)
        skips = []
        h = x
        for m in self.down:
            h = m(h, e)
            skips.append(h)
        h = self.middle(h, e)
        for m in self.up:
            h = m(torch.cat([h, skips.pop()], dim=1), e)
        return self.out(h)


def count(**kw):
    net = UNet(**kw)
    n = sum(p.numel() for p in net.parameters())
    del net
    return n


def mini(heads):
    return UNet(MINI["size"], base=MINI["baseChannels"], mults=tuple(MINI["channelMults"]), res_blocks=MINI["numResBlocks"], attn_res=tuple(MINI["attentionResolutions"]), heads=heads)


def fill(net):
    sd = net.state_dict()
    new = OrderedDict((name, backbone_fx.fill_value(t, name, list(v.shape))) for t, (name, v) in enumerate(sd.items()))
    net.load_state_dict(new)
    return [[name, list(v.shape)] for name, v in sd.items()]


def hashed(t, shape, scale):
    return torch.from_numpy((backbone_fx.hash_u(t, int(np.prod(shape))) * scale).astype(np.float32).reshape(shape))


def sample_indices(n):
    m = min(n, SAMPLES)
    if m == 1:
        return [0]
    return [int(round(k * (n - 1) / (m - 1))) for k in range(m)]


def main():
    counts = {str(s): count(size=s) for s in (64, 128, 256)}
    print("parameter counts", counts)

    net = mini(MINI["heads"])
    names = fill(net)
    counts["mini"] = sum(p.numel() for p in net.parameters())
    shape = [BATCH, 1, MINI["size"], MINI["size"]]
    x = hashed(1000, shape, 2.0)
    noise = hashed(1001, shape, 3.0)
    t = torch.tensor(TIMESTEPS)
    net.train()
    eps = net(x, t)
    loss = ((eps - noise) ** 2).mean()
    loss.backward()

    net1 = mini(1)
    net1.load_state_dict(net.state_dict())
    net1.eval()
    with torch.no_grad():
        eps1 = net1(x, t)

    store = OrderedDict(x=x, noise=noise, t=t, eps=eps.detach(), eps_eval1=eps1)
    for name, p in net.named_parameters():
        g = p.grad.detach().reshape(-1)
        store[f"g.{name}"] = g[sample_indices(g.numel())].clone()
        g64 = g.double()
        store[f"s.{name}"] = torch.tensor([g64.sum().item(), (g64 * g64).sum().item(), g64.abs().max().item()], dtype=torch.float32)
    os.makedirs(OUT, exist_ok=True)
    torch_fx.save_safetensors(os.path.join(OUT, "anoddpm-unet.safetensors"), store, {"torch": torch.__version__})
    index = {
        "torch": torch.__version__,
        "parameterCounts": counts,
        "mini": MINI,
        "batch": BATCH,
        "timesteps": TIMESTEPS,
        "loss": loss.item(),
        "samples": SAMPLES,
        "stateDict": names,
        "epsAbsMax": eps.detach().abs().max().item(),
    }
    with open(os.path.join(OUT, "anoddpm-unet.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    print("loss", loss.item(), "mini params", counts["mini"], "eps |max|", index["epsAbsMax"], "tensors", len(store))


if __name__ == "__main__":
    main()
