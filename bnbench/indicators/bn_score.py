"""BN-NAS indicator (Chen et al., "BN-NAS: Neural Architecture Search with Batch Normalization", ICCV 2021).

Operator score ``s(c, e, o) = mean_k |gamma_k|`` over the channels of the last BatchNorm of op ``o``
on edge ``e`` of cell ``c`` in the trained supernet; ops without a BN (``none``, and ``skip_connect``/
``avg_pool_3x3`` outside fairness mode) score 0. Architecture score = sum over all cells and edges
of its chosen ops' scores. Higher is better.
"""

from __future__ import annotations

import numpy as np
import torch

from bnbench.indicators.op_table import gather_sum
from bnbench.indicators.registry import ScoringContext, register
from bnbench.spaces.nb201.ops import last_bn


def bn_table(supernet: torch.nn.Module) -> np.ndarray:
    """``(cells, edges, ops)`` table of mean |gamma| of each candidate op's last BN (0 without one)."""
    cells = [m for m in supernet.modules() if hasattr(m, "edges")]
    table = np.zeros((len(cells), len(cells[0].edges), len(cells[0].edges[0])), dtype=np.float64)
    for c, cell in enumerate(cells):
        for e, edge in enumerate(cell.edges):
            for o, op in enumerate(edge):
                norm = last_bn(op)
                if norm is not None and norm.affine:
                    table[c, e, o] = float(norm.weight.detach().abs().mean())
    return table


@register("bn", higher_is_better=True, needs=("supernet",),
          summary="BN-NAS: sum over cells/edges of mean |gamma| of each chosen op's last BN")
def bn_score(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    return gather_sum(bn_table(ctx.supernet.model), archs)
