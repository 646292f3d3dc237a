"""Sampling MobileNet architectures: uniform per layer, as SPOS and BN-NAS draw paths.

Every layer's choice is drawn independently and uniformly among its allowed choices (6 blocks; 7 with ``id`` on the
depth-search space's eligible layers), which is uniform over the space (BN-NAS's ``np.random.randint(len(ops))``
per layer). ``sample_distinct`` keeps the first ``n`` distinct rows of such draws (collisions are astronomically
rare among 6^21 ~ 2.2e16 architectures, but a sample never repeats one); ``random_paths`` draws with replacement.
"""

from __future__ import annotations

import numpy as np

from bnbench.errors import BnbenchError
from bnbench.spaces.mobilenet.arch import EXPANSION, ID


def random_rows(rng: np.random.Generator, n: int, limits: np.ndarray) -> np.ndarray:
    """``(n, 21)`` int64: column i uniform on ``0..limits[i]-1``."""
    return rng.integers(0, limits, size=(int(n), len(limits)), dtype=np.int64)


def sample_distinct(n: int, seed: int, limits: np.ndarray) -> np.ndarray:
    """``n`` distinct uniformly drawn rows, in the order first drawn."""
    if n < 1:
        raise BnbenchError(f"sample of {n} architectures: expected a positive number")
    rng = np.random.default_rng(seed)
    seen: dict[bytes, np.ndarray] = {}
    while len(seen) < n:
        for row in random_rows(rng, n - len(seen), limits):
            seen.setdefault(row.tobytes(), row)
    return np.stack(list(seen.values())[:n])


def strata(rows: np.ndarray) -> np.ndarray:
    """``32 * #id + #expansion-6 layers`` of each architecture (width and depth, the main drivers of cost)."""
    expansion6 = np.asarray([e == 6 for e in EXPANSION] + [False])
    return 32 * (rows == ID).sum(axis=1) + expansion6[rows].sum(axis=1)
