#!/usr/bin/env python3
"""Generate the PyTorch reference fixtures of the diffusion engine pieces in test/fixtures/diffusion/.

Run with Debian's python3 and python3-torch (1.13):

    /usr/bin/python3 scripts/make-diffusion-fixtures.py

Writes diffusion.safetensors (float32) with
  attn.{q,k,v,g,out,dq,dk,dv}   scaled dot-product attention (spec §7.4) on [3, 17, 8] with
                                v [3, 17, 5]: softmax(q kᵀ/√8) v, and the gradients of Σ g ⊙ out
  attn2.*                       the same for q [2, 9, 4], k/v [2, 13, 4] (lq ≠ lk)
  temb.t                        timesteps [0, 1, 7, 250, 999]
  temb.sincos.{D}               AnoDDPM's PositionalEmbedding (sin | cos), D = 8, 64
  temb.cossin.{D}               MONAI's get_timestep_embedding (cos | sin, zero pad), D = 8, 7, 64
  clip.{i}.grad / clip.{i}.clipped, clip.total   torch.nn.utils.clip_grad_norm_(params, 1.0)
  noclip.* / noclip.total       the same with max_norm 100 (no clipping)
  ema.p0.{i}, ema.step{s}.{i}, ema.shadow{s}.{i}  parameters after each of 3 steps and the EMA
                                shadow θ_ema ← β θ_ema + (1 − β) θ (β = 0.9 and 0.9999)
"""
import math
import os
import sys
from importlib import import_module

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "diffusion")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
torch_fx = import_module("make-torch-fixtures")

torch.set_num_threads(1)


def attention(store, name, b, lq, lk, d, dv):
    q = torch.randn(b, lq, d, requires_grad=True)
    k = torch.randn(b, lk, d, requires_grad=True)
    v = torch.randn(b, lk, dv, requires_grad=True)
    s = torch.bmm(q, k.transpose(1, 2)) / math.sqrt(d)
    w = torch.softmax(s, dim=-1)
    out = torch.bmm(w, v)
    g = torch.randn_like(out)
    (out * g).sum().backward()
    for key, t in (("q", q), ("k", k), ("v", v), ("g", g), ("out", out), ("dq", q.grad), ("dk", k.grad), ("dv", v.grad)):
        store[f"{name}.{key}"] = t.detach()


def anoddpm_embedding(t, dim):
    # AnoDDPM UNet.PositionalEmbedding (scale 1).
    half_dim = dim // 2
    emb = math.log(10000) / half_dim
    emb = torch.exp(torch.arange(half_dim) * -emb)
    emb = torch.outer(t, emb)
    return torch.cat((emb.sin(), emb.cos()), dim=-1)


def monai_embedding(timesteps, embedding_dim, max_period=10000):
    # MONAI generative get_timestep_embedding (AutoDDPM).
    half_dim = embedding_dim // 2
    exponent = -math.log(max_period) * torch.arange(start=0, end=half_dim, dtype=torch.float32)
    freqs = torch.exp(exponent / half_dim)
    args = timesteps[:, None].float() * freqs[None, :]
    embedding = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if embedding_dim % 2 == 1:
        embedding = torch.nn.functional.pad(embedding, (0, 1, 0, 0))
    return embedding


def clip(store, name, max_norm, scale):
    shapes = [(4, 3), (7,), (2, 3, 5)]
    ps = [torch.nn.Parameter(torch.randn(*s)) for s in shapes]
    for i, p in enumerate(ps):
        p.grad = torch.randn(*p.shape) * scale
        store[f"{name}.{i}.grad"] = p.grad.clone()
    total = torch.nn.utils.clip_grad_norm_(ps, max_norm)
    for i, p in enumerate(ps):
        store[f"{name}.{i}.clipped"] = p.grad.clone()
    store[f"{name}.total"] = total.reshape(1).clone()


def ema(store, beta, tag):
    shapes = [(3, 4), (5,)]
    ps = [torch.randn(*s) for s in shapes]
    shadow = [p.clone() for p in ps]
    for i, p in enumerate(ps):
        store[f"ema{tag}.p0.{i}"] = p.clone()
    for step in range(3):
        for i, p in enumerate(ps):
            p.add_(torch.randn(*p.shape) * 0.5)  # the optimiser step
            shadow[i] = shadow[i] * beta + (1 - beta) * p  # AnoDDPM's update_average
            store[f"ema{tag}.step{step}.{i}"] = p.clone()
            store[f"ema{tag}.shadow{step}.{i}"] = shadow[i].clone()


def main():
    torch.manual_seed(1234)
    store = {}
    attention(store, "attn", 3, 17, 17, 8, 5)
    attention(store, "attn2", 2, 9, 13, 4, 4)
    t = torch.tensor([0.0, 1.0, 7.0, 250.0, 999.0])
    store["temb.t"] = t
    for dim in (8, 64):
        store[f"temb.sincos.{dim}"] = anoddpm_embedding(t, dim)
    for dim in (8, 7, 64):
        store[f"temb.cossin.{dim}"] = monai_embedding(t, dim)
    clip(store, "clip", 1.0, 1.0)
    clip(store, "noclip", 100.0, 0.1)
    ema(store, 0.9, "09")
    ema(store, 0.9999, "09999")
    os.makedirs(OUT, exist_ok=True)
    torch_fx.save_safetensors(os.path.join(OUT, "diffusion.safetensors"), store, {"torch": torch.__version__})
    print("wrote", len(store), "tensors")


if __name__ == "__main__":
    main()
