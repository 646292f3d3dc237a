"""The fixed-width integer encoding of DARTS genotypes, their edges and the choice matrix.

Encoding row (``WIDTH = 32`` int64): the normal cell's 8 pairs, then the reduction cell's, each pair as two
columns ``(op index into arch.OPS, input)``, in the genotype's own pair order (so ``parse(to_str(row)) == row``
exactly; genotypes that differ in the order of a node's pairs have different rows and the same canonical row).

Edges: a cell has :data:`NUM_EDGES` = 14 candidate edges ``(node i, input j)``, ``j <= i + 1``, numbered node by
node (:data:`EDGES`: (0,0), (0,1), (1,0), (1,1), (1,2), (2,0), ..., (3,4); ``edge_index(i, j) = i(i+3)/2 + j``).
A genotype uses exactly 8 of each cell's 14. The **choice matrix** has 28 columns, the normal cell's 14 edges then
the reduction cell's: the op index on a used edge, -1 on an unused one. It is a function of the canonical form
(and determines it), since a node's two inputs are distinct.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

from bnbench.errors import ArchError
from bnbench.spaces.darts import arch as A

WIDTH = 2 * 2 * A.PAIRS  # 32
EDGES: tuple[tuple[int, int], ...] = tuple((i, j) for i in range(A.NODES) for j in range(i + 2))
NUM_EDGES = len(EDGES)  # 14
NUM_DECISIONS = 2 * NUM_EDGES  # 28
_NODE_OF_PAIR = np.repeat(np.arange(A.NODES), 2)  # node of each of a cell's 8 pairs


def edge_index(node: int, src: int) -> int:
    """Index (0..13) of edge ``src -> node`` within a cell."""
    return node * (node + 3) // 2 + src


def encode(genotype: A.Genotype) -> np.ndarray:
    """The ``WIDTH`` int64 row of a checked genotype."""
    return np.asarray([v for kind in A.CELL_TYPES for op, src in genotype.cell(kind) for v in (A.OPS.index(op), src)],
                      dtype=np.int64)


def as_rows(rows: np.ndarray, what: str = "DARTS encoding") -> np.ndarray:
    """``rows`` as an ``(n, WIDTH)`` int64 array (no validity check); ArchError for another shape or type."""
    try:
        arr = np.asarray(rows)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
            raise ValueError
        if arr.size % WIDTH:
            raise ValueError
        return arr.astype(np.int64).reshape(-1, WIDTH)
    except (TypeError, ValueError):
        shape = getattr(np.asarray(rows, dtype=object), "shape", ())
        raise ArchError(f"{what}: expected integer rows of {WIDTH} values (8 (op, input) pairs per cell type), "
                        f"got shape {shape}") from None


def check_rows(rows: np.ndarray, what: str = "DARTS encoding") -> np.ndarray:
    """``rows`` as ``(n, WIDTH)`` int64, every row a valid genotype; ArchError naming the first bad row."""
    arr = as_rows(rows, what)
    if not len(arr):
        return arr
    pairs = arr.reshape(len(arr), 2, A.PAIRS, 2)
    ops, srcs = pairs[..., 0], pairs[..., 1]
    ok = ((ops >= 0) & (ops < len(A.OPS))).all(axis=(1, 2))
    ok &= ((srcs >= 0) & (srcs <= _NODE_OF_PAIR + 1)).all(axis=(1, 2))
    ok &= (srcs[..., 0::2] != srcs[..., 1::2]).all(axis=(1, 2))
    if not ok.all():
        bad = int(np.flatnonzero(~ok)[0])
        raise ArchError(f"{what} row {bad} {arr[bad].tolist()} is not a valid DARTS genotype (per cell type 8 "
                        "(op index 0..6, input) pairs; node i's two inputs distinct, from 0..i+1)")
    return arr


def choices(rows: np.ndarray) -> np.ndarray:
    """``(n, 28)`` choice matrix of valid rows: op index per used edge, -1 per unused edge."""
    arr = check_rows(rows)
    n = len(arr)
    pairs = arr.reshape(n, 2, A.PAIRS, 2)
    out = np.full((n, NUM_DECISIONS), -1, dtype=np.int64)
    node = _NODE_OF_PAIR[None, None, :]
    column = np.arange(2)[None, :, None] * NUM_EDGES + node * (node + 3) // 2 + pairs[..., 1]
    out[np.arange(n)[:, None, None], column] = pairs[..., 0]
    return out


def canonical_rows(rows: np.ndarray) -> np.ndarray:
    """Rows with each node's two pairs ordered by input (the canonical form, :func:`arch.canonical`)."""
    arr = check_rows(rows).copy()
    pairs = arr.reshape(len(arr), 2, A.NODES, 2, 2)  # (n, cell type, node, pair in node, (op, input))
    swap = pairs[:, :, :, 0, 1] > pairs[:, :, :, 1, 1]
    first, second = pairs[:, :, :, 0, :].copy(), pairs[:, :, :, 1, :].copy()
    pairs[:, :, :, 0, :] = np.where(swap[..., None], second, first)
    pairs[:, :, :, 1, :] = np.where(swap[..., None], first, second)
    return pairs.reshape(len(arr), WIDTH)


@lru_cache(maxsize=1 << 16)
def _genotype(row: tuple[int, ...]) -> A.Genotype:
    check_rows(np.asarray(row, dtype=np.int64)[None])
    cells = [tuple((A.OPS[row[16 * t + 2 * p]], row[16 * t + 2 * p + 1]) for p in range(A.PAIRS)) for t in range(2)]
    return A.Genotype(cells[0], cells[1])


def decode(row: Sequence[int]) -> A.Genotype:
    """The genotype of one encoding row (cached); ArchError for a row that encodes none."""
    try:
        key = tuple(int(v) for v in np.asarray(row).reshape(-1))
    except (TypeError, ValueError):
        raise ArchError(f"DARTS encoding {row!r}: expected {WIDTH} integers") from None
    if len(key) != WIDTH:
        raise ArchError(f"DARTS encoding {list(key)}: expected {WIDTH} integers, got {len(key)}")
    return _genotype(key)
