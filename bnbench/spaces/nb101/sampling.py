"""Random NB101 cells (the NASBench / NASLib sampler) and the strata of stratified evaluation samples.

Sampler (``nasbench`` README's random-spec example; NASLib ``NasBench101SearchSpace.sample_random_architecture``;
NASBench-1Shot1's random search): every one of the 21 upper-triangular adjacency bits of a 7x7 matrix is 1 with
probability 1/2, every interior vertex gets one of the three ops uniformly, and the spec is redrawn until it is
valid after pruning (input connected to output, at most 9 edges): 74% of the draws are kept.

**Distribution.** This is uniform over valid *specs* (labelled, unpruned 7-vertex graphs with ops: 2^21 * 3^5),
not over the 423,624 cells (module-hash classes): a cell is drawn with probability proportional to the number of
specs that prune to a graph isomorphic to it. Small cells have many such specs (their pruned-away vertices and
edges are free), so they dominate: with replacement (``random_cells``, SPOS paths), 20,000 draws have 2 / 3 / 4 /
5 / 6 / 7 vertices in 9.7 / 20.3 / 27.8 / 30.3 / 11.6 / 0.3 % of the cases (the input -> output cell alone 9.7%).
NAS-Bench-Suite-Zero's 250 NB101 cells (``naslib-nb101-cifar10-250.csv``) have this profile (11.6 / 17.6 / 27.2 /
33.6 / 10.0 / 0 %, 162 distinct hashes, 29 rows the input -> output cell), so they were drawn this way with
replacement. Distinct by hash (``sample_distinct``), 10,000 cells are 0.01 / 0.06 / 0.8 / 24.4 / 72.5 / 2.2 %.
Every call draws in fixed-size chunks and keeps the first new hash classes in draw order, so
``sample_distinct(n, seed)`` is a prefix of ``sample_distinct(m, seed)`` for ``n < m``.

Strata: the op composition of the pruned cell, ``(#conv3x3, #conv1x1, #maxpool3x3)`` (at most 56 combinations,
which also fix the number of interior vertices). #conv3x3 sets most of a cell's parameters and FLOPs (9x a
conv1x1's) and is the strongest single accuracy predictor: Spearman 0.83 with the validation accuracy of the 250
cells above, against 0.71 for the parameter count and 0.41 for the number of vertices. Parameter deciles would
need build options and mostly mirror #conv3x3.
"""

from __future__ import annotations

import numpy as np

from bnbench.errors import BnbenchError
from bnbench.spaces.nb101 import arch as A
from bnbench.spaces.nb101.encoding import NUM_BITS, WIDTH, cell_of_valid_row, prune_embed

CHUNK = 4096  # specs drawn per round (fixed, so samples do not depend on n)
MAX_ROUNDS = 10_000


def random_specs(rng: np.random.Generator, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``m`` raw specs: ``(m, 7, 7)`` upper-triangular 0/1 matrices (each bit p = 1/2) and ``(m, 5)`` ops."""
    n = A.MAX_VERTICES
    matrices = np.triu(rng.integers(0, 2, size=(m, n, n)), 1)
    ops = rng.integers(0, len(A.OPS), size=(m, A.NUM_INTERIOR))
    return matrices, ops


def random_cells(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` valid cells drawn with replacement (the sampler above), ``(n, WIDTH)`` encodings."""
    out: list[np.ndarray] = []
    have = 0
    for _ in range(MAX_ROUNDS):
        if have >= n:
            break
        valid, rows = prune_embed(*random_specs(rng, max(2 * (n - have) + 16, 64)))
        out.append(rows[valid])
        have += int(valid.sum())
    return np.concatenate(out)[:n] if out else np.zeros((0, WIDTH), dtype=np.int64)


def sample_distinct(n: int, seed: int, size: int) -> np.ndarray:
    """``n`` valid cells of distinct module hash, in draw order (see the module docstring), ``(n, WIDTH)``."""
    if not 0 < n <= size:
        raise BnbenchError(f"sample of {n} NB101 architectures: expected 1..{size:,}")
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    seen_rows: set[tuple[int, ...]] = set()
    rows: list[tuple[int, ...]] = []
    for _ in range(MAX_ROUNDS):
        valid, candidates = prune_embed(*random_specs(rng, CHUNK))
        for row in map(tuple, candidates[valid].tolist()):
            if row in seen_rows:
                continue
            seen_rows.add(row)
            key = A.module_hash(cell_of_valid_row(row))
            if key not in seen:
                seen.add(key)
                rows.append(row)
                if len(rows) == n:
                    return np.asarray(rows, dtype=np.int64)
    raise BnbenchError(f"sample of {n} NB101 architectures: only {len(rows)} distinct cells after "
                       f"{MAX_ROUNDS * CHUNK:,} draws")


def strata(archs: np.ndarray) -> np.ndarray:
    """Stratum label ``100 #conv3x3 + 10 #conv1x1 + #maxpool3x3`` of each encoded cell."""
    ops = np.asarray(archs, dtype=np.int64).reshape(-1, WIDTH)[:, NUM_BITS:]
    return sum((ops == o).sum(axis=1) * 10 ** (2 - o) for o in range(len(A.OPS)))


def mutate(row: np.ndarray, prob: float, rng: np.random.Generator, tries: int = 100) -> np.ndarray:
    """A valid mutant of one cell: on its embedded 7-vertex spec every adjacency bit flips and every interior op
    (an unused position's op drawn first) is redrawn with probability ``prob``, redrawn until the spec is valid
    after pruning (as NAS-Bench-101's own evolution mutates specs); the parent after ``tries`` failures."""
    matrix, ops = _spec(row, rng)
    for _ in range(tries):
        flips = np.triu(rng.random(matrix.shape) < prob, 1)
        new_ops = np.where(rng.random(ops.shape) < prob, rng.integers(0, len(A.OPS), size=ops.shape), ops)
        valid, rows = prune_embed((matrix ^ flips)[None], new_ops[None])
        if valid[0]:
            return rows[0]
    return np.asarray(row, dtype=np.int64)


def crossover(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, tries: int = 100) -> np.ndarray:
    """A valid child of two cells: every adjacency bit and interior op of the embedded specs taken from either
    parent with probability 1/2, redrawn until valid after pruning; parent ``a`` after ``tries`` failures."""
    (ma, oa), (mb, ob) = _spec(a, rng), _spec(b, rng)
    for _ in range(tries):
        matrix = np.where(rng.random(ma.shape) < 0.5, ma, mb)
        ops = np.where(rng.random(oa.shape) < 0.5, oa, ob)
        valid, rows = prune_embed(np.triu(matrix, 1)[None], ops[None])
        if valid[0]:
            return rows[0]
    return np.asarray(a, dtype=np.int64)


def _spec(row: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(7x7 0/1 matrix, 5 op indices) of an encoding row; unused positions get a random op (they have no edges)."""
    from bnbench.spaces.nb101.encoding import full_matrices

    row = np.asarray(row, dtype=np.int64)
    ops = row[NUM_BITS:].copy()
    unused = ops < 0
    ops[unused] = rng.integers(0, len(A.OPS), size=int(unused.sum()))
    return full_matrices(row[None])[0].astype(bool).astype(np.int64), ops
