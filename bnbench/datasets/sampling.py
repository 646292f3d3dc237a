"""Class-stratified random splits and subsets, deterministic for a seed.

Each image gets a uniform random key from ``np.random.default_rng(seed).random(n)``; within every class
the images with the smallest keys are taken. Class quotas are proportional to class sizes (largest
remainder, ties to the lower class), so a balanced 50,000-image set halves into exactly 2,500 + 2,500
per class. Indices are returned sorted, i.e. each part keeps the original order.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def class_quotas(counts: np.ndarray, total: int) -> np.ndarray:
    """Integer per-class sizes proportional to ``counts`` that sum to ``total`` (largest remainder)."""
    counts = np.asarray(counts, dtype=np.int64)
    n = int(counts.sum())
    if not 0 <= total <= n:
        raise ValueError(f"cannot take {total} of {n} items")
    if n == 0:
        return np.zeros_like(counts)
    scaled = counts * total
    quotas, remainders = scaled // n, scaled % n
    missing = total - int(quotas.sum())
    order = np.lexsort((np.arange(len(counts)), -remainders))  # largest remainder first, then class index
    quotas[order[:missing]] += 1
    return quotas


def stratified_split(labels: np.ndarray, n_first: int, seed: int | Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted indices of a stratified random subset of ``n_first`` items, and of all the others."""
    labels = np.asarray(labels)
    n = len(labels)
    _, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    quotas = class_quotas(counts, n_first)
    keys = np.random.default_rng(seed).random(n)
    order = np.lexsort((keys, inverse))  # grouped by class, smallest key first within a class
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    rank = np.arange(n) - starts  # rank of order[i] within its class
    first = np.zeros(n, dtype=bool)
    first[order[rank < np.repeat(quotas, counts)]] = True
    return np.flatnonzero(first), np.flatnonzero(~first)


def stratified_subset(labels: np.ndarray, fraction: float, seed: int | Sequence[int]) -> np.ndarray:
    """Sorted indices of a stratified random ``fraction`` of the items (at least one item)."""
    n_keep = min(len(labels), max(1, round(len(labels) * fraction)))
    return stratified_split(labels, n_keep, seed)[0]
