"""The in-memory containers: an image split (uint8 images + labels) and a whole dataset."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

if TYPE_CHECKING:
    from bnbench.datasets.augment import AugmentConfig


class Arrays(NamedTuple):
    """Images (uint8, N x C x H x W) and labels (int64, N) as NumPy arrays, as the readers return them."""

    x: np.ndarray
    y: np.ndarray

    def take(self, index: np.ndarray) -> "Arrays":
        return Arrays(self.x[index], self.y[index])


@dataclass
class ImageSplit:
    """One split kept whole on a device: ``x`` uint8 N x C x H x W, ``y`` int64 N."""

    x: torch.Tensor
    y: torch.Tensor

    def __post_init__(self) -> None:
        if self.x.dtype != torch.uint8 or self.x.ndim != 4:
            raise ValueError(f"ImageSplit.x must be uint8 N x C x H x W, got {self.x.dtype} {tuple(self.x.shape)}")
        if self.y.dtype != torch.int64 or self.y.shape != (self.x.shape[0],):
            raise ValueError(f"ImageSplit.y must be int64 of length {self.x.shape[0]}, got {self.y.dtype} "
                             f"{tuple(self.y.shape)}")

    @classmethod
    def from_arrays(cls, arrays: Arrays) -> "ImageSplit":
        """Wrap NumPy arrays without copying (CPU tensors sharing their memory)."""
        x = torch.from_numpy(np.ascontiguousarray(arrays.x, dtype=np.uint8))
        return cls(x, torch.from_numpy(np.ascontiguousarray(arrays.y, dtype=np.int64)))

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def to(self, device: str | torch.device) -> "ImageSplit":
        return ImageSplit(self.x.to(device), self.y.to(device))


@dataclass
class Dataset:
    """A named dataset: its splits plus what training needs to use them.

    ``train``: the supernet's training images; ``valid``: the dataset's own validation split (a hold-out
    of the training images where the setting has none); ``test``: its test images, if any. ``eval`` is
    the split indicators evaluate on (``eval_split``), chosen disjoint from the images of the run's
    ground truth where possible; ``images`` records every role's images (see ``load_dataset``).
    """

    name: str
    train: ImageSplit
    valid: ImageSplit
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    resolution: int
    augment: "AugmentConfig"
    description: str
    test: ImageSplit | None = None
    eval_split: str = "valid"
    images: dict = field(default_factory=dict)

    @property
    def channels(self) -> int:
        return int(self.train.x.shape[1])

    @property
    def eval(self) -> ImageSplit:
        """The images indicators evaluate on (one-shot accuracy, probe images)."""
        split = self.test if self.eval_split == "test" else self.valid
        if split is None:
            raise ValueError(f"dataset {self.name} has no {self.eval_split} split to evaluate on")
        return split

    def to(self, device: str | torch.device) -> "Dataset":
        test = self.test.to(device) if self.test is not None else None
        return replace(self, train=self.train.to(device), valid=self.valid.to(device), test=test)
