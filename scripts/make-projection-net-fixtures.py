#!/usr/bin/env python3
"""Generate the two-stage SSL reference fixtures in test/fixtures/ssl-two-stage/.

Run with Debian's python3, python3-torch (1.13) and python3-torchvision (0.14):

    /usr/bin/python3 scripts/make-projection-net-fixtures.py

1. ProjectionNet exactly as MedIAnomaly's ssl/two_stage/model.py builds it (torchvision
   resnet18 with fc = Identity, head Linear–BatchNorm1d–ReLU for [512]·head_layer + [128],
   out Linear(128 → K)), here with head_layer 1 and K = 3. Every state-dict entry is filled
   with the deterministic formula of scripts/make-backbone-fixtures.py (t = the entry's index
   in this module's state dict), which test/models/backbones/fill.ts reproduces bit for bit.
   The input is u(1000, i)·2 of shape [6, 3, 32, 32] (three views of two images: labels
   0 0 1 1 2 2, as the reference's torch.arange(len(xs)).repeat_interleave(B)).

   The training step of run_training.py: train mode, embeds, logits = model(x),
   CrossEntropyLoss, backward, then SGD(lr 0.03, momentum 0.9, weight decay 3e-5) step; a
   second forward + backward + step, then the eval-mode forward.

2. CosineAnnealingWarmRestarts(T_0, eta_min = 0) stepped as run_training.py does
   (scheduler.step(epoch) after each epoch, epoch 0-based): the LR each epoch trains with.

Writes
  projection-net.json        names/shapes of the state dict, the losses, per parameter the
                             sum and sum of |.| of its gradient (float64) after the first
                             backward, the scheduler LRs
  projection-net.safetensors embeds/logits (train mode, step 1), the full gradients of a few
                             tensors, head BN1d running stats after step 1, logits of step 2,
                             out.weight after two steps, eval-mode embeds/logits (filled weights)
"""
import importlib.util
import json
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
from torchvision.models import resnet18

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "ssl-two-stage")

spec = importlib.util.spec_from_file_location("bbfix", os.path.join(ROOT, "scripts", "make-backbone-fixtures.py"))
bbfix = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bbfix)

torch.set_num_threads(1)


class ProjectionNet(nn.Module):
    """MedIAnomaly ssl/two_stage/model.py (pretrained=False)."""

    def __init__(self, head_layers, num_classes):
        super().__init__()
        self.resnet18 = resnet18(weights=None)
        last_layer = 512
        layers = []
        for n in head_layers:
            layers.append(nn.Linear(last_layer, n))
            layers.append(nn.BatchNorm1d(n))
            layers.append(nn.ReLU(inplace=True))
            last_layer = n
        self.resnet18.fc = nn.Identity()
        self.head = nn.Sequential(*layers)
        self.out = nn.Linear(last_layer, num_classes)

    def forward(self, x):
        embeds = self.resnet18(x)
        return embeds, self.out(self.head(embeds))


FULL_GRADS = ["out.weight", "out.bias", "head.3.weight", "head.0.bias", "head.1.weight", "resnet18.conv1.weight", "resnet18.layer4.1.bn2.weight", "resnet18.layer4.1.bn2.bias"]


def main():
    os.makedirs(OUT, exist_ok=True)
    model = ProjectionNet([512, 128], 3)
    sd = model.state_dict()
    new = OrderedDict()
    for t, (name, v) in enumerate(sd.items()):
        new[name] = bbfix.fill_value(t, name, list(v.shape))
    model.load_state_dict(new)
    names = [[n, list(v.shape)] for n, v in sd.items()]

    x = (torch.from_numpy(bbfix.hash_u(1000, 6 * 3 * 32 * 32).astype(np.float32)) * 2.0).reshape(6, 3, 32, 32)
    y = torch.arange(3).repeat_interleave(2)
    opt = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, weight_decay=3e-5)
    loss_fn = nn.CrossEntropyLoss()
    tensors = OrderedDict()

    model.train()
    opt.zero_grad()
    embeds, logits = model(x)
    loss1 = loss_fn(logits, y)
    loss1.backward()
    tensors["step1/embeds"] = embeds.detach()
    tensors["step1/logits"] = logits.detach()
    grad_stats = OrderedDict()
    for n, p in model.named_parameters():
        g = p.grad.double()
        grad_stats[n] = [float(g.sum()), float(g.abs().sum())]
    for n in FULL_GRADS:
        tensors["grad/" + n] = dict(model.named_parameters())[n].grad.detach().clone()
    opt.step()
    for n in ["head.1.running_mean", "head.1.running_var", "head.4.running_mean", "head.4.running_var", "resnet18.bn1.running_mean", "resnet18.layer4.1.bn2.running_var"]:
        tensors["running/" + n] = model.state_dict()[n].detach().clone()

    opt.zero_grad()
    _, logits2 = model(x)
    loss2 = loss_fn(logits2, y)
    loss2.backward()
    opt.step()
    tensors["step2/logits"] = logits2.detach()

    tensors["step3/out.weight"] = model.out.weight.detach().clone()

    # Eval mode (running statistics) with the filled weights: the one-class stage's forward.
    # (After training steps the eval forward is ill-conditioned at this tiny batch: BN over
    # 6 values per channel makes some updates large, and float32 reorderings alone move
    # the embeddings by ~1e-2; the train-mode comparisons above cover the steps.)
    fresh = ProjectionNet([512, 128], 3)
    fresh.load_state_dict(new)
    fresh.eval()
    with torch.no_grad():
        e3, l3 = fresh(x)
    tensors["eval/embeds"] = e3
    tensors["eval/logits"] = l3

    # The scheduler as run_training.py drives it.
    def lrs(t0, epochs):
        p = torch.zeros(1, requires_grad=True)
        o = torch.optim.SGD([p], lr=0.03, momentum=0.9, weight_decay=3e-5)
        s = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, t0)
        out = []
        for epoch in range(epochs):
            out.append(o.param_groups[0]["lr"])
            o.step()
            s.step(epoch)
        return out

    meta = {
        "names": names,
        "input": {"shape": [6, 3, 32, 32], "tensor": 1000, "scale": 2.0},
        "labels": y.tolist(),
        "sgd": {"lr": 0.03, "momentum": 0.9, "weightDecay": 3e-5},
        "loss1": float(loss1),
        "loss2": float(loss2),
        "gradStats": grad_stats,
        "scheduler": {"t100": lrs(100, 100), "t3": lrs(3, 8)},
        "torch": torch.__version__,
    }
    with open(os.path.join(OUT, "projection-net.json"), "w") as f:
        json.dump(meta, f, separators=(",", ":"))
        f.write("\n")
    bbfix.write_safetensors(os.path.join(OUT, "projection-net.safetensors"), tensors, {"source": "scripts/make-projection-net-fixtures.py"})
    print("loss1", float(loss1), "loss2", float(loss2), file=sys.stderr)


if __name__ == "__main__":
    main()
