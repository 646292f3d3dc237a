"""Datasets by name, with NAS-Bench-201's split definitions.

- ``cifar10-valid``: the CIFAR-10 train set halved into 25,000 train / 25,000 valid. NB201's official
  split file indexes the original image order, which not every copy keeps, so the halves are a
  class-balanced (2,500 + 2,500 per class) random split with the fixed seed ``SPLIT_SEED``.
- ``cifar10``: the 50,000 train images / the 10,000 test images as valid.
- ``cifar100``: 50,000 train / x-valid = a class-balanced half (5,000) of the test set, fixed seed.
- ``ImageNet16-120``: NB201's 16x16 ImageNet restricted to labels 1..120 (relabelled 0..119);
  train = all train batches / x-valid = a class-balanced half of ``val_data``, fixed seed.
- ``digits``: scikit-learn's 1,797 8x8 digits, stratified 1,000 train / 797 valid, fixed seed.

The splits never depend on the run's ``seed``; only the ``train_fraction`` subset (class-stratified,
EcoNAS-style reduced samples) does. Mean/std come from the full train split, before any subsetting,
so reduced-data runs normalise exactly like full ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from bnbench.datasets.augment import AugmentConfig
from bnbench.datasets.cifar import read_cifar10, read_cifar100
from bnbench.datasets.dataset import Arrays, Dataset, ImageSplit
from bnbench.datasets.digits import read_digits
from bnbench.datasets.imagenet16 import read_imagenet16
from bnbench.datasets.root import resolve_data_root
from bnbench.datasets.sampling import stratified_split, stratified_subset
from bnbench.datasets.stats import channel_mean_std
from bnbench.errors import DataError

DATASETS: tuple[str, ...] = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120", "digits")
SPLIT_SEED = 0  # fixed seed of every train/valid split: independent of the run's seed
SUBSET_STREAM = 1  # train_fraction subsets draw from default_rng([seed, SUBSET_STREAM])
DIGITS_TRAIN = 1000


@dataclass(frozen=True)
class _Parts:
    """What a dataset builder produces before the shared steps (stats, subset, tensors)."""

    train: Arrays
    valid: Arrays
    num_classes: int
    split_note: str
    augment: AugmentConfig = AugmentConfig()


def _half(arrays: Arrays) -> tuple[Arrays, Arrays]:
    first, second = stratified_split(arrays.y, len(arrays.y) // 2, SPLIT_SEED)
    return arrays.take(first), arrays.take(second)


def _cifar10_valid(root: Path) -> _Parts:
    train, valid = _half(read_cifar10(root)[0])
    return _Parts(train, valid, 10, f"CIFAR-10 train set halved (class-balanced, split seed {SPLIT_SEED})")


def _cifar10(root: Path) -> _Parts:
    train, test = read_cifar10(root)
    return _Parts(train, test, 10, "CIFAR-10 train set / test set as valid")


def _cifar100(root: Path) -> _Parts:
    train, test = read_cifar100(root)
    return _Parts(train, _half(test)[0], 100,
                  f"CIFAR-100 train set / x-valid = class-balanced half of the test set (split seed {SPLIT_SEED})")


def _imagenet16_120(root: Path) -> _Parts:
    train, val = read_imagenet16(root, 120)
    return _Parts(train, _half(val)[0], 120, "ImageNet16 labels 1..120 / x-valid = class-balanced half of "
                  f"val_data (split seed {SPLIT_SEED})")


def _digits(_root: Path | None) -> _Parts:
    digits = read_digits()
    first, second = stratified_split(digits.y, DIGITS_TRAIN, SPLIT_SEED)
    return _Parts(digits.take(first), digits.take(second), 10,
                  f"scikit-learn digits, stratified split (split seed {SPLIT_SEED})",
                  AugmentConfig(pad=1, crop=True, flip=False))


_BUILDERS: dict[str, Callable[[Path | None], _Parts]] = {
    "cifar10-valid": _cifar10_valid, "cifar10": _cifar10, "cifar100": _cifar100,
    "ImageNet16-120": _imagenet16_120, "digits": _digits,
}
_NEEDS_ROOT = frozenset(DATASETS) - {"digits"}


def canonical_name(name: str) -> str:
    """The entry of ``DATASETS`` matching ``name`` (case-insensitive); DataError listing them otherwise."""
    matches = [known for known in DATASETS if known.lower() == str(name).lower()]
    if not matches:
        raise DataError(f"unknown dataset {name!r}: expected one of {', '.join(DATASETS)}")
    return matches[0]


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, device: str | torch.device = "cpu", *,
                 train_fraction: float = 1.0, seed: int = 0) -> Dataset:
    """Load dataset ``name`` from the data root (``data_dir`` or ``$BNBENCH_DATA``) onto ``device``.

    ``train_fraction`` < 1 keeps a class-stratified random subset of the train split drawn with ``seed``.
    """
    name = canonical_name(name)
    if not (isinstance(train_fraction, (int, float)) and 0 < train_fraction <= 1):
        raise DataError(f"train_fraction={train_fraction}: expected a fraction in (0, 1]")
    root = resolve_data_root(data_dir) if name in _NEEDS_ROOT else None
    parts = _BUILDERS[name](root)
    mean, std = channel_mean_std(parts.train.x)
    train, note = parts.train, parts.split_note
    if train_fraction < 1:
        keep = stratified_subset(train.y, train_fraction, [seed, SUBSET_STREAM])
        note += f"; train_fraction {train_fraction:g}: {len(keep)} of {len(train.y)} train images " \
                f"(class-stratified, seed {seed})"
        train = train.take(keep)
    return Dataset(name=name, train=ImageSplit.from_arrays(train).to(device),
                   valid=ImageSplit.from_arrays(parts.valid).to(device), num_classes=parts.num_classes,
                   mean=mean, std=std, resolution=int(train.x.shape[-1]), augment=parts.augment,
                   description=_describe(name, train, parts.valid, parts.num_classes, note))


def _describe(name: str, train: Arrays, valid: Arrays, num_classes: int, note: str) -> str:
    shape = "x".join(str(d) for d in train.x.shape[1:])
    return f"{name}: {len(train.y)} train / {len(valid.y)} valid images, {num_classes} classes, {shape} ({note})"

