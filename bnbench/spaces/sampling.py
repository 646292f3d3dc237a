"""Stratified evaluation samples for any search space (strata from ``SearchSpace.strata``), and FairNAS
strict-fair path groups.

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


def strict_fair_rows(rng: np.random.Generator, steps: int, counts: list[int] | np.ndarray) -> np.ndarray:
    """FairNAS strict fairness (Chu et al., "FairNAS: Rethinking Evaluation Fairness of Weight Sharing Neural
    Architecture Search", ICCV 2021): for each of ``steps`` training steps, ``m`` choice rows in which every
    choice of every decision appears exactly once: an independent uniform permutation of ``0 .. m-1`` per decision.

    ``counts``: the number of choices of each of the D decisions; all must be equal (``m``), as in the layer-wise
    spaces FairNAS was defined for. Returns ``(steps, m, D)`` ints. :class:`BnbenchError` otherwise.
    """
    counts = np.asarray(counts, dtype=np.int64)
    if len(counts) == 0 or not (counts == counts[0]).all():
        raise BnbenchError(f"strict-fair sampling needs the same number of choices for every decision, not "
                           f"{sorted(set(counts.tolist()))}")
    m = int(counts[0])
    perms = np.argsort(rng.random((steps, len(counts), m)), axis=2)  # (steps, D, m): one permutation per decision
    return perms.transpose(0, 2, 1).astype(np.int64)
