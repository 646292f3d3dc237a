"""The fixed-width integer encoding of NB101 cells, and vectorised pruning of 7-vertex specs.

A pruned cell of ``V = k + 2`` vertices (:class:`~bnbench.spaces.nb101.arch.Cell`) is **embedded** in the 7 vertex
positions of NB101's largest cell: its input at position 0, its interior vertices at positions 1..k in their own
order, its output at position 6; positions k+1..5 are unused. The encoding row (``WIDTH = 26`` int64) is

* columns 0..20: the 21 upper-triangular adjacency bits of that 7x7 matrix in row-major order
  (:data:`PAIRS`: (0,1), (0,2), ..., (0,6), (1,2), ..., (5,6));
* columns 21..25: the op of positions 1..5 as an index into :data:`~bnbench.spaces.nb101.arch.OPS`, -1 where
  the position is unused.

Every row that :func:`check_rows` accepts is the embedding of exactly one pruned, valid cell, so decoding and
re-encoding is exact. The row keeps the cell's own vertex order (isomorphic cells given in different orders
have different rows and the same module hash).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

from bnbench.errors import ArchError
from bnbench.spaces.nb101 import arch as A

N = A.MAX_VERTICES  # 7 positions
PAIRS: tuple[tuple[int, int], ...] = tuple((i, j) for i in range(N) for j in range(i + 1, N))
NUM_BITS = len(PAIRS)  # 21
WIDTH = NUM_BITS + A.NUM_INTERIOR  # 26
_ROWS, _COLS = np.triu_indices(N, 1)  # the same row-major order as PAIRS


def embed(cell: A.Cell) -> np.ndarray:
    """The encoding row (``WIDTH`` int64) of a pruned cell."""
    n = cell.num_vertices
    pos = list(range(n - 1)) + [N - 1]
    full = np.zeros((N, N), dtype=np.int64)
    full[np.ix_(pos, pos)] = cell.array()
    ops = [A.OPS.index(o) for o in cell.ops[1:-1]] + [-1] * (A.NUM_INTERIOR - (n - 2))
    return np.concatenate([full[_ROWS, _COLS], np.asarray(ops, dtype=np.int64)])


def full_matrices(rows: np.ndarray) -> np.ndarray:
    """``(n, 7, 7)`` int64 adjacency matrices of encoding rows ``(n, WIDTH)``."""
    rows = np.asarray(rows, dtype=np.int64).reshape(-1, WIDTH)
    out = np.zeros((len(rows), N, N), dtype=np.int64)
    out[:, _ROWS, _COLS] = rows[:, :NUM_BITS]
    return out


def prune_embed(matrices: np.ndarray, ops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Prune a batch of 7-vertex specs as the official ``ModelSpec`` does and embed the result.

    ``matrices``: ``(m, 7, 7)`` 0/1, read above the diagonal only; ``ops``: ``(m, 5)`` op indices of the interior
    vertices (any value where a vertex is pruned away). Returns ``(valid, rows)``: ``valid`` (m,) bool, True where
    the input reaches the output and at most 9 edges are left after pruning; ``rows`` ``(m, WIDTH)`` the
    encodings (meaningful where valid). Pruning keeps the vertices on some input-to-output path.
    """
    adj = np.triu(np.asarray(matrices, dtype=bool), 1)
    m = len(adj)
    reach_in = np.zeros((m, N), dtype=bool)
    reach_in[:, 0] = True
    reach_out = np.zeros((m, N), dtype=bool)
    reach_out[:, N - 1] = True
    for _ in range(N - 1):
        reach_in |= (reach_in[:, :, None] & adj).any(axis=1)
        reach_out |= (adj & reach_out[:, None, :]).any(axis=2)
    keep = reach_in & reach_out
    pruned = adj & keep[:, :, None] & keep[:, None, :]
    valid = reach_in[:, N - 1] & (pruned.sum(axis=(1, 2)) <= A.MAX_EDGES)
    pos = np.full((m, N), -1, dtype=np.int64)
    pos[:, 0], pos[:, N - 1] = 0, N - 1
    interior = keep[:, 1:N - 1]
    pos[:, 1:N - 1] = np.where(interior, np.cumsum(interior, axis=1), -1)
    embedded = np.zeros((m, N, N), dtype=np.int64)
    b, i, j = np.nonzero(pruned)
    embedded[b, pos[b, i], pos[b, j]] = 1
    new_ops = np.full((m, A.NUM_INTERIOR), -1, dtype=np.int64)
    b, p = np.nonzero(interior)
    new_ops[b, pos[b, p + 1] - 1] = np.asarray(ops, dtype=np.int64)[b, p]
    return valid, np.concatenate([embedded[:, _ROWS, _COLS], new_ops], axis=1)


def check_rows(rows: np.ndarray, what: str = "NB101 encoding") -> np.ndarray:
    """``rows`` as an ``(n, WIDTH)`` int64 array, every row the embedding of a pruned valid cell; ArchError
    naming the first offending row otherwise (vectorised: ~1 us a row)."""
    try:
        arr = np.asarray(rows)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
            raise ValueError
        arr = arr.astype(np.int64).reshape(-1, WIDTH) if arr.size else np.zeros((0, WIDTH), dtype=np.int64)
    except (TypeError, ValueError):
        shape = getattr(np.asarray(rows, dtype=object), "shape", ())
        raise ArchError(f"{what}: expected integer rows of {WIDTH} values (21 adjacency bits, 5 op codes), "
                        f"got shape {shape}") from None
    if not len(arr):
        return arr
    bits, ops = arr[:, :NUM_BITS], arr[:, NUM_BITS:]
    used = ops >= 0
    count = used.sum(axis=1)
    ok = ((bits == 0) | (bits == 1)).all(axis=1) & ((ops >= -1) & (ops < len(A.OPS))).all(axis=1)
    ok &= (used == (np.arange(A.NUM_INTERIOR)[None, :] < count[:, None])).all(axis=1)  # used positions: 1..k
    position_used = np.concatenate([np.ones((len(arr), 1), bool), used, np.ones((len(arr), 1), bool)], axis=1)
    edge = bits.astype(bool)
    ok &= ~(edge & ~(position_used[:, _ROWS] & position_used[:, _COLS])).any(axis=1)
    # A DAG on the used positions is pruned and connects input to output iff every used interior position has an
    # edge in and an edge out (walking in-edges back ends at 0, out-edges forward at 6) and, without interior
    # positions, the input feeds the output.
    full = full_matrices(np.where(ok[:, None], arr, 0))
    has_in, has_out = full.sum(axis=1)[:, 1:N - 1] > 0, full.sum(axis=2)[:, 1:N - 1] > 0  # positions 1..5
    ok &= (has_in & has_out | ~used).all(axis=1)
    ok &= (count > 0) | (bits[:, N - 2] == 1)  # bit N-2 is the pair (0, 6)
    ok &= bits.sum(axis=1) <= A.MAX_EDGES
    if not ok.all():
        bad = int(np.flatnonzero(~ok)[0])
        raise ArchError(f"{what} row {bad} {arr[bad].tolist()} is not a pruned valid NB101 cell (21 adjacency "
                        f"bits, then the ops of positions 1..k and -1 for unused positions k+1..5)")
    return arr


def cell_of_valid_row(row: tuple[int, ...]) -> A.Cell:
    """The cell of a row known to pass :func:`check_rows` (no checks: rows straight from :func:`prune_embed`)."""
    ops = row[NUM_BITS:]
    k = sum(o >= 0 for o in ops)
    pos = list(range(k + 1)) + [N - 1]
    bits = dict(zip(PAIRS, row[:NUM_BITS]))
    matrix = tuple(tuple(int(j > i and bits[(pos[i], pos[j])]) for j in range(k + 2)) for i in range(k + 2))
    return A.Cell(matrix, (A.INPUT,) + tuple(A.OPS[o] for o in ops[:k]) + (A.OUTPUT,))


@lru_cache(maxsize=1 << 16)
def _cell(row: tuple[int, ...]) -> A.Cell:
    check_rows(np.asarray(row, dtype=np.int64)[None])
    return cell_of_valid_row(row)


def decode(row: Sequence[int]) -> A.Cell:
    """The pruned cell of one encoding row (cached); ArchError for a row that encodes none."""
    try:
        key = tuple(int(v) for v in np.asarray(row).reshape(-1))
    except (TypeError, ValueError):
        raise ArchError(f"NB101 encoding {row!r}: expected {WIDTH} integers") from None
    if len(key) != WIDTH:
        raise ArchError(f"NB101 encoding {list(key)}: expected {WIDTH} integers, got {len(key)}")
    return _cell(key)
