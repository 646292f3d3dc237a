"""Training one stand-alone network of any search space from scratch (the ground truth bnbench builds itself)."""

from __future__ import annotations

import numpy as np
import torch

from bnbench.datasets import BatchAugmenter, ImageSplit, iterate_batches
from bnbench.spaces import get_space
from bnbench.train import loop
from bnbench.utils.seed import deterministic_cuda
from bnbench.train.config import TrainConfig


def run_seed(seed: int, *parts: int) -> int:
    """A 63-bit seed derived from ``seed`` and the run's coordinates (encoding entries, fold, ...); negative
    entries (an unused decision, -1) enter as their 32-bit two's complement."""
    words = [int(seed), *(int(p) & 0xFFFFFFFF if int(p) < 0 else int(p) for p in parts)]
    return int(np.random.SeedSequence(words).generate_state(2, dtype=np.uint64)[0] >> np.uint64(1))


def train_network(ops, train: ImageSplit, test: ImageSplit, cfg: TrainConfig, mean, std, augment,
                  num_classes: int, seed: int) -> float:
    """Train the stand-alone network of ``ops`` (in ``cfg.space``, with ``cfg``'s build options) on ``train`` for ``cfg.epochs`` and return its top-1 accuracy (%) on ``test``.

    SGD (Nesterov momentum ``cfg.momentum``), cosine learning rate from ``cfg.lr``, weight decay
    ``cfg.weight_decay``, batch ``cfg.batch_size``, the dataset's default augmentation; everything
    is seeded from ``seed``.
    """
    torch.manual_seed(seed)
    if train.x.device.type == "cuda":
        deterministic_cuda()
    net = get_space(cfg.space).network(ops, cfg.build_options(), num_classes=num_classes, in_channels=train.x.shape[1])
    net = net.to(train.x.device)
    optimizer = loop.sgd(list(net.parameters()), cfg.lr, cfg.momentum, cfg.weight_decay)
    augmenter = BatchAugmenter(mean, std, augment, cfg.resolution)
    gen = torch.Generator(device=train.x.device).manual_seed(seed)
    steps = max(1, len(train) // cfg.batch_size)
    for epoch in range(cfg.epochs):
        net.train()
        batches = iterate_batches(train, cfg.batch_size, augmenter, train=True, generator=gen, shuffle=True, drop_last=True)
        for step, (x, y) in enumerate(batches):
            loop.set_lr(optimizer, loop.cosine_lr(cfg.lr, epoch * steps + step, cfg.epochs * steps, cfg.schedule))
            loop.train_step(net, optimizer, x, y)
    net.eval()
    test_batches = iterate_batches(test, 512, augmenter, train=False, generator=None, shuffle=False)
    return loop.accuracy(net, test_batches)
