"""NAS-Bench-201's downsampled ImageNet 16x16 (``<root>/ImageNet16``), restricted to its first classes.

Each file is a pickled dict with ``data`` (N x 768 uint8: 256 red, 256 green, 256 blue values) and
``labels`` (1-based, 1..1000). ImageNet16-120 keeps the images with label <= 120, relabelled 0..119.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bnbench.datasets.dataset import Arrays
from bnbench.datasets.pickles import check_label_range, read_batch
from bnbench.datasets.root import Source, find_folder, require_files
from bnbench.errors import DataError

IMAGENET16 = Source("ImageNet16", "NAS-Bench-201's downsampled ImageNet 16x16 (train_data_batch_1..10, val_data)",
                    "https://image-net.org/download-images 'Downsampled ImageNet 16x16', "
                    "layout as in https://github.com/D-X-Y/AutoDL-Projects")
TRAIN_FILES = [f"train_data_batch_{i}" for i in range(1, 11)]
VAL_FILE = "val_data"
ROW = 3 * 16 * 16


def read_imagenet16(root: Path, num_classes: int = 120) -> tuple[Arrays, Arrays]:
    """(train, val) of ImageNet16 restricted to labels 1..``num_classes``, relabelled 0..num_classes-1."""
    folder = find_folder(root, IMAGENET16)
    train_paths = require_files(folder, TRAIN_FILES, IMAGENET16)
    (val_path,) = require_files(folder, [VAL_FILE], IMAGENET16)
    return _read_files(train_paths, num_classes), _read_files([val_path], num_classes)


def _read_files(paths: list[Path], num_classes: int) -> Arrays:
    parts = [_read_filtered(path, num_classes) for path in paths]
    x = np.concatenate([p.x for p in parts]).reshape(-1, 3, 16, 16)
    y = np.concatenate([p.y for p in parts])
    if len(y) == 0:
        names = ", ".join(p.name for p in paths)
        raise DataError(f"{paths[0].parent} has no images with labels 1..{num_classes} in {names}: "
                        f"{IMAGENET16.expected()}")
    return Arrays(x, y)


def _read_filtered(path: Path, num_classes: int) -> Arrays:
    """One file's images with label <= ``num_classes`` (filtered at once to bound memory)."""
    part = read_batch(path, IMAGENET16, ROW)
    check_label_range(part.y, 1, 1000, path, IMAGENET16)
    keep = part.y <= num_classes
    return Arrays(part.x[keep], part.y[keep] - 1)
