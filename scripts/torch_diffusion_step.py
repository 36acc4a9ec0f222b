#!/usr/bin/env python3
"""PyTorch anchor for bench/diffusion.ts: a training step and a denoising step of the two diffusion
U-Nets of AnoDDPM (Julian-Wyatt/AnoDDPM UNet.py) and AutoDDPM (ci-ber/autoDDPM, MONAI-style), written directly in PyTorch.

anoddpm  Julian-Wyatt/AnoDDPM UNet.py (spec §2.1): the guided-diffusion U-Net with base channels C
         (default 128), channel multipliers by image size, 2 res blocks per level, attention at
         32², 16², 8² with one head ("legacy" [q|k|v]-per-head qkv layout), BigGAN up/down
         ResBlocks (nearest ×2 / avg-pool 2×2 inside the block), sin|cos timestep embedding.
monai    ci-ber/autoDDPM net_utils/diffusion_unet.py (spec §3.1): MONAI's DiffusionModelUNet with
         channels (128, 256, 256), attention (F, T, T), 1 res block, 256 channels per head,
         GroupNorm eps 1e-6, cos|sin timestep embedding, stride-2 conv down, nearest + conv up,
         and the copy's quirk: proj_attn is built but never applied.

Steps (the same on the bench's side):
  train    t ~ U{0..999} per image, n ~ N(0, I), x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) n (linear schedule,
           T = 1000, float64 gathered as float32), ε̂ = net(x_t, t), loss, zero_grad, backward,
           optimiser step. anoddpm: l2 per image then batch mean, clip_grad_norm_ 1.0, AdamW(1e-4,
           weight decay 0) (spec §2.3); monai: MSE over all elements, Adam(1e-4) (spec §3.3).
  denoise  one reverse step of the batch at one level under no_grad: ε̂ = net(x, t), x̂_0 clamped,
           posterior mean, + σ_t z (anoddpm: t = 249, σ² = β_t; monai: t = 200, σ² = β̃_t) — the
           first step of partial diffusion at the methods' default levels.

Weights are PyTorch's default initialisation with the zero-initialised layers (time does not
depend on the values). Run with Debian's python3 (python3-torch 1.13) and OMP_NUM_THREADS /
OPENBLAS_NUM_THREADS set to the thread count (bench/torch-child.ts does that):

  torch_diffusion_step.py --mode once --net anoddpm --size 64 --pass train --batch 2 --steps 1
  torch_diffusion_step.py --mode serve --threads 1
  torch_diffusion_step.py --mode memory --net anoddpm --size 128 --batch 8 --steps 1
  torch_diffusion_step.py --mode params

serve: one JSON request per line on stdin, {"net", "size", "batch", "pass": "train"|"denoise",
  "steps": k, "warmup": w}; the model of (net, size) is built the first time it is asked (one at a
  time), w untimed steps then k timed ones; answers {"ms": best wall, "cpu_ms": best process CPU
  time (all threads), "all_ms", "params", "torch"}.
memory: a fresh process's resident high-water mark (getrusage) around `steps` training steps,
  {"baseMB", "readyMB", "peakMB", "torch"} (bench/memory.ts's footing).
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

T_STEPS = 1000

# ---------------------------------------------------------------- AnoDDPM UNet.py


def zero_module(m):
    for p in m.parameters():
        p.detach().zero_()
    return m


class GroupNorm32(nn.GroupNorm):
    def forward(self, x):
        return super().forward(x.float()).type(x.dtype)


class PositionalEmbedding(nn.Module):
    def __init__(self, dim, scale=1):
        super().__init__()
        self.dim, self.scale = dim, scale

    def forward(self, x):
        half = self.dim // 2
        emb = math.log(10000) / half
        emb = torch.exp(torch.arange(half, device=x.device) * -emb)
        emb = torch.outer(x * self.scale, emb)
        return torch.cat((emb.sin(), emb.cos()), dim=-1)


class AvgDown(nn.Module):
    def forward(self, x):
        return F.avg_pool2d(x, 2, 2)


class NearestUp(nn.Module):
    def forward(self, x):
        return F.interpolate(x, scale_factor=2, mode="nearest")


class QKVAttention(nn.Module):
    def __init__(self, n_heads):
        super().__init__()
        self.n_heads = n_heads

    def forward(self, qkv):
        bs, width, length = qkv.shape
        ch = width // (3 * self.n_heads)
        q, k, v = qkv.reshape(bs * self.n_heads, ch * 3, length).split(ch, dim=1)
        scale = 1 / math.sqrt(math.sqrt(ch))
        weight = torch.einsum("bct,bcs->bts", q * scale, k * scale)
        weight = torch.softmax(weight.float(), dim=-1).type(weight.dtype)
        a = torch.einsum("bts,bcs->bct", weight, v)
        return a.reshape(bs, -1, length)


class AnoAttentionBlock(nn.Module):
    def __init__(self, in_channels, n_heads=1, n_head_channels=-1):
        super().__init__()
        self.norm = GroupNorm32(32, in_channels)
        self.num_heads = n_heads if n_head_channels == -1 else in_channels // n_head_channels
        self.to_qkv = nn.Conv1d(in_channels, in_channels * 3, 1)
        self.attention = QKVAttention(self.num_heads)
        self.proj_out = zero_module(nn.Conv1d(in_channels, in_channels, 1))

    def forward(self, x, time=None):
        b, c, *spatial = x.shape
        x = x.reshape(b, c, -1)
        h = self.proj_out(self.attention(self.to_qkv(self.norm(x))))
        return (x + h).reshape(b, c, *spatial)


class AnoResBlock(nn.Module):
    def __init__(self, in_channels, time_embed_dim, dropout, out_channels=None, up=False, down=False):
        super().__init__()
        out_channels = out_channels or in_channels
        self.in_layers = nn.Sequential(GroupNorm32(32, in_channels), nn.SiLU(), nn.Conv2d(in_channels, out_channels, 3, padding=1))
        self.updown = up or down
        if up:
            self.h_upd, self.x_upd = NearestUp(), NearestUp()
        elif down:
            self.h_upd, self.x_upd = AvgDown(), AvgDown()
        else:
            self.h_upd = self.x_upd = nn.Identity()
        self.embed_layers = nn.Sequential(nn.SiLU(), nn.Linear(time_embed_dim, out_channels))
        self.out_layers = nn.Sequential(
            GroupNorm32(32, out_channels), nn.SiLU(), nn.Dropout(p=dropout), zero_module(nn.Conv2d(out_channels, out_channels, 3, padding=1))
        )
        self.skip_connection = nn.Identity() if out_channels == in_channels else nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x, time_embed):
        if self.updown:
            in_rest, in_conv = self.in_layers[:-1], self.in_layers[-1]
            h = in_rest(x)
            h = self.h_upd(h)
            x = self.x_upd(x)
            h = in_conv(h)
        else:
            h = self.in_layers(x)
        emb_out = self.embed_layers(time_embed).type(h.dtype)
        while len(emb_out.shape) < len(h.shape):
            emb_out = emb_out[..., None]
        h = self.out_layers(h + emb_out)
        return self.skip_connection(x) + h


class TimestepEmbedSequential(nn.Sequential):
    def forward(self, x, emb):
        for layer in self:
            x = layer(x, emb) if isinstance(layer, (AnoResBlock, AnoAttentionBlock)) else layer(x)
        return x


ANODDPM_MULTS = {512: (0.5, 1, 1, 2, 2, 4, 4), 256: (1, 1, 2, 2, 4, 4), 128: (1, 1, 2, 3, 4), 64: (1, 2, 3, 4), 32: (1, 2, 3, 4)}


class AnoDDPMUNet(nn.Module):
    def __init__(self, img_size, base_channels=128, n_heads=1, n_head_channels=-1, channel_mults=None, num_res_blocks=2, dropout=0,
                 attention_resolutions="32,16,8", in_channels=1):
        super().__init__()
        if channel_mults is None:
            if img_size not in ANODDPM_MULTS:
                raise ValueError(f"anoddpm: no default channel multipliers for size {img_size}")
            channel_mults = ANODDPM_MULTS[img_size]
        attention_ds = [img_size // int(r) for r in attention_resolutions.split(",")]
        ted = base_channels * 4
        self.time_embedding = nn.Sequential(PositionalEmbedding(base_channels, 1), nn.Linear(base_channels, ted), nn.SiLU(), nn.Linear(ted, ted))
        ch = int(channel_mults[0] * base_channels)
        self.down = nn.ModuleList([TimestepEmbedSequential(nn.Conv2d(in_channels, base_channels, 3, padding=1))])
        channels, ds = [ch], 1
        for i, mult in enumerate(channel_mults):
            for _ in range(num_res_blocks):
                layers = [AnoResBlock(ch, ted, dropout, out_channels=int(base_channels * mult))]
                ch = int(base_channels * mult)
                if ds in attention_ds:
                    layers.append(AnoAttentionBlock(ch, n_heads, n_head_channels))
                self.down.append(TimestepEmbedSequential(*layers))
                channels.append(ch)
            if i != len(channel_mults) - 1:
                self.down.append(TimestepEmbedSequential(AnoResBlock(ch, ted, dropout, out_channels=ch, down=True)))
                ds *= 2
                channels.append(ch)
        self.middle = TimestepEmbedSequential(AnoResBlock(ch, ted, dropout), AnoAttentionBlock(ch, n_heads, n_head_channels), AnoResBlock(ch, ted, dropout))
        self.up = nn.ModuleList([])
        for i, mult in reversed(list(enumerate(channel_mults))):
            for j in range(num_res_blocks + 1):
                inp = channels.pop()
                layers = [AnoResBlock(ch + inp, ted, dropout, out_channels=int(base_channels * mult))]
                ch = int(base_channels * mult)
                if ds in attention_ds:
                    layers.append(AnoAttentionBlock(ch, n_heads, n_head_channels))
                if i and j == num_res_blocks:
                    layers.append(AnoResBlock(ch, ted, dropout, out_channels=ch, up=True))
                    ds //= 2
                self.up.append(TimestepEmbedSequential(*layers))
        self.out = nn.Sequential(GroupNorm32(32, ch), nn.SiLU(), zero_module(nn.Conv2d(int(base_channels * channel_mults[0]), in_channels, 3, padding=1)))

    def forward(self, x, time):
        emb = self.time_embedding(time)
        skips, h = [], x
        for module in self.down:
            h = module(h, emb)
            skips.append(h)
        h = self.middle(h, emb)
        for module in self.up:
            h = module(torch.cat([h, skips.pop()], dim=1), emb)
        return self.out(h)


# ---------------------------------------------------------------- MONAI DiffusionModelUNet (ci-ber/autoDDPM copy)


def get_timestep_embedding(timesteps, embedding_dim, max_period=10000):
    half = embedding_dim // 2
    exponent = -math.log(max_period) * torch.arange(start=0, end=half, dtype=torch.float32, device=timesteps.device)
    freqs = torch.exp(exponent / half)
    args = timesteps[:, None].float() * freqs[None, :]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if embedding_dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb


class MonaiResnetBlock(nn.Module):
    def __init__(self, in_channels, out_channels, temb_channels, groups=32, eps=1e-6):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_channels, eps=eps, affine=True)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb_channels, out_channels)
        self.norm2 = nn.GroupNorm(groups, out_channels, eps=eps, affine=True)
        self.conv2 = zero_module(nn.Conv2d(out_channels, out_channels, 3, padding=1))
        self.skip_connection = nn.Identity() if out_channels == in_channels else nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(emb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip_connection(x) + h


class MonaiAttentionBlock(nn.Module):
    def __init__(self, num_channels, num_head_channels, groups=32, eps=1e-6):
        super().__init__()
        self.num_heads = num_channels // num_head_channels if num_head_channels is not None else 1
        self.scale = 1 / math.sqrt(num_channels / self.num_heads)
        self.norm = nn.GroupNorm(groups, num_channels, eps=eps, affine=True)
        self.to_q = nn.Linear(num_channels, num_channels)
        self.to_k = nn.Linear(num_channels, num_channels)
        self.to_v = nn.Linear(num_channels, num_channels)
        self.proj_attn = nn.Linear(num_channels, num_channels)  # built, never applied (the copy's quirk)

    def heads_to_batch(self, x):
        b, s, d = x.shape
        return x.reshape(b, s, self.num_heads, d // self.num_heads).permute(0, 2, 1, 3).reshape(b * self.num_heads, s, d // self.num_heads)

    def batch_to_heads(self, x):
        b, s, d = x.shape
        return x.reshape(b // self.num_heads, self.num_heads, s, d).permute(0, 2, 1, 3).reshape(b // self.num_heads, s, d * self.num_heads)

    def forward(self, x):
        residual = x
        b, c, hgt, wid = x.shape
        x = self.norm(x).view(b, c, hgt * wid).transpose(1, 2)
        q, k, v = (self.heads_to_batch(f(x)) for f in (self.to_q, self.to_k, self.to_v))
        scores = torch.baddbmm(torch.empty(q.shape[0], q.shape[1], k.shape[1], dtype=q.dtype), q, k.transpose(-1, -2), beta=0, alpha=self.scale)
        x = torch.bmm(scores.softmax(dim=-1), v)
        x = self.batch_to_heads(x).transpose(-1, -2).reshape(b, c, hgt, wid)
        return x + residual


class MonaiUNet(nn.Module):
    def __init__(self, channels=1, num_channels=(128, 256, 256), attention_levels=(False, True, True), num_res_blocks=1, num_head_channels=256,
                 groups=32, eps=1e-6):
        super().__init__()
        nc, ted = list(num_channels), num_channels[0] * 4
        self.nc0 = nc[0]
        self.conv_in = nn.Conv2d(channels, nc[0], 3, padding=1)
        self.time_embed = nn.Sequential(nn.Linear(nc[0], ted), nn.SiLU(), nn.Linear(ted, ted))
        self.down = nn.ModuleList()
        out_ch = nc[0]
        for i in range(len(nc)):
            in_ch, out_ch = out_ch, nc[i]
            blocks = nn.ModuleList()
            for r in range(num_res_blocks):
                blocks.append(MonaiResnetBlock(in_ch if r == 0 else out_ch, out_ch, ted, groups, eps))
                if attention_levels[i]:
                    blocks.append(MonaiAttentionBlock(out_ch, num_head_channels, groups, eps))
            if i != len(nc) - 1:
                blocks.append(nn.Conv2d(out_ch, out_ch, 3, stride=2, padding=1))
            self.down.append(blocks)
        self.mid = nn.ModuleList([MonaiResnetBlock(nc[-1], nc[-1], ted, groups, eps), MonaiAttentionBlock(nc[-1], num_head_channels, groups, eps),
                                  MonaiResnetBlock(nc[-1], nc[-1], ted, groups, eps)])
        rev, rev_attn = list(reversed(nc)), list(reversed(attention_levels))
        self.up = nn.ModuleList()
        out_ch = rev[0]
        for i in range(len(rev)):
            prev, out_ch, in_ch = out_ch, rev[i], rev[min(i + 1, len(rev) - 1)]
            blocks = nn.ModuleList()
            n = num_res_blocks + 1
            for r in range(n):
                skip = in_ch if r == n - 1 else out_ch
                blocks.append(MonaiResnetBlock((prev if r == 0 else out_ch) + skip, out_ch, ted, groups, eps))
                if rev_attn[i]:
                    blocks.append(MonaiAttentionBlock(out_ch, num_head_channels, groups, eps))
            if i != len(rev) - 1:
                blocks.append(nn.Sequential(NearestUp(), nn.Conv2d(out_ch, out_ch, 3, padding=1)))
            self.up.append(blocks)
        self.out = nn.Sequential(nn.GroupNorm(groups, nc[0], eps=eps, affine=True), nn.SiLU(), zero_module(nn.Conv2d(nc[0], channels, 3, padding=1)))

    def forward(self, x, timesteps):
        emb = self.time_embed(get_timestep_embedding(timesteps, self.nc0).to(dtype=x.dtype))
        h = self.conv_in(x)
        skips = [h]  # MONAI's down_block_res_samples: conv_in, each res (+ attention) output, each downsampler output
        for blocks in self.down:
            for j, m in enumerate(blocks):
                if isinstance(m, MonaiResnetBlock):
                    h = m(h, emb)
                    if j + 1 < len(blocks) and isinstance(blocks[j + 1], MonaiAttentionBlock):
                        continue
                else:
                    h = m(h)
                skips.append(h)
        h = self.mid[2](self.mid[1](self.mid[0](h, emb)), emb)
        for blocks in self.up:
            for m in blocks:
                h = m(torch.cat([h, skips.pop()], dim=1), emb) if isinstance(m, MonaiResnetBlock) else m(h)
        return self.out(h)


# ---------------------------------------------------------------- steps


def linear_schedule():
    """β = linspace(1e-4, 0.02, 1000) in float64, ᾱ = cumprod (AnoDDPM; MONAI's float32 values differ in the last bits only)."""
    betas = torch.linspace(1e-4, 0.02, T_STEPS, dtype=torch.float64)
    ac = torch.cumprod(1 - betas, 0)
    prev = torch.cat([torch.ones(1, dtype=torch.float64), ac[:-1]])
    return betas, ac, prev


def build_net(net, size):
    if net == "anoddpm":
        return AnoDDPMUNet(size)
    if net == "monai":
        return MonaiUNet()
    raise SystemExit(f"unknown net {net!r}: anoddpm or monai")


class Step:
    """One (net, size) model with its optimiser; train(batch) and denoise(batch) run one step each."""

    def __init__(self, net, size):
        self.net_name, self.size = net, size
        self.net = build_net(net, size)
        self.params = sum(p.numel() for p in self.net.parameters())
        self.betas, self.ac, self.ac_prev = linear_schedule()
        self.gen = torch.Generator().manual_seed(0)
        self.opt = None

    def train(self, batch):
        if self.opt is None:
            ps = list(self.net.parameters())
            self.opt = torch.optim.AdamW(ps, lr=1e-4, weight_decay=0.0) if self.net_name == "anoddpm" else torch.optim.Adam(ps, lr=1e-4)
        self.net.train()
        x0 = torch.rand(batch, 1, self.size, self.size, generator=self.gen) * 2 - 1
        t = torch.randint(0, T_STEPS, (batch,), generator=self.gen)
        n = torch.randn(x0.shape, generator=self.gen)
        a = self.ac[t].float()[:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * n
        eps = self.net(xt, t)
        if self.net_name == "anoddpm":
            loss = ((eps - n) ** 2).mean(dim=(1, 2, 3)).mean()
        else:
            loss = F.mse_loss(eps.float(), n.float())
        self.opt.zero_grad()
        loss.backward()
        if self.net_name == "anoddpm":
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
        self.opt.step()
        return float(loss)

    def denoise(self, batch):
        self.net.eval()
        t = 249 if self.net_name == "anoddpm" else 200
        b, a, ap = float(self.betas[t]), float(self.ac[t]), float(self.ac_prev[t])
        c1 = b * math.sqrt(ap) / (1 - a)
        c2 = (1 - ap) * math.sqrt(1 - b) / (1 - a)
        var = b if self.net_name == "anoddpm" else max(b * (1 - ap) / (1 - a), 1e-20)
        x = torch.rand(batch, 1, self.size, self.size, generator=self.gen) * 2 - 1
        with torch.no_grad():
            eps = self.net(x, torch.full((batch,), t, dtype=torch.int64))
            x0 = (math.sqrt(1 / a) * x - math.sqrt(1 / a - 1) * eps).clamp(-1, 1)
            x = c1 * x0 + c2 * x + math.sqrt(var) * torch.randn(x.shape, generator=self.gen)
        return float(x.abs().mean())


def timed(fn, steps):
    """Wall ms and process CPU ms (all threads) of each of `steps` calls."""
    ms, cpu = [], []
    for _ in range(steps):
        t, c = time.perf_counter(), time.process_time()
        fn()
        ms.append((time.perf_counter() - t) * 1e3)
        cpu.append((time.process_time() - c) * 1e3)
    return ms, cpu


def serve(threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cache = {}
    for line in sys.stdin:
        if not line.strip():
            break
        req = json.loads(line)
        key = (req["net"], int(req["size"]))
        if key not in cache:
            cache.clear()  # one model at a time (AnoDDPM: 100 M parameters + AdamW state ≈ 1.6 GB)
            cache[key] = Step(*key)
        step, batch = cache[key], int(req.get("batch", 1))
        fn = (lambda: step.train(batch)) if req["pass"] == "train" else (lambda: step.denoise(batch))
        timed(fn, int(req.get("warmup", 1)))
        ms, cpu = timed(fn, int(req.get("steps", 1)))
        print(json.dumps({"ms": round(min(ms), 2), "cpu_ms": round(min(cpu), 2), "all_ms": [round(m, 1) for m in ms], "params": step.params,
                          "torch": torch.__version__}), flush=True)


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory(net, size, batch, steps, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    base = rss_mb()
    step = Step(net, size)
    ready = rss_mb()
    for _ in range(steps):
        step.train(batch)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"net": net, "size": size, "batch": batch, "steps": steps, "baseMB": round(base, 1), "readyMB": round(ready, 1),
                      "peakMB": round(peak, 1), "torch": torch.__version__}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["once", "serve", "memory", "params"], default="once")
    ap.add_argument("--net", choices=["anoddpm", "monai"], default="anoddpm")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--pass", dest="pass_", choices=["train", "denoise"], default="train")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    if a.mode == "serve":
        serve(a.threads)
        return
    if a.mode == "memory":
        memory(a.net, a.size, a.batch, a.steps, a.threads)
        return
    if a.mode == "params":
        # The spec's counts (§2.1, §3.1): 96.87 M, 99.94 M, 131.65 M; 18.50 M.
        for net, size in [("anoddpm", 64), ("anoddpm", 128), ("anoddpm", 256), ("monai", 128)]:
            print(net, size, sum(p.numel() for p in build_net(net, size).parameters()))
        return
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    step = Step(a.net, a.size)
    fn = (lambda: step.train(a.batch)) if a.pass_ == "train" else (lambda: step.denoise(a.batch))
    warm = timed(fn, 1)[0][0]
    ms, cpu = timed(fn, a.steps)
    print(json.dumps({"net": a.net, "size": a.size, "pass": a.pass_, "batch": a.batch, "threads": a.threads, "warmup_ms": round(warm, 1),
                      "best_ms": round(min(ms), 2), "best_cpu_ms": round(min(cpu), 2), "params": step.params, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
