#!/usr/bin/env python3
"""Generate the coupling-block reference fixtures in test/fixtures/flow/.

Run with Debian's python3, python3-torch (1.13) and python3-scipy:

    /usr/bin/python3 scripts/make-flow-fixtures.py

FrEIA's AllInOneBlock (FrEIA/modules/all_in_one_block.py of 2022-2023, as CFLOW-AD and
FastFlow use it: SOFTPLUS global affine with global_affine_init 1, no GIN, no Householder,
no reverse pre-permutation) and SequenceINN, restated directly in PyTorch (FrEIA is not
needed):

    x1, x2 = split(x, [C − ⌊C/2⌋, ⌊C/2⌋]);  a = 0.1 · subnet(cat(x1, c))
    j = α·tanh(a[:, :C2])    (clamp 'tanh', FrEIA ≤ 2023-03)   or α·tanh(a[:, :C2]/α) ('tanh-scaled')
    y2 = x2·exp(j) + a[:, C2:];  g = 0.1·Softplus(β=0.5)(γ)
    out = W ⋆ (cat(x1, y2)·g + offset)  (F.linear for vectors, a 1×1 F.conv2d for maps)
    log|det J| = Σ j + n_pix·Σ ln g;  the inverse undoes each step, its log-det negated.

Four cases, every tensor stored in full (all are small) in flow.safetensors, described in
flow.json:
  vec_soft         CFlow style: C 7, condition P 3, batch 5, Linear(C1+P → 2(C1+P)) → ReLU →
                   Linear(→ 2·C2), α 1.9, clamp 'tanh', a soft permutation from SciPy's
                   special_ortho_group; loss −logsigmoid(log p / C) averaged (CFlow's get_logp).
  vec_hard_scaled  the same with C 6, P 2, batch 4, a hard permutation, clamp 'tanh-scaled'.
  map_hard_seq     FastFlow style: SequenceINN of two blocks on [2, 5, 4, 3]: Conv 3×3 (C1 → C1)
                   → ReLU → Conv 3×3 (→ 2·C2), then the same with 1×1; α 2, hard, 'tanh';
                   loss mean_b(0.5·Σ z² − log det).
  map_soft_scaled  one block on [2, 4, 3, 3] with a 3×3 subnet, soft, 'tanh-scaled', same loss.
Subnet weights are u·√(24/fan_in) and biases 0.2·u (the hash fill of
make-backbone-fixtures.py, tensor indices 100·case + k); γ = 2·ln(e⁵ − 1) + 2·u (so g ≠ 1) and
offset 0.2·u; x = 3·u(1000 + case), c = 2·u(1100 + case). Per case: the state dict (FrEIA
names), x (and c), the output, log-det, the inverse of the output and its log-det, the loss,
and the gradient of the loss w.r.t. x, c and every trainable parameter.
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
from scipy.stats import special_ortho_group

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "flow")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
backbone_fx = import_module("make-backbone-fixtures")
torch_fx = import_module("make-torch-fixtures")

torch.set_num_threads(1)
GAMMA_INIT = 2.0 * math.log(math.exp(5.0) - 1.0)


class AllInOneBlock(nn.Module):
    """FrEIA AllInOneBlock as in §0.4: names global_scale, global_offset, w_perm, w_perm_inv, subnet."""

    def __init__(self, channels, spatial, cond, subnet, clamp, form, w):
        super().__init__()
        ones = [1] * spatial
        self.C, self.spatial, self.clamp, self.form = channels, spatial, clamp, form
        self.splits = [channels - channels // 2, channels // 2]
        self.global_scale = nn.Parameter(torch.full([1, channels, *ones], GAMMA_INIT))
        self.global_offset = nn.Parameter(torch.zeros([1, channels, *ones]))
        w = torch.as_tensor(w, dtype=torch.float32)
        self.w_perm = nn.Parameter(w.view(channels, channels, *ones).clone(), requires_grad=False)
        self.w_perm_inv = nn.Parameter(w.t().contiguous().view(channels, channels, *ones).clone(), requires_grad=False)
        self.subnet = subnet
        self.conditional = cond > 0

    def permute(self, x, w):
        return F.linear(x, w) if self.spatial == 0 else F.conv2d(x, w)

    def scale(self):
        return 0.1 * F.softplus(self.global_scale, beta=0.5)

    def jac(self, a):
        return self.clamp * torch.tanh(a if self.form == "tanh" else a / self.clamp)

    def forward(self, x, c=None, rev=False):
        g = self.scale()
        n_pix = x[0, :1].numel()
        if rev:
            x = (self.permute(x, self.w_perm_inv) - self.global_offset) / g
        x1, x2 = torch.split(x, self.splits, dim=1)
        a = self.subnet(torch.cat([x1, c], 1) if self.conditional else x1) * 0.1
        ch = self.splits[1]
        j = self.jac(a[:, :ch])
        dims = tuple(range(1, x.dim()))
        if not rev:
            x2 = x2 * torch.exp(j) + a[:, ch:]
            ld = torch.sum(j, dim=dims)
        else:
            x2 = (x2 - a[:, ch:]) * torch.exp(-j)
            ld = -torch.sum(j, dim=dims)
        out = torch.cat((x1, x2), 1)
        if not rev:
            out = self.permute(out * g + self.global_offset, self.w_perm)
        ld = ld + (-1) ** rev * n_pix * torch.sum(torch.log(g))
        return out, ld


class SequenceINN(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.module_list = nn.ModuleList(blocks)

    def forward(self, x, c=None, rev=False):
        ld = 0
        for b in (reversed(self.module_list) if rev else self.module_list):
            x, l = b(x, c, rev)
            ld = ld + l
        return x, ld


def hard_w(C, seed):
    w = np.zeros((C, C))
    for i, j in enumerate(np.random.RandomState(seed).permutation(C)):
        w[i, j] = 1.0
    return w


def soft_w(C, seed):
    return special_ortho_group.rvs(C, random_state=seed)


def linear_subnet(cin, cout):
    return nn.Sequential(nn.Linear(cin, 2 * cin), nn.ReLU(), nn.Linear(2 * cin, cout))


def conv_subnet(k):
    return lambda cin, cout: nn.Sequential(nn.Conv2d(cin, cin, k, padding=k // 2), nn.ReLU(), nn.Conv2d(cin, cout, k, padding=k // 2))


def make_block(C, spatial, P, subnet_fn, clamp, form, w):
    c1, c2 = C - C // 2, C // 2
    return AllInOneBlock(C, spatial, P, subnet_fn(c1 + P, 2 * c2), clamp, form, w)


def fill(model, case_index):
    """Hash-filled subnet (t = 100·case + k), γ = init + 2u, offset 0.2u; w_perm kept."""
    sd = OrderedDict()
    for k, (name, v) in enumerate(model.state_dict().items()):
        leaf = name.rsplit(".", 1)[-1]
        t = 100 * case_index + k
        shape = list(v.shape)
        if leaf in ("w_perm", "w_perm_inv"):
            sd[name] = v
        elif leaf == "global_scale":
            sd[name] = torch.from_numpy((GAMMA_INIT + 2.0 * backbone_fx.hash_u(t, v.numel())).astype(np.float32).reshape(shape))
        elif leaf == "global_offset":
            sd[name] = torch.from_numpy((0.2 * backbone_fx.hash_u(t, v.numel())).astype(np.float32).reshape(shape))
        else:
            sd[name] = backbone_fx.fill_value(t, name, shape)
    model.load_state_dict(sd)


def hashed(t, shape, scale):
    return torch.from_numpy((backbone_fx.hash_u(t, int(np.prod(shape))) * scale).astype(np.float32).reshape(shape))


def cflow_loss(z, ld, C):
    logp = C * -0.9189385332046727 - 0.5 * torch.sum(z ** 2, 1) + ld
    return -F.logsigmoid(logp / C).mean()


def fastflow_loss(z, ld):
    return torch.mean(0.5 * torch.sum(z ** 2, dim=(1, 2, 3)) - ld)


def main():
    os.makedirs(OUT, exist_ok=True)
    tensors = OrderedDict()
    cases = []
    specs = [
        # name, C, P, x shape, blocks [(subnet, clamp, form, w)], loss
        ("vec_soft", 7, 3, [5, 7], [(linear_subnet, 1.9, "tanh", soft_w(7, 1))], "cflow"),
        ("vec_hard_scaled", 6, 2, [4, 6], [(linear_subnet, 1.9, "tanh-scaled", hard_w(6, 2))], "cflow"),
        ("map_hard_seq", 5, 0, [2, 5, 4, 3], [(conv_subnet(3), 2.0, "tanh", hard_w(5, 3)), (conv_subnet(1), 2.0, "tanh", hard_w(5, 4))], "fastflow"),
        ("map_soft_scaled", 4, 0, [2, 4, 3, 3], [(conv_subnet(3), 2.0, "tanh-scaled", soft_w(4, 5))], "fastflow"),
    ]
    for ci, (name, C, P, shape, blocks, loss_kind) in enumerate(specs):
        spatial = len(shape) - 2
        model = SequenceINN([make_block(C, spatial, P, s, a, f, w) for (s, a, f, w) in blocks])
        fill(model, ci + 1)
        x = hashed(1000 + ci, shape, 3.0).requires_grad_(True)
        c = hashed(1100 + ci, [shape[0], P], 2.0).requires_grad_(True) if P else None
        z, ld = model(x, c)
        xi, ldi = model(z.detach(), None if c is None else c.detach(), rev=True)
        loss = cflow_loss(z, ld, C) if loss_kind == "cflow" else fastflow_loss(z, ld)
        params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        wrt = [x] + ([c] if c is not None else []) + [p for _, p in params]
        grads = torch.autograd.grad(loss, wrt)
        keys = {}

        def put(role, t):
            key = f"{name}/{role}"
            tensors[key] = t.detach().clone().float()
            keys[role] = key

        for n, v in model.state_dict().items():
            put("state/" + n, v)
        put("x", x)
        if c is not None:
            put("c", c)
        put("z", z)
        put("logdet", ld)
        put("x_inv", xi)
        put("logdet_inv", ldi)
        put("loss", loss.reshape([1]))
        put("grad/x", grads[0])
        if c is not None:
            put("grad/c", grads[1])
        for (n, _), g in zip(params, grads[len(wrt) - len(params):]):
            put("grad/" + n, g)
        cases.append({
            "name": name, "channels": C, "condChannels": P, "shape": shape, "loss": loss_kind,
            "blocks": [{"clamp": a, "clampForm": f, "kernel": (s(1, 1)[0].kernel_size[0] if spatial else None),
                        "permuteSoft": bool(np.any((np.abs(w) > 0) & (np.abs(w) < 1)))} for (s, a, f, w) in blocks],
            "stateKeys": list(model.state_dict().keys()),
            "tensors": keys,
        })
    torch_fx.save_safetensors(os.path.join(OUT, "flow.safetensors"), tensors, {"torch": torch.__version__})
    with open(os.path.join(OUT, "flow.json"), "w") as f:
        json.dump({"torch": torch.__version__, "file": "flow.safetensors", "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases, {len(tensors)} tensors to {OUT}")


if __name__ == "__main__":
    main()
