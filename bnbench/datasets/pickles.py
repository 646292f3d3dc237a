"""Reading one pickled batch file (CIFAR / downsampled-ImageNet style) into checked NumPy arrays.

Accepts Python-2 pickles (the original downloads) and Python-3 ones, with ``bytes`` or ``str`` keys.
Pickles can run code when loaded: only point bnbench at dataset files from a source you trust.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from bnbench.datasets.dataset import Arrays
from bnbench.datasets.root import Source
from bnbench.errors import DataError


def load_pickle(path: Path, source: Source) -> dict[str, Any]:
    """The dict stored in ``path`` with its keys as ``str`` (``bytes`` keys are decoded)."""
    try:
        with open(path, "rb") as fh:
            # latin1: Python-2 str keys load as str and Python-2 NumPy arrays load correctly.
            obj = pickle.load(fh, encoding="latin1")
    except OSError as err:
        raise DataError(f"{path} cannot be read ({err.strerror or err}): {source.expected()}") from err
    except Exception as err:  # noqa: BLE001 - any unpickling failure means a truncated or foreign file
        raise DataError(f"{path} is not a readable pickle ({type(err).__name__}: truncated or corrupt?): "
                        f"{source.expected()}") from err
    if not isinstance(obj, dict):
        raise DataError(f"{path} holds a {type(obj).__name__}, not a dict with 'data' and labels: "
                        f"{source.expected()}")
    return {key.decode("latin1") if isinstance(key, bytes) else key: value for key, value in obj.items()}


def read_batch(path: Path, source: Source, row_size: int, label_keys: tuple[str, ...] = ("labels",)) -> Arrays:
    """``data`` (N x ``row_size`` uint8 rows) and the first present of ``label_keys`` (N ints) of one file."""
    entry = load_pickle(path, source)
    if "data" not in entry:
        raise DataError(f"{path} has no 'data' entry (keys: {sorted(map(str, entry))}): {source.expected()}")
    label_key = next((key for key in label_keys if key in entry), None)
    if label_key is None:
        raise DataError(f"{path} has no '{label_keys[0]}' entry (keys: {sorted(map(str, entry))}): "
                        f"{source.expected()}")
    data = _uint8_rows(entry["data"], row_size, path, source)
    return Arrays(data, _labels(entry[label_key], len(data), label_key, path, source))


def check_label_range(labels: np.ndarray, low: int, high: int, path: Path, source: Source) -> None:
    """Every label must lie in ``low..high`` (inclusive)."""
    if labels.size and (labels.min() < low or labels.max() > high):
        raise DataError(f"{path} has labels {labels.min()}..{labels.max()} outside {low}..{high}: "
                        f"{source.expected()}")


def _uint8_rows(data: Any, row_size: int, path: Path, source: Source) -> np.ndarray:
    try:
        array = np.asarray(data)
    except Exception as err:  # noqa: BLE001 - ragged or exotic objects
        raise DataError(f"{path}: 'data' is not an array ({type(err).__name__}): {source.expected()}") from err
    if array.ndim != 2 or array.shape[1] != row_size:
        raise DataError(f"{path}: 'data' has shape {array.shape} instead of N x {row_size}: {source.expected()}")
    if array.dtype != np.uint8:
        if array.dtype.kind not in "iu" or (array.size and (array.min() < 0 or array.max() > 255)):
            raise DataError(f"{path}: 'data' is {array.dtype}, not uint8 pixel values 0..255: "
                            f"{source.expected()}")
        array = array.astype(np.uint8)
    return array


def _labels(labels: Any, n: int, key: str, path: Path, source: Source) -> np.ndarray:
    try:
        array = np.asarray(labels)
    except Exception as err:  # noqa: BLE001
        raise DataError(f"{path}: '{key}' is not a list of ints ({type(err).__name__}): {source.expected()}") from err
    if array.shape != (n,) or (n and array.dtype.kind not in "iu"):
        raise DataError(f"{path}: '{key}' has shape {array.shape} and dtype {array.dtype} instead of {n} ints "
                        f"(one per 'data' row): {source.expected()}")
    return array.astype(np.int64)
