"""Stratified sampling of NB201 cells.

Strata are the op composition ``(#nor_conv_3x3, #nor_conv_1x1)`` of a cell, the two counts that
drive both accuracy and cost in NB201; a sample of ``n`` cells takes from each stratum its
proportional share (largest-remainder rounding), uniformly at random within it. The sample thus
has the pool's composition exactly, with less variance than a plain uniform draw.
"""

from __future__ import annotations

import numpy as np

from bnbench.spaces.nb201.arch import OPS
from bnbench.spaces.sampling import stratified_indices

_CONV3, _CONV1 = OPS.index("nor_conv_3x3"), OPS.index("nor_conv_1x1")


def conv_ops(archs: np.ndarray) -> np.ndarray:
    """Convolutions (nor_conv_3x3, nor_conv_1x1) among each cell's six edges."""
    archs = np.asarray(archs).reshape(-1, 6)
    return ((archs == _CONV3) | (archs == _CONV1)).sum(1).astype(np.int64)


def strata(archs: np.ndarray) -> np.ndarray:
    archs = np.asarray(archs)
    return (archs == _CONV3).sum(1) * 10 + (archs == _CONV1).sum(1)


def stratified_sample(archs: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Row indices (sorted) of ``n`` rows of ``archs`` drawn by proportional stratified sampling."""
    return stratified_indices(strata(archs), n, seed)
