"""Batch augmentation on the images' own device: random crop with zero padding, horizontal flip,
normalisation and optional resizing, vectorised over the batch (no PIL, no DataLoader).

Train mode matches NB201's ``RandomCrop(H, padding=pad)`` + ``RandomHorizontalFlip()``: the uint8 batch
is zero-padded once and each image's crop (and mirror) is read out with one ``gather`` using
per-image offsets drawn from ``generator``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    """Training-time augmentation: ``pad`` pixels of zero padding before a random crop; random h-flip."""

    pad: int = 4
    flip: bool = True
    crop: bool = True


class BatchAugmenter:
    """uint8 N x C x H x W → float32 normalised batch, randomly cropped and flipped in train mode."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], config: AugmentConfig | None = None,
                 resolution: int | None = None):
        if len(mean) != len(std) or any(s <= 0 for s in std):
            raise ValueError(f"mean {tuple(mean)} and std {tuple(std)} must be per-channel with std > 0")
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self.config = config if config is not None else AugmentConfig()
        self.resolution = resolution
        self._affine: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}

    def __call__(self, x_uint8: torch.Tensor, generator: torch.Generator | None, train: bool) -> torch.Tensor:
        """Normalised float32 images; random crop + flip per image when ``train``; resized if asked."""
        if x_uint8.dtype != torch.uint8 or x_uint8.ndim != 4 or x_uint8.shape[1] != len(self.mean):
            raise ValueError(f"expected uint8 N x {len(self.mean)} x H x W images, got {x_uint8.dtype} "
                             f"{tuple(x_uint8.shape)}")
        x = self._crop_flip(x_uint8, generator) if train else x_uint8
        return self._resize(self._normalise(x))

    def _crop_flip(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        n, c, h, w = x.shape
        pad = self.config.pad if self.config.crop else 0
        if (pad <= 0 and not self.config.flip) or n == 0:
            return x
        offsets, flips = _draw(n, pad, self.config.flip, generator, x.device)
        padded = F.pad(x, (pad, pad, pad, pad)) if pad > 0 else x
        rows = offsets[:, :1] + torch.arange(h, device=x.device)  # N x H
        cols = offsets[:, 1:] + torch.arange(w, device=x.device)  # N x W
        if flips is not None:
            cols = torch.where(flips[:, None], cols.flip(1), cols)
        index = rows[:, :, None] * (w + 2 * pad) + cols[:, None, :]  # N x H x W, into the padded plane
        index = index.reshape(n, 1, h * w).expand(n, c, h * w)
        return padded.reshape(n, c, -1).gather(2, index).reshape(n, c, h, w)

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        scale, shift = self._affine_for(x.device)
        return x.float().mul_(scale).sub_(shift)

    def _affine_for(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """(1 / (255 std), mean / std) shaped 1 x C x 1 x 1, cached per device."""
        if device not in self._affine:
            mean = torch.tensor(self.mean, dtype=torch.float32).view(1, -1, 1, 1)
            std = torch.tensor(self.std, dtype=torch.float32).view(1, -1, 1, 1)
            self._affine[device] = ((1.0 / (255.0 * std)).to(device), (mean / std).to(device))
        return self._affine[device]

    def _resize(self, x: torch.Tensor) -> torch.Tensor:
        size = self.resolution
        if size is None or (size == x.shape[-1] and size == x.shape[-2]) or x.shape[0] == 0:
            return x
        shrink = size < x.shape[-1] or size < x.shape[-2]
        return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=shrink)


def _draw(n: int, pad: int, flip: bool, generator: torch.Generator | None,
          device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Per-image crop offsets (N x 2, in 0..2*pad) and flip flags, drawn on the generator's device."""
    where = generator.device if generator is not None else device
    offsets = torch.randint(0, 2 * pad + 1, (n, 2), generator=generator, device=where)
    flips = torch.rand(n, generator=generator, device=where) < 0.5 if flip else None
    return offsets.to(device), (flips.to(device) if flips is not None else None)
