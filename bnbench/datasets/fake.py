"""Tiny fake dataset folders in the real on-disk layouts, for tests (random pixels, balanced labels).

``bytes_keys=True`` writes the dicts with ``bytes`` keys (protocol 2), as the original Python-2
downloads load; otherwise ``str`` keys (protocol 4), as Python-3 rewrites such as ``../shared/data`` do.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from bnbench.datasets.cifar import CIFAR10, CIFAR10_TRAIN, CIFAR100
from bnbench.datasets.imagenet16 import IMAGENET16, TRAIN_FILES, VAL_FILE


def write_pickle(path: Path, entry: dict[str, Any], bytes_keys: bool = False) -> Path:
    """Pickle ``entry`` to ``path``, with its keys encoded to ``bytes`` when ``bytes_keys``."""
    if bytes_keys:
        entry = {key.encode("latin1"): value for key, value in entry.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        pickle.dump(entry, fh, protocol=2 if bytes_keys else 4)
    return path


def balanced_labels(rng: np.random.Generator, n: int, labels: np.ndarray) -> np.ndarray:
    """``n`` labels cycling through ``labels`` (as balanced as ``n`` allows), shuffled."""
    return rng.permutation(np.resize(np.asarray(labels), n)).astype(np.int64)


def _batch(rng: np.random.Generator, labels: np.ndarray, row: int, label_key: str) -> dict[str, Any]:
    data = rng.integers(0, 256, size=(len(labels), row), dtype=np.uint8)
    return {"batch_label": "fake", "data": data, label_key: labels.tolist(),
            "filenames": [f"img{i}.png" for i in range(len(labels))]}


def write_fake_cifar10(root: Path, per_batch: int = 20, bytes_keys: bool = False, seed: int = 0) -> Path:
    """``<root>/cifar-10-batches-py`` with 5 train batches and a test batch of ``per_batch`` images each."""
    rng, folder = np.random.default_rng(seed), Path(root) / CIFAR10.folder
    for name in [*CIFAR10_TRAIN, "test_batch"]:
        write_pickle(folder / name, _batch(rng, balanced_labels(rng, per_batch, np.arange(10)), 3072, "labels"),
                     bytes_keys)
    write_pickle(folder / "batches.meta", {"label_names": [f"class{i}" for i in range(10)]}, bytes_keys)
    return folder


def write_fake_cifar100(root: Path, n_train: int = 200, n_test: int = 200, bytes_keys: bool = False,
                        seed: int = 0) -> Path:
    """``<root>/cifar-100-python`` with ``train``, ``test`` and ``meta`` (fine and coarse labels)."""
    rng, folder = np.random.default_rng(seed), Path(root) / CIFAR100.folder
    for name, n in (("train", n_train), ("test", n_test)):
        fine = balanced_labels(rng, n, np.arange(100))
        entry = _batch(rng, fine, 3072, "fine_labels")
        entry["coarse_labels"] = (fine // 5).tolist()
        write_pickle(folder / name, entry, bytes_keys)
    write_pickle(folder / "meta", {"fine_label_names": [f"f{i}" for i in range(100)]}, bytes_keys)
    return folder


def write_fake_imagenet16(root: Path, per_batch: int = 20, n_val: int = 40, bytes_keys: bool = False,
                          seed: int = 0) -> Path:
    """``<root>/ImageNet16``: half of each file's labels in 1..120, half in 121..1000 (1-based)."""
    rng, folder = np.random.default_rng(seed), Path(root) / IMAGENET16.folder
    kept, dropped = np.arange(1, 121), np.arange(121, 1001)
    for name, n in [*((f, per_batch) for f in TRAIN_FILES), (VAL_FILE, n_val)]:
        labels = rng.permutation(np.concatenate([np.resize(rng.permutation(kept), n - n // 2),
                                                 rng.choice(dropped, n // 2)]))
        write_pickle(folder / name, _batch(rng, labels, 768, "labels"), bytes_keys)
    return folder
