#!/usr/bin/env python3
"""Generate the RD++ reference fixtures in test/fixtures/rdpp/.

Run with Debian's python3, python3-torch (1.13), python3-torchvision (0.14) and python3-scipy:

    /usr/bin/python3 scripts/make-rdpp-fixtures.py

RD++ (tientrandinh/Revisiting-Reverse-Distillation) is RD4AD plus a multi-projection layer,
simplex-noise pseudo-anomalies and a projection loss. The RD4AD networks, the deterministic
weight fill and the map come from scripts/make-rd-fixtures.py (which restates hq-deng/RD4AD);
the rest is restated here:

  ProjLayer        4 × [Conv 3×3 pad 1 with bias → InstanceNorm2d → LeakyReLU], c → c/2 → c/4 → c/2 → c
  Revisit_RDLoss   SSOT (geomloss SamplesLoss('sinkhorn', p=2, blur=0.05, scaling=0.95,
                   diameter=1e7, debias=True) between softmax(vec P_k) and its rows shuffled),
                   reconstruction (mean 1 − cos over channels of P̃_k, P_k), contrast
                   (CosineEmbeddingLoss(margin 0.5) of vec Ẽ_k, vec P_k with target −1);
                   (SSOT + 0.01·recon + 0.1·contrast) / 1.11
  total            Σ_k mean_b (1 − cos(vec E_k, vec D_k)) + 0.2 · L_proj
geomloss (0.2.6, tensorized backend) is not installable here; `sinkhorn()` below restates its
sinkhorn_tensorized / sinkhorn_loop / epsilon_schedule for p = 2 and uniform weights.
The simplex noise comes from scripts/opensimplex_port.py, a pure-Python port of the PyPI
package `opensimplex` (also not installable here) that reproduces the package's published
test values before anything is written.

Weights: the teacher is torchvision resnet18 filled as make-backbone-fixtures.py does; OCBE and
decoder (modules `bn`, `decoder`) are filled as make-rd-fixtures.py does (t = STUDENT_T0 + index
in their state dict); the projection (module `proj`) with t = PROJ_T0 + index in its state dict.

Writes
  noise.json    OpenSimplex: noise2 / noise3 at POINTS points u(1300, i)·40 (negative coordinates
                included) for several seeds (big ones as decimal strings); RD++'s fractal noise
                (6 octaves, persistence 0.6, period 32) on [3, 31, 31] with seed 111 and its 2-D
                form on [20, 24] with seed 7, every value (float64)
  sinkhorn.json the divergence and its gradients for small clouds x = u(1200, i)·4, y = u(1201, i)·3
                + 0.5 under several settings, and x' = u(1202, i), y' = u(1203, i)·0.5 in 200 dims,
                computed in float32 (as RD++ runs geomloss) and in float64 (suffix 64)
  rdpp.json     step: resnet18, 64 px, two batches of 3 grey images (u(1100, i)·2 and u(1101, i)·2)
                with fixed pseudo-anomaly patches cut from the fixed field of seed 111 and fixed
                shuffles; backward on both (gradients summed), then both Adams step (the official
                accumulation of 2). Per batch the loss and its terms; per parameter the summed
                gradient's summary (make-rd-fixtures.py `summary`), the values after the step at
                the same indices; a few BN running statistics.
                map: the stepped network in eval mode on u(1102, i)·2 (2 images): test.py's map
                (sum of align-corners-upsampled pixel distances, gaussian_filter σ 4) and scores
  rdpp-maps.safetensors  the two maps [2, 64, 64] (float32) and the noisy input of batch 1
"""
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "rdpp")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
backbone_fx = import_module("make-backbone-fixtures")
rd_fx = import_module("make-rd-fixtures")
osx = import_module("opensimplex_port")

PROJ_T0 = 4000
SIZE = 64
BATCH = 3
FIELD_SEED = 111
POINTS = 64
# Per batch: the patches (height, width, top, left) of its images and the SSOT shuffle.
BATCHES = [
    {"input": 1100, "patches": [[12, 20, 5, 30], [31, 10, 20, 3], [17, 17, 40, 40]], "perm": [2, 0, 1]},
    {"input": 1101, "patches": [[10, 31, 1, 32], [25, 14, 30, 10], [20, 22, 8, 8]], "perm": [1, 2, 0]},
]

torch.set_num_threads(1)


# ---- RD++'s networks ----

class ProjLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        w = [c, c // 2, c // 4, c // 2, c]
        layers = []
        for i in range(4):
            layers += [nn.Conv2d(w[i], w[i + 1], 3, 1, 1), nn.InstanceNorm2d(w[i + 1]), nn.LeakyReLU()]
        self.proj = nn.Sequential(*layers)

    def forward(self, x):
        return self.proj(x)


class MultiProjectionLayer(nn.Module):
    """The official MultiProjectionLayer(base) has c1 = 4·base (256 for wide_resnet50_2); here c1 is given."""

    def __init__(self, c1):
        super().__init__()
        self.proj_a = ProjLayer(c1)
        self.proj_b = ProjLayer(2 * c1)
        self.proj_c = ProjLayer(4 * c1)

    def forward(self, f):
        return [self.proj_a(f[0]), self.proj_b(f[1]), self.proj_c(f[2])]


def fill_proj(proj):
    new = OrderedDict()
    for t, (name, v) in enumerate(proj.state_dict().items()):
        new[name] = backbone_fx.fill_value(PROJ_T0 + t, name, list(v.shape))
    proj.load_state_dict(new)


# ---- geomloss 0.2.6, tensorized backend, p = 2, uniform weights ----

def _sqdist(x, y):
    return (x * x).sum(-1).unsqueeze(2) - 2 * torch.matmul(x, y.permute(0, 2, 1)) + (y * y).sum(-1).unsqueeze(1)


def _cost(x, y):
    return _sqdist(x, y) / 2


def _softmin(eps, C, f):
    B = C.shape[0]
    return -eps * (f.view(B, 1, -1) - C / eps).logsumexp(2).view(B, -1)


def epsilon_schedule(diameter, blur, scaling, p=2):
    return [diameter ** p] + [np.exp(e) for e in np.arange(p * np.log(diameter), p * np.log(blur), p * np.log(scaling))] + [blur ** p]


def sinkhorn(x, y, blur=0.05, scaling=0.5, diameter=None, debias=True):
    x, y = x.unsqueeze(0), y.unsqueeze(0)
    N, M, D = x.shape[1], y.shape[1], x.shape[2]
    a = torch.ones(1, N).type_as(x) / N
    b = torch.ones(1, M).type_as(y) / M
    C_xx, C_yy = (_cost(x, x.detach()), _cost(y, y.detach())) if debias else (None, None)
    C_xy, C_yx = _cost(x, y.detach()), _cost(y, x.detach())
    if diameter is None:
        xs, ys = x.view(-1, D), y.view(-1, D)
        mins = torch.stack((xs.min(dim=0)[0], ys.min(dim=0)[0])).min(dim=0)[0]
        maxs = torch.stack((xs.max(dim=0)[0], ys.max(dim=0)[0])).max(dim=0)[0]
        diameter = (maxs - mins).norm().item()
    schedule = epsilon_schedule(diameter, blur, scaling)
    la, lb = a.log(), b.log()
    with torch.no_grad():
        eps = schedule[0]
        a_x = _softmin(eps, C_xx, la) if debias else None
        b_y = _softmin(eps, C_yy, lb) if debias else None
        a_y, b_x = _softmin(eps, C_yx, la), _softmin(eps, C_xy, lb)
        for eps in schedule:
            if debias:
                at_x, bt_y = _softmin(eps, C_xx, la + a_x / eps), _softmin(eps, C_yy, lb + b_y / eps)
            at_y, bt_x = _softmin(eps, C_yx, la + b_x / eps), _softmin(eps, C_xy, lb + a_y / eps)
            if debias:
                a_x, b_y = 0.5 * (a_x + at_x), 0.5 * (b_y + bt_y)
            a_y, b_x = 0.5 * (a_y + at_y), 0.5 * (b_x + bt_x)
    if debias:
        a_x = _softmin(eps, C_xx, (la + a_x / eps).detach())
        b_y = _softmin(eps, C_yy, (lb + b_y / eps).detach())
    a_y, b_x = _softmin(eps, C_yx, (la + b_x / eps).detach()), _softmin(eps, C_xy, (lb + a_y / eps).detach())
    if debias:
        return ((a * (b_x - a_x)).sum(1) + (b * (a_y - b_y)).sum(1))[0]
    return ((a * b_x).sum(1) + (b * a_y).sum(1))[0]


RDPP_SINKHORN = {"blur": 0.05, "scaling": 0.95, "diameter": 1e7}


# ---- Revisit_RDLoss ----

def rdpp_loss(e, en, p, pn, perm):
    cos = nn.CosineSimilarity()
    contrast_fn = nn.CosineEmbeddingLoss(margin=0.5)
    b = p[0].shape[0]
    target = -torch.ones(b)
    ssot = sum(sinkhorn(torch.softmax(pk.view(b, -1), -1), torch.softmax(pk[perm].view(b, -1), -1), **RDPP_SINKHORN) for pk in p)
    recon = sum(torch.mean(1 - cos(pn[k], p[k])) for k in range(3))
    contrast = sum(contrast_fn(en[k].view(b, -1), p[k].view(b, -1), target=target) for k in range(3))
    proj = (ssot + 0.01 * recon + 0.1 * contrast) / 1.11
    return proj, ssot, recon, contrast


# ---- pseudo-anomalies ----

def fixed_field():
    f = osx.OpenSimplex(FIELD_SEED).fractal3((3, 31, 31))
    return np.array(f, dtype=np.float64)


def noisy_images(x, patches, field):
    """Grey x [B, 1, S, S] in [-1, 1] → [B, 3, S, S] with 0.4·noise (0.2 on the 0–1 scale) in each patch."""
    x3 = np.repeat(x.numpy().astype(np.float64), 3, axis=1)
    for n, (h, w, top, left) in enumerate(patches):
        x3[n, :, top:top + h, left:left + w] += 0.4 * field[:, :h, :w]
    return torch.from_numpy(x3.astype(np.float32))


# ---- cases ----

def noise_case():
    osx.check()
    pts = backbone_fx.hash_u(1300, 3 * POINTS) * 40.0
    xyz = [[float(pts[3 * i]), float(pts[3 * i + 1]), float(pts[3 * i + 2])] for i in range(POINTS)]
    seeds = [0, FIELD_SEED, -1000000000, 2 ** 40 + 5, -(2 ** 62) + 3]
    per_seed = []
    for s in seeds:
        g = osx.OpenSimplex(s)
        per_seed.append({
            "seed": str(s),
            "noise2": [g.noise2(p[0], p[1]) for p in xyz],
            "noise3": [g.noise3(p[0], p[1], p[2]) for p in xyz],
        })
    return {
        "points": xyz,
        "published": [[str(s), v] for s, v in osx.PUBLISHED],
        "seeds": per_seed,
        "fractal3": {"seed": str(FIELD_SEED), "shape": [3, 31, 31], "octaves": 6, "persistence": 0.6, "period": 32,
                     "values": [v for plane in osx.OpenSimplex(FIELD_SEED).fractal3((3, 31, 31)) for row in plane for v in row]},
        "fractal2": {"seed": "7", "shape": [20, 24], "octaves": 6, "persistence": 0.6, "period": 32,
                     "values": [v for row in osx.OpenSimplex(7).fractal2((20, 24)) for v in row]},
    }


def sinkhorn_case():
    cases = []
    x0 = torch.from_numpy((backbone_fx.hash_u(1200, 15) * 4.0).astype(np.float32).reshape(5, 3))
    y0 = torch.from_numpy((backbone_fx.hash_u(1201, 21) * 3.0 + 0.5).astype(np.float32).reshape(7, 3))
    x1 = torch.from_numpy(backbone_fx.hash_u(1202, 6 * 200).astype(np.float32).reshape(6, 200))
    y1 = torch.from_numpy((backbone_fx.hash_u(1203, 4 * 200) * 0.5).astype(np.float32).reshape(4, 200))
    settings = [
        ("small", x0, y0, dict(RDPP_SINKHORN)),
        ("small", x0, y0, {"blur": 0.5, "scaling": 0.5, "diameter": None}),
        ("small", x0, y0, {"blur": 1.0, "scaling": 0.9, "diameter": 10.0}),
        ("small", x0, y0, {"blur": 0.5, "scaling": 0.7, "diameter": None, "debias": False}),
        ("wide", x1, y1, {"blur": 0.3, "scaling": 0.8, "diameter": None}),
    ]
    for name, x, y, kw in settings:
        case = {"clouds": name, "options": kw}
        # geomloss runs in the inputs' dtype: float32 (as RD++ runs it) and float64 (the reference for accuracy).
        for suffix, dtype in (("", torch.float32), ("64", torch.float64)):
            xg, yg = x.detach().to(dtype).clone().requires_grad_(True), y.detach().to(dtype).clone().requires_grad_(True)
            s = sinkhorn(xg, yg, **kw)
            s.backward()
            case.update({"value" + suffix: s.item(), "gradX" + suffix: xg.grad.flatten().tolist(), "gradY" + suffix: yg.grad.flatten().tolist()})
        cases.append(case)
    return {"inputs": {"small": ["u(1200, i)*4 [5, 3]", "u(1201, i)*3 + 0.5 [7, 3]"], "wide": ["u(1202, i) [6, 200]", "u(1203, i)*0.5 [4, 200]"]}, "cases": cases}


def step_case():
    teacher = torchvision.models.resnet18()
    backbone_fx.fill_model("resnet18", teacher)
    teacher.eval()
    student = rd_fx.Student("resnet18")
    rd_fx.fill_student(student)
    proj = MultiProjectionLayer(64)
    fill_proj(proj)
    field = fixed_field()
    student.train()
    proj.train()
    opt_proj = torch.optim.Adam(list(proj.parameters()), lr=0.001, betas=(0.5, 0.999))
    opt_distill = torch.optim.Adam(list(student.decoder.parameters()) + list(student.bn.parameters()), lr=0.005, betas=(0.5, 0.999))
    batches = []
    tensors = OrderedDict()
    for bi, spec in enumerate(BATCHES):
        x = rd_fx.images(spec["input"], [BATCH, 1, SIZE, SIZE])
        xn = noisy_images(x, spec["patches"], field)
        if bi == 0:
            tensors["noisy/0"] = xn
        with torch.no_grad():
            e = rd_fx.teacher_maps(teacher, x)
            en = rd_fx.teacher_maps(teacher, xn)
        p = proj(e)
        pn = proj(en)
        l_proj, ssot, recon, contrast = rdpp_loss(e, en, p, pn, spec["perm"])
        d = student.decoder(student.bn(p))
        distill, _ = rd_fx.loss_function(e, d)
        loss = distill + 0.2 * l_proj
        loss.backward()
        batches.append({"input": f"u({spec['input']}, i)*2", "patches": spec["patches"], "perm": spec["perm"],
                        "loss": loss.item(), "distill": distill.item(), "proj": l_proj.item(), "ssot": ssot.item(),
                        "recon": recon.item(), "contrast": contrast.item()})
    grads = OrderedDict()
    for prefix, mod in [("bn.", student.bn), ("decoder.", student.decoder), ("proj.", proj)]:
        for n, q in mod.named_parameters():
            grads[prefix + n] = None if q.grad is None else rd_fx.summary(q.grad)
    opt_proj.step()
    opt_distill.step()
    after = OrderedDict()
    for prefix, mod in [("bn.", student.bn), ("decoder.", student.decoder), ("proj.", proj)]:
        for n, q in mod.named_parameters():
            idx = rd_fx.samples(q.numel())
            after[prefix + n] = {"idx": idx, "values": [q.detach().flatten()[i].item() for i in idx]}
    running = OrderedDict()
    for n in ["bn.bn1", "bn.bn_layer.0.bn2", "decoder.layer1.0.upsample.1", "decoder.layer3.1.bn2"]:
        m = dict(student.named_modules())[n]
        running[n] = {"running_mean": m.running_mean[:8].tolist(), "running_var": m.running_var[:8].tolist(), "num_batches_tracked": int(m.num_batches_tracked)}

    student.eval()
    proj.eval()
    x2 = rd_fx.images(1102, [2, 1, SIZE, SIZE])
    with torch.no_grad():
        e2 = rd_fx.teacher_maps(teacher, x2)
        d2 = student.decoder(student.bn(proj(e2)))
        maps = np.stack([rd_fx.cal_anomaly_map([t[i:i + 1] for t in e2], [s[i:i + 1] for s in d2], SIZE) for i in range(2)])
    tensors["maps/official"] = torch.from_numpy(maps.astype(np.float32))
    return {
        "arch": "resnet18", "size": SIZE, "batch": BATCH, "studentT0": rd_fx.STUDENT_T0, "projT0": PROJ_T0, "fieldSeed": str(FIELD_SEED),
        "adam": {"proj": {"lr": 0.001}, "distill": {"lr": 0.005}, "betas": [0.5, 0.999], "eps": 1e-8},
        "state": {"student": [[n, list(v.shape)] for n, v in student.state_dict().items()], "proj": [[n, list(v.shape)] for n, v in proj.state_dict().items()]},
        "params": {"proj": sum(q.numel() for q in proj.parameters()), "projWide": sum(q.numel() for q in MultiProjectionLayer(256).parameters())},
        "batches": batches, "grads": grads, "after": after, "running": running,
        "map": {"input": "u(1102, i)*2", "shape": [2, 1, SIZE, SIZE], "tensor": "maps/official", "scores": maps.reshape(2, -1).max(1).tolist()},
    }, tensors


def write_json(name, obj):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    os.makedirs(OUT, exist_ok=True)
    write_json("noise.json", noise_case())
    write_json("sinkhorn.json", sinkhorn_case())
    step, tensors = step_case()
    st = os.path.join(OUT, "rdpp-maps.safetensors")
    import_module("make-torch-fixtures").save_safetensors(st, tensors)
    print(f"wrote {st} ({os.path.getsize(st)} bytes)")
    write_json("rdpp.json", step)


if __name__ == "__main__":
    main()
