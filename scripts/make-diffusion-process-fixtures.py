#!/usr/bin/env python3
"""Generate the PyTorch reference fixture of the diffusion process (spec §1, §2.3) in
test/fixtures/diffusion/process.json.

Run with Debian's python3 and python3-torch (1.13):

    /usr/bin/python3 scripts/make-diffusion-process-fixtures.py

The formulas are guided-diffusion's as AnoDDPM uses them (schedules in float64 numpy,
coefficients gathered per step and cast to float32, tensor arithmetic in float32):

  schedules.linear64 / cosine64   ᾱ_t, β̃_t, c1, c2 at a few t (T = 1000, float64)
  schedules.linear32              ᾱ_t of the AutoDDPM scheduler (torch.linspace + torch.cumprod, float32)
  step                            one reverse step at t = 200 (σ² = β_t): x_t, ε̂, z → x_{t−1}, x̂_0
  hybrid                          per-image VLB terms in bits (KL for t > 0, discretised-Gaussian NLL
                                  for t = 0) of a batch of 6 images 1×6×6 at t = [0, 0, 1, 37, 200, 999],
                                  x_0 with values at and beyond the ±0.999 edges; the hybrid loss
                                  (batch mean of l2 + vlb) and its gradient with respect to ε̂
"""
import json
import math
import os

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "diffusion", "process.json")
torch.set_num_threads(1)
torch.manual_seed(20261207)
np.random.seed(20261207)

T = 1000
TS = [0, 1, 49, 199, 200, 249, 499, 799, 999]


def linear_betas(n):
    k = 1000 / n
    return np.linspace(k * 0.0001, k * 0.02, n, dtype=np.float64)


def cosine_betas(n):
    f = lambda u: np.cos((u + 0.008) / 1.008 * np.pi / 2) ** 2
    return np.array([min(1 - f((i + 1) / n) / f(i / n), 0.999) for i in range(n)])


class Process:
    """The float64 tables of the reference's GaussianDiffusionModel (fixed-large variance)."""

    def __init__(self, betas):
        self.betas = betas
        alphas = 1 - betas
        self.ac = np.cumprod(alphas)
        self.ac_prev = np.append(1.0, self.ac[:-1])
        self.sqrt_ac = np.sqrt(self.ac)
        self.sqrt_1m_ac = np.sqrt(1 - self.ac)
        self.sqrt_recip = np.sqrt(1 / self.ac)
        self.sqrt_recipm1 = np.sqrt(1 / self.ac - 1)
        self.post_var = betas * (1 - self.ac_prev) / (1 - self.ac)
        self.post_logvar = np.log(np.append(self.post_var[1], self.post_var[1:]))
        self.c1 = betas * np.sqrt(self.ac_prev) / (1 - self.ac)
        self.c2 = (1 - self.ac_prev) * np.sqrt(alphas) / (1 - self.ac)
        self.model_var = np.append(self.post_var[1], betas[1:])
        self.model_logvar = np.log(self.model_var)


def gather(arr, t, shape):
    res = torch.from_numpy(arr)[t].float()
    while res.dim() < len(shape):
        res = res[..., None]
    return res.expand(shape)


def p_mean(p, x_t, t, eps):
    x0 = (gather(p.sqrt_recip, t, x_t.shape) * x_t - gather(p.sqrt_recipm1, t, x_t.shape) * eps).clamp(-1, 1)
    mean = gather(p.c1, t, x_t.shape) * x0 + gather(p.c2, t, x_t.shape) * x_t
    return mean, gather(p.model_logvar, t, x_t.shape), x0


def normal_kl(m1, lv1, m2, lv2):
    return 0.5 * (-1 + lv2 - lv1 + torch.exp(lv1 - lv2) + (m1 - m2) ** 2 * torch.exp(-lv2))


def approx_cdf(x):
    return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3))))


def disc_loglik(x, means, log_scales):
    c = x - means
    inv = torch.exp(-log_scales)
    cdf_plus = approx_cdf(inv * (c + 1.0 / 255.0))
    cdf_min = approx_cdf(inv * (c - 1.0 / 255.0))
    log_cdf_plus = torch.log(cdf_plus.clamp(min=1e-12))
    log_1m_cdf_min = torch.log((1.0 - cdf_min).clamp(min=1e-12))
    delta = cdf_plus - cdf_min
    return torch.where(x < -0.999, log_cdf_plus, torch.where(x > 0.999, log_1m_cdf_min, torch.log(delta.clamp(min=1e-12))))


def mean_flat(x):
    return x.mean(dim=list(range(1, x.dim())))


def vlb(p, x0, xt, t, eps):
    true_mean = gather(p.c1, t, xt.shape) * x0 + gather(p.c2, t, xt.shape) * xt
    true_logvar = gather(p.post_logvar, t, xt.shape)
    mean, logvar, _ = p_mean(p, xt, t, eps)
    kl = mean_flat(normal_kl(true_mean, true_logvar, mean, logvar)) / np.log(2.0)
    nll = mean_flat(-disc_loglik(x0, mean, 0.5 * logvar)) / np.log(2.0)
    return torch.where(t == 0, nll, kl)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def schedule_rows(p):
    return {
        "t": TS,
        "alphasCumprod": [float(p.ac[t]) for t in TS],
        "posteriorVariance": [float(p.post_var[t]) for t in TS],
        "coef1": [float(p.c1[t]) for t in TS],
        "coef2": [float(p.c2[t]) for t in TS],
    }


def main():
    lin = Process(linear_betas(T))
    cos = Process(cosine_betas(T))
    betas32 = torch.linspace(1e-4, 0.02, T, dtype=torch.float32)
    ac32 = torch.cumprod(1.0 - betas32, dim=0)
    out = {
        "schedules": {
            "linear64": schedule_rows(lin),
            "cosine64": schedule_rows(cos),
            "linear32": {"t": TS, "betas": [float(betas32[t]) for t in TS], "alphasCumprod": [float(ac32[t]) for t in TS]},
            "linear64_T100": {"t": [0, 24, 99], "alphasCumprod": [float(Process(linear_betas(100)).ac[t]) for t in [0, 24, 99]]},
        }
    }

    # One reverse step at t = 200, batch 2, 1×4×4 (x_t large enough that some x̂_0 clamp).
    shape = (2, 1, 4, 4)
    xt = torch.randn(shape) * 1.2
    eps = torch.randn(shape)
    z = torch.randn(shape)
    t = torch.tensor([200, 200])
    mean, logvar, x0 = p_mean(lin, xt, t, eps)
    nxt = mean + torch.exp(0.5 * logvar) * z
    t0 = torch.tensor([0, 0])
    mean0, _, x00 = p_mean(lin, xt, t0, eps)
    out["step"] = {"shape": list(shape), "t": 200, "xt": flat(xt), "eps": flat(eps), "z": flat(z), "next": flat(nxt), "x0": flat(x0), "t0x0": flat(x00), "t0next": flat(mean0)}

    # Hybrid loss terms.
    shape = (6, 1, 6, 6)
    x0 = torch.rand(shape) * 2 - 1
    x0[:, :, 0, :3] = -1.0
    x0[:, :, 1, :3] = 1.0
    x0[:, :, 2, 0] = 0.9995
    x0[:, :, 2, 1] = -0.9995
    noise = torch.randn(shape)
    t = torch.tensor([0, 0, 1, 37, 200, 999])
    xt = gather(lin.sqrt_ac, t, shape) * x0 + gather(lin.sqrt_1m_ac, t, shape) * noise
    # ε̂ near the true noise (a partly trained net), so x̂_0 stays mostly inside [−1, 1] and the
    # t = 0 likelihood is not swamped by clamped probabilities; one image far off.
    eps = (noise + 0.05 * torch.randn(shape)).detach()
    eps[3] = torch.randn(shape[1:]) * 2
    eps.requires_grad_(True)
    terms = vlb(lin, x0, xt, t, eps)
    loss = (mean_flat((eps - noise) ** 2) + terms).mean()
    loss.backward()
    out["hybrid"] = {
        "shape": list(shape),
        "t": t.tolist(),
        "x0": flat(x0),
        "xt": flat(xt),
        "noise": flat(noise),
        "eps": flat(eps),
        "vlb": flat(terms),
        "loss": float(loss),
        "grad": flat(eps.grad),
    }
    with open(OUT, "w") as f:
        json.dump(out, f)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
