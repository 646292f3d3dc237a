"""Mini-batches straight from an in-memory split: index, gather and augment on the split's device."""

from __future__ import annotations

from typing import Iterator

import torch

from bnbench.datasets.augment import BatchAugmenter
from bnbench.datasets.dataset import ImageSplit


def batch_order(n: int, shuffle: bool, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """A random permutation of ``0..n-1`` (drawn on the generator's device) or the identity, on ``device``."""
    if not shuffle:
        return torch.arange(n, device=device)
    where = generator.device if generator is not None else device
    return torch.randperm(n, generator=generator, device=where).to(device)


def iterate_batches(split: ImageSplit, batch_size: int, augmenter: BatchAugmenter, *, train: bool,
                    generator: torch.Generator | None, shuffle: bool,
                    drop_last: bool = False) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield (float32 images, int64 labels) batches; ``generator`` drives both the order and the augmentation."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    order = batch_order(len(split), shuffle, generator, split.x.device)
    stop = len(split) - len(split) % batch_size if drop_last else len(split)
    return _batches(split, order[:stop], batch_size, augmenter, train, generator)


def _batches(split: ImageSplit, order: torch.Tensor, batch_size: int, augmenter: BatchAugmenter, train: bool,
             generator: torch.Generator | None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    for start in range(0, len(order), batch_size):
        index = order[start:start + batch_size]
        yield augmenter(split.x[index], generator, train), split.y[index]
