"""NASWOT (Mellor et al., "Neural Architecture Search without Training", ICML 2021;
BayesWatch/nas-without-training ``score_networks.py`` + ``scores.py``, and NASLib's ``nwot.py``).

Every ReLU's input, flattened per sample, gives a binary code c_i = 1[x_i > 0]. With d the code length,
the kernel K_H = c c^T + (1-c)(1-c)^T (= d minus the Hamming distances) is summed over all ReLUs, and

    score = log |det K_H|      (``slogdet``; the sign is ignored, as the reference)

Conventions: the batch of 64 training images (the paper's NB201 runs use 128), network in *train*
mode (the reference never calls ``eval``: BN on batch statistics), default initialisation; every ReLU
module that runs in the forward pass counts, as in the reference, *including ReLUs whose output never
reaches the logits*: an NB201 op runs whenever its edge is not ``none``, so a conv on an edge into a node
that no non-``none`` edge leaves, or every op before a cell whose last node is cut off (all its incoming
edges ``none``), still adds its codes to the kernel although it cannot change the output. A singular
kernel (e.g. identical codes for all samples) has log|det| = -inf: NaN, reason logged. Higher is better.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from bnbench.indicators.zc.common import Batch, NetFactory, Undefined
from bnbench.indicators.zc.runner import proxy


def hamming_kernel(codes: torch.Tensor) -> torch.Tensor:
    """K = c c^T + (1-c)(1-c)^T for binary codes (N x d), float64: the number of agreeing bits."""
    c = codes.flatten(1).float()
    return (c @ c.T + (1 - c) @ (1 - c).T).double()


def log_det(kernel: np.ndarray) -> float:
    sign, logabsdet = np.linalg.slogdet(kernel)
    if sign == 0 or not np.isfinite(logabsdet):
        raise Undefined("the ReLU-code kernel is singular (samples share activation patterns)")
    return float(logabsdet)


@proxy("nwot", higher_is_better=True, summary="NASWOT: log|det| of the Hamming kernel of binary ReLU codes")
@torch.no_grad()
def nwot(make: NetFactory, batch: Batch) -> float:
    net = make()
    kernel = torch.zeros(len(batch.x), len(batch.x), dtype=torch.float64, device=batch.device)

    def hook(module, inputs, output):
        nonlocal kernel
        kernel = kernel + hamming_kernel(inputs[0] > 0)

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        net(batch.x)
    finally:
        for h in handles:
            h.remove()
    return log_det(kernel.cpu().numpy())
