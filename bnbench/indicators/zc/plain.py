"""Plain (first-order Taylor) saliency, a baseline proxy of Abdelfattah et al., "Zero-Cost Proxies
for Lightweight NAS", ICLR 2021 (zero-cost-nas ``foresight/pruners/measures/plain.py``; Mozer &
Smolensky 1989 / Molchanov et al. 2017 without the absolute value).

    score = sum over conv/linear weights theta of theta * dL/dtheta      (signed)

Conventions: L = mean cross-entropy of the batch, train mode, default initialisation. Higher is better.
"""

from __future__ import annotations

from bnbench.indicators.zc.runner import proxy
from bnbench.indicators.zc.shared import Pass, Tap


def plain_value(p: Pass) -> float:
    """sum over conv/linear weights of theta * dL/dtheta (signed)."""
    return float(sum((m.weight * g).sum().item() for m, g in zip(p.layers, p.grads)))


plain = proxy("plain", higher_is_better=True, tap=Tap("loss_grads", plain_value),
              summary="sum of theta * dL/dtheta over conv/linear weights (signed)")
