"""Gradient norm, a baseline proxy of Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS",
ICLR 2021 (zero-cost-nas ``foresight/pruners/measures/grad_norm.py``).

    score = sum over conv/linear layers l of ||dL/dW_l||_2   (per-layer Frobenius norm, then summed)

Conventions: L = mean cross-entropy of the batch, train mode, default initialisation; layers without
a gradient contribute 0. Higher is better.
"""

from __future__ import annotations

from bnbench.indicators.zc.common import Batch, NetFactory, grad_or_zero, loss_backward, weight_layers
from bnbench.indicators.zc.runner import proxy


@proxy("grad_norm", higher_is_better=True, summary="sum over conv/linear layers of ||dL/dW||_2")
def grad_norm(make: NetFactory, batch: Batch) -> float:
    net = make()
    loss_backward(net, batch)
    return float(sum(grad_or_zero(m.weight).norm() for m in weight_layers(net)))
