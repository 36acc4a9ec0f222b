#!/usr/bin/env python3
"""Generate the CFlow-AD and FastFlow reference fixtures in test/fixtures/flow-methods/.

Run with Debian's python3, python3-torch (1.13), python3-torchvision (0.14) and Pillow:

    /usr/bin/python3 scripts/make-flow-method-fixtures.py

The coupling block is implemented here directly from FrEIA's AllInOneBlock as both methods use
it (affine coupling with the soft clamp α·tanh(s) on 0.1 × the subnet's output, SOFTPLUS global
affine 0.1·softplus_{β=0.5}(γ), fixed channel mixing after the block, per-sample log-det), not
imported from FrEIA. Every weight is a deterministic formula that the tests reproduce bit for
bit (test/methods/flows/fill.ts; the backbone's is scripts/make-backbone-fixtures.py's):

    backbone                 resnet18, make-backbone-fixtures.py's fill
    flow tensor t (index in the heads' state dict), u = u(base + t, i):
      global_scale           10 + 0.5·u          (g ≈ 1.0013, not exactly 1: the softplus path is exercised)
      global_offset          0.2·u
      subnet weight          u·√(24 / fan_in)
      subnet bias            0.2·u
      LayerNorm weight       0.5 + 0.5·u
      LayerNorm bias         0.2·u
      w_perm, w_perm_inv     not hashed: see below
    base = 2000 (CFlow), 3000 (FastFlow)

Channel mixings, fixed and shared (both sides build them from the formula):
  soft (CFlow, level l, block k): the Householder reflection H = I − 2·v·vᵀ / (vᵀv) with
      v_i = ⌊(u(4000 + 16l + k, i) + ½)·4096⌋/4096 − ½ (12-bit values: vᵀv and 2·v_i·v_j are
      exact in float64, so H rounds identically everywhere); w_perm = w_perm_inv = H (float32).
  hard (FastFlow, level l, block k): π(i) = (i·(2k + 3) + 7k + 1) mod C, w_perm[i, π(i)] = 1,
      w_perm_inv = w_permᵀ (C is a power of two, so π is a permutation).

CFlow case (resnet18 at 64 px, batch 2, layer2–4 = 128/256/512 channels on 8/4/2 grids, P = 128,
8 blocks, α 1.9, N = 8 fibers, remainder dropped): the training images x (in [-1, 1]) go
through the ImageNet normalisation and the backbone; per level the fibers (order b, h, w) are
taken in the fixed order perm(e) = (e·(2l + 5) + 3l + 1) mod E; every fiber batch is one Adam
step (lr 2e-4) of one Adam over all flows, zero_grad() before each (PyTorch 1.13: gradients set
to zero, not None — the reference's behaviour). Stored: every step's loss, the gradients of the
first step (level 0's flow) and every parameter after the 21 steps (summaries); then on the test
images the per-level log p̄, and the maps and scores normalised over the set and per batch of 1.

FastFlow case (resnet18 at 64 px, batch 2, layer1–3 = 64/128/256 channels on 16/8/4 grids,
LayerNorm over [C, H, W], 8 steps, α 2.0, 3×3 and 1×1 subnets alternating, hidden ratio 1):
one Adam step (lr 1e-3, weight decay 1e-5): loss, per-level terms, every parameter's gradient
and value after the step (summaries); the map and scores of the test images after the step.

Also: CFLOW-official's positionalencoding2d(128, 8, 8) in full, and Pillow's rotate (nearest,
fill 0) of a 32 × 32 float image by a few angles, as torchvision's RandomRotation calls it.

Summaries of a tensor: sum and sum of squares (float64) and the values at 8 evenly spaced
flat indices.
"""
import json
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "flow-methods")
torch.set_num_threads(1)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from importlib import import_module  # noqa: E402

BB = import_module("make-backbone-fixtures")
hash_u = BB.hash_u

GCONST = -0.9189385332046727
IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


# ---- FrEIA's AllInOneBlock, directly ----

class Block(nn.Module):
    def __init__(self, channels, cond, subnet, clamp, spatial):
        super().__init__()
        self.c1 = channels - channels // 2
        self.c2 = channels // 2
        self.clamp = clamp
        self.spatial = spatial
        ones = [1, 1] if spatial else []
        self.global_scale = nn.Parameter(torch.zeros([1, channels] + ones))
        self.global_offset = nn.Parameter(torch.zeros([1, channels] + ones))
        self.register_buffer("w_perm", torch.zeros([channels, channels] + ones))
        self.register_buffer("w_perm_inv", torch.zeros([channels, channels] + ones))
        self.subnet = subnet(self.c1 + cond, 2 * self.c2)

    def forward(self, x, c=None):
        x1, x2 = x[:, : self.c1], x[:, self.c1:]
        a = self.subnet(torch.cat([x1, c], 1) if c is not None else x1) * 0.1
        s, t = a[:, : self.c2], a[:, self.c2:]
        j = self.clamp * torch.tanh(s)
        y2 = x2 * torch.exp(j) + t
        u = torch.cat([x1, y2], 1)
        g = 0.1 * F.softplus(self.global_scale, beta=0.5)
        v = u * g + self.global_offset
        out = F.conv2d(v, self.w_perm) if self.spatial else F.linear(v, self.w_perm)
        n_pix = out[0, :1].numel()
        logdet = torch.sum(j, dim=tuple(range(1, j.dim()))) + n_pix * torch.sum(torch.log(g))
        return out, logdet


class Sequence(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.module_list = nn.ModuleList(blocks)

    def forward(self, x, c=None):
        logdet = 0
        for b in self.module_list:
            x, ld = b(x, c)
            logdet = logdet + ld
        return x, logdet


def cflow_subnet(cin, cout):
    return nn.Sequential(nn.Linear(cin, 2 * cin), nn.ReLU(), nn.Linear(2 * cin, cout))


def fastflow_subnet(k):
    def make(cin, cout):
        pad = (k // 2 - ((1 + k) % 2), k // 2)
        return nn.Sequential(nn.ZeroPad2d((*pad, *pad)), nn.Conv2d(cin, cin, k), nn.ReLU(), nn.ZeroPad2d((*pad, *pad)), nn.Conv2d(cin, cout, k))
    return make


class CFlowHeads(nn.Module):
    def __init__(self, channels, cond, blocks, clamp):
        super().__init__()
        self.decoders = nn.ModuleList([Sequence([Block(c, cond, cflow_subnet, clamp, False) for _ in range(blocks)]) for c in channels])


class FastFlowHeads(nn.Module):
    def __init__(self, levels, steps, clamp):
        super().__init__()
        self.norms = nn.ModuleList([nn.LayerNorm([c, h, w]) for c, h, w in levels])
        self.fast_flow_blocks = nn.ModuleList(
            [Sequence([Block(c, 0, fastflow_subnet(1 if k % 2 == 1 else 3), clamp, True) for k in range(steps)]) for c, _, _ in levels]
        )

    def forward(self, feats):
        zs, lds = [], []
        for f, norm, flow in zip(feats, self.norms, self.fast_flow_blocks):
            z, ld = flow(norm(f))
            zs.append(z)
            lds.append(ld)
        return zs, lds


# ---- deterministic values ----

def householder(seed, c):
    v = np.floor((hash_u(seed, c) + 0.5) * 4096.0) / 4096.0 - 0.5
    s = float(np.sum(v * v))
    return (np.eye(c) - np.outer(2.0 * v, v) / s).astype(np.float32)


def permutation(c, k):
    w = np.zeros((c, c), dtype=np.float32)
    for i in range(c):
        w[i, (i * (2 * k + 3) + 7 * k + 1) % c] = 1.0
    return w


def fill_heads(model, base, mixing):
    """Hash fill by state-dict index; w_perm/w_perm_inv from mixing(level, block, C) → (w, w_inv)."""
    sd = model.state_dict()
    new = OrderedDict()
    for t, (name, v) in enumerate(sd.items()):
        shape = list(v.shape)
        leaf = name.rsplit(".", 1)[-1]
        if leaf in ("w_perm", "w_perm_inv"):
            parts = name.split(".")
            level, block = int(parts[1]), int(parts[3])
            w, w_inv = mixing(level, block, shape[0])
            m = w if leaf == "w_perm" else w_inv
            new[name] = torch.from_numpy(m.reshape(shape))
            continue
        u = hash_u(base + t, int(np.prod(shape)))
        if leaf == "global_scale":
            val = 10.0 + 0.5 * u
        elif leaf == "global_offset":
            val = 0.2 * u
        elif name.startswith("norms."):
            val = 0.5 + 0.5 * u if leaf == "weight" else 0.2 * u
        elif leaf == "weight":
            val = u * math.sqrt(24.0 / int(np.prod(shape[1:])))
        elif leaf == "bias":
            val = 0.2 * u
        else:
            raise ValueError(f"no fill rule for {name}")
        new[name] = torch.from_numpy(val.astype(np.float32).reshape(shape))
    model.load_state_dict(new)
    return [[name, list(v.shape)] for name, v in sd.items()]


def images(seed, shape):
    return torch.from_numpy(np.clip(hash_u(seed, int(np.prod(shape))) * 2.4, -1, 1).astype(np.float32).reshape(shape))


def backbone_input(x):
    return ((x * 0.5 + 0.5) - IMAGENET_MEAN) / IMAGENET_STD


def summary(t):
    d = t.detach().double().reshape(-1)
    n = d.numel()
    idx = [int(i) for i in np.linspace(0, n - 1, 8).round()] if n >= 8 else list(range(n))
    return {"sum": float(d.sum()), "sumSq": float((d * d).sum()), "idx": idx, "values": [float(d[i]) for i in idx]}


def resnet18():
    torch.manual_seed(0)
    model = torchvision.models.resnet18().eval()
    BB.fill_model("resnet18", model)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def features(model, x, names):
    out = {}
    with torch.no_grad():
        h = model.maxpool(model.relu(model.bn1(model.conv1(backbone_input(x)))))
        for name in ["layer1", "layer2", "layer3", "layer4"]:
            h = getattr(model, name)(h)
            out[name] = h
            if name == names[-1]:
                break
    return [out[n] for n in names]


# ---- CFLOW-official positionalencoding2d, as written there ----

def positionalencoding2d(D, H, W):
    P = torch.zeros(D, H, W)
    D = D // 2
    div_term = torch.exp(torch.arange(0.0, D, 2) * -(math.log(1e4) / D))
    pos_w = torch.arange(0.0, W).unsqueeze(1)
    pos_h = torch.arange(0.0, H).unsqueeze(1)
    P[0:D:2, :, :] = torch.sin(pos_w * div_term).transpose(0, 1).unsqueeze(1).repeat(1, H, 1)
    P[1:D:2, :, :] = torch.cos(pos_w * div_term).transpose(0, 1).unsqueeze(1).repeat(1, H, 1)
    P[D::2, :, :] = torch.sin(pos_h * div_term).transpose(0, 1).unsqueeze(2).repeat(1, 1, W)
    P[D + 1::2, :, :] = torch.cos(pos_h * div_term).transpose(0, 1).unsqueeze(2).repeat(1, 1, W)
    return P


def fiber_perm(level, E):
    return [(e * (2 * level + 5) + 3 * level + 1) % E for e in range(E)]


CF = {"size": 64, "batch": 2, "layers": ["layer2", "layer3", "layer4"], "channels": [128, 256, 512], "condition": 128, "blocks": 8, "clamp": 1.9, "fiberBatch": 8, "lr": 2e-4, "base": 2000}


def cflow_case(backbone, tensors):
    torch.manual_seed(0)
    heads = CFlowHeads(CF["channels"], CF["condition"], CF["blocks"], CF["clamp"])
    state = fill_heads(heads, CF["base"], lambda l, k, c: (householder(4000 + 16 * l + k, c),) * 2)
    params = OrderedDict((n, p) for n, p in heads.named_parameters())
    opt = torch.optim.Adam(list(params.values()), lr=CF["lr"])
    x = images(1000, [CF["batch"], 3, CF["size"], CF["size"]])
    feats = features(backbone, x, CF["layers"])
    P = CF["condition"]
    N = CF["fiberBatch"]
    losses = []
    first_grads = None
    for l, e in enumerate(feats):
        B, C, H, W = e.shape
        S = H * W
        E = B * S
        p = positionalencoding2d(P, H, W).unsqueeze(0).repeat(B, 1, 1, 1)
        c_r = p.reshape(B, P, S).transpose(1, 2).reshape(E, P)
        e_r = e.reshape(B, C, S).transpose(1, 2).reshape(E, C)
        perm = torch.tensor(fiber_perm(l, E))
        for f in range(E // N):
            idx = torch.arange(f * N, (f + 1) * N)
            c_p = c_r[perm[idx]]
            e_p = e_r[perm[idx]]
            z, ld = heads.decoders[l](e_p, c_p)
            logp = C * GCONST - 0.5 * torch.sum(z ** 2, 1) + ld
            loss = -F.logsigmoid(logp / C)
            opt.zero_grad()
            loss.mean().backward()
            if first_grads is None:
                first_grads = OrderedDict((n, summary(q.grad)) for n, q in params.items() if n.startswith("decoders.0.") and q.grad is not None)
            opt.step()
            losses.append(float(loss.mean()))
    after = OrderedDict((n, summary(q)) for n, q in params.items())
    # maps on the test images
    xt = images(1001, [CF["batch"], 3, CF["size"], CF["size"]])
    ft = features(backbone, xt, CF["layers"])
    logps = []
    with torch.no_grad():
        for l, e in enumerate(ft):
            B, C, H, W = e.shape
            S = H * W
            E = B * S
            p = positionalencoding2d(P, H, W).unsqueeze(0).repeat(B, 1, 1, 1)
            c_r = p.reshape(B, P, S).transpose(1, 2).reshape(E, P)
            e_r = e.reshape(B, C, S).transpose(1, 2).reshape(E, C)
            z, ld = heads.decoders[l](e_r, c_r)
            logp = (C * GCONST - 0.5 * torch.sum(z ** 2, 1) + ld) / C
            logps.append(logp.reshape(B, H, W))
            tensors[f"cflow/logp/{l}"] = logp.reshape(B, H, W).clone()

    def cflow_map(group):
        maps = []
        for g0 in range(0, CF["batch"], group):
            ups = []
            for lp in logps:
                t = torch.tensor(lp[g0:g0 + group].numpy(), dtype=torch.double)
                t = t - torch.max(t)
                prob = torch.exp(t)
                ups.append(F.interpolate(prob.unsqueeze(1), size=CF["size"], mode="bilinear", align_corners=True).squeeze(1).numpy())
            s = np.zeros_like(ups[0])
            for u in ups:
                s += u
            maps.append(s.max() - s)
        return np.concatenate(maps, 0)

    for label, group in [("set", CF["batch"]), ("batch1", 1)]:
        m = cflow_map(group)
        tensors[f"cflow/map/{label}"] = torch.from_numpy(m.astype(np.float32))
        tensors[f"cflow/score/{label}"] = torch.from_numpy(m.max(axis=(1, 2)).astype(np.float32))
    print(f"cflow: {len(losses)} steps, loss {losses[0]:.5f} → {losses[-1]:.5f}")
    return {**CF, "state": state, "losses": losses, "firstGrads": first_grads, "after": after, "trainInput": 1000, "testInput": 1001}


FF = {"size": 64, "batch": 2, "layers": ["layer1", "layer2", "layer3"], "flowSteps": 8, "clamp": 2.0, "lr": 1e-3, "weightDecay": 1e-5, "base": 3000}


def fastflow_case(backbone, tensors):
    torch.manual_seed(0)
    feats = features(backbone, images(1000, [FF["batch"], 3, FF["size"], FF["size"]]), FF["layers"])
    levels = [(f.shape[1], f.shape[2], f.shape[3]) for f in feats]
    heads = FastFlowHeads(levels, FF["flowSteps"], FF["clamp"])
    state = fill_heads(heads, FF["base"], lambda l, k, c: (permutation(c, k).reshape(c, c, 1, 1), permutation(c, k).T.copy().reshape(c, c, 1, 1)))
    params = OrderedDict((n, p) for n, p in heads.named_parameters())
    opt = torch.optim.Adam(list(params.values()), lr=FF["lr"], weight_decay=FF["weightDecay"])
    zs, lds = heads(feats)
    terms = [torch.mean(0.5 * torch.sum(z ** 2, dim=(1, 2, 3)) - ld) for z, ld in zip(zs, lds)]
    loss = sum(terms)
    opt.zero_grad()
    loss.backward()
    grads = OrderedDict((n, summary(q.grad)) for n, q in params.items())
    opt.step()
    after = OrderedDict((n, summary(q)) for n, q in params.items())
    with torch.no_grad():
        zt, _ = heads(features(backbone, images(1001, [FF["batch"], 3, FF["size"], FF["size"]]), FF["layers"]))
        maps = []
        for z in zt:
            prob = torch.exp(-torch.mean(z ** 2, dim=1, keepdim=True) * 0.5)
            maps.append(F.interpolate(-prob, size=FF["size"], mode="bilinear", align_corners=False))
        m = torch.mean(torch.stack(maps, dim=-1), dim=-1).squeeze(1)
    tensors["fastflow/map"] = m.clone()
    tensors["fastflow/score"] = m.reshape(m.shape[0], -1).max(1).values.clone()
    print(f"fastflow: loss {float(loss):.4f} terms {[float(t) for t in terms]}")
    return {**FF, "state": state, "loss": float(loss), "terms": [float(t) for t in terms], "grads": grads, "after": after, "trainInput": 1000, "testInput": 1001}


def rotation_case(tensors):
    s = 32
    img = (hash_u(1002, s * s) + 0.5).astype(np.float32).reshape(s, s)
    tensors["rotation/input"] = torch.from_numpy(img)
    angles = [3.7, -4.2, 45.0, 90.0, -0.3, -90.0, 180.0, 5.0, -5.0]
    for i, a in enumerate(angles):
        out = torchvision.transforms.functional.rotate(Image.fromarray(img, mode="F"), a, interpolation=torchvision.transforms.InterpolationMode.NEAREST, fill=0)
        tensors[f"rotation/{i}"] = torch.from_numpy(np.array(out, dtype=np.float32))
    return angles


def main():
    os.makedirs(OUT, exist_ok=True)
    tensors = OrderedDict()
    backbone = resnet18()
    index = OrderedDict()
    index["cflow"] = cflow_case(backbone, tensors)
    index["fastflow"] = fastflow_case(backbone, tensors)
    tensors["positional"] = positionalencoding2d(128, 8, 8)
    index["rotation"] = {"angles": rotation_case(tensors)}
    index["fill"] = "scripts/make-flow-method-fixtures.py (docstring)"
    index["versions"] = {"torch": torch.__version__, "torchvision": torchvision.__version__}
    BB.write_safetensors(os.path.join(OUT, "flow-methods.safetensors"), tensors, {"format": "pt"})
    with open(os.path.join(OUT, "flow-methods.json"), "w") as f:
        json.dump(index, f, separators=(",", ":"))
        f.write("\n")
    for name in ["flow-methods.json", "flow-methods.safetensors"]:
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


if __name__ == "__main__":
    main()
