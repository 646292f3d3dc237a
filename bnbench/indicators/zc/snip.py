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

from bnbench.indicators.zc.runner import proxy
from bnbench.indicators.zc.shared import Pass, Tap


def snip_value(p: Pass) -> float:
    """sum over conv/linear weights of |theta * dL/dtheta| (``p.grads``: the loss gradients)."""
    return float(sum((m.weight * g).abs().sum().item() for m, g in zip(p.layers, p.grads)))


snip = proxy("snip", higher_is_better=True, tap=Tap("loss_grads", snip_value),
             summary="SNIP: sum |theta * dL/dtheta| over conv/linear weights")
