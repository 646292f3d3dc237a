"""Stratified evaluation samples for any search space (strata from ``SearchSpace.strata``).

A sample of ``n`` architectures takes from each stratum its proportional share (largest-remainder
rounding), uniformly at random within it, so it has the pool's composition exactly with less variance
than a plain uniform draw (NB201's strata: the number of 3x3 and 1x1 convolutions of a cell).
"""

from __future__ import annotations

import numpy as np

from bnbench.errors import BnbenchError


def stratified_indices(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Row indices (sorted) of ``n`` rows drawn by proportional stratified sampling of the ``labels``."""
    labels = np.asarray(labels)
    total = len(labels)
    if not 0 < n <= total:
        raise BnbenchError(f"sample of {n} architectures: expected 1..{total} (the pool size)")
    rng = np.random.default_rng(seed)
    keys, counts = np.unique(labels, return_counts=True)
    quota = counts * n / total
    take = np.floor(quota).astype(int)
    short = n - take.sum()
    take[np.argsort(-(quota - take), kind="stable")[:short]] += 1
    chosen = [rng.choice(np.flatnonzero(labels == k), size=t, replace=False) for k, t in zip(keys, take) if t]
    return np.sort(np.concatenate(chosen))
