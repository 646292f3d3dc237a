"""Gradient norm, a baseline proxy of Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS",
ICLR 2021 (zero-cost-nas ``foresight/pruners/measures/grad_norm.py``).

    score = sum over conv/linear layers l of ||dL/dW_l||_2   (per-layer Frobenius norm, then summed)

Conventions: L = mean cross-entropy of the batch, train mode, default initialisation; layers without
a gradient contribute 0. Higher is better.
"""

from __future__ import annotations

from bnbench.indicators.zc.runner import proxy
from bnbench.indicators.zc.shared import Pass, Tap


def grad_norm_value(p: Pass) -> float:
    """sum over conv/linear layers of the Frobenius norm of dL/dW."""
    return float(sum(g.norm() for g in p.grads))


grad_norm = proxy("grad_norm", higher_is_better=True, tap=Tap("loss_grads", grad_norm_value),
                  summary="sum over conv/linear layers of ||dL/dW||_2")
