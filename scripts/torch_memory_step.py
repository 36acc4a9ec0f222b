#!/usr/bin/env python3
"""PyTorch side of bench/memory.ts: the resident high-water mark of training steps (CPU).

The networks are the benchmark scripts' own (torch_ae_step.py's unified AE, torch_method_step.py's
DAE U-Net and noise), in a fresh process per measurement, so the peak from resource.getrusage
covers the interpreter, torch and those steps only. Run with Debian's python3 (python3-torch).

  python3 scripts/torch_memory_step.py --method ae|dae [--steps 2]
Prints one JSON line: {"method", "steps", "baseMB", "readyMB", "peakMB", "torch"}.
"""
import argparse
import json
import os
import resource
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ae_step import UnifiedAE  # noqa: E402
from torch_method_step import UNet, dae_loss  # noqa: E402


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", choices=["ae", "dae"], required=True)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    base = rss_mb()
    size, batch = (128, 16) if a.method == "dae" else (64, 64)
    model = UNet() if a.method == "dae" else UnifiedAE(size=size)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.rand(batch, 1, size, size) * 2 - 1
    model.train()
    ready = rss_mb()
    for _ in range(a.steps):
        opt.zero_grad()
        loss = dae_loss(model, x) if a.method == "dae" else ((model(x) - x) ** 2).mean()
        loss.backward()
        opt.step()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"method": a.method, "steps": a.steps, "baseMB": round(base, 1), "readyMB": round(ready, 1),
                      "peakMB": round(peak, 1), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
