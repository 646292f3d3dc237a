"""Plain (first-order Taylor) saliency, a baseline proxy of Abdelfattah et al., "Zero-Cost Proxies
for Lightweight NAS", ICLR 2021 (zero-cost-nas ``foresight/pruners/measures/plain.py``; Mozer &
Smolensky 1989 / Molchanov et al. 2017 without the absolute value).

    score = sum over conv/linear weights theta of theta * dL/dtheta      (signed)

Conventions: L = mean cross-entropy of the batch, train mode, default initialisation. Higher is better.
"""

from __future__ import annotations

from bnbench.indicators.zc.common import Batch, NetFactory, grad_or_zero, loss_backward, weight_layers
from bnbench.indicators.zc.runner import proxy


@proxy("plain", higher_is_better=True, summary="sum of theta * dL/dtheta over conv/linear weights (signed)")
def plain(make: NetFactory, batch: Batch) -> float:
    net = make()
    loss_backward(net, batch)
    return float(sum((m.weight * grad_or_zero(m.weight)).sum().item() for m in weight_layers(net)))
