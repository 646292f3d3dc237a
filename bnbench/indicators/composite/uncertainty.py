"""Uncertainty: Monte-Carlo BatchNorm disagreement of the subnet's predictions (lower is better).

Teye et al. ("Bayesian Uncertainty Estimation for Batch Normalized Deep Networks", ICML 2018) show that
the randomness of BN's mini-batch statistics makes a BN network an approximate Bayesian model: predicting
with the statistics of K different training mini-batches samples its posterior predictive. With
``p_k(x) = softmax(z_k(x))`` the prediction under draw k (see :mod:`~bnbench.indicators.composite.probe`)
and ``p(x) = mean_k p_k(x)``, the epistemic part is the mutual information (BALD; Houlsby et al., 2011)

    MI(x) = H(p(x)) - mean_k H(p_k(x)),     H(p) = -sum_c p_c log p_c,
    uncertainty = mean_x MI(x) / log(min(K, C))       in [0, 1],

over m fixed validation images (C classes). It is 0 when all K draws agree (identical batches give 0
up to rounding) and grows as the subnet's predictions hinge on which batch set its statistics: a subnet the
BN-only training has settled is stable. A subnet whose output is constant would look perfectly certain;
it gets ``WORST["uncertainty"] = 1`` instead (as does any non-finite result).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from bnbench.indicators.composite.diagnostics import WORST
from bnbench.indicators.registry import ScoringContext, register


def entropy(p: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) over the last axis, with 0 log 0 = 0."""
    return -torch.xlogy(p, p).sum(-1)


def mutual_information(logits: torch.Tensor) -> torch.Tensor:
    """Per-sample MI of K x m x C logits: ``H(mean_k p_k) - mean_k H(p_k)``."""
    p = torch.softmax(logits.to(torch.float64), dim=-1)
    return (entropy(p.mean(0)) - entropy(p).mean(0)).clamp_min(0)


def uncertainty_of(logits: torch.Tensor) -> tuple[float, str | None]:
    """(score, reason it is the worst value or None) of K x m x C logits."""
    k, _, c = logits.shape
    if not torch.isfinite(logits).all():
        return WORST["uncertainty"], "non-finite logits"
    if k < 2 or c < 2:
        return 0.0, None
    return float(mutual_information(logits).mean() / math.log(min(k, c))), None


@register("uncertainty", higher_is_better=False, needs=("supernet", "data"),
          summary="MC-BatchNorm mutual information of predictions across K batch-statistics draws")
def uncertainty(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    from bnbench.indicators.composite.engine import evaluate

    return evaluate(archs, ctx, ("uncertainty",))["uncertainty"]
