#!/usr/bin/env python3
"""Generate the PatchCore reference fixtures in test/fixtures/patchcore/.

Run with Debian's python3 (torch 1.13, scipy):

    /usr/bin/python3 scripts/make-patchcore-fixtures.py

Writes test/fixtures/patchcore/patchcore.safetensors with, for fixed random "layer2" and
"layer3" maps (small channel counts so the file stays small):

  official.*   the official patchcore-inspection embedding (PatchMaker.patchify, the grid
               alignment loop of PatchCore._embed, MeanMapper / Preprocessing, Aggregator),
               copied below from src/patchcore/common.py and patchcore.py (HEAD of 2023-03-06),
               with pretrain_embed_dimension 64 and target_embed_dimension 48 so that the
               adaptive windows overlap (L/out not an integer)
  anomalib.*   anomalib's embedding: AvgPool2d(3, 1, 1) per layer, layer3 bilinearly
               upsampled to layer2's grid, channel concatenation
  blur.*       a 2 × 20 × 24 map, SciPy ndimage.gaussian_filter(sigma=4) per map (official) and
               anomalib's GaussianBlur2d (33 taps, reflect padding, 2-D conv), and a 13 × 11
               map for both (maps smaller than the 16-px radius: SciPy's reflection repeats)
  upsample.*   a 2 × 1 × 7 × 7 score grid bilinearly (align_corners False) and nearest
               resized to 32 × 32

The safetensors file is written with struct + json (no safetensors package needed).
"""
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "patchcore")


def save_safetensors(path, tensors, metadata=None):
    """make-torch-fixtures.py's writer (every tensor here is float32)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from importlib import import_module
    import_module("make-torch-fixtures").save_safetensors(path, tensors, metadata)


# ---- official patchcore-inspection (src/patchcore/common.py, patchcore.py) -------------------

class PatchMaker:
    def __init__(self, patchsize, stride=None):
        self.patchsize = patchsize
        self.stride = stride

    def patchify(self, features, return_spatial_info=False):
        padding = int((self.patchsize - 1) / 2)
        unfolder = torch.nn.Unfold(kernel_size=self.patchsize, stride=self.stride, padding=padding, dilation=1)
        unfolded_features = unfolder(features)
        number_of_total_patches = []
        for s in features.shape[-2:]:
            n_patches = (s + 2 * padding - 1 * (self.patchsize - 1) - 1) / self.stride + 1
            number_of_total_patches.append(int(n_patches))
        unfolded_features = unfolded_features.reshape(*features.shape[:2], self.patchsize, self.patchsize, -1)
        unfolded_features = unfolded_features.permute(0, 4, 1, 2, 3)
        if return_spatial_info:
            return unfolded_features, number_of_total_patches
        return unfolded_features


class MeanMapper(torch.nn.Module):
    def __init__(self, preprocessing_dim):
        super().__init__()
        self.preprocessing_dim = preprocessing_dim

    def forward(self, features):
        features = features.reshape(len(features), 1, -1)
        return F.adaptive_avg_pool1d(features, self.preprocessing_dim).squeeze(1)


class Preprocessing(torch.nn.Module):
    def __init__(self, input_dims, output_dim):
        super().__init__()
        self.preprocessing_modules = torch.nn.ModuleList([MeanMapper(output_dim) for _ in input_dims])

    def forward(self, features):
        _features = []
        for module, feature in zip(self.preprocessing_modules, features):
            _features.append(module(feature))
        return torch.stack(_features, dim=1)


class Aggregator(torch.nn.Module):
    def __init__(self, target_dim):
        super().__init__()
        self.target_dim = target_dim

    def forward(self, features):
        features = features.reshape(len(features), 1, -1)
        features = F.adaptive_avg_pool1d(features, self.target_dim)
        return features.reshape(len(features), -1)


def official_embed(features, pretrain_dim, target_dim, patchsize=3):
    patch_maker = PatchMaker(patchsize, stride=1)
    features = [patch_maker.patchify(x, return_spatial_info=True) for x in features]
    patch_shapes = [x[1] for x in features]
    features = [x[0] for x in features]
    ref_num_patches = patch_shapes[0]
    for i in range(1, len(features)):
        _features = features[i]
        patch_dims = patch_shapes[i]
        _features = _features.reshape(_features.shape[0], patch_dims[0], patch_dims[1], *_features.shape[2:])
        _features = _features.permute(0, -3, -2, -1, 1, 2)
        perm_base_shape = _features.shape
        _features = _features.reshape(-1, *_features.shape[-2:])
        _features = F.interpolate(_features.unsqueeze(1), size=(ref_num_patches[0], ref_num_patches[1]), mode="bilinear", align_corners=False)
        _features = _features.squeeze(1)
        _features = _features.reshape(*perm_base_shape[:-2], ref_num_patches[0], ref_num_patches[1])
        _features = _features.permute(0, -2, -1, 1, 2, 3)
        _features = _features.reshape(len(_features), -1, *_features.shape[-3:])
        features[i] = _features
    features = [x.reshape(-1, *x.shape[-3:]) for x in features]
    dims = [f.shape[1] for f in features]
    features = Preprocessing(dims, pretrain_dim)(features)
    features = Aggregator(target_dim)(features)
    return features


# ---- anomalib (models/image/patchcore/torch_model.py) ----------------------------------------

def anomalib_embed(features):
    pool = torch.nn.AvgPool2d(3, 1, 1)
    features = [pool(f) for f in features]
    embeddings = features[0]
    for layer_embedding in features[1:]:
        layer_embedding = F.interpolate(layer_embedding, size=embeddings.shape[-2:], mode="bilinear")
        embeddings = torch.cat((embeddings, layer_embedding), 1)
    b, d, h, w = embeddings.shape
    return embeddings.permute(0, 2, 3, 1).reshape(-1, d)


def anomalib_blur(x, sigma=4.0):
    """anomalib GaussianBlur2d: kernel 2*int(4σ+0.5)+1, normalised, reflect padding, 2-D conv."""
    ks = 2 * int(4.0 * sigma + 0.5) + 1
    r = ks // 2
    xs = torch.arange(ks, dtype=torch.float32) - r
    k1 = torch.exp(-(xs ** 2) / (2 * sigma ** 2))
    k1 = k1 / k1.sum()
    k2 = torch.outer(k1, k1)
    k2 = k2 / k2.sum()
    c = x.shape[1]
    padded = F.pad(x, [r, r, r, r], mode="reflect")
    return F.conv2d(padded, k2.expand(c, 1, -1, -1), groups=c)


def main():
    from scipy.ndimage import gaussian_filter

    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(2023)
    layer2 = torch.randn(2, 20, 8, 8, generator=g)
    layer3 = torch.randn(2, 24, 4, 4, generator=g)
    tensors = OrderedDict()
    tensors["layer2"] = layer2
    tensors["layer3"] = layer3
    with torch.no_grad():
        tensors["official.patches"] = official_embed([layer2, layer3], 64, 48)
        tensors["anomalib.patches"] = anomalib_embed([layer2, layer3])

    m = torch.rand(2, 20, 24, generator=g) * 3
    tensors["blur.input"] = m
    tensors["blur.scipy"] = torch.from_numpy(np.stack([gaussian_filter(m[i].numpy(), sigma=4) for i in range(2)]))
    tensors["blur.torch"] = anomalib_blur(m.unsqueeze(1)).squeeze(1)
    small = torch.rand(1, 13, 11, generator=g)
    tensors["blur.small.input"] = small
    tensors["blur.small.scipy"] = torch.from_numpy(gaussian_filter(small[0].numpy(), sigma=4)).unsqueeze(0)

    grid = torch.rand(2, 1, 7, 7, generator=g)
    tensors["upsample.grid"] = grid
    tensors["upsample.bilinear"] = F.interpolate(grid, size=(32, 32), mode="bilinear", align_corners=False)
    tensors["upsample.nearest"] = F.interpolate(grid, size=(32, 32))

    save_safetensors(os.path.join(OUT, "patchcore.safetensors"), tensors, {"torch": torch.__version__})
    print("wrote", os.path.join(OUT, "patchcore.safetensors"))


if __name__ == "__main__":
    main()
