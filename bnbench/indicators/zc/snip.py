"""SNIP (Lee et al., "SNIP: Single-shot Network Pruning based on Connection Sensitivity", ICLR 2019),
as a NAS proxy by Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021
(SamsungLabs/zero-cost-nas ``foresight/pruners/measures/snip.py``).

    score = sum over conv/linear weights theta of |theta * dL/dtheta|

The reference differentiates with respect to an all-ones mask ``c`` multiplying each weight; at
``c = 1``, ``dL/dc = theta * dL/dtheta``, which is what is computed here. Conventions: L = mean
cross-entropy of the batch (64 training images), network in train mode (BN on batch statistics),
default PyTorch initialisation; weights without a gradient contribute 0. Higher is better.
"""

from __future__ import annotations

from bnbench.indicators.zc.common import Batch, NetFactory, grad_or_zero, loss_backward, weight_layers
from bnbench.indicators.zc.runner import proxy


@proxy("snip", higher_is_better=True, summary="SNIP: sum |theta * dL/dtheta| over conv/linear weights")
def snip(make: NetFactory, batch: Batch) -> float:
    net = make()
    loss_backward(net, batch)
    return float(sum((m.weight * grad_or_zero(m.weight)).abs().sum().item() for m in weight_layers(net)))
