"""Uniform random DARTS genotypes and the strata of stratified evaluation samples.

Sampler (NASLib ``NasBench301SearchSpace.sample_random_architecture``; the DARTS random-search baseline): for each
cell type and intermediate node ``i`` independently, two distinct inputs drawn uniformly among the ``i + 2``
earlier states and one op per input drawn uniformly from the 7 ops. Every node's two pairs are written in input
order, so rows are canonical. This is uniform over canonical genotypes and over genotypes as written: every
canonical genotype stands for exactly 2^8 written ones (a node's two pairs in either order, both cells), so the
probability of each is ``1 / (180 * 7^8)^2`` (``180 = 1 * 3 * 6 * 10`` input choices per cell), about 1e-18.
``sample_distinct`` keeps the first draws of distinct canonical rows (a collision is practically impossible).

Strata: the number of parameterised ops (sep / dil convolutions) over both cells, 0..16: it sets most of a
network's parameters and FLOPs and is the cheapest proxy of its capacity.
"""

from __future__ import annotations

import numpy as np

from bnbench.errors import BnbenchError
from bnbench.spaces.darts import arch as A
from bnbench.spaces.darts.encoding import WIDTH, as_rows

CHUNK = 1024  # genotypes drawn per round (fixed, so a sample of n is a prefix of a sample of m > n)
PARAMETERISED = np.asarray([name in A.PARAMETERISED for name in A.OPS])


def random_genotypes(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(n, WIDTH)`` canonical encodings drawn uniformly with replacement (module docstring)."""
    out = np.zeros((n, 2, A.NODES, 2, 2), dtype=np.int64)  # (genotype, cell type, node, pair in node, (op, input))
    out[..., 0] = rng.integers(0, len(A.OPS), size=(n, 2, A.NODES, 2))
    for node in range(A.NODES):
        keys = rng.random((n, 2, node + 2))
        inputs = np.sort(np.argsort(keys, axis=-1)[..., :2], axis=-1)  # two distinct inputs, uniform, ordered
        out[:, :, node, :, 1] = inputs
    return out.reshape(n, WIDTH)


def sample_distinct(n: int, seed: int) -> np.ndarray:
    """``n`` genotypes of distinct canonical form, in draw order; ``(n, WIDTH)``."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise BnbenchError(f"sample of {n} DARTS architectures: expected a positive integer")
    rng = np.random.default_rng(seed)
    seen: set[bytes] = set()
    rows: list[np.ndarray] = []
    while len(rows) < n:
        for row in random_genotypes(rng, CHUNK):
            key = row.tobytes()
            if key not in seen:
                seen.add(key)
                rows.append(row)
                if len(rows) == n:
                    break
    return np.asarray(rows, dtype=np.int64)


def strata(archs: np.ndarray) -> np.ndarray:
    """Number of parameterised ops (sep_conv / dil_conv) over both cells of each genotype (0..16)."""
    ops = as_rows(archs).reshape(-1, 2 * A.PAIRS, 2)[..., 0]
    return PARAMETERISED[np.clip(ops, 0, len(A.OPS) - 1)].sum(axis=1).astype(np.int64)


def mutate(row: np.ndarray, prob: float, rng: np.random.Generator) -> np.ndarray:
    """A mutant genotype: in both cells every (op, input) pair's op is redrawn among the 7 ops, and its input among
    the node's ``i + 2`` earlier states other than the node's other input, each with probability ``prob``; always
    valid."""
    pairs = np.array(row, dtype=np.int64).reshape(2, A.NODES, 2, 2)  # (cell type, node, pair in node, (op, input))
    for cell in range(2):
        for node in range(A.NODES):
            for k in range(2):
                if rng.random() < prob:
                    pairs[cell, node, k, 0] = rng.integers(0, len(A.OPS))
                if rng.random() < prob:
                    other = pairs[cell, node, 1 - k, 1]
                    pairs[cell, node, k, 1] = rng.choice([s for s in range(node + 2) if s != other])
    return pairs.reshape(WIDTH)


def crossover(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A child genotype: in both cells every intermediate node (its two pairs together) taken from either parent
    with probability 1/2; always valid (a node's inputs come from one parent, so they stay distinct)."""
    pa, pb = (np.asarray(x, dtype=np.int64).reshape(2, A.NODES, 2, 2) for x in (a, b))
    take = rng.random((2, A.NODES)) < 0.5
    return np.where(take[:, :, None, None], pa, pb).reshape(WIDTH)
