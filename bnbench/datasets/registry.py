"""Datasets by name, with NAS-Bench-201's split definitions and the indicators' evaluation images.

Every dataset has a ``train`` split (the supernet's training images), a ``valid`` split of its own and,
where the data has one, a ``test`` split; ``eval`` is whichever of valid/test is disjoint from the images
the run's ground truth is measured on (:mod:`bnbench.datasets.protocol` has the full table):

- ``cifar10-valid``: the CIFAR-10 train set halved into 25,000 train / 25,000 valid; test = the 10,000
  test images. NB201's official split file indexes the original image order, which not every copy keeps,
  so the halves are a class-balanced (2,500 + 2,500 per class) random split with the fixed seed
  ``SPLIT_SEED``. Indicators evaluate on the test set for a validation (or train) truth, on the valid
  half for a test truth.
- ``cifar10``: train = the 50,000 train images less a class-balanced 5,000-image hold-out (valid);
  test = the 10,000 test images. Indicators evaluate on the hold-out for the test truth, on the test set
  for a train truth.
- ``cifar100``: as ``cifar10`` (45,000 train / 5,000 hold-out / 10,000 test); NB201's x-valid and x-test
  are halves of the test set, so indicators evaluate on the hold-out for either.
- ``ImageNet16-120``: NB201's 16x16 ImageNet restricted to labels 1..120 (relabelled 0..119); train =
  all train batches less a 5,000-image hold-out (valid); test = ``val_data`` (x-valid/x-test halves).
- ``digits``: scikit-learn's 1,797 8x8 digits, stratified 1,000 train / 797 valid, fixed seed. Its
  bnbench-built truth cross-validates over all 1,797 images, so indicators cannot avoid its images.

The splits never depend on the run's ``seed``; only the ``train_fraction`` subset (class-stratified,
EcoNAS-style reduced samples) does. Mean/std come from the full train split (after the hold-out, before
any subsetting), so reduced-data runs normalise exactly like full ones.
"""

from __future__ import annotations

import hashlib
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
from bnbench.datasets.protocol import DISJOINT, TRUTH_SPLITS, TruthImages, holdout_size
from bnbench.datasets.root import resolve_data_root
from bnbench.datasets.sampling import stratified_split, stratified_subset
from bnbench.datasets.stats import channel_mean_std
from bnbench.errors import DataError

DATASETS: tuple[str, ...] = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120", "digits")
# (input channels, native resolution, classes) of each dataset, known without reading it
SHAPES: dict[str, tuple[int, int, int]] = {"cifar10-valid": (3, 32, 10), "cifar10": (3, 32, 10),
                                           "cifar100": (3, 32, 100), "ImageNet16-120": (3, 16, 120),
                                           "digits": (1, 8, 10)}
# Datasets whose train split changed when the hold-out was introduced: supernets trained on them before
# (checkpoints without a record of their training images) saw the images indicators now evaluate on.
HOLDOUT_DATASETS = frozenset({"cifar10", "cifar100", "ImageNet16-120"})
# The truth split each dataset's results are usually measured on (used when a run names no truth).
DEFAULT_TRUTH = {"cifar10-valid": "valid", "cifar10": "test", "cifar100": "valid", "ImageNet16-120": "valid",
                 "digits": "kfold"}
SPLIT_SEED = 0  # fixed seed of every train/valid/hold-out split: independent of the run's seed
SUBSET_STREAM = 1  # train_fraction subsets draw from default_rng([seed, SUBSET_STREAM])
DIGITS_TRAIN = 1000


@dataclass(frozen=True)
class _Parts:
    """What a dataset builder produces before the shared steps (stats, subset, tensors)."""

    train: Arrays
    valid: Arrays
    test: Arrays | None
    num_classes: int
    words: dict[str, str]  # "train" / "valid" / "test": which images each split holds
    truths: dict[str, TruthImages]  # truth split key -> its images and the evaluation split
    augment: AugmentConfig = AugmentConfig()
    split_note: str = ""


def _half(arrays: Arrays) -> tuple[Arrays, Arrays]:
    first, second = stratified_split(arrays.y, len(arrays.y) // 2, SPLIT_SEED)
    return arrays.take(first), arrays.take(second)


def _holdout(arrays: Arrays) -> tuple[Arrays, Arrays]:
    """(the rest, a class-balanced hold-out of ``holdout_size`` images), fixed seed ``SPLIT_SEED``."""
    held, rest = stratified_split(arrays.y, holdout_size(len(arrays.y)), SPLIT_SEED)
    return arrays.take(rest), arrays.take(held)


def _n(count: int) -> str:
    return f"{count:,}"


def _cifar10_valid(root: Path) -> _Parts:
    full, test = read_cifar10(root)
    train, valid = _half(full)
    n, half = len(full.y), len(full.y) // 2
    unknown = (f"unknown: NB201's halves index the original image order, this split does not, so about half of "
               f"the {_n(len(train.y))} training images are expected among the truth's")
    truths = {
        "valid": TruthImages(f"NB201's {_n(half)}-image validation half of the CIFAR-10 train set", half, "test",
                             train_vs_truth=unknown),
        "test": TruthImages(f"the CIFAR-10 test set ({_n(len(test.y))} images)", len(test.y), "valid"),
        "train": TruthImages(f"NB201's {_n(half)}-image train half of the CIFAR-10 train set", half, "test",
                             train_vs_truth=unknown),
        "kfold": TruthImages(f"the {_n(n)} CIFAR-10 train images (train and valid pooled, k-fold)", n, "test",
                             train_vs_truth=f"overlap: the {_n(len(train.y))} training images are among them"),
    }
    words = {"train": f"this copy's class-balanced half of the CIFAR-10 train set (split seed {SPLIT_SEED})",
             "valid": f"the other half of the CIFAR-10 train set (split seed {SPLIT_SEED})",
             "test": "the CIFAR-10 test set"}
    return _Parts(train, valid, test, 10, words, truths,
                  split_note=f"CIFAR-10 train set halved (class-balanced, split seed {SPLIT_SEED}); test = test set")


def _with_holdout(name: str, full: Arrays, test: Arrays, num_classes: int, truth_test: dict[str, TruthImages],
                  test_words: str, **kw) -> _Parts:
    """The hold-out protocol: train = ``full`` less a hold-out (valid), test = the dataset's test images."""
    train, held = _holdout(full)
    n = len(full.y)
    subset = f"overlap: the {_n(len(train.y))} training images are among them"
    truths = {**truth_test,
              "train": TruthImages(f"the {_n(n)} {name} train images", n, "test", train_vs_truth=subset),
              "kfold": TruthImages(f"the {_n(n)} {name} train images (train and hold-out pooled, k-fold)", n, "test",
                                   train_vs_truth=subset)}
    words = {"train": f"the {name} train set less the hold-out",
             "valid": f"a class-balanced hold-out of {_n(len(held.y))} {name} train images (split seed {SPLIT_SEED})",
             "test": test_words}
    note = (f"{name} train set less a class-balanced {_n(len(held.y))}-image hold-out (split seed {SPLIT_SEED}) "
            f"as valid; test = {test_words}")
    return _Parts(train, held, test, num_classes, words, truths, split_note=note, **kw)


def _cifar10(root: Path) -> _Parts:
    full, test = read_cifar10(root)
    truth = {"test": TruthImages(f"the CIFAR-10 test set ({_n(len(test.y))} images)", len(test.y), "valid")}
    return _with_holdout("CIFAR-10", full, test, 10, truth, "the CIFAR-10 test set")


def _x_halves(what: str, test: Arrays) -> dict[str, TruthImages]:
    half = len(test.y) // 2
    return {"valid": TruthImages(f"NB201's x-valid: a {_n(half)}-image half of {what}", half, "valid"),
            "test": TruthImages(f"NB201's x-test: a {_n(len(test.y) - half)}-image half of {what}",
                                len(test.y) - half, "valid")}


def _cifar100(root: Path) -> _Parts:
    full, test = read_cifar100(root)
    return _with_holdout("CIFAR-100", full, test, 100, _x_halves("the CIFAR-100 test set", test),
                         "the CIFAR-100 test set")


def _imagenet16_120(root: Path) -> _Parts:
    full, val = read_imagenet16(root, 120)
    return _with_holdout("ImageNet16-120", full, val, 120, _x_halves("ImageNet16-120's val_data", val),
                         "ImageNet16-120's val_data")


def _digits(_root: Path | None) -> _Parts:
    digits = read_digits()
    first, second = stratified_split(digits.y, DIGITS_TRAIN, SPLIT_SEED)
    n, n_valid = len(digits.y), len(second)
    overlap = TruthImages(
        f"all {_n(n)} digits images (bnbench's digits truth is k-fold over train and valid pooled)", n, "valid",
        eval_vs_truth=(f"overlap: all {_n(n_valid)} evaluation images are truth images; the digits truth tests "
                       f"every image, so disjoint evaluation needs a truth rebuilt on a subset"),
        train_vs_truth=f"overlap: all {_n(len(first))} training images are truth images")
    words = {"train": f"a stratified {_n(len(first))} of the digits images (split seed {SPLIT_SEED})",
             "valid": f"the other {_n(n_valid)} digits images"}
    return _Parts(digits.take(first), digits.take(second), None, 10, words,
                  {key: overlap for key in TRUTH_SPLITS},
                  augment=AugmentConfig(pad=1, crop=True, flip=False),
                  split_note=f"scikit-learn digits, stratified split (split seed {SPLIT_SEED})")


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


def images_digest(arrays: Arrays) -> str:
    """SHA-256 (16 hex digits) of a split's pixels and labels: which images, in which order."""
    h = hashlib.sha256()
    h.update(str(arrays.x.shape).encode())
    h.update(arrays.x.tobytes())
    h.update(arrays.y.astype("int64").tobytes())
    return h.hexdigest()[:16]


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, device: str | torch.device = "cpu", *,
                 train_fraction: float = 1.0, seed: int = 0, truth_split: str | None = None) -> Dataset:
    """Load dataset ``name`` from the data root (``data_dir`` or ``$BNBENCH_DATA``) onto ``device``.

    ``train_fraction`` < 1 keeps a class-stratified random subset of the train split drawn with ``seed``.
    ``truth_split`` (``train``, ``valid``, ``test`` or ``kfold`` for a bnbench-built table; None = the
    dataset's usual truth, :data:`DEFAULT_TRUTH`) names the images the run's ground truth is measured on:
    ``Dataset.eval`` is then a split disjoint from them where the data allows, and ``Dataset.images``
    records every role's images. DataError for a truth split the dataset does not define.
    """
    name = canonical_name(name)
    if not (isinstance(train_fraction, (int, float)) and 0 < train_fraction <= 1):
        raise DataError(f"train_fraction={train_fraction}: expected a fraction in (0, 1]")
    key = DEFAULT_TRUTH[name] if truth_split is None else str(truth_split)
    root = resolve_data_root(data_dir) if name in _NEEDS_ROOT else None
    parts = _BUILDERS[name](root)
    if key not in parts.truths:
        raise DataError(f"the {name} setting has no {key!r} truth split: expected one of {', '.join(parts.truths)}")
    truth = parts.truths[key]
    mean, std = channel_mean_std(parts.train.x)
    train, note = parts.train, parts.split_note
    if train_fraction < 1:
        keep = stratified_subset(train.y, train_fraction, [seed, SUBSET_STREAM])
        note += f"; train_fraction {train_fraction:g}: {len(keep)} of {len(train.y)} train images " \
                f"(class-stratified, seed {seed})"
        train = train.take(keep)
    evaluated = parts.test if truth.eval_split == "test" else parts.valid
    images = _record(name, key if truth_split is not None else None, parts, truth, train, evaluated, train_fraction,
                     seed)
    test = ImageSplit.from_arrays(parts.test).to(device) if parts.test is not None else None
    return Dataset(name=name, train=ImageSplit.from_arrays(train).to(device),
                   valid=ImageSplit.from_arrays(parts.valid).to(device), num_classes=parts.num_classes,
                   mean=mean, std=std, resolution=int(train.x.shape[-1]), augment=parts.augment,
                   description=_describe(name, train, parts, note, images), test=test,
                   eval_split=truth.eval_split, images=images)


def _record(name: str, given: str | None, parts: _Parts, truth: TruthImages, train: Arrays, evaluated: Arrays,
            train_fraction: float, seed: int) -> dict:
    """``Dataset.images``: the images of every role, with counts and digests, and how they relate."""
    how = "" if train_fraction >= 1 else \
        f"; a class-stratified {train_fraction:g} of them (seed {seed})"
    return {
        "dataset": name,
        "train": {"images": parts.words["train"] + how, "count": int(len(train.y)), "pool": int(len(parts.train.y)),
                  "digest": images_digest(parts.train)},
        "eval": {"split": truth.eval_split, "images": parts.words[truth.eval_split], "count": int(len(evaluated.y)),
                 "digest": images_digest(evaluated)},
        "truth": {"split": given or f"{DEFAULT_TRUTH[name]} (assumed: no truth given)", "given": given,
                  "images": truth.images,
                  "count": int(truth.count)},
        "eval_vs_truth": truth.eval_vs_truth,
        "train_vs_truth": truth.train_vs_truth,
    }


def _describe(name: str, train: Arrays, parts: _Parts, note: str, images: dict) -> str:
    shape = "x".join(str(d) for d in train.x.shape[1:])
    test = f" / {len(parts.test.y)} test" if parts.test is not None else ""
    ev = images["eval"]
    relation = images["eval_vs_truth"]
    relation = "disjoint from" if relation == DISJOINT else f"NOT disjoint from ({relation})"
    return (f"{name}: {len(train.y)} train / {len(parts.valid.y)} valid{test} images, {parts.num_classes} classes, "
            f"{shape} ({note}); indicators evaluate on {ev['images']} ({ev['count']} images), {relation} "
            f"the truth's images: {images['truth']['images']}")
