"""Per-operator tables: an architecture's score is a sum of per-(cell, edge, op) entries.

For a table ``T`` of shape ``(cells, edges, ops)`` and the op matrix ``A`` (``n x edges``),
``score[a] = base + sum_c sum_e T[c, e, A[a, e]]``, computed as one gather over ``T.sum(0)`` and a
row sum: all 15,625 NB201 cells are scored in well under a millisecond per thousand.
"""

from __future__ import annotations

import numpy as np


def gather_sum(table: np.ndarray, archs: np.ndarray, base: float = 0.0) -> np.ndarray:
    """``base + sum_e table.sum(0)[e, archs[:, e]]`` for every row of ``archs``."""
    per_edge = np.asarray(table, dtype=np.float64).reshape(-1, *table.shape[-2:]).sum(0)  # (edges, ops)
    archs = np.asarray(archs, dtype=np.int64)
    return base + per_edge[np.arange(archs.shape[1]), archs].sum(axis=1)
