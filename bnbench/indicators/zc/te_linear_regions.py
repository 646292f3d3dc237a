"""TE-NAS linear-region count (Chen et al., "Neural Architecture Search on ImageNet in Four GPU Hours:
A Theoretically Inspired Perspective", ICLR 2021; VITA-Group/TENAS ``lib/procedures/linear_region_counter.py``
and ``prune_tenas.py``).

Each input is mapped to its activation pattern: the signs of the outputs of every ReLU whose input is a
4-D feature map, concatenated. The score is the number of distinct patterns among the inputs, i.e. the
number of linear regions of the network the inputs fall in (the reference's ``sum 1 / #identical``).

Conventions, as TE-NAS's NB201 setting: a *thin* network (C = 1 channel, N = 1 cell per stage, one
input channel; overrides ``te_lr_channels``), 3 batches of 1,000 inputs (``te_lr_samples`` = 3,000),
each a random 3x3 crop of one random channel of a training image, normalised with that channel's
mean/std, drawn with the run's seed (the same for every architecture); train mode (BN on the 1,000-input
batch's statistics); no gradients; default initialisation (see te_ntk). Unlike TE-NAS's thin search
model, the space's network keeps its stem (the generic adapter has no stem-less option). Higher is better.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from bnbench.indicators.zc.common import NUMERICS, Batch, NetFactory, digest
from bnbench.indicators.zc.runner import proxy

CROP, CHUNK = 3, 1000


def crop_batch(ctx) -> Batch:
    """``te_lr_samples`` normalised single-channel 3x3 crops of training images (seeded)."""
    data, n = ctx.dataset, int(ctx.options.get("te_lr_samples", 3 * CHUNK))
    g = torch.Generator().manual_seed(ctx.seed)
    images = data.train.x[torch.randint(len(data.train), (n,), generator=g)].cpu()
    channel = torch.randint(images.shape[1], (n,), generator=g)
    crop = max(CROP, int(getattr(ctx.space, "min_resolution", 1)))  # NB101's floor-mode pools need 4x4
    rows = torch.randint(images.shape[2] - crop + 1, (n,), generator=g)
    cols = torch.randint(images.shape[3] - crop + 1, (n,), generator=g)
    offsets = torch.arange(crop)
    idx = torch.arange(n)[:, None, None]
    crops = images[idx, channel[:, None, None], rows[:, None, None] + offsets[None, :, None],
                   cols[:, None, None] + offsets[None, None, :]].float() / 255.0
    mean, std = (torch.tensor(v, dtype=torch.float32)[channel] for v in (data.mean, data.std))
    x = ((crops - mean[:, None, None]) / std[:, None, None]).unsqueeze(1).to(data.train.x.device)
    # thin: 1 channel, or the space's narrowest buildable width (NB101: 4, as up to 4 vertices split a cell's output)
    opts = {"channels": int(ctx.options.get("te_lr_channels") or getattr(ctx.space, "min_channels", 1))}
    y = torch.zeros(n, dtype=torch.long, device=x.device)
    return Batch(tuple(x.shape), ctx.network.num_classes, ctx.seed, digest("lr-crops", x, opts, ctx.seed, NUMERICS), x, y, opts)


def count_patterns(codes: np.ndarray) -> int:
    """Number of distinct rows of a boolean matrix."""
    return int(len(np.unique(np.packbits(codes, axis=1), axis=0)))


@proxy("te_linear_regions", higher_is_better=True, batch=crop_batch,
       summary="TE-NAS: distinct ReLU activation patterns of 3,000 3x3 crops in a thin network")
@torch.no_grad()
def te_linear_regions(make: NetFactory, batch: Batch) -> float:
    net = make(channels=int(batch.options.get("channels", 1)), cells=1, in_channels=1)
    feats: list[torch.Tensor] = []

    def hook(module, inputs, output):
        if inputs[0].dim() == 4:
            feats.append((output > 0).flatten(1))

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    codes = []
    try:
        for start in range(0, len(batch.x), CHUNK):
            feats.clear()
            net(batch.x[start:start + CHUNK])
            codes.append(torch.cat(feats, dim=1).cpu().numpy())
    finally:
        for h in handles:
            h.remove()
    return float(count_patterns(np.concatenate(codes)))
