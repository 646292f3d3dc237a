"""CIFAR-10 and CIFAR-100 in their standard "python version" folders.

Rows are 1024 red, 1024 green, 1024 blue values of a 32x32 image, so a plain reshape gives N x 3 x 32 x 32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bnbench.datasets.dataset import Arrays
from bnbench.datasets.pickles import check_label_range, read_batch
from bnbench.datasets.root import Source, find_folder, require_files

CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
CIFAR10 = Source("cifar-10-batches-py", "CIFAR-10's python version", CIFAR_URL, parents=("cifar10", "cifar-10"))
CIFAR100 = Source("cifar-100-python", "CIFAR-100's python version", CIFAR_URL, parents=("cifar100", "cifar-100"))
CIFAR10_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
ROW = 3 * 32 * 32


def read_cifar10(root: Path) -> tuple[Arrays, Arrays]:
    """(train, test) of CIFAR-10: 50,000 and 10,000 images, labels 0..9."""
    folder = find_folder(root, CIFAR10)
    train_paths = require_files(folder, CIFAR10_TRAIN, CIFAR10)
    (test_path,) = require_files(folder, ["test_batch"], CIFAR10)
    return _read_files(train_paths, CIFAR10, ("labels",), 10), _read_files([test_path], CIFAR10, ("labels",), 10)


def read_cifar100(root: Path) -> tuple[Arrays, Arrays]:
    """(train, test) of CIFAR-100 with the 100 fine labels: 50,000 and 10,000 images."""
    folder = find_folder(root, CIFAR100)
    train_path, test_path = require_files(folder, ["train", "test"], CIFAR100)
    return (_read_files([train_path], CIFAR100, ("fine_labels",), 100),
            _read_files([test_path], CIFAR100, ("fine_labels",), 100))


def _read_files(paths: list[Path], source: Source, label_keys: tuple[str, ...], num_classes: int) -> Arrays:
    parts = []
    for path in paths:
        part = read_batch(path, source, ROW, label_keys)
        check_label_range(part.y, 0, num_classes - 1, path, source)
        parts.append(part)
    x = np.concatenate([p.x for p in parts]) if len(parts) > 1 else parts[0].x
    y = np.concatenate([p.y for p in parts])
    return Arrays(x.reshape(-1, 3, 32, 32), y)
