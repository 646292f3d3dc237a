"""Per-channel normalisation statistics of uint8 images, computed exactly with integer sums."""

from __future__ import annotations

import numpy as np

_CHUNK = 2048  # images per chunk: bounds the uint16 temporary to a few MB


def channel_mean_std(x: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean and (population) standard deviation of each channel of N x C x H x W uint8 images, in [0, 1] units."""
    if x.ndim != 4 or x.dtype != np.uint8 or x.shape[0] == 0:
        raise ValueError(f"expected non-empty uint8 N x C x H x W images, got {x.dtype} {x.shape}")
    total = np.zeros(x.shape[1], dtype=np.int64)
    squares = np.zeros(x.shape[1], dtype=np.int64)
    for start in range(0, len(x), _CHUNK):
        chunk = x[start:start + _CHUNK].astype(np.uint16)
        total += chunk.sum(axis=(0, 2, 3), dtype=np.int64)
        chunk *= chunk  # 255**2 fits in uint16
        squares += chunk.sum(axis=(0, 2, 3), dtype=np.int64)
    count = x.shape[0] * x.shape[2] * x.shape[3]
    mean = total / count
    var = np.maximum(squares / count - mean**2, 0.0)
    std = np.maximum(np.sqrt(var), 1.0)  # a constant channel would divide by zero: use one grey level
    return tuple(float(m) / 255 for m in mean), tuple(float(s) / 255 for s in std)
