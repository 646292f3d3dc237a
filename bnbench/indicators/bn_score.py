"""BN-NAS indicator (Chen et al., "BN-NAS: Neural Architecture Search with Batch Normalization", ICCV 2021).

Operator score ``s(slot) = mean_k |gamma_k|`` over the channels of the last BatchNorm of each candidate-op slot
of the trained supernet (:mod:`bnbench.spaces.base`); slots without an affine BN (NB201's ``skip_connect`` and
``avg_pool_3x3`` outside the BN-on-every-op mode, ``none``) score 0. The slot scores are summed into a
``(decisions, choices)`` table ``T`` (NB201: over the 3N cells that repeat the genotype), and an architecture
scores ``sum_d T[d, choices[a, d]]`` over its used decisions: one vectorised gather. Higher is better.
"""

from __future__ import annotations

import weakref

import numpy as np
import torch

from bnbench.indicators.registry import ScoringContext, register
from bnbench.spaces.base import last_bn, masked_gather, slots_of


def slot_norms(supernet: torch.nn.Module) -> list[tuple[int, int, torch.nn.modules.batchnorm._BatchNorm]]:
    """``(decision, choice, BN)`` for every slot whose last BN is affine, found once per supernet (its modules
    never change after construction) and kept for its lifetime."""
    cached = _SLOT_NORMS.get(supernet)
    if cached is None:
        modules = dict(supernet.named_modules())
        cached = [(slot.decision, slot.choice, norm) for slot in slots_of(supernet)
                  if (norm := last_bn(modules[slot.module])) is not None and norm.affine]
        _SLOT_NORMS[supernet] = cached
    return cached


_SLOT_NORMS: "weakref.WeakKeyDictionary[torch.nn.Module, list]" = weakref.WeakKeyDictionary()


def bn_table(supernet: torch.nn.Module, space) -> np.ndarray:
    """``(D, max choices)`` table: summed mean |gamma| of the last BN of every slot holding (decision, choice).

    The per-slot means are one concatenation and one segmented sum, not a Python loop of tensor reductions."""
    table = np.zeros((len(space.decisions), max(len(d.choices) for d in space.decisions)), dtype=np.float64)
    norms = slot_norms(supernet)
    if not norms:
        return table
    with torch.no_grad():
        gammas = torch.cat([n.weight.detach().reshape(-1) for _, _, n in norms]).abs().double().cpu().numpy()
    sizes = np.array([n.weight.numel() for _, _, n in norms])
    means = np.add.reduceat(gammas, np.concatenate([[0], np.cumsum(sizes)[:-1]])) / sizes
    decisions = np.array([d for d, _, _ in norms])
    choices = np.array([c for _, c, _ in norms])
    np.add.at(table, (decisions, choices), means)
    return table


@register("bn", higher_is_better=True, needs=("supernet",),
          summary="BN-NAS: sum over the chosen ops of the mean |gamma| of each op's last BN")
def bn_score(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    return masked_gather(bn_table(ctx.supernet.model, ctx.space), ctx.space.choices(archs))
