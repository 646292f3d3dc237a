"""Feature rank: effective rank of the subnet's penultimate features under the supernet's weights.

The first expressivity term we tried, kept as its own indicator for the ablation: on NB201 CIFAR-10 it
ranks cells *inversely* (Kendall tau -0.19 on a 1,000-cell sample, BN-only supernet C=16 N=1), so
``expressivity`` counts activation patterns instead (:mod:`~bnbench.indicators.composite.expressivity`).

For MC-BN draw ``k`` (see :mod:`~bnbench.indicators.composite.probe`) let ``Phi_k`` be the m x d
penultimate features (``Supernet.features``) of m fixed validation images, centred over the images, and
``lambda_i`` the eigenvalues of its Gram matrix ``Phi_k Phi_k^T``. With ``p_i = lambda_i / sum_j lambda_j``

    erank(Phi_k) = exp(-sum_i p_i log p_i)          (Roy & Vetterli, EUSIPCO 2007)

and ``feature_rank = mean_k erank(Phi_k)``, in [1, min(m - 1, d)]; higher is better. It counts how many
directions the subnet spreads distinct inputs along: a rich representation separates more of them.
Zhu et al. (arXiv 2112.00265) judge a BN-trained subnet partly on such expressivity; we choose the
effective rank over a log-determinant (as in NASWOT, Mellor et al., ICML 2021) because it is invariant to
the feature scale, which BN-only training sets through |gamma|, and stays finite when the Gram matrix is
singular. All-zero centred features (a constant subnet) score ``WORST["feature_rank"] = 0``.
"""

from __future__ import annotations

import numpy as np
import torch

from bnbench.indicators.composite.diagnostics import WORST
from bnbench.indicators.registry import ScoringContext, register


def effective_rank(eigenvalues: np.ndarray | torch.Tensor) -> float:
    """``exp(entropy)`` of the normalised non-negative spectrum (0 log 0 = 0); NaN for an all-zero spectrum."""
    lam = torch.as_tensor(eigenvalues, dtype=torch.float64).clamp_min(0)
    total = lam.sum()
    if not torch.isfinite(total) or total <= 0:
        return float("nan")
    p = lam[lam > 0] / total
    return float(torch.exp(-(p * p.log()).sum()))


def feature_rank_of(features: torch.Tensor) -> tuple[float, str | None]:
    """(score, reason it is the worst value or None) of K x m x d features."""
    values = []
    for phi in features.to(torch.float64):
        phi = phi - phi.mean(0, keepdim=True)
        if not torch.isfinite(phi).all():
            return WORST["feature_rank"], "non-finite features"
        values.append(effective_rank(torch.linalg.svdvals(phi) ** 2))
    if not np.all(np.isfinite(values)):
        return WORST["feature_rank"], "constant features"
    return float(np.mean(values)), None


@register("feature_rank", higher_is_better=True, needs=("supernet", "data"),
          summary="effective rank of centred penultimate features under MC-BN statistics (ablation)")
def feature_rank(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    from bnbench.indicators.composite.engine import evaluate

    return evaluate(archs, ctx, ("feature_rank",))["feature_rank"]
