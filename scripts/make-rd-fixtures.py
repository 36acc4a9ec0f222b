#!/usr/bin/env python3
"""Generate the reverse-distillation (RD4AD) reference fixtures in test/fixtures/rd/.

Run with Debian's python3, python3-torch (1.13), python3-torchvision (0.14) and python3-scipy:

    /usr/bin/python3 scripts/make-rd-fixtures.py

The networks are those of hq-deng/RD4AD (`resnet.py` BN_layer, `de_resnet.py`), restated here
in a few lines: OCBE fuses the teacher's layer1..layer3 maps with 3×3/2 convs and runs
torchvision blocks (BasicBlock for resnet18, Bottleneck for wide_resnet50_2) on the
concatenation; the decoder is a ResNet run backwards whose first block per stage upsamples
with 2×2/2 transposed convolutions. Every value is filled with the deterministic formula of
scripts/make-backbone-fixtures.py (mirrored by test/models/backbones/fill.ts), so no weights
are stored: the teacher (torchvision resnet18 / wide_resnet50_2 without fc) with tensor
indices t = 0, 1, ... in torchvision's order; the student (module `bn` = OCBE, then module
`decoder`, the official checkpoint's two entries) with t = STUDENT_T0 + its state-dict index.

Writes rd.json (and the maps in rd-maps.safetensors) with
  step:    resnet18, 64 px, batch 2, images x = u(1000, i)·2 (grey, in [-1, 1)), ImageNet
           normalisation with the grey channel repeated. One training step as main.py trains:
           teacher eval, student train mode, loss = Σ_k mean_b (1 − cos(vec E_k, vec D_k)),
           Adam(lr 0.005, betas (0.5, 0.999)). Stored: the loss and its three terms; per
           student parameter the gradient's sum, sum of squares, sum of |g| (float64) and its
           values at flat indices SAMPLES(n) (null for conv4/bn4, which take none); the
           parameter values after the step at the same indices; the running mean/var of a few
           BN layers after the step.
  maps:    the stepped student in eval mode on x2 = u(1001, i)·2: test.py cal_anomaly_map per
           image (pixel 1 − cos, bilinear align_corners=True to 64, summed into a float64
           array, scipy gaussian_filter σ 4) and anomalib's variant (product of the levels,
           GaussianBlur2d with torch reflect padding); maps [2, 64, 64] and max scores.
  wide:    wide_resnet50_2 OCBE (official width 1024) + decoder, eval mode, on teacher-shaped
           inputs u(1002 + k, i)·2 at 64 px (E1 256@16, E2 512@8, E3 1024@4): output shapes, and
           per output the sum, sum of |v| and values at SAMPLES(n).
"""
import json
import math
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
from torchvision.models.resnet import BasicBlock, Bottleneck

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "rd")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
backbone_fx = import_module("make-backbone-fixtures")
patchcore_fx = import_module("make-patchcore-fixtures")

STUDENT_T0 = 3000
SIZE = 64
BATCH = 2

torch.set_num_threads(1)


def samples(n):
    """The flat indices stored for a tensor of n elements."""
    return sorted(set([0, n // 7, n // 3, n // 2, (2 * n) // 3, n - 1]))


# ---- the official networks ----

def conv3x3(i, o, stride=1):
    return nn.Conv2d(i, o, 3, stride=stride, padding=1, bias=False)


def conv1x1(i, o, stride=1):
    return nn.Conv2d(i, o, 1, stride=stride, bias=False)


def deconv2x2(i, o):
    return nn.ConvTranspose2d(i, o, 2, stride=2, bias=False)


class OCBE(nn.Module):
    """BN_layer: bn_layer is built before conv1..conv4 (the state-dict order)."""

    def __init__(self, block, blocks, width_per_group=64):
        super().__init__()
        e = block.expansion
        inplanes = 3 * 256 * e
        ds = nn.Sequential(conv1x1(inplanes, 512 * e, 2), nn.BatchNorm2d(512 * e))
        layers = [block(inplanes, 512, 2, ds, 1, width_per_group)]
        layers += [block(512 * e, 512, 1, None, 1, width_per_group) for _ in range(1, blocks)]
        self.bn_layer = nn.Sequential(*layers)
        self.conv1 = conv3x3(64 * e, 128 * e, 2)
        self.bn1 = nn.BatchNorm2d(128 * e)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(128 * e, 256 * e, 2)
        self.bn2 = nn.BatchNorm2d(256 * e)
        self.conv3 = conv3x3(128 * e, 256 * e, 2)
        self.bn3 = nn.BatchNorm2d(256 * e)
        self.conv4 = conv1x1(1024 * e, 512 * e)
        self.bn4 = nn.BatchNorm2d(512 * e)

    def forward(self, x):
        l1 = self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x[0]))))))
        l2 = self.relu(self.bn3(self.conv3(x[1])))
        return self.bn_layer(torch.cat([l1, l2, x[2]], 1)).contiguous()


class DeBasic(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, upsample=None, width_per_group=64):
        super().__init__()
        self.conv1 = deconv2x2(inplanes, planes) if stride == 2 else conv3x3(inplanes, planes)
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


class DeBottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, upsample=None, width_per_group=64):
        super().__init__()
        w = int(planes * (width_per_group / 64.0))
        self.conv1 = conv1x1(inplanes, w)
        self.bn1 = nn.BatchNorm2d(w)
        self.conv2 = deconv2x2(w, w) if stride == 2 else conv3x3(w, w)
        self.bn2 = nn.BatchNorm2d(w)
        self.conv3 = conv1x1(w, planes * 4)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.upsample = upsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = self.upsample(x) if self.upsample is not None else x
        return self.relu(out + identity)


class Decoder(nn.Module):
    def __init__(self, block, counts, width_per_group=64):
        super().__init__()
        e = block.expansion
        self.inplanes = 512 * e

        def make(planes, n):
            up = nn.Sequential(deconv2x2(self.inplanes, planes * e), nn.BatchNorm2d(planes * e))
            layers = [block(self.inplanes, planes, 2, up, width_per_group)]
            self.inplanes = planes * e
            layers += [block(self.inplanes, planes, 1, None, width_per_group) for _ in range(1, n)]
            return nn.Sequential(*layers)

        self.layer1 = make(256, counts[0])
        self.layer2 = make(128, counts[1])
        self.layer3 = make(64, counts[2])

    def forward(self, x):
        a = self.layer1(x)
        b = self.layer2(a)
        c = self.layer3(b)
        return [c, b, a]


class Student(nn.Module):
    def __init__(self, arch):
        super().__init__()
        if arch == "resnet18":
            self.bn = OCBE(BasicBlock, 2)
            self.decoder = Decoder(DeBasic, [2, 2, 2])
        else:
            self.bn = OCBE(Bottleneck, 3, 128)
            self.decoder = Decoder(DeBottleneck, [3, 4, 6], 128)

    def forward(self, feats):
        return self.decoder(self.bn(feats))


def fill_student(net):
    new = OrderedDict()
    for t, (name, v) in enumerate(net.state_dict().items()):
        new[name] = backbone_fx.fill_value(STUDENT_T0 + t, name, list(v.shape))
    net.load_state_dict(new)


def images(t, shape):
    return torch.from_numpy((backbone_fx.hash_u(t, int(np.prod(shape))) * 2.0).astype(np.float32).reshape(shape))


def backbone_input(x):
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    x3 = x.expand(x.shape[0], 3, x.shape[2], x.shape[3])
    return (x3 * 0.5 + 0.5 - mean) / std


def teacher_maps(teacher, x):
    h = teacher.maxpool(teacher.relu(teacher.bn1(teacher.conv1(backbone_input(x)))))
    e1 = teacher.layer1(h)
    e2 = teacher.layer2(e1)
    e3 = teacher.layer3(e2)
    return [e1, e2, e3]


def loss_function(a, b):
    """main.py loss_fucntion: Σ_k mean of 1 − cos over each sample's flattened maps."""
    cos = nn.CosineSimilarity()
    terms = [torch.mean(1 - cos(a[k].view(a[k].shape[0], -1), b[k].view(b[k].shape[0], -1))) for k in range(len(a))]
    return terms[0] + terms[1] + terms[2], terms


def cal_anomaly_map(fs_list, ft_list, out_size):
    """test.py cal_anomaly_map (amap_mode 'a') for one image, then gaussian_filter σ 4."""
    anomaly_map = np.zeros([out_size, out_size])
    for fs, ft in zip(fs_list, ft_list):
        a_map = torch.unsqueeze(1 - F.cosine_similarity(fs, ft), dim=1)
        a_map = F.interpolate(a_map, size=out_size, mode="bilinear", align_corners=True)
        anomaly_map += a_map[0, 0].detach().numpy()
    return gaussian_filter(anomaly_map, sigma=4)


def anomalib_map(fs_list, ft_list, out_size):
    """anomalib AnomalyMapGenerator (mode multiply) then GaussianBlur2d σ 4."""
    amap = torch.ones([fs_list[0].shape[0], 1, out_size, out_size])
    for fs, ft in zip(fs_list, ft_list):
        a_map = torch.unsqueeze(1 - F.cosine_similarity(fs, ft), dim=1)
        amap *= F.interpolate(a_map, size=out_size, mode="bilinear", align_corners=True)
    return patchcore_fx.anomalib_blur(amap, 4.0)


def f64(t):
    return t.detach().double()


def summary(t):
    d = f64(t).flatten()
    idx = samples(d.numel())
    return {"sum": d.sum().item(), "sumsq": (d * d).sum().item(), "sumabs": d.abs().sum().item(), "idx": idx, "values": [d[i].item() for i in idx]}


def step_case():
    teacher = torchvision.models.resnet18()
    backbone_fx.fill_model("resnet18", teacher)
    teacher.eval()
    student = Student("resnet18")
    fill_student(student)
    names = [[n, list(v.shape)] for n, v in student.state_dict().items()]
    x = images(1000, [BATCH, 1, SIZE, SIZE])
    with torch.no_grad():
        e = teacher_maps(teacher, x)
    student.train()
    opt = torch.optim.Adam(list(student.decoder.parameters()) + list(student.bn.parameters()), lr=0.005, betas=(0.5, 0.999))
    d = student(e)
    loss, terms = loss_function(e, d)
    opt.zero_grad()
    loss.backward()
    grads = OrderedDict()
    for n, p in student.named_parameters():
        grads[n] = None if p.grad is None else summary(p.grad)
    opt.step()
    after = OrderedDict()
    for n, p in student.named_parameters():
        idx = samples(p.numel())
        after[n] = {"idx": idx, "values": [p.detach().flatten()[i].item() for i in idx]}
    running = OrderedDict()
    for n in ["bn.bn1", "bn.bn_layer.0.bn2", "bn.bn_layer.1.bn2", "decoder.layer1.0.upsample.1", "decoder.layer3.1.bn2", "bn.bn4"]:
        m = dict(student.named_modules())[n]
        running[n] = {"running_mean": m.running_mean[:8].tolist(), "running_var": m.running_var[:8].tolist(), "num_batches_tracked": int(m.num_batches_tracked)}

    # The stepped student, eval mode, on another batch.
    student.eval()
    x2 = images(1001, [BATCH, 1, SIZE, SIZE])
    with torch.no_grad():
        e2 = teacher_maps(teacher, x2)
        d2 = student(e2)
        official = np.stack([cal_anomaly_map([t[i:i + 1] for t in e2], [s[i:i + 1] for s in d2], SIZE) for i in range(BATCH)])
        anomalib = anomalib_map(e2, d2, SIZE)[:, 0].numpy()
    return {
        "arch": "resnet18", "size": SIZE, "batch": BATCH, "studentT0": STUDENT_T0,
        "input": {"train": "u(1000, i)*2", "map": "u(1001, i)*2", "shape": [BATCH, 1, SIZE, SIZE]},
        "adam": {"lr": 0.005, "betas": [0.5, 0.999], "eps": 1e-8},
        "state": names,
        "loss": loss.item(), "terms": [t.item() for t in terms],
        "grads": grads, "after": after, "running": running,
        "maps": {
            "official": {"combine": "add", "blur": "scipy", "tensor": "maps/official", "scores": official.reshape(BATCH, -1).max(1).tolist()},
            "anomalib": {"combine": "multiply", "blur": "torch", "tensor": "maps/anomalib", "scores": anomalib.reshape(BATCH, -1).max(1).tolist()},
        },
    }, OrderedDict([("maps/official", torch.from_numpy(official.astype(np.float32))), ("maps/anomalib", torch.from_numpy(anomalib.astype(np.float32)))])


def wide_case():
    student = Student("wide_resnet50_2")
    fill_student(student)
    student.eval()
    shapes = [[1, 256, 16, 16], [1, 512, 8, 8], [1, 1024, 4, 4]]
    e = [images(1002 + k, s) for k, s in enumerate(shapes)]
    with torch.no_grad():
        z = student.bn(e)
        d = student.decoder(z)
    outs = OrderedDict([("embedding", z), ("d1", d[0]), ("d2", d[1]), ("d3", d[2])])
    res = OrderedDict()
    for n, t in outs.items():
        s = summary(t)
        res[n] = {"shape": list(t.shape), "sum": s["sum"], "sumabs": s["sumabs"], "idx": s["idx"], "values": s["values"]}
    return {"inputs": shapes, "input": "u(1002 + k, i)*2", "params": {"bn": sum(p.numel() for p in student.bn.parameters()), "decoder": sum(p.numel() for p in student.decoder.parameters())}, "outputs": res}


def main():
    os.makedirs(OUT, exist_ok=True)
    step, tensors = step_case()
    out = {"step": step, "wide": wide_case()}
    st = os.path.join(OUT, "rd-maps.safetensors")
    import_module("make-torch-fixtures").save_safetensors(st, tensors)
    print(f"wrote {st} ({os.path.getsize(st)} bytes)")
    path = os.path.join(OUT, "rd.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
