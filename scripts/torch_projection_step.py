#!/usr/bin/env python3
"""PyTorch anchor for the two-stage SSL bench (bench/ssl-two-stage.ts): the training step of
MedIAnomaly's ssl/two_stage/run_training.py on ProjectionNet (torchvision resnet18 with
fc = Identity, head Linear(512,512)-BN-ReLU-Linear(512,128)-BN-ReLU, out Linear(128,K)):
zero_grad, forward of the concatenated views [V*B, 3, S, S], CrossEntropyLoss against
labels arange(V).repeat_interleave(B), backward, SGD(lr 0.03, momentum 0.9, wd 3e-5) step.

Run with Debian's python3 (python3-torch 1.13, python3-torchvision 0.14), with
OMP_NUM_THREADS and OPENBLAS_NUM_THREADS set to the thread count (Debian's torch runs some
GEMMs on OpenBLAS, whose pool ignores torch.set_num_threads):

  torch_projection_step.py --threads 1 --batch 64 --views 2 --size 224 --steps 3

Prints one JSON line: the median and best of `steps` timed steps after one warm-up, in ms.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
from torchvision.models import resnet18


class ProjectionNet(nn.Module):
    def __init__(self, head_layers, num_classes):
        super().__init__()
        self.resnet18 = resnet18(weights=None)
        last = 512
        layers = []
        for n in head_layers:
            layers += [nn.Linear(last, n), nn.BatchNorm1d(n), nn.ReLU(inplace=True)]
            last = n
        self.resnet18.fc = nn.Identity()
        self.head = nn.Sequential(*layers)
        self.out = nn.Linear(last, num_classes)

    def forward(self, x):
        e = self.resnet18(x)
        return e, self.out(self.head(e))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--views", type=int, default=2)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--steps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = ProjectionNet([512, 128], a.views)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, weight_decay=3e-5)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.rand(a.views * a.batch, 3, a.size, a.size) * 2 - 1
    y = torch.arange(a.views).repeat_interleave(a.batch)

    def step():
        opt.zero_grad()
        _, logits = model(x)
        loss = loss_fn(logits, y)
        loss.backward()
        opt.step()
        return float(loss)

    step()
    times = []
    for _ in range(a.steps):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    print(json.dumps({"threads": a.threads, "batch": a.batch, "views": a.views, "size": a.size, "median_ms": times[len(times) // 2], "best_ms": times[0], "torch": torch.__version__}))


if __name__ == "__main__":
    main()
