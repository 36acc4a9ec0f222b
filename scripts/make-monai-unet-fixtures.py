#!/usr/bin/env python3
"""Generate the MONAI-style diffusion U-Net fixtures in test/fixtures/diffusion/.

Run with Debian's python3 and python3-torch (1.13):

    /usr/bin/python3 scripts/make-monai-unet-fixtures.py

AutoDDPM (ci-ber/autoDDPM, net_utils/diffusion_unet.py, diffusion spec section 3.1) builds
MONAI Generative's DiffusionModelUNet. MONAI is not installed here, so the classes the
reference instantiates without conditioning are written out below from that file, with its
module and parameter names (MONAI's Convolution with conv_only=True is an nn.Sequential holding
one child "conv", hence names like conv_in.conv.weight):

- get_timestep_embedding: [cos(t f), sin(t f)], f_i = exp(-ln(10000) i / half), float32;
- ResnetBlock: GN -> SiLU -> conv1 -> + time_emb_proj(SiLU(emb)) -> GN -> SiLU -> conv2 (zero
  init); skip_connection 1x1 conv when the widths differ;
- AttentionBlock: GN -> to_q/to_k/to_v Linear(c, c) -> heads by reshaping the channel axis ->
  softmax(q k^T * scale) v -> merge heads -> + residual; proj_attn is built and never applied;
- Downsample (3x3 stride-2 conv "op"), Upsample (nearest x2, then 3x3 conv "conv");
- DownBlock / AttnDownBlock / AttnMidBlock / UpBlock / AttnUpBlock and DiffusionModelUNet with
  up blocks of num_res_blocks + 1 resnets, the skip list h0... popped from the end.

Writes
  monai-unet.json         the state-dict names and shapes of the AutoDDPM configuration
                          ("autoddpm": num_channels (128, 256, 256), attention (F, T, T), 1 res
                          block, 256 head channels, 1 channel) with its parameter count and the
                          dead proj_attn count, the same for spec section 6.4's AutoDDPM-mini
                          ("miniNet": (32, 64, 64), attention (F, F, T), 64 head channels), and
                          the configuration, loss and gradient-less parameters of the two
                          training-step cases
  monai-unet.safetensors  one training step of two small configurations (batch 2, 16 x 16,
                          1 channel): "step" = num_channels (32, 32, 32), attention (F, T, T),
                          16 head channels (2 heads), GroupNorm 16 groups, every gradient;
                          "mini" = AutoDDPM-mini, output, loss and nine gradients. Every
                          state-dict entry, the zero-init convolutions included, is filled with
                          the deterministic formula of scripts/make-backbone-fixtures.py
                          (test/models/backbones/fill.ts), t = the entry's index in the state
                          dict; x = u(1000, i) * 2, noise = u(1001, i) * 3; loss = MSE(out,
                          noise). Stored: x, noise, temb (the cos-sin embedding), out, loss,
                          grad/<name>
"""
import json
import math
import os
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
OUT = os.path.join(ROOT, "test", "fixtures", "diffusion")

torch.set_num_threads(1)


# ---- the reference network (2-D, no conditioning, resblock_updown False) ----

class Convolution(nn.Sequential):
    """MONAI's Convolution(conv_only=True): an nn.Sequential with the one child "conv"."""

    def __init__(self, in_channels, out_channels, strides=1, kernel_size=3, padding=1):
        super().__init__()
        self.add_module("conv", nn.Conv2d(in_channels, out_channels, kernel_size, stride=strides, padding=padding))


def zero_module(module):
    for p in module.parameters():
        p.detach().zero_()
    return module


class AttentionBlock(nn.Module):
    def __init__(self, num_channels, num_head_channels=None, norm_num_groups=32, norm_eps=1e-6):
        super().__init__()
        self.num_channels = num_channels
        self.num_heads = num_channels // num_head_channels if num_head_channels is not None else 1
        self.scale = 1 / math.sqrt(num_channels / self.num_heads)
        self.norm = nn.GroupNorm(num_groups=norm_num_groups, num_channels=num_channels, eps=norm_eps, affine=True)
        self.to_q = nn.Linear(num_channels, num_channels)
        self.to_k = nn.Linear(num_channels, num_channels)
        self.to_v = nn.Linear(num_channels, num_channels)
        self.proj_attn = nn.Linear(num_channels, num_channels)  # never applied in forward (the reference's quirk)

    def reshape_heads_to_batch_dim(self, x):
        batch_size, seq_len, dim = x.shape
        x = x.reshape(batch_size, seq_len, self.num_heads, dim // self.num_heads)
        return x.permute(0, 2, 1, 3).reshape(batch_size * self.num_heads, seq_len, dim // self.num_heads)

    def reshape_batch_dim_to_heads(self, x):
        batch_size, seq_len, dim = x.shape
        x = x.reshape(batch_size // self.num_heads, self.num_heads, seq_len, dim)
        return x.permute(0, 2, 1, 3).reshape(batch_size // self.num_heads, seq_len, dim * self.num_heads)

    def _attention(self, query, key, value):
        scores = torch.baddbmm(
            torch.empty(query.shape[0], query.shape[1], key.shape[1], dtype=query.dtype),
            query, key.transpose(-1, -2), beta=0, alpha=self.scale)
        return torch.bmm(scores.softmax(dim=-1), value)

    def forward(self, x):
        residual = x
        batch, channel, height, width = x.shape
        x = self.norm(x)
        x = x.view(batch, channel, height * width).transpose(1, 2)
        query = self.reshape_heads_to_batch_dim(self.to_q(x))
        key = self.reshape_heads_to_batch_dim(self.to_k(x))
        value = self.reshape_heads_to_batch_dim(self.to_v(x))
        x = self._attention(query, key, value)
        x = self.reshape_batch_dim_to_heads(x).to(query.dtype)
        x = x.transpose(-1, -2).reshape(batch, channel, height, width)
        return x + residual


# MONAI's get_timestep_embedding, as the engine's own fixtures port it.
get_timestep_embedding = import_module("make-diffusion-fixtures").monai_embedding


class Downsample(nn.Module):
    def __init__(self, num_channels, out_channels=None, padding=1):
        super().__init__()
        self.num_channels = num_channels
        self.out_channels = out_channels or num_channels
        self.op = Convolution(self.num_channels, self.out_channels, strides=2, kernel_size=3, padding=padding)

    def forward(self, x, emb=None):
        return self.op(x)


class Upsample(nn.Module):
    def __init__(self, num_channels, out_channels=None, padding=1):
        super().__init__()
        self.num_channels = num_channels
        self.out_channels = out_channels or num_channels
        self.conv = Convolution(self.num_channels, self.out_channels, strides=1, kernel_size=3, padding=padding)

    def forward(self, x, emb=None):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class ResnetBlock(nn.Module):
    def __init__(self, in_channels, temb_channels, out_channels=None, norm_num_groups=32, norm_eps=1e-6):
        super().__init__()
        self.out_channels = out_channels or in_channels
        self.norm1 = nn.GroupNorm(num_groups=norm_num_groups, num_channels=in_channels, eps=norm_eps, affine=True)
        self.nonlinearity = nn.SiLU()
        self.conv1 = Convolution(in_channels, self.out_channels, strides=1, kernel_size=3, padding=1)
        self.upsample = self.downsample = None
        self.time_emb_proj = nn.Linear(temb_channels, self.out_channels)
        self.norm2 = nn.GroupNorm(num_groups=norm_num_groups, num_channels=self.out_channels, eps=norm_eps, affine=True)
        self.conv2 = zero_module(Convolution(self.out_channels, self.out_channels, strides=1, kernel_size=3, padding=1))
        if self.out_channels == in_channels:
            self.skip_connection = nn.Identity()
        else:
            self.skip_connection = Convolution(in_channels, self.out_channels, strides=1, kernel_size=1, padding=0)

    def forward(self, x, emb):
        h = self.nonlinearity(self.norm1(x))
        h = self.conv1(h)
        h = h + self.time_emb_proj(self.nonlinearity(emb))[:, :, None, None]
        h = self.conv2(self.nonlinearity(self.norm2(h)))
        return self.skip_connection(x) + h


class DownBlock(nn.Module):
    def __init__(self, in_channels, out_channels, temb_channels, num_res_blocks, norm_num_groups, norm_eps, add_downsample):
        super().__init__()
        self.resnets = nn.ModuleList([
            ResnetBlock(in_channels if i == 0 else out_channels, temb_channels, out_channels, norm_num_groups, norm_eps)
            for i in range(num_res_blocks)])
        self.downsampler = Downsample(out_channels, out_channels) if add_downsample else None

    def forward(self, hidden_states, temb):
        output_states = []
        for resnet in self.resnets:
            hidden_states = resnet(hidden_states, temb)
            output_states.append(hidden_states)
        if self.downsampler is not None:
            hidden_states = self.downsampler(hidden_states, temb)
            output_states.append(hidden_states)
        return hidden_states, output_states


class AttnDownBlock(nn.Module):
    def __init__(self, in_channels, out_channels, temb_channels, num_res_blocks, norm_num_groups, norm_eps, add_downsample,
                 num_head_channels):
        super().__init__()
        resnets, attentions = [], []
        for i in range(num_res_blocks):
            resnets.append(ResnetBlock(in_channels if i == 0 else out_channels, temb_channels, out_channels, norm_num_groups, norm_eps))
            attentions.append(AttentionBlock(out_channels, num_head_channels, norm_num_groups, norm_eps))
        # The reference registers the attentions before the resnets (state-dict order).
        self.attentions = nn.ModuleList(attentions)
        self.resnets = nn.ModuleList(resnets)
        self.downsampler = Downsample(out_channels, out_channels) if add_downsample else None

    def forward(self, hidden_states, temb):
        output_states = []
        for resnet, attn in zip(self.resnets, self.attentions):
            hidden_states = attn(resnet(hidden_states, temb))
            output_states.append(hidden_states)
        if self.downsampler is not None:
            hidden_states = self.downsampler(hidden_states, temb)
            output_states.append(hidden_states)
        return hidden_states, output_states


class AttnMidBlock(nn.Module):
    def __init__(self, in_channels, temb_channels, norm_num_groups, norm_eps, num_head_channels):
        super().__init__()
        self.resnet_1 = ResnetBlock(in_channels, temb_channels, in_channels, norm_num_groups, norm_eps)
        self.attention = AttentionBlock(in_channels, num_head_channels, norm_num_groups, norm_eps)
        self.resnet_2 = ResnetBlock(in_channels, temb_channels, in_channels, norm_num_groups, norm_eps)

    def forward(self, hidden_states, temb):
        return self.resnet_2(self.attention(self.resnet_1(hidden_states, temb)), temb)


class UpBlock(nn.Module):
    def __init__(self, in_channels, prev_output_channel, out_channels, temb_channels, num_res_blocks, norm_num_groups, norm_eps,
                 add_upsample, with_attn, num_head_channels):
        super().__init__()
        resnets, attentions = [], []
        for i in range(num_res_blocks):
            res_skip_channels = in_channels if (i == num_res_blocks - 1) else out_channels
            resnet_in_channels = prev_output_channel if i == 0 else out_channels
            resnets.append(ResnetBlock(resnet_in_channels + res_skip_channels, temb_channels, out_channels, norm_num_groups, norm_eps))
            if with_attn:
                attentions.append(AttentionBlock(out_channels, num_head_channels, norm_num_groups, norm_eps))
        self.resnets = nn.ModuleList(resnets)
        self.attentions = nn.ModuleList(attentions) if with_attn else None
        self.upsampler = Upsample(out_channels, out_channels) if add_upsample else None

    def forward(self, hidden_states, res_hidden_states_list, temb):
        for i, resnet in enumerate(self.resnets):
            res_hidden_states = res_hidden_states_list[-1]
            res_hidden_states_list = res_hidden_states_list[:-1]
            hidden_states = resnet(torch.cat([hidden_states, res_hidden_states], dim=1), temb)
            if self.attentions is not None:
                hidden_states = self.attentions[i](hidden_states)
        if self.upsampler is not None:
            hidden_states = self.upsampler(hidden_states, temb)
        return hidden_states


class DiffusionModelUNet(nn.Module):
    def __init__(self, in_channels=1, out_channels=1, num_res_blocks=1, num_channels=(128, 256, 256),
                 attention_levels=(False, True, True), norm_num_groups=32, norm_eps=1e-6, num_head_channels=256):
        super().__init__()
        n = len(num_channels)
        num_head_channels = [num_head_channels] * n
        num_res_blocks = [num_res_blocks] * n
        self.block_out_channels = num_channels
        self.conv_in = Convolution(in_channels, num_channels[0], strides=1, kernel_size=3, padding=1)
        time_embed_dim = num_channels[0] * 4
        self.time_embed = nn.Sequential(nn.Linear(num_channels[0], time_embed_dim), nn.SiLU(), nn.Linear(time_embed_dim, time_embed_dim))

        self.down_blocks = nn.ModuleList([])
        output_channel = num_channels[0]
        for i in range(n):
            input_channel = output_channel
            output_channel = num_channels[i]
            last = i == n - 1
            if attention_levels[i]:
                block = AttnDownBlock(input_channel, output_channel, time_embed_dim, num_res_blocks[i], norm_num_groups, norm_eps,
                                      not last, num_head_channels[i])
            else:
                block = DownBlock(input_channel, output_channel, time_embed_dim, num_res_blocks[i], norm_num_groups, norm_eps, not last)
            self.down_blocks.append(block)

        self.middle_block = AttnMidBlock(num_channels[-1], time_embed_dim, norm_num_groups, norm_eps, num_head_channels[-1])

        self.up_blocks = nn.ModuleList([])
        rev_ch = list(reversed(num_channels))
        rev_res = list(reversed(num_res_blocks))
        rev_attn = list(reversed(attention_levels))
        rev_heads = list(reversed(num_head_channels))
        output_channel = rev_ch[0]
        for i in range(n):
            prev_output_channel = output_channel
            output_channel = rev_ch[i]
            input_channel = rev_ch[min(i + 1, n - 1)]
            last = i == n - 1
            self.up_blocks.append(UpBlock(input_channel, prev_output_channel, output_channel, time_embed_dim, rev_res[i] + 1,
                                          norm_num_groups, norm_eps, not last, rev_attn[i], rev_heads[i]))

        self.out = nn.Sequential(
            nn.GroupNorm(num_groups=norm_num_groups, num_channels=num_channels[0], eps=norm_eps, affine=True),
            nn.SiLU(),
            zero_module(Convolution(num_channels[0], out_channels, strides=1, kernel_size=3, padding=1)),
        )

    def forward(self, x, timesteps):
        emb = self.time_embed(get_timestep_embedding(timesteps, self.block_out_channels[0]).to(dtype=x.dtype))
        h = self.conv_in(x)
        res = [h]
        for block in self.down_blocks:
            h, states = block(h, emb)
            res.extend(states)
        h = self.middle_block(h, emb)
        for block in self.up_blocks:
            k = len(block.resnets)
            states, res = res[-k:], res[:-k]
            h = block(h, states, emb)
        return self.out(h)


# AttnUpBlock registers resnets then attentions, UpBlock only resnets: the UpBlock above keeps
# that order (resnets, attentions, upsampler), so its state dict matches both reference classes.


def describe(net):
    sd = net.state_dict()
    total = sum(p.numel() for p in net.parameters())
    dead = sum(p.numel() for name, p in net.named_parameters() if ".proj_attn." in name)
    return {
        "params": total,
        "deadParams": dead,
        "state": [[k, list(v.shape)] for k, v in sd.items()],
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    meta = OrderedDict()
    meta["torch"] = torch.__version__

    # ---- the reference configuration and the spec's reduced one: names, shapes, counts ----
    torch.manual_seed(0)
    full = DiffusionModelUNet()
    meta["autoddpm"] = {"config": {"numChannels": [128, 256, 256], "attentionLevels": [False, True, True], "numResBlocks": 1,
                                   "headChannels": 256, "channels": 1}, **describe(full)}
    with torch.no_grad():
        x = torch.randn(1, 1, 32, 32)
        assert float(full(x, torch.tensor([500])).abs().max()) == 0.0, "untrained output must be exactly 0"
    del full
    mini = DiffusionModelUNet(num_channels=(32, 64, 64), attention_levels=(False, False, True), num_head_channels=64)
    meta["miniNet"] = {"config": {"numChannels": [32, 64, 64], "attentionLevels": [False, False, True], "numResBlocks": 1,
                               "headChannels": 64, "channels": 1}, **describe(mini)}

    # ---- one training step of two small configurations, every weight non-zero ----
    tensors = OrderedDict()
    # "step": 32 channels at every level, 2 heads of 16 at 8x8 and 4x4, every gradient stored;
    # GroupNorm with 16 groups (MONAI's norm_num_groups), because with 32 groups of one channel
    # norm2 would remove the per-channel timestep injection and the time-embedding gradients
    # would be exactly 0 (rounding noise). "mini": spec 6.4's AutoDDPM-mini (widths 32, 64, 64,
    # GroupNorm 32, so the 32 -> 64 skip convolutions of the down path), output, loss and a few
    # gradients (all of them would exceed the fixture size budget).
    cases = {
        "step": ({"numChannels": [32, 32, 32], "attentionLevels": [False, True, True], "numResBlocks": 1, "headChannels": 16,
                  "normGroups": 16, "channels": 1, "batch": 2, "size": 16, "t": [3, 917]}, None),
        "mini": ({"numChannels": [32, 64, 64], "attentionLevels": [False, False, True], "numResBlocks": 1, "headChannels": 64,
                  "normGroups": 32, "channels": 1, "batch": 2, "size": 16, "t": [0, 999]},
                 ["conv_in.conv.weight", "time_embed.0.weight", "down_blocks.1.resnets.0.skip_connection.conv.weight",
                  "down_blocks.2.attentions.0.to_q.weight", "middle_block.attention.to_v.bias", "up_blocks.0.resnets.1.conv1.conv.bias",
                  "up_blocks.2.resnets.1.conv2.conv.weight", "out.2.conv.weight", "out.2.conv.bias"]),
    }
    for case, (cfg, keep) in cases.items():
        net = DiffusionModelUNet(num_channels=tuple(cfg["numChannels"]), attention_levels=tuple(cfg["attentionLevels"]),
                                 num_res_blocks=cfg["numResBlocks"], num_head_channels=cfg["headChannels"],
                                 norm_num_groups=cfg["normGroups"])
        sd = net.state_dict()
        filled = OrderedDict((k, bb.fill_value(i, k, list(v.shape))) for i, (k, v) in enumerate(sd.items()))
        net.load_state_dict(filled)
        shape = (cfg["batch"], cfg["channels"], cfg["size"], cfg["size"])
        count = int(np.prod(shape))
        x = torch.from_numpy((bb.hash_u(1000, count) * 2.0).astype(np.float32).reshape(shape))
        noise = torch.from_numpy((bb.hash_u(1001, count) * 3.0).astype(np.float32).reshape(shape))
        t = torch.tensor(cfg["t"], dtype=torch.int64)
        out = net(x, t)
        loss = F.mse_loss(out, noise)
        loss.backward()
        tensors[case + "/x"] = x
        tensors[case + "/noise"] = noise
        tensors[case + "/out"] = out.detach()
        tensors[case + "/loss"] = loss.detach().reshape(1)
        tensors[case + "/temb"] = get_timestep_embedding(t, cfg["numChannels"][0])
        no_grad = []
        for name, p in net.named_parameters():
            if p.grad is None:  # proj_attn: never applied, so autograd gives it no gradient
                no_grad.append(name)
            elif keep is None or name in keep:
                tensors[case + "/grad/" + name] = p.grad
        meta[case] = {"config": cfg, "inputs": "x = u(1000, i) * 2, noise = u(1001, i) * 3, weights fill_value(t, name)",
                      "loss": float(loss), "noGrad": no_grad, "params": sum(p.numel() for p in net.parameters()),
                      **({} if case == "mini" else {"state": [[k, list(v.shape)] for k, v in sd.items()]})}
        print(case, "params", meta[case]["params"], "loss", float(loss))
    bb.write_safetensors(os.path.join(OUT, "monai-unet.safetensors"), tensors)
    with open(os.path.join(OUT, "monai-unet.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print("autoddpm params", meta["autoddpm"]["params"], "dead", meta["autoddpm"]["deadParams"])
    print("mini params", meta["miniNet"]["params"], "dead", meta["miniNet"]["deadParams"])


if __name__ == "__main__":
    main()
