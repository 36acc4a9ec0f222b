#!/usr/bin/env python3
"""Generate the DRAEM reference fixtures in test/fixtures/draem/.

Run with Debian's python3 and python3-torch (1.13):

    /usr/bin/python3 scripts/make-draem-fixtures.py

DRAEM (Zavrtanik et al., ICCV 2021) as its official code (VitjanZ/DRAEM) defines it, written
out here from its description (model_unet.py, loss.py, perlin.py, train_DRAEM.py,
test_DRAEM.py) with the official module and parameter names:

- the two networks at a tiny width (reconstructive base width 4, discriminative 4, one
  image channel, 32 x 32, batch 2), every state-dict entry filled with the deterministic
  formula of scripts/make-backbone-fixtures.py (mirrored by test/models/backbones/fill.ts;
  t counts the entries of the joined model's state dict, anomalib's prefixes
  reconstructive_subnetwork. / discriminative_subnetwork.):
  eval-mode outputs, the image score (max of the 21 x 21 stride-1 average-pooled anomaly
  probability), and the training loss (L2 + SSIM loss + focal) with its gradients with respect
  to the augmented input and to the first and last conv of each network, in eval mode and in
  training mode (see step() for what training mode can be compared on);
- the focal loss (gamma 2, smooth 1e-5, alpha 1) on softmax probabilities, with its gradient
  with respect to the logits;
- the SSIM loss (11-tap Gaussian, sigma 1.5, zero padding 5, value range from img1), three cases;
- rand_perlin_2d_np with given gradient angles (the RNG is numpy's; the test injects the
  same angles).

Inputs are u(t, i) of the fill formula (t >= 1000), so the TypeScript side rebuilds them.

Writes draem.safetensors (float32 tensors) and draem.json (shapes and scalars).
"""
import json
import math
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from importlib import import_module

bb = import_module("make-backbone-fixtures")  # hash_u, fill_value, write_safetensors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "draem")

torch.set_num_threads(1)


# ---- the networks, as the official model_unet.py lays them out ----

def double_conv(i, m, o):
    return nn.Sequential(nn.Conv2d(i, m, 3, padding=1), nn.BatchNorm2d(m), nn.ReLU(inplace=True),
                         nn.Conv2d(m, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True))


def up_conv(i, o):
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
                         nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True))


class EncoderReconstructive(nn.Module):
    def __init__(self, c, w):
        super().__init__()
        self.block1 = double_conv(c, w, w)
        self.mp1 = nn.Sequential(nn.MaxPool2d(2))
        self.block2 = double_conv(w, 2 * w, 2 * w)
        self.mp2 = nn.Sequential(nn.MaxPool2d(2))
        self.block3 = double_conv(2 * w, 4 * w, 4 * w)
        self.mp3 = nn.Sequential(nn.MaxPool2d(2))
        self.block4 = double_conv(4 * w, 8 * w, 8 * w)
        self.mp4 = nn.Sequential(nn.MaxPool2d(2))
        self.block5 = double_conv(8 * w, 8 * w, 8 * w)

    def forward(self, x):
        b1 = self.block1(x)
        b2 = self.block2(self.mp1(b1))
        b3 = self.block3(self.mp2(b2))
        b4 = self.block4(self.mp3(b3))
        return self.block5(self.mp4(b4))


class DecoderReconstructive(nn.Module):
    def __init__(self, w, out):
        super().__init__()
        self.up1 = up_conv(8 * w, 8 * w)
        self.db1 = double_conv(8 * w, 8 * w, 4 * w)
        self.up2 = up_conv(4 * w, 4 * w)
        self.db2 = double_conv(4 * w, 4 * w, 2 * w)
        self.up3 = up_conv(2 * w, 2 * w)
        self.db3 = double_conv(2 * w, 2 * w, w)
        self.up4 = up_conv(w, w)
        self.db4 = double_conv(w, w, w)
        self.fin_out = nn.Sequential(nn.Conv2d(w, out, 3, padding=1))

    def forward(self, b5):
        x = self.db1(self.up1(b5))
        x = self.db2(self.up2(x))
        x = self.db3(self.up3(x))
        x = self.db4(self.up4(x))
        return self.fin_out(x)


class ReconstructiveSubNetwork(nn.Module):
    def __init__(self, c, w):
        super().__init__()
        self.encoder = EncoderReconstructive(c, w)
        self.decoder = DecoderReconstructive(w, c)

    def forward(self, x):
        return self.decoder(self.encoder(x))


class EncoderDiscriminative(nn.Module):
    def __init__(self, c, w):
        super().__init__()
        widths = [w, 2 * w, 4 * w, 8 * w, 8 * w, 8 * w]
        prev = c
        for i, o in enumerate(widths):
            setattr(self, f"block{i + 1}", double_conv(prev, o, o))
            if i < 5:
                setattr(self, f"mp{i + 1}", nn.Sequential(nn.MaxPool2d(2)))
            prev = o

    def forward(self, x):
        out = []
        for i in range(6):
            if i:
                x = getattr(self, f"mp{i}")(x)
            x = getattr(self, f"block{i + 1}")(x)
            out.append(x)
        return out


class DecoderDiscriminative(nn.Module):
    def __init__(self, w, out):
        super().__init__()
        self.up_b = up_conv(8 * w, 8 * w)
        self.db_b = double_conv(16 * w, 8 * w, 8 * w)
        self.up1 = up_conv(8 * w, 4 * w)
        self.db1 = double_conv(12 * w, 4 * w, 4 * w)
        self.up2 = up_conv(4 * w, 2 * w)
        self.db2 = double_conv(6 * w, 2 * w, 2 * w)
        self.up3 = up_conv(2 * w, w)
        self.db3 = double_conv(3 * w, w, w)
        self.up4 = up_conv(w, w)
        self.db4 = double_conv(2 * w, w, w)
        self.fin_out = nn.Sequential(nn.Conv2d(w, out, 3, padding=1))

    def forward(self, b):
        b1, b2, b3, b4, b5, b6 = b
        x = self.db_b(torch.cat((self.up_b(b6), b5), 1))
        x = self.db1(torch.cat((self.up1(x), b4), 1))
        x = self.db2(torch.cat((self.up2(x), b3), 1))
        x = self.db3(torch.cat((self.up3(x), b2), 1))
        x = self.db4(torch.cat((self.up4(x), b1), 1))
        return self.fin_out(x)


class DiscriminativeSubNetwork(nn.Module):
    def __init__(self, c, w):
        super().__init__()
        self.encoder_segment = EncoderDiscriminative(c, w)
        self.decoder_segment = DecoderDiscriminative(w, 2)

    def forward(self, x):
        return self.decoder_segment(self.encoder_segment(x))


class DraemModel(nn.Module):
    def __init__(self, c, wr, wd):
        super().__init__()
        self.reconstructive_subnetwork = ReconstructiveSubNetwork(c, wr)
        self.discriminative_subnetwork = DiscriminativeSubNetwork(2 * c, wd)


# ---- the losses, as the official loss.py computes them ----

def focal_loss(prob, target, gamma=2.0, smooth=1e-5):
    """FocalLoss() on softmax probabilities [N, C, H, W] and a {0, 1} target [N, 1, H, W]."""
    c = prob.shape[1]
    logit = prob.reshape(prob.shape[0], c, -1).permute(0, 2, 1).reshape(-1, c)
    idx = target.reshape(-1, 1).long()
    one_hot = torch.zeros(idx.shape[0], c, dtype=prob.dtype).scatter_(1, idx, 1)
    one_hot = torch.clamp(one_hot, smooth / (c - 1), 1.0 - smooth)
    pt = (one_hot * logit).sum(1) + smooth
    return (-1 * torch.pow(1 - pt, gamma) * pt.log()).mean()


def gaussian_window(size=11, sigma=1.5, channels=1):
    g = torch.Tensor([math.exp(-(x - size // 2) ** 2 / float(2 * sigma ** 2)) for x in range(size)])
    g = (g / g.sum()).unsqueeze(1)
    w2 = g.mm(g.t()).float().unsqueeze(0).unsqueeze(0)
    return w2.expand(channels, 1, size, size).contiguous()


def ssim_loss(img1, img2, size=11):
    max_val = 255 if torch.max(img1) > 128 else 1
    min_val = -1 if torch.min(img1) < -0.5 else 0
    L = max_val - min_val
    c = img1.shape[1]
    w = gaussian_window(size, 1.5, c).to(img1.dtype)
    p = size // 2
    mu1 = F.conv2d(img1, w, padding=p, groups=c)
    mu2 = F.conv2d(img2, w, padding=p, groups=c)
    s1 = F.conv2d(img1 * img1, w, padding=p, groups=c) - mu1.pow(2)
    s2 = F.conv2d(img2 * img2, w, padding=p, groups=c) - mu2.pow(2)
    s12 = F.conv2d(img1 * img2, w, padding=p, groups=c) - mu1 * mu2
    c1 = (0.01 * L) ** 2
    c2 = (0.03 * L) ** 2
    m = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1.pow(2) + mu2.pow(2) + c1) * (s1 + s2 + c2))
    return 1.0 - m.mean()


# ---- Perlin noise, as rand_perlin_2d_np, with the gradient angles given ----

def perlin(shape, res, angles):
    fade = lambda t: 6 * t ** 5 - 15 * t ** 4 + 10 * t ** 3
    delta = (res[0] / shape[0], res[1] / shape[1])
    d = (shape[0] // res[0], shape[1] // res[1])
    grid = np.mgrid[0:res[0]:delta[0], 0:res[1]:delta[1]].transpose(1, 2, 0) % 1
    grads = np.stack((np.cos(angles), np.sin(angles)), axis=-1)

    def tile(s1, s2):
        return np.repeat(np.repeat(grads[s1[0]:s1[1], s2[0]:s2[1]], d[0], axis=0), d[1], axis=1)

    def dot(g, shift):
        gx = grid[:shape[0], :shape[1], 0] + shift[0]
        gy = grid[:shape[0], :shape[1], 1] + shift[1]
        return (np.stack((gx, gy), axis=-1) * g[:shape[0], :shape[1]]).sum(axis=-1)

    n00 = dot(tile([0, -1], [0, -1]), [0, 0])
    n10 = dot(tile([1, None], [0, -1]), [-1, 0])
    n01 = dot(tile([0, -1], [1, None]), [0, -1])
    n11 = dot(tile([1, None], [1, None]), [-1, -1])
    t = fade(grid[:shape[0], :shape[1]])
    lerp = lambda a, b, w: (b - a) * w + a
    return math.sqrt(2) * lerp(lerp(n00, n10, t[..., 0]), lerp(n01, n11, t[..., 0]), t[..., 1])


def u_tensor(t, shape, scale=1.0, offset=0.0):
    n = int(np.prod(shape))
    return torch.from_numpy((bb.hash_u(t, n) * scale + offset).astype(np.float32).reshape(shape))


def main():
    os.makedirs(OUT, exist_ok=True)
    tensors = OrderedDict()
    index = {}

    # -- networks --
    C, WR, WD, S, B = 1, 4, 4, 32, 2
    model = DraemModel(C, WR, WD)
    sd = model.state_dict()
    filled = OrderedDict((name, bb.fill_value(t, name, list(v.shape))) for t, (name, v) in enumerate(sd.items()))
    model.load_state_dict(filled)
    index["nets"] = {"channels": C, "reconstructiveWidth": WR, "discriminativeWidth": WD, "size": S, "batch": B,
                     "stateDict": [[k, list(v.shape)] for k, v in sd.items()]}
    rec_net, seg_net = model.reconstructive_subnetwork, model.discriminative_subnetwork

    x = u_tensor(1000, [B, C, S, S], 1.0, 0.5)          # clean, in [0, 1)
    x_aug = u_tensor(1001, [B, C, S, S], 1.0, 0.5)      # augmented
    mask = (u_tensor(1002, [B, 1, S, S]) > 0.2).float()  # ~30 % anomalous pixels

    model.eval()
    with torch.no_grad():
        rec = rec_net(x)
        logits = seg_net(torch.cat((rec, x), 1))
        prob = torch.softmax(logits, 1)
        smooth = F.avg_pool2d(prob[:, 1:], 21, stride=1, padding=10)
        score = smooth.reshape(B, -1).max(1).values
    tensors["eval/rec"] = rec
    tensors["eval/logits"] = logits
    tensors["eval/score"] = score

    def step(tag):
        """The training loss on (x_aug, x, mask) and its gradients, in the model's current mode."""
        model.zero_grad()
        xa = x_aug.clone().requires_grad_(True)
        rec_t = rec_net(xa)
        logits_t = seg_net(torch.cat((rec_t, xa), 1))
        l2 = F.mse_loss(rec_t, x)
        ss = ssim_loss(rec_t, x)
        fl = focal_loss(torch.softmax(logits_t, 1), mask)
        loss = l2 + ss + fl
        loss.backward()
        tensors[f"{tag}/rec"] = rec_t.detach()
        tensors[f"{tag}/logits"] = logits_t.detach()
        tensors[f"{tag}/grad_x"] = xa.grad
        tensors[f"{tag}/grad_rec_conv0"] = rec_net.encoder.block1[0].weight.grad.clone()
        tensors[f"{tag}/grad_seg_conv0"] = seg_net.encoder_segment.block1[0].weight.grad.clone()
        tensors[f"{tag}/grad_seg_fin"] = seg_net.decoder_segment.fin_out[0].weight.grad.clone()
        tensors[f"{tag}/grad_rec_fin"] = rec_net.decoder.fin_out[0].weight.grad.clone()
        index[tag] = {"l2": l2.item(), "ssim": ss.item(), "focal": fl.item(), "loss": loss.item()}

    # Eval mode (running statistics): the whole backward is well conditioned, so every
    # gradient is compared. Training mode normalises the deepest levels over a handful of
    # values (1 x 1 and 2 x 2 maps, batch 2), which makes gradients below them change by
    # percents under float32 reordering (PyTorch's own float32 and float64 gradients differ
    # that much): there the forward values, the loss terms, the running statistics and the
    # last layers' gradients are compared.
    step("evalstep")
    model.train()
    step("train")
    tensors["train/running_mean_rec_bn0"] = rec_net.encoder.block1[1].running_mean.clone()

    # -- focal loss alone --
    lg = u_tensor(1010, [2, 2, 5, 7], 8.0).requires_grad_(True)
    tg = (u_tensor(1011, [2, 1, 5, 7]) > 0).float()
    f = focal_loss(torch.softmax(lg, 1), tg)
    f.backward()
    tensors["focal/grad"] = lg.grad
    index["focal"] = {"loss": f.item(), "logitsShape": [2, 2, 5, 7]}

    # -- SSIM loss --
    cases = {
        "grey01": ([2, 1, 16, 16], 1.0, 0.5, 0.3),  # img1 in [0, 1): L = 1
        "rgb01": ([1, 3, 13, 15], 1.0, 0.5, 0.3),
        "signed": ([1, 1, 16, 16], 2.0, 0.0, 0.3),  # img1 in [-1, 1): L = 2
    }
    index["ssim"] = {}
    for k, (name, (shape, scale, offset, noise)) in enumerate(cases.items()):
        a = u_tensor(1020 + 2 * k, shape, scale, offset).requires_grad_(True)
        b = (a.detach() + u_tensor(1021 + 2 * k, shape, noise)).clone()
        v = ssim_loss(a, b)
        v.backward()
        tensors[f"ssim/{name}/grad"] = a.grad
        index["ssim"][name] = {"shape": shape, "scale": scale, "offset": offset, "noise": noise, "loss": v.item()}

    # -- Perlin noise with given angles --
    index["perlin"] = {}
    for k, (shape, res) in enumerate([((32, 32), (4, 2)), ((16, 24), (1, 8)), ((32, 32), (32, 32)), ((8, 8), (1, 1))]):
        angles = (bb.hash_u(1030 + k, (res[0] + 1) * (res[1] + 1)) + 0.5).reshape(res[0] + 1, res[1] + 1) * 2 * math.pi
        n = perlin(shape, res, angles)
        name = f"{shape[0]}x{shape[1]}_{res[0]}x{res[1]}"
        tensors[f"perlin/{name}"] = torch.from_numpy(n.astype(np.float32))
        index["perlin"][name] = {"shape": list(shape), "res": list(res), "angleTensor": 1030 + k}

    bb.write_safetensors(os.path.join(OUT, "draem.safetensors"), tensors)
    with open(os.path.join(OUT, "draem.json"), "w") as f:
        json.dump(index, f, separators=(",", ":"))
    print("wrote", OUT)


if __name__ == "__main__":
    main()
