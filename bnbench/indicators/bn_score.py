"""BN-NAS indicator (Chen et al., "BN-NAS: Neural Architecture Search with Batch Normalization", ICCV 2021).

Operator score ``s(slot) = mean_k |gamma_k|`` over the channels of the last BatchNorm of each candidate-op slot
of the trained supernet (:mod:`bnbench.spaces.base`); slots without an affine BN (NB201's ``skip_connect`` and
``avg_pool_3x3`` outside the BN-on-every-op mode, ``none``) score 0. The slot scores are summed into a
``(decisions, choices)`` table ``T`` (NB201: over the 3N cells that repeat the genotype), and an architecture
scores ``sum_d T[d, choices[a, d]]`` over its used decisions: one vectorised gather. Higher is better.
"""

from __future__ import annotations

import numpy as np
import torch

from bnbench.indicators.registry import ScoringContext, register
from bnbench.spaces.base import last_bn, masked_gather, slots_of


def bn_table(supernet: torch.nn.Module, space) -> np.ndarray:
    """``(D, max choices)`` table: summed mean |gamma| of the last BN of every slot holding (decision, choice)."""
    table = np.zeros((len(space.decisions), max(len(d.choices) for d in space.decisions)), dtype=np.float64)
    modules = dict(supernet.named_modules())
    for slot in slots_of(supernet):
        norm = last_bn(modules[slot.module])
        if norm is not None and norm.affine:
            table[slot.decision, slot.choice] += float(norm.weight.detach().abs().mean())
    return table


@register("bn", higher_is_better=True, needs=("supernet",),
          summary="BN-NAS: sum over the chosen ops of the mean |gamma| of each op's last BN")
def bn_score(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    return masked_gather(bn_table(ctx.supernet.model, ctx.space), ctx.space.choices(archs))
