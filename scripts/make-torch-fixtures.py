#!/usr/bin/env python3
"""Generate the PyTorch reference fixtures in test/fixtures/torch/.

Run with Debian's python3 and python3-torch (1.13):

    /usr/bin/python3 scripts/make-torch-fixtures.py

Writes
  ops.safetensors         forward/backward of single ops (conv, transposed conv, norms,
                          resampling, pooling, linear) for a fixed upstream gradient
  optim.safetensors       parameter trajectories of Adam / SGD for fixed gradient sequences
  unified-ae.safetensors  the unified AE (methods.md §4.1): seeded state dict, a fixed batch,
                          train-mode output, MSE loss, every parameter gradient, the parameters
                          after one Adam step (lr 1e-3), running stats after the step, and the
                          eval-mode output of the stepped model
  index.json              what each case is: op, arguments, and the tensor names in the files

The safetensors files are written with struct + json (the format is an 8-byte little-endian
header length, a JSON header, then the raw bytes), so the `safetensors` package is not needed.
Everything is float32 except num_batches_tracked (int64), as PyTorch stores it.
"""
import copy
import json
import os
import struct
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "torch")

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32"}

# The two 1024×1024 bottleneck weights dominate the AE's size. Their values after the Adam step
# are stored at every SUBSAMPLE-th element only (flat index 0, S, 2S, ...) so that the committed
# fixtures stay well under 25 MB; the initial values and gradients are stored in full.
SUBSAMPLE = 16
SUBSAMPLED = ("enc_mlp.0.weight", "dec_mlp.3.weight")


def save_safetensors(path, tensors, metadata=None):
    """Write an ordered dict name -> tensor as safetensors (header padded to 8 bytes)."""
    header = OrderedDict()
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = t.numpy().tobytes()  # numpy is little-endian on every platform we run on
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


class Store:
    """Collects tensors for one file and the index entries that describe them."""

    def __init__(self, file):
        self.file = file
        self.tensors = OrderedDict()

    def put(self, case, role, t):
        key = f"{case}/{role}"
        assert key not in self.tensors, key
        self.tensors[key] = t.detach().clone()
        return key


def leaf(shape, scale=1.0):
    return (torch.randn(*shape) * scale).requires_grad_(True)


def record(store, cases, case, op, args, inputs, fn, extra_outputs=None):
    """Run fn(**inputs) with a fixed random upstream gradient; store inputs, y, gy and grads."""
    y = fn(**inputs)
    gy = torch.randn_like(y)
    diff = [t for t in inputs.values() if isinstance(t, torch.Tensor) and t.requires_grad]
    grads = torch.autograd.grad(y, diff, gy, allow_unused=False)
    names = {}
    for role, t in inputs.items():
        if isinstance(t, torch.Tensor):
            names[role] = store.put(case, role, t)
    names["y"] = store.put(case, "y", y)
    names["gy"] = store.put(case, "gy", gy)
    gi = 0
    for role, t in inputs.items():
        if isinstance(t, torch.Tensor) and t.requires_grad:
            names["g" + role] = store.put(case, "g" + role, grads[gi])
            gi += 1
    for role, t in (extra_outputs or {}).items():
        names[role] = store.put(case, role, t)
    cases.append({"name": case, "op": op, "file": store.file, "args": args, "tensors": names})


def conv_cases(store, cases):
    # (case, input shape, weight shape, bias, args) — the geometries the networks use, plus
    # dilation and groups for generality.
    conv = [
        ("conv2d/k4s2p1", (2, 3, 10, 9), (5, 3, 4, 4), False, dict(stride=2, padding=1)),  # unified AE encoder
        ("conv2d/k3s1p1", (2, 4, 7, 6), (6, 4, 3, 3), False, dict(stride=1, padding=1)),  # AE depth > 1, ResNet
        ("conv2d/k3p0_bias", (1, 3, 8, 8), (4, 3, 3, 3), True, dict()),  # U-Net conv after reflection pad
        ("conv2d/k7s2p3", (1, 2, 15, 14), (4, 2, 7, 7), False, dict(stride=2, padding=3)),  # ResNet stem
        ("conv2d/k1s2", (2, 4, 7, 7), (6, 4, 1, 1), False, dict(stride=2)),  # ResNet shortcut
        ("conv2d/k1_bias", (2, 5, 4, 3), (2, 5, 1, 1), True, dict()),  # U-Net head, AE-Spatial
        ("conv2d/k3d2p2", (1, 2, 9, 10), (3, 2, 3, 3), True, dict(padding=2, dilation=2)),
        ("conv2d/k3g2s2p1", (2, 4, 9, 8), (6, 2, 3, 3), True, dict(stride=2, padding=1, groups=2)),
        ("conv2d/k3s21p10", (1, 2, 7, 8), (3, 2, 3, 2), True, dict(stride=(2, 1), padding=(1, 0))),
    ]
    for case, xs, ws, has_b, args in conv:
        inputs = {"x": leaf(xs), "weight": leaf(ws, 0.3)}
        if has_b:
            inputs["bias"] = leaf((ws[0],), 0.3)
        record(store, cases, case, "conv2d", args, inputs, lambda x, weight, bias=None: F.conv2d(x, weight, bias, **args))

    # Conv2d(padding_mode='reflect'): PyTorch reflects the input, then convolves without padding.
    args = dict(padding=1, paddingMode="reflect")
    inputs = {"x": leaf((2, 3, 6, 7)), "weight": leaf((4, 3, 3, 3), 0.3), "bias": leaf((4,), 0.3)}
    record(store, cases, "conv2d/k3p1_reflect", "conv2d", args, inputs,
           lambda x, weight, bias: F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), weight, bias))

    tconv = [
        ("conv_transpose2d/k4s2p1", (2, 5, 4, 3), (5, 3, 4, 4), False, dict(stride=2, padding=1)),  # AE decoder
        ("conv_transpose2d/k2s2_bias", (2, 4, 3, 4), (4, 2, 2, 2), True, dict(stride=2)),  # U-Net up
        ("conv_transpose2d/k3s2p1op1", (1, 4, 4, 5), (4, 3, 3, 3), False, dict(stride=2, padding=1, output_padding=1)),
        ("conv_transpose2d/k1s2op1", (2, 3, 4, 4), (3, 2, 1, 1), False, dict(stride=2, output_padding=1)),  # shortcut
        ("conv_transpose2d/k7s2p3op1", (1, 2, 5, 4), (2, 1, 7, 7), False, dict(stride=2, padding=3, output_padding=1)),
        ("conv_transpose2d/k3g2d2", (1, 4, 5, 5), (4, 3, 3, 3), True, dict(stride=2, padding=1, dilation=2, groups=2)),
    ]
    for case, xs, ws, has_b, args in tconv:
        inputs = {"x": leaf(xs), "weight": leaf(ws, 0.3)}
        if has_b:
            groups = args.get("groups", 1)
            inputs["bias"] = leaf((ws[1] * groups,), 0.3)
        a = {("outputPadding" if k == "output_padding" else k): v for k, v in args.items()}
        record(store, cases, case, "conv_transpose2d", a, inputs,
               lambda x, weight, bias=None: F.conv_transpose2d(x, weight, bias, **args))


def norm_cases(store, cases):
    for dims, xs in (("2d", (4, 3, 5, 6)), ("1d", (6, 5))):
        c = xs[1]
        for training in (True, False):
            case = f"batch_norm{dims}/{'train' if training else 'eval'}"
            rm = torch.randn(c) * 0.5
            rv = torch.rand(c) + 0.5
            rm_after, rv_after = rm.clone(), rv.clone()
            inputs = {"x": leaf(xs, 2.0) + 0.5, "weight": leaf((c,)), "bias": leaf((c,))}
            inputs["x"] = inputs["x"].detach().requires_grad_(True)

            def fn(x, weight, bias, rm_after=rm_after, rv_after=rv_after, training=training):
                return F.batch_norm(x, rm_after, rv_after, weight, bias, training=training, momentum=0.1, eps=1e-5)

            y = fn(**inputs)  # run once to get the running stats after one call
            rm_after2, rv_after2 = rm_after.clone(), rv_after.clone()
            rm_after.copy_(rm)
            rv_after.copy_(rv)
            record(store, cases, case, "batch_norm", {"training": training, "momentum": 0.1, "eps": 1e-5}, inputs, fn,
                   {"running_mean": rm, "running_var": rv, "running_mean_after": rm_after2, "running_var_after": rv_after2})

    for case, xs, g in (("group_norm/c8g4", (2, 8, 5, 4), 4), ("group_norm/c6g1", (3, 6, 3, 3), 1), ("group_norm/c4g4_2d", (2, 4, 7, 1), 4)):
        inputs = {"x": leaf(xs, 1.5), "weight": leaf((xs[1],)), "bias": leaf((xs[1],))}
        record(store, cases, case, "group_norm", {"numGroups": g, "eps": 1e-5}, inputs,
               lambda x, weight, bias, g=g: F.group_norm(x, g, weight, bias, 1e-5))


def resample_cases(store, cases):
    interp = [
        ("interpolate/bilinear_up_ac", (2, 2, 5, 4), dict(size=(9, 7), mode="bilinear", align_corners=True)),
        ("interpolate/bilinear_up", (2, 2, 5, 4), dict(size=(9, 7), mode="bilinear", align_corners=False)),
        ("interpolate/bilinear_down_ac", (1, 3, 9, 8), dict(size=(4, 5), mode="bilinear", align_corners=True)),
        ("interpolate/bilinear_down", (1, 3, 9, 8), dict(size=(4, 5), mode="bilinear", align_corners=False)),
        ("interpolate/bilinear_x2_ac", (1, 2, 4, 4), dict(scale_factor=2, mode="bilinear", align_corners=True)),  # ResNet enc-dec
        ("interpolate/bilinear_x1.5", (1, 1, 5, 6), dict(scale_factor=1.5, mode="bilinear", align_corners=False)),
        ("interpolate/nearest_up", (2, 2, 3, 5), dict(size=(7, 8), mode="nearest")),
        ("interpolate/nearest_down", (1, 2, 9, 7), dict(size=(4, 3), mode="nearest")),
        ("interpolate/nearest_x2", (1, 1, 3, 4), dict(scale_factor=2, mode="nearest")),
    ]
    for case, xs, args in interp:
        a = {"mode": args["mode"]}
        if "size" in args:
            a["size"] = list(args["size"])
        if "scale_factor" in args:
            a["scaleFactor"] = args["scale_factor"]
        if "align_corners" in args:
            a["alignCorners"] = args["align_corners"]
        record(store, cases, case, "interpolate", a, {"x": leaf(xs)}, lambda x, args=args: F.interpolate(x, **args))

    pools = [
        ("max_pool2d/k3s2p1", (2, 2, 7, 8), "max_pool2d", dict(kernel_size=3, stride=2, padding=1)),  # ResNet stem
        ("max_pool2d/k2", (1, 3, 6, 6), "max_pool2d", dict(kernel_size=2)),
        ("avg_pool2d/k2", (2, 2, 6, 8), "avg_pool2d", dict(kernel_size=2)),  # U-Net down
        ("avg_pool2d/k3s2p1", (1, 2, 7, 7), "avg_pool2d", dict(kernel_size=3, stride=2, padding=1)),
        ("adaptive_avg_pool2d/1", (2, 3, 5, 7), "adaptive_avg_pool2d", dict(output_size=1)),  # ResNet head
        ("adaptive_avg_pool2d/3x2", (1, 2, 7, 5), "adaptive_avg_pool2d", dict(output_size=(3, 2))),
    ]
    for case, xs, op, args in pools:
        a = {("kernelSize" if k == "kernel_size" else "outputSize" if k == "output_size" else k): (list(v) if isinstance(v, tuple) else v)
             for k, v in args.items()}
        record(store, cases, case, op, a, {"x": leaf(xs)}, lambda x, op=op, args=args: getattr(F, op)(x, **args))

    inputs = {"x": leaf((3, 5, 7)), "weight": leaf((4, 7), 0.4), "bias": leaf((4,), 0.4)}
    record(store, cases, "linear/3d", "linear", {}, inputs, lambda x, weight, bias: F.linear(x, weight, bias))


def optim_cases(index):
    """Adam / SGD trajectories for fixed gradient sequences, and LR schedules."""
    store = Store("optim.safetensors")
    cases = []
    steps = 5
    p0 = torch.randn(11)
    grads = [torch.randn(11) for _ in range(steps)]
    configs = [
        ("adam/default", "Adam", dict(lr=1e-2)),
        ("adam/wd_amsgrad", "Adam", dict(lr=5e-3, betas=(0.8, 0.95), eps=1e-6, weight_decay=0.1, amsgrad=True)),
        ("sgd/plain", "SGD", dict(lr=0.1)),
        ("sgd/momentum", "SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
        ("sgd/nesterov", "SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.02)),
    ]
    store.put("common", "p0", p0)
    for t, g in enumerate(grads):
        store.put("common", f"grad{t}", g)
    for case, cls, kw in configs:
        p = nn.Parameter(p0.clone())
        opt = getattr(torch.optim, cls)([p], **kw)
        names = {}
        for t, g in enumerate(grads):
            p.grad = g.clone()
            opt.step()
            names[f"p{t + 1}"] = store.put(case, f"p{t + 1}", p)
        args = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()}
        cases.append({"name": case, "optimizer": cls, "args": args, "steps": steps, "tensors": names})
    save_safetensors(os.path.join(OUT, store.file), store.tensors, {"format": "pt"})

    schedules = []
    for name, cls, kw, epochs in (
        ("cosine", "CosineAnnealingLR", dict(T_max=10, eta_min=1e-4), 25),
        ("cosine_no_min", "CosineAnnealingLR", dict(T_max=7), 9),
        ("warm_restarts", "CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=1e-3), 20),
        ("warm_restarts_t1", "CosineAnnealingWarmRestarts", dict(T_0=4), 10),
    ):
        p = nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=0.1)
        sched = getattr(torch.optim.lr_scheduler, cls)(opt, **kw)
        lrs = [opt.param_groups[0]["lr"]]
        for _ in range(epochs):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        schedules.append({"name": name, "scheduler": cls, "baseLr": 0.1, "args": kw, "lrs": lrs})
    index["optim"] = {"file": store.file, "cases": cases, "grads": [f"common/grad{t}" for t in range(steps)],
                      "p0": "common/p0", "schedules": schedules}


# ---- the unified AE (methods.md §4.1): the module scripts/torch_ae_step.py defines and times ----

from torch_ae_step import UnifiedAE  # noqa: E402  (scripts/ is sys.path[0] when this file runs)


# Gradients through a ReLU are discontinuous at 0: an input within float32 rounding of zero can
# fall on either side in another implementation, and one such flip changes every gradient
# upstream of it by ~1e-3 (batch norm spreads it over the channel). The batch is therefore
# chosen so that no ReLU input of the training-mode forward lies within RELU_MARGIN of zero
# (the BN outputs before each ReLU are O(1), rounding differences O(1e-6)).
RELU_MARGIN = 1e-5


def relu_margin(model, x):
    """Smallest |input| of any ReLU in a training-mode forward of a copy of the model."""
    m = copy.deepcopy(model).train()
    smallest = [float("inf")]

    def hook(_module, inputs):
        smallest[0] = min(smallest[0], inputs[0].detach().abs().min().item())

    for layer in m.modules():
        if isinstance(layer, nn.ReLU):
            layer.register_forward_pre_hook(hook)
    with torch.no_grad():
        m(x)
    return smallest[0]


CURVE_STEPS = 10


def loss_curve(model, x, steps):
    """The training loss of `steps` consecutive Adam steps on one batch: the per-step loss
    curve a training loop must reproduce from the same state."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.mse_loss(model(x), x)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def unified_ae(index):
    torch.manual_seed(1234)
    config = dict(in_c=1, latent=16, hidden=1024, size=64)
    model = UnifiedAE(**config)
    for batch_seed in range(1000):
        x = torch.randn(8, 1, 64, 64, generator=torch.Generator().manual_seed(batch_seed))
        margin = relu_margin(model, x)
        if margin > RELU_MARGIN:
            break
    else:
        raise RuntimeError("no batch keeps every ReLU input away from zero")
    tensors = OrderedDict()
    for k, v in model.state_dict().items():
        tensors["init/" + k] = v.clone()
    tensors["x"] = x
    curve = loss_curve(copy.deepcopy(model), x, CURVE_STEPS)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    opt.zero_grad()
    out = model(x)
    loss = F.mse_loss(out, x)
    loss.backward()
    tensors["out"] = out.detach()
    tensors["loss"] = loss.detach().reshape(())
    for k, p in model.named_parameters():
        tensors["grad/" + k] = p.grad.clone()
    opt.step()
    sub = {}
    for k, v in model.state_dict().items():
        if k in SUBSAMPLED:
            tensors["step/" + k] = v.flatten()[::SUBSAMPLE].clone()
            sub[k] = SUBSAMPLE
        else:
            tensors["step/" + k] = v.clone()
    model.eval()
    with torch.no_grad():
        tensors["eval_out"] = model(x)
    file = "unified-ae.safetensors"
    save_safetensors(os.path.join(OUT, file), tensors, {"format": "pt"})
    index["unified_ae"] = {
        "file": file,
        "config": {"inChannels": 1, "latent": 16, "hidden": 1024, "size": 64},
        "params": sum(p.numel() for p in model.parameters()),
        "stateKeys": list(model.state_dict().keys()),
        "adam": {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8},
        "loss": "mse (mean) between the train-mode output and the input",
        "batchSeed": batch_seed,
        "lossCurve": curve,
        "lossCurveNote": f"train-mode MSE before each of {CURVE_STEPS} Adam steps (lr 1e-3) on the batch x, from the init state",
        "reluMargin": margin,
        "prefixes": {"init": "state dict before training", "grad": "parameter gradients",
                     "step": "state dict after one Adam step (running stats updated by the forward)"},
        "subsampled": {"stride": SUBSAMPLE, "keys": list(SUBSAMPLED),
                       "note": "step/<key> holds flat elements 0, stride, 2*stride, ... of these keys"},
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    index = {"generator": "scripts/make-torch-fixtures.py", "torch": torch.__version__}
    store = Store("ops.safetensors")
    cases = []
    conv_cases(store, cases)
    norm_cases(store, cases)
    resample_cases(store, cases)
    save_safetensors(os.path.join(OUT, store.file), store.tensors, {"format": "pt"})
    index["ops"] = cases
    torch.manual_seed(1)
    optim_cases(index)
    unified_ae(index)
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {OUT}: {total / 1e6:.1f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
