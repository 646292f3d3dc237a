"""One-shot accuracy (Bender et al., ICML 2018; SPOS, Guo et al., ECCV 2020): the classic baseline.

For each architecture the subnet is evaluated with the supernet's shared weights: its BatchNorm
statistics are first recomputed on ``calib_batches`` fixed training batches (un-augmented), then
top-1 accuracy (%) is measured on ``val_images`` fixed images of the dataset's evaluation split
(``Dataset.eval``: never the supernet's training images, and disjoint from the images the run's ground
truth is measured on wherever the data allows; see :mod:`bnbench.datasets.protocol`). The same
calibration and evaluation images are used for every architecture; the supernet's own BN buffers are
restored afterwards. Higher is better.
"""

from __future__ import annotations

import numpy as np
import torch

from bnbench.indicators.registry import ScoringContext, register
from bnbench.progress import track
from bnbench.spaces.base import PathNorms
from bnbench.train.loop import accuracy, recalibrate_bn

VAL_IMAGES = 1000  # default ``val_images``: evaluation images per subnet
CALIB_BATCHES = 4  # default ``calib_batches``: training batches for BN recalibration


def fixed_images(split, n: int, augmenter, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` images of ``split`` chosen by a seeded permutation, normalised (no augmentation)."""
    perm = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:n].to(split.x.device)
    return augmenter(split.x[perm], None, train=False), split.y[perm]


def batched(x: torch.Tensor, y: torch.Tensor, size: int):
    return [(x[i:i + size], y[i:i + size]) for i in range(0, len(x), size)]


@register("supernet_acc", higher_is_better=True, needs=("supernet", "data"),
          summary="one-shot accuracy on held-out images with BN statistics recalibrated per subnet")
@torch.no_grad()
def supernet_acc(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    from bnbench.datasets import BatchAugmenter

    model, cfg, data = ctx.supernet.model, ctx.supernet.config, ctx.dataset
    size = int(ctx.options.get("eval_batch_size", 256))
    calib_n = int(ctx.options.get("calib_batches", CALIB_BATCHES)) * cfg.batch_size
    augmenter = BatchAugmenter(data.mean, data.std, data.augment, cfg.resolution)
    calib, _ = fixed_images(data.train, calib_n, augmenter, ctx.seed)
    val = batched(*fixed_images(data.eval, int(ctx.options.get("val_images", VAL_IMAGES)), augmenter, ctx.seed + 1),
                  size)
    calib_batches = [calib[i:i + cfg.batch_size] for i in range(0, len(calib), cfg.batch_size)]
    if calib.dim() == 4:  # same values; CPU convs and pooling run faster in this layout
        calib = calib.contiguous(memory_format=torch.channels_last)
        val = [(x.contiguous(memory_format=torch.channels_last), y) for x, y in val]
    calib_batches = [calib[i:i + cfg.batch_size] for i in range(0, len(calib), cfg.batch_size)]
    path_norms = PathNorms(model, ctx.space)
    saved = {k: v.clone() for k, v in model.state_dict().items() if "running" in k or "num_batches" in k}
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    scores = np.empty(len(archs))
    try:
        for i, row in enumerate(track(archs, len(archs), "supernet_acc", ctx.progress)):
            arch = tuple(int(o) for o in row)
            forward = lambda x, a=arch: model(x, a)  # noqa: E731
            recalibrate_bn(path_norms(arch), forward, calib_batches)
            scores[i] = accuracy(forward, val)
    finally:
        model.load_state_dict(saved, strict=False)
        for m, flag in flags:
            m.training = flag
    return scores
