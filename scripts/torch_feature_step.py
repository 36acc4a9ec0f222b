#!/usr/bin/env python3
"""PyTorch anchor for bench/feature-methods.ts: one training step of RD4AD and of CFlow-AD on
a torchvision wide_resnet50_2 at 256 px, written directly in PyTorch (no FrEIA, no repo copies).

rd4ad (hq-deng/RD4AD main.py train): the teacher (WRN50 conv1..layer3, eval, no_grad: it is
  frozen and not in the optimiser) gives E1, E2, E3 = 256@64, 512@32, 1024@16; the OCBE
  (resnet.py BN_layer(AttnBottleneck, 3, width_per_group=128): multi-scale fusion to 3072@16,
  three bottlenecks of width 1024 to 2048@8) and the reverse decoder (de_resnet.py
  de_wide_resnet50_2: 3/4/6 bottlenecks whose first block upsamples with a 2×2 stride-2
  ConvTranspose) in train mode; loss = Σ_k mean_b (1 − cos(vec E_k, vec D_k)) (the global
  cosine on flattened maps, main.py loss_fucntion); Adam(lr 0.005, betas (0.5, 0.999)) over
  OCBE + decoder (the unused conv4/bn4 never take a gradient).

cflow (gudovskiy/cflow-ad train.py train_meta_epoch): the encoder (WRN50 conv1..layer4, eval,
  no_grad) gives 512@32, 1024@16, 2048@8; per level a SequenceINN of 8 conditional
  AllInOneBlocks (FrEIA as of 2022-01..2023-03: soft clamp 1.9·tanh(s), global affine
  0.1·softplus_0.5(γ) with γ so that the scale is 1 at init, a fixed random rotation
  from SO(C) as the soft permutation, subnet Linear(C1+128 → 2(C1+128)) → ReLU →
  Linear(→ 2·C2)); a 2-D positional encoding P = 128 as the condition; the B·H·W fibers of a
  level in a fresh random order, E // 256 fiber batches of 256 (the remainder dropped), each
  fiber batch one Adam step (lr 2e-4, one Adam over the three flows) of
  −logsigmoid(log p(z) / C). One "step" here = one image batch = every fiber step of the
  three levels.
  --zero-grad zeros (default) is what torch 1.13's optimizer.zero_grad() does and so what the
  official code runs: gradients become zero tensors, not None, so once a level has taken a
  step Adam keeps updating its parameters (moments decaying, weights still moving) during the
  other levels' fiber steps too. --zero-grad none sets them to None (torch ≥ 2.0's default):
  Adam touches only the level being trained. The bench gives both sides the same setting
  (the cflow method's option zeroGrad).

Weights are random (torchvision's initialisation): the time does not depend on them.

Run with Debian's python3 (python3-torch 1.13, python3-torchvision 0.14) and
OMP_NUM_THREADS / OPENBLAS_NUM_THREADS set to the thread count (Debian's torch runs some GEMMs
on OpenBLAS, whose pool ignores torch.set_num_threads):

  torch_feature_step.py --method rd4ad --threads 1 --batch 16 --steps 2
  torch_feature_step.py --mode serve --threads 1

once: prints one JSON line, {"method", "threads", "batch", "size", "best_ms", "median_ms",
  "fiber_steps" (cflow), "torch"}: `steps` timed steps after one warm-up.
serve: a long-running child for the bench, which alternates its own steps with torch's so that
  load from other processes falls on both alike. It reads one JSON request per line on stdin,
  {"method": "rd4ad"|"cflow", "batch": n, "size": s, "steps": k, "zero_grad": "zeros"|"none"},
  builds that model the first time it is asked (and runs one warm-up step), runs k steps and
  answers {"ms": best of the k, ...} on stdout.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------- RD4AD


def conv3x3(i, o, stride=1):
    return nn.Conv2d(i, o, 3, stride, 1, bias=False)


def conv1x1(i, o, stride=1):
    return nn.Conv2d(i, o, 1, stride, bias=False)


def deconv2x2(i, o, stride=1):
    return nn.ConvTranspose2d(i, o, 2, stride, bias=False)


class Bottleneck(nn.Module):
    """torchvision's Bottleneck (stride on the 3×3); `up` = de_resnet's, with a 2×2 ConvTranspose instead."""

    expansion = 4

    def __init__(self, inplanes, planes, stride=1, shortcut=None, base_width=64, up=False):
        super().__init__()
        width = int(planes * (base_width / 64.0))
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = deconv2x2(width, width, stride) if up and stride == 2 else conv3x3(width, width, stride)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv1x1(width, planes * 4)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = shortcut

    def forward(self, x):
        idt = x if self.shortcut is None else self.shortcut(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + idt)


def kaiming(module):
    for m in module.modules():
        if isinstance(m, nn.Conv2d):  # not ConvTranspose2d: RD4AD's init loop leaves it at PyTorch's default
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)


class OCBE(nn.Module):
    """RD4AD resnet.py BN_layer(AttnBottleneck, 3, width_per_group=128) for WRN50."""

    def __init__(self, base_width=128, blocks=3):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(256, 512, 2), nn.BatchNorm2d(512)
        self.conv2, self.bn2 = conv3x3(512, 1024, 2), nn.BatchNorm2d(1024)
        self.conv3, self.bn3 = conv3x3(512, 1024, 2), nn.BatchNorm2d(1024)
        self.conv4, self.bn4 = conv1x1(4096, 2048), nn.BatchNorm2d(2048)  # unused, as in the original
        self.relu = nn.ReLU(inplace=True)
        down = nn.Sequential(conv1x1(3072, 2048, 2), nn.BatchNorm2d(2048))
        layers = [Bottleneck(3072, 512, 2, down, base_width)]
        layers += [Bottleneck(2048, 512, 1, None, base_width) for _ in range(1, blocks)]
        self.bn_layer = nn.Sequential(*layers)
        kaiming(self)

    def forward(self, e):
        l1 = self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(e[0]))))))
        l2 = self.relu(self.bn3(self.conv3(e[1])))
        return self.bn_layer(torch.cat([l1, l2, e[2]], 1)).contiguous()


class ReverseDecoder(nn.Module):
    """RD4AD de_resnet.py de_wide_resnet50_2: 2048@8 → [256@64, 512@32, 1024@16]."""

    def __init__(self, base_width=128, layers=(3, 4, 6)):
        super().__init__()
        self.inplanes = 2048
        self.layer1 = self._make(256, layers[0], base_width)
        self.layer2 = self._make(128, layers[1], base_width)
        self.layer3 = self._make(64, layers[2], base_width)
        kaiming(self)

    def _make(self, planes, blocks, base_width):
        up = nn.Sequential(deconv2x2(self.inplanes, planes * 4, 2), nn.BatchNorm2d(planes * 4))
        out = [Bottleneck(self.inplanes, planes, 2, up, base_width, up=True)]
        self.inplanes = planes * 4
        out += [Bottleneck(self.inplanes, planes, 1, None, base_width, up=True) for _ in range(1, blocks)]
        return nn.Sequential(*out)

    def forward(self, z):
        a = self.layer1(z)
        b = self.layer2(a)
        c = self.layer3(b)
        return [c, b, a]


def wrn50_trunk():
    from torchvision.models import wide_resnet50_2

    m = wide_resnet50_2()
    m.eval()
    for p in m.parameters():
        p.requires_grad_(False)
    return m


def stem(m, x):
    return m.maxpool(m.relu(m.bn1(m.conv1(x))))


class RD4ADStep:
    def __init__(self, batch, size):
        self.teacher = wrn50_trunk()
        self.ocbe = OCBE()
        self.decoder = ReverseDecoder()
        params = list(self.ocbe.parameters()) + list(self.decoder.parameters())
        self.opt = torch.optim.Adam(params, lr=0.005, betas=(0.5, 0.999))
        self.x = torch.randn(batch, 3, size, size)
        self.fiber_steps = None

    def __call__(self):
        t = self.teacher
        with torch.no_grad():
            e1 = t.layer1(stem(t, self.x))
            e2 = t.layer2(e1)
            e3 = t.layer3(e2)
        self.ocbe.train()
        self.decoder.train()
        d = self.decoder(self.ocbe([e1, e2, e3]))
        loss = 0
        for e, r in zip([e1, e2, e3], d):
            loss = loss + torch.mean(1 - F.cosine_similarity(e.view(e.shape[0], -1), r.view(r.shape[0], -1)))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return float(loss)


# ---------------------------------------------------------------- CFlow-AD

LOG_SQRT_2PI = -0.9189385332046727  # −ln √(2π), cflow-ad utils.py _GCONST_


def positional_encoding_2d(P, H, W):
    """cflow-ad utils.py positionalencoding2d: sin/cos of the column index in channels 0..P/2, of the row index above."""
    out = torch.zeros(P, H, W)
    half = P // 2
    div = torch.exp(torch.arange(0.0, half, 2) * -(math.log(1e4) / half))
    pw = torch.arange(0.0, W).unsqueeze(1)
    ph = torch.arange(0.0, H).unsqueeze(1)
    out[0:half:2] = torch.sin(pw * div).transpose(0, 1).unsqueeze(1).repeat(1, H, 1)
    out[1:half:2] = torch.cos(pw * div).transpose(0, 1).unsqueeze(1).repeat(1, H, 1)
    out[half::2] = torch.sin(ph * div).transpose(0, 1).unsqueeze(2).repeat(1, 1, W)
    out[half + 1 :: 2] = torch.cos(ph * div).transpose(0, 1).unsqueeze(2).repeat(1, 1, W)
    return out


def random_rotation(n, gen):
    """A random matrix of SO(n) (QR of a Gaussian matrix, signs fixed): the soft permutation."""
    q, r = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
    if torch.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q.float()


class AllInOneBlock(nn.Module):
    """FrEIA AllInOneBlock on vectors [B, C] with a condition [B, P], as CFlow builds it
    (affine_clamping 1.9, global_affine_type SOFTPLUS, permute_soft True, no GIN, no Householder)."""

    def __init__(self, C, P, gen, clamp=1.9):
        super().__init__()
        self.c1, self.c2 = C - C // 2, C // 2
        self.clamp = clamp
        d = self.c1 + P
        self.subnet = nn.Sequential(nn.Linear(d, 2 * d), nn.ReLU(), nn.Linear(2 * d, 2 * self.c2))
        self.global_scale = nn.Parameter(torch.full((1, C), 2.0 * math.log(math.exp(5.0) - 1)))
        self.global_offset = nn.Parameter(torch.zeros(1, C))
        w = random_rotation(C, gen)
        self.w_perm = nn.Parameter(w, requires_grad=False)
        self.w_perm_inv = nn.Parameter(w.t().contiguous(), requires_grad=False)

    def forward(self, x, c):
        x1, x2 = torch.split(x, [self.c1, self.c2], dim=1)
        a = self.subnet(torch.cat([x1, c], 1)) * 0.1
        j = self.clamp * torch.tanh(a[:, : self.c2])
        y2 = x2 * torch.exp(j) + a[:, self.c2 :]
        scale = 0.1 * F.softplus(self.global_scale, beta=0.5)
        out = F.linear(torch.cat([x1, y2], 1) * scale + self.global_offset, self.w_perm)
        return out, torch.sum(j, dim=1) + torch.sum(torch.log(scale))


class SequenceINN(nn.Module):
    def __init__(self, C, P, blocks, gen):
        super().__init__()
        self.module_list = nn.ModuleList([AllInOneBlock(C, P, gen) for _ in range(blocks)])

    def forward(self, x, c):
        logdet = 0
        for b in self.module_list:
            x, j = b(x, c)
            logdet = logdet + j
        return x, logdet


class CFlowStep:
    LEVELS = ("layer2", "layer3", "layer4")

    def __init__(self, batch, size, fiber=256, P=128, blocks=8, zero_grad="zeros"):
        self.encoder = wrn50_trunk()
        gen = torch.Generator().manual_seed(0)
        chans = {"layer2": 512, "layer3": 1024, "layer4": 2048}
        self.flows = [SequenceINN(chans[l], P, blocks, gen) for l in self.LEVELS]
        params = [p for f in self.flows for p in f.parameters() if p.requires_grad]
        self.opt = torch.optim.Adam(params, lr=2e-4)
        self.x = torch.randn(batch, 3, size, size)
        self.P, self.fiber = P, fiber
        self.set_to_none = zero_grad == "none"
        s = size // 8
        self.fiber_steps = sum((batch * (s >> k) ** 2) // fiber for k in range(3))
        self.gen = torch.Generator().manual_seed(1)

    def __call__(self):
        t = self.encoder
        with torch.no_grad():
            f2 = t.layer2(t.layer1(stem(t, self.x)))
            f3 = t.layer3(f2)
            f4 = t.layer4(f3)
        total = 0.0
        for flow, e in zip(self.flows, [f2, f3, f4]):
            flow.train()
            B, C, H, W = e.shape
            E = B * H * W
            p = positional_encoding_2d(self.P, H, W).unsqueeze(0).repeat(B, 1, 1, 1)
            c_r = p.reshape(B, self.P, H * W).transpose(1, 2).reshape(E, self.P)
            e_r = e.reshape(B, C, H * W).transpose(1, 2).reshape(E, C)
            perm = torch.randperm(E, generator=self.gen)
            for f in range(E // self.fiber):
                idx = perm[f * self.fiber : (f + 1) * self.fiber]
                z, logdet = flow(e_r[idx], c_r[idx])
                logp = (C * LOG_SQRT_2PI - 0.5 * torch.sum(z**2, 1) + logdet) / C
                loss = -F.logsigmoid(logp).mean()
                self.opt.zero_grad(set_to_none=self.set_to_none)
                loss.backward()
                self.opt.step()
                total += float(loss)
        return total


# ---------------------------------------------------------------- driver


def build(method, batch, size, zero_grad):
    if method == "rd4ad":
        return RD4ADStep(batch, size)
    if method == "cflow":
        return CFlowStep(batch, size, zero_grad=zero_grad)
    raise SystemExit(f"unknown method {method}")


def timed(fn, steps):
    ms = []
    for _ in range(steps):
        t = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t) * 1e3)
    return ms


def serve(threads):
    torch.set_num_threads(threads)
    cache = {}
    for line in sys.stdin:
        if not line.strip():
            break
        req = json.loads(line)
        key = (req["method"], req.get("batch", 8), req.get("size", 256), req.get("zero_grad", "zeros"))
        if key not in cache:
            cache.clear()  # one model at a time: WRN50 + OCBE + decoder or + three flows is ~1 GB
            cache[key] = build(*key)
            cache[key]()  # warm-up
        ms = timed(cache[key], int(req.get("steps", 1)))
        print(json.dumps({"ms": round(min(ms), 2), "all_ms": [round(m, 1) for m in ms],
                          "fiber_steps": cache[key].fiber_steps, "torch": torch.__version__}), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["once", "serve"], default="once")
    ap.add_argument("--method", choices=["rd4ad", "cflow"], default="rd4ad")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--zero-grad", choices=["zeros", "none"], default="zeros")
    a = ap.parse_args()
    torch.manual_seed(0)
    if a.mode == "serve":
        serve(a.threads)
        return
    torch.set_num_threads(a.threads)
    step = build(a.method, a.batch, a.size, a.zero_grad)
    t = time.perf_counter()
    loss0 = step()
    warm = (time.perf_counter() - t) * 1e3
    ms = timed(step, a.steps)
    print(json.dumps({"method": a.method, "threads": a.threads, "batch": a.batch, "size": a.size,
                      "warmup_ms": round(warm, 1), "best_ms": round(min(ms), 2),
                      "median_ms": round(sorted(ms)[len(ms) // 2], 2), "loss0": loss0,
                      "fiber_steps": step.fiber_steps, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
