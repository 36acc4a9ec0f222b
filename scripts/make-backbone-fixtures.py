#!/usr/bin/env python3
"""Generate the ImageNet-backbone reference fixtures in test/fixtures/backbones/.

Run with Debian's python3, python3-torch (1.13) and python3-torchvision (0.14):

    /usr/bin/python3 scripts/make-backbone-fixtures.py

torchvision's own resnet18, wide_resnet50_2 and vgg19 are built, and every parameter and
buffer of the part the library implements (all but `fc` / `classifier`) is filled with a
deterministic formula that test/models/backbones/fill.ts reproduces bit for bit, so no
weights need to be committed (the real files are 44 MB to 548 MB):

    h(t, i)  = fmix32((t·0x9E3779B1 + i·0x85EBCA77 + 0x165667B1) mod 2³²)   (murmur3's finaliser)
    u(t, i)  = (h >> 8) / 2²⁴ − 0.5                                         exact, in [−0.5, 0.5)

t is the tensor's index in the state dict (torchvision's order, classifier excluded), i the
flat element index. Per tensor (computed in float64, rounded once to float32):

    conv / linear weight   u · √(24 / fan_in)        (variance 2 / fan_in: He)
    batch-norm weight      0.5 + 0.5 · u
    bias (BN or conv)      0.2 · u
    running_mean           0.2 · u
    running_var            1 + 0.5 · u               (in [0.75, 1.25): positive)
    num_batches_tracked    0

The input x of each backbone is u(1000, i) · 4 (shape below). The maps are run in eval mode,
without gradients.

Writes
  backbones.json         per architecture: torchvision's full state-dict names and shapes
                         (classifier included), the input shape, and per named map its shape,
                         the subsampling step, sum and sum of |v| (float64), and the float32
                         reordering bound parameters (convs on the way, longest reduction,
                         largest magnitude met)
  maps.safetensors       per map `<arch>/<layer>`: every `step`-th element (flat index 0,
                         step, 2·step, ...; at most CAP values) and `<arch>/<layer>/chmean`:
                         the mean of each channel
  perceptual.safetensors AE-Perceptual's relative perceptual loss (methods.md §5.4) with the
                         same VGG19 weights: see perceptual_case() (E at every E_STEP-th
                         element; loss, maps, scores and the gradient wrt x̂ in full)
"""
import json
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "backbones")
CAP = 384
E_STEP = 16  # the perceptual error E is stored at every E_STEP-th element
M32 = 0xFFFFFFFF

torch.set_num_threads(1)


def write_safetensors(path, tensors, metadata=None):
    """make-torch-fixtures.py's safetensors writer (float32 and int64 tensors here)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from importlib import import_module
    import_module("make-torch-fixtures").save_safetensors(path, tensors, metadata)


# ---- the deterministic fill (mirrored by test/models/backbones/fill.ts) ----

def hash_u(t, n):
    """u(t, i) for i in 0..n-1 as float64: exact multiples of 2^-24 in [-0.5, 0.5)."""
    i = np.arange(n, dtype=np.uint64)
    x = (np.uint64(t) * np.uint64(0x9E3779B1) + i * np.uint64(0x85EBCA77) + np.uint64(0x165667B1)) & np.uint64(M32)
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x85EBCA6B)) & np.uint64(M32)
    x ^= x >> np.uint64(13)
    x = (x * np.uint64(0xC2B2AE35)) & np.uint64(M32)
    x ^= x >> np.uint64(16)
    return (x >> np.uint64(8)).astype(np.float64) / 16777216.0 - 0.5


def fill_value(t, name, shape):
    n = int(np.prod(shape)) if len(shape) else 1
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "num_batches_tracked":
        return torch.zeros(shape, dtype=torch.int64)
    u = hash_u(t, n)
    if len(shape) >= 2:
        fan_in = int(np.prod(shape[1:]))
        v = u * math.sqrt(24.0 / fan_in)
    elif leaf == "running_var":
        v = 1.0 + 0.5 * u
    elif leaf == "running_mean":
        v = 0.2 * u
    elif leaf == "weight":
        v = 0.5 + 0.5 * u
    elif leaf == "bias":
        v = 0.2 * u
    else:
        raise ValueError(f"no fill rule for {name}")
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def head_prefix(arch):
    return "classifier." if arch == "vgg19" else "fc."


def fill_model(arch, model):
    sd = model.state_dict()
    t = 0
    new = OrderedDict()
    for name, v in sd.items():
        if name.startswith(head_prefix(arch)):
            new[name] = torch.zeros_like(v)
            continue
        new[name] = fill_value(t, name, list(v.shape))
        t += 1
    model.load_state_dict(new)
    return [[name, list(v.shape)] for name, v in sd.items()]


def make_input(shape):
    return torch.from_numpy((hash_u(1000, int(np.prod(shape))) * 4.0).astype(np.float32).reshape(shape))


# ---- named maps ----

class Tracker:
    """Counts convs run so far, their longest reduction, and the largest |value| they produced."""

    def __init__(self, model):
        self.depth = 0
        self.reduction = 1
        self.scale = 1.0
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.register_forward_hook(self.hook)

    def hook(self, m, inp, out):
        self.depth += 1
        self.reduction = max(self.reduction, m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1])
        self.scale = max(self.scale, float(out.abs().max()))

    def snapshot(self, t):
        self.scale = max(self.scale, float(t.abs().max()))
        return {"depth": self.depth, "reduction": self.reduction, "scale": self.scale}


def resnet_maps(model, x, tr):
    out = OrderedDict()
    # clone: torchvision's ReLUs work in place and would overwrite the bn1 map
    h = model.conv1(x)
    out["conv1"] = (h.clone(), tr.snapshot(h))
    h = model.bn1(h)
    out["bn1"] = (h.clone(), tr.snapshot(h))
    h = model.relu(h)
    out["relu"] = (h, tr.snapshot(h))
    h = model.maxpool(h)
    out["maxpool"] = (h, tr.snapshot(h))
    for name in ["layer1", "layer2", "layer3", "layer4"]:
        h = getattr(model, name)(h)
        out[name] = (h, tr.snapshot(h))
    h = torch.flatten(model.avgpool(h), 1)
    out["avgpool"] = (h, tr.snapshot(h))
    return out


def vgg_names():
    names = {}
    index, block, conv = 0, 1, 1
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]:
        if v == "M":
            names[index] = f"pool{block}"
            index += 1
            block += 1
            conv = 1
        else:
            names[index + 1] = f"relu{block}_{conv}"
            index += 2
            conv += 1
    return names


def vgg_maps(model, x, tr, stop=None):
    out = OrderedDict()
    names = vgg_names()
    h = x
    for i, layer in enumerate(model.features):
        h = layer(h)
        if i in names:
            out[names[i]] = (h.clone(), tr.snapshot(h))
            if names[i] == stop:
                break
    return out


ARCHS = [
    ("resnet18", lambda: torchvision.models.resnet18(), [2, 3, 40, 40]),
    ("wide_resnet50_2", lambda: torchvision.models.wide_resnet50_2(), [2, 3, 32, 32]),
    ("vgg19", lambda: torchvision.models.vgg19(), [2, 3, 32, 32]),
]


def backbone_cases(index, tensors):
    for arch, ctor, shape in ARCHS:
        torch.manual_seed(0)
        model = ctor().eval()
        state = fill_model(arch, model)
        tr = Tracker(model)
        x = make_input(shape)
        with torch.no_grad():
            maps = resnet_maps(model, x, tr) if arch != "vgg19" else vgg_maps(model, x, tr)
        entry = {"state": state, "input": shape, "inputTensor": 1000, "inputScale": 4, "maps": OrderedDict()}
        for name, (m, bound) in maps.items():
            flat = m.reshape(-1)
            n = flat.numel()
            step = max(1, math.ceil(n / CAP))
            tensors[f"{arch}/{name}"] = flat[::step].clone()
            ch = m.transpose(0, 1).reshape(m.shape[1], -1).double().mean(1).float()
            tensors[f"{arch}/{name}/chmean"] = ch
            d = flat.double()
            entry["maps"][name] = {"shape": list(m.shape), "step": step, "sum": float(d.sum()), "absSum": float(d.abs().sum()), **bound}
            print(f"{arch:16s} {name:8s} {str(list(m.shape)):20s} mean|v| {float(d.abs().mean()):.4f} max {float(d.abs().max()):.3f} depth {bound['depth']}")
        index[arch] = entry
        del model


# ---- AE-Perceptual's relative perceptual L1 (methods.md §5.4) ----

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def perceptual_features(vgg, v):
    """relu4_2 of images in [-1, 1] (1 or 3 channels), as the reference prepares them."""
    if v.shape[1] == 1:
        v = v.expand(-1, 3, -1, -1)
    v = v * 0.5 + 0.5
    v = (v - IMAGENET_MEAN) / IMAGENET_STD
    return vgg.features[:23](v)


def relative_perceptual(vgg, x, xhat, mu, var, divide_by_var):
    d = var if divide_by_var else torch.sqrt(var)
    fx = (perceptual_features(vgg, x) - mu) / d
    fr = (perceptual_features(vgg, xhat) - mu) / d
    a = fx.abs().mean(dim=(1, 2, 3), keepdim=True).detach()
    e = (fx - fr).abs() / a
    return e


def perceptual_case(tensors, index):
    """x, x̂ fixed grey [3, 1, 32, 32] images in [-1, 1]; relu4_2 statistics μ, v from a formula
    (one case dividing by the variance, one by its square root), and the statistics the
    library computes from training images when the reference's file is absent: per-channel
    mean and population variance of relu4_2 over x (all images and positions)."""
    torch.manual_seed(0)
    vgg = torchvision.models.vgg19().eval()
    fill_model("vgg19", vgg)
    for p in vgg.parameters():
        p.requires_grad_(False)
    shape = [3, 1, 32, 32]
    n = int(np.prod(shape))
    x = torch.from_numpy(np.clip(hash_u(2000, n) * 2.4, -1, 1).astype(np.float32).reshape(shape))
    xhat0 = torch.from_numpy(np.clip(hash_u(2001, n) * 0.6, -0.3, 0.3).astype(np.float32).reshape(shape)) + x * 0.7
    mu = torch.from_numpy((0.32 + 2.0 * (hash_u(2002, 512) + 0.5)).astype(np.float32).reshape(1, 512, 1, 1))
    var = torch.from_numpy((1.57 + 4.0 * (hash_u(2003, 512) + 0.5)).astype(np.float32).reshape(1, 512, 1, 1))
    tensors["x"] = x
    tensors["xhat"] = xhat0
    tensors["mu"] = mu.reshape(512)
    tensors["var"] = var.reshape(512)
    cases = {}
    for label, by_var in [("var", True), ("std", False)]:
        xhat = xhat0.clone().requires_grad_(True)
        e = relative_perceptual(vgg, x, xhat, mu, var, by_var)
        loss = e.mean()
        loss.backward()
        m = F.interpolate(e.detach(), scale_factor=8, mode="bilinear", align_corners=False).mean(1)
        score = m.mean(dim=(1, 2))
        tensors[f"{label}/loss"] = loss.detach().reshape(1)
        tensors[f"{label}/e"] = e.detach().reshape(-1)[::E_STEP].clone()
        tensors[f"{label}/map"] = m
        tensors[f"{label}/score"] = score
        tensors[f"{label}/grad"] = xhat.grad.detach().clone()
        cases[label] = {"divideByVar": by_var, "loss": float(loss)}
        print(f"perceptual {label}: loss {float(loss):.6f} scores {score.tolist()}")
    with torch.no_grad():
        f = perceptual_features(vgg, x)
        flat = f.transpose(0, 1).reshape(512, -1).double()
        tensors["stats/mean"] = flat.mean(1).float()
        tensors["stats/var"] = flat.var(1, unbiased=False).float()
    index["perceptual"] = {"shape": shape, "cases": cases, "tensors": list(tensors.keys())}


def main():
    os.makedirs(OUT, exist_ok=True)
    index = OrderedDict()
    tensors = OrderedDict()
    backbone_cases(index, tensors)
    write_safetensors(os.path.join(OUT, "maps.safetensors"), tensors, {"format": "pt"})
    ptensors = OrderedDict()
    perceptual_case(ptensors, index)
    write_safetensors(os.path.join(OUT, "perceptual.safetensors"), ptensors, {"format": "pt"})
    index["fill"] = "scripts/make-backbone-fixtures.py (h, u and the per-tensor rules in its docstring)"
    index["versions"] = {"torch": torch.__version__, "torchvision": torchvision.__version__}
    with open(os.path.join(OUT, "backbones.json"), "w") as f:
        json.dump(index, f, separators=(",", ":"))
        f.write("\n")
    for name in ["backbones.json", "maps.safetensors", "perceptual.safetensors"]:
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes")


if __name__ == "__main__":
    main()
