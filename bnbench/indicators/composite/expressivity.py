"""Expressivity: how distinctly the subnet's ReLUs carve up a batch of inputs, under its BN-trained weights.

A ReLU network is piecewise linear; which piece (linear region) an input falls in is its *activation
code*, the on/off pattern of every ReLU unit. The more expressive the network, the more regions it has
and the more differently it codes different inputs (Raghu et al., ICML 2017; Montufar et al., NeurIPS
2014; TE-NAS, Chen et al., ICLR 2021, uses the region count as its expressivity term). In a BN-only
trained supernet the convolutions stay at their initialisation and the learned BN affine parameters
(gamma scales, beta shifts each unit's pre-activation) are exactly what moves the region boundaries, so
the codes read the BN training directly.

For MC-BN draw ``k`` (see :mod:`~bnbench.indicators.composite.probe`) the subnet runs in eval mode with
draw k's statistics on m fixed validation images; ``c_i`` in {0,1}^D concatenates the codes of every
ReLU on the subnet's path (cell ops, reduction blocks, head) for image i. As in NASWOT (Mellor et al.,
"Neural Architecture Search without Training", ICML 2021), with the Hamming kernel

    K_ij = D - Hamming(c_i, c_j) = c_i . c_j + (1 - c_i) . (1 - c_j),
    expressivity = mean_k log det K^(k),

higher is better: images with identical codes make K singular, dissimilar codes make it diagonal-heavy.
Unlike NASWOT the network is not at initialisation but carries the supernet's BN-only training and its
MC-BN statistics. A kernel whose smallest eigenvalue is at most ``1e-12`` times its largest (at least two
images share a code, e.g. a subnet with a constant output) scores ``WORST["expressivity"]``, below any
regular value (each regular eigenvalue exceeds ``1e-12 lambda_max`` and ``lambda_max <= m D``).

Ablation (BN-only supernet, C=16 N=1 16x16, NB201 CIFAR-10, 1,000-cell selection sample): Kendall tau
0.60 for this term against -0.19 for the effective rank of the penultimate features
(:mod:`~bnbench.indicators.composite.feature_rank`), which it replaces.
"""

from __future__ import annotations

import numpy as np
import torch

from bnbench.indicators.composite.diagnostics import WORST
from bnbench.indicators.registry import ScoringContext, register

SINGULAR = 1e-12


def add_codes(kernel: torch.Tensor, pre_activation_codes: torch.Tensor) -> int:
    """Add one ReLU layer's codes (m x ..., True = unit on) to the m x m Hamming kernel in place; returns D."""
    # agreements = (D + s s^T) / 2 with s = 2c - 1 in {-1, +1}: one matmul instead of c c^T + (1-c)(1-c)^T.
    # float32 sums of +-1 are exact up to 2^24 units per layer, so the kernel is the same integer matrix.
    codes = pre_activation_codes.flatten(1)
    d = codes.shape[1]
    s = codes.to(torch.float32 if d < 2 ** 24 else torch.float64) * 2 - 1
    kernel += ((s @ s.T).to(kernel.dtype) + d) / 2
    return d


def expressivity_of(kernels: torch.Tensor) -> tuple[float, str | None]:
    """(score, reason it is the worst value or None) of K x m x m Hamming kernels."""
    values = []
    for kernel in kernels.to(torch.float64):
        if not torch.isfinite(kernel).all():
            return WORST["expressivity"], "non-finite activation codes"
        lam = torch.linalg.eigvalsh(kernel)
        if lam[-1] <= 0 or lam[0] <= SINGULAR * lam[-1]:
            return WORST["expressivity"], "inputs share an activation code (singular kernel)"
        values.append(float(lam.log().sum()))
    return float(np.mean(values)), None


@register("expressivity", higher_is_better=True, needs=("supernet", "data"),
          summary="log det of the Hamming kernel of ReLU activation codes under MC-BN statistics", version=2)
def expressivity(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    from bnbench.indicators.composite.engine import evaluate

    return evaluate(archs, ctx, ("expressivity",))["expressivity"]
