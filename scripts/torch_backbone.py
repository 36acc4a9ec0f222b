#!/usr/bin/env python3
"""Side-by-side anchor for bench/backbone.ts: PyTorch's CPU time for the torchvision
backbones (eval mode, no_grad) and for single Conv2d layers of their shapes.

Run it with Debian's python3 (python3-torch, python3-torchvision), with OMP_NUM_THREADS and
OPENBLAS_NUM_THREADS set to the thread count: Debian's torch runs some convolutions (1×1,
through oneDNN's GEMM) on OpenBLAS, whose pool ignores torch.set_num_threads. Two modes:

  torch_backbone.py --mode backbone --threads 1,2 --batch 8 --size 224 --repeats 3 \
      --nets resnet18,wide_resnet50_2,vgg19_relu4_2,vgg19
  torch_backbone.py --mode layers --threads 1,2 --layers '<json list>'
  torch_backbone.py --mode serve --threads 1

serve: a long-running child for bench/backbone.ts, which alternates its own calls with
torch's so that machine load falls on both alike. One thread count per process; it reads
one JSON request per line on stdin, {"net": name} or {"layer": {C, K, H, k, s, p, N}},
plus "calls": n, builds the module the first time it sees it (and runs it once, the
warm-up), runs it n times and answers {"ms": best of the n} on stdout.

Backbones: resnet18 / wide_resnet50_2 through layer4 (no avgpool/fc: the feature
trunk), vgg19_relu4_2 = features[:23], vgg19 = all of features. Random weights (the
time does not depend on them). Layers: each item {name, C, K, H, k, s, p, N} is one
Conv2d(C, K, k, s, p, bias=False) on a [N, C, H, H] input.

Prints one JSON line per measurement: the best of `repeats` timed calls after one
warm-up (the best, not the mean: the machine may be shared), in ms. Compare ratios
within one run, never absolute times across machines.
"""
import argparse
import json
import time

import torch
import torch.nn as nn


def trunk(name):
    import torchvision.models as tvm

    if name in ("resnet18", "wide_resnet50_2"):
        m = getattr(tvm, name)()
        return nn.Sequential(m.conv1, m.bn1, m.relu, m.maxpool, m.layer1, m.layer2, m.layer3, m.layer4)
    if name == "vgg19_relu4_2":
        return tvm.vgg19().features[:23]
    if name == "vgg19":
        return tvm.vgg19().features
    raise SystemExit(f"unknown net {name}")


def best_ms(fn, repeats):
    fn()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, (time.perf_counter() - t) * 1e3)
    return best


def serve(threads):
    torch.set_num_threads(threads)
    cache = {}
    for line in iter(input_line, None):
        req = json.loads(line)
        key = json.dumps(req.get("net") or req.get("layer"), sort_keys=True)
        if key not in cache:
            if "net" in req:
                fn = trunk(req["net"]).eval()
                x = torch.randn(req.get("batch", 8), 3, req.get("size", 224), req.get("size", 224))
            else:
                L = req["layer"]
                fn = nn.Conv2d(L["C"], L["K"], L["k"], L["s"], L["p"], bias=False).eval()
                x = torch.randn(L["N"], L["C"], L["H"], L["H"])
            cache[key] = (lambda f=fn, t=x: f(t))
            cache[key]()
        ms = best_ms_nowarm(cache[key], int(req.get("calls", 1)))
        print(json.dumps({"ms": round(ms, 3), "torch": torch.__version__}), flush=True)


def input_line():
    import sys

    line = sys.stdin.readline()
    return line if line.strip() else None


def best_ms_nowarm(fn, calls):
    best = float("inf")
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        best = min(best, (time.perf_counter() - t) * 1e3)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["backbone", "layers", "serve"], default="backbone")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--nets", default="resnet18,wide_resnet50_2,vgg19_relu4_2,vgg19")
    ap.add_argument("--layers", default="[]")
    a = ap.parse_args()
    torch.manual_seed(0)
    if a.mode == "serve":
        with torch.no_grad():
            serve(int(a.threads))
        return
    with torch.no_grad():
        for th in [int(t) for t in a.threads.split(",")]:
            torch.set_num_threads(th)
            if a.mode == "backbone":
                x = torch.randn(a.batch, 3, a.size, a.size)
                for name in a.nets.split(","):
                    net = trunk(name).eval()
                    ms = best_ms(lambda: net(x), a.repeats)
                    print(json.dumps({"threads": th, "net": name, "batch": a.batch, "size": a.size,
                                      "ms": round(ms, 2), "torch": torch.__version__}), flush=True)
            else:
                for L in json.loads(a.layers):
                    conv = nn.Conv2d(L["C"], L["K"], L["k"], L["s"], L["p"], bias=False).eval()
                    x = torch.randn(L["N"], L["C"], L["H"], L["H"])
                    ms = best_ms(lambda: conv(x), a.repeats)
                    print(json.dumps({"threads": th, "name": L["name"], "ms": round(ms, 3),
                                      "torch": torch.__version__}), flush=True)


if __name__ == "__main__":
    main()
