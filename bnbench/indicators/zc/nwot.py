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
kernel (samples that share activation patterns, e.g. a cell with no path from input to output) has
log|det| = -inf, the reference's value: it is the worst score and ranks at the bottom (never dropped as
undefined; bnbench.correlation ranks -inf last). Higher is better.
"""

from __future__ import annotations

import numpy as np

from bnbench.indicators.zc.common import Undefined
from bnbench.indicators.zc.runner import proxy
from bnbench.indicators.zc.shared import Pass, Tap


def log_det(kernel: np.ndarray) -> float:
    """log |det K| (``slogdet``, sign ignored); -inf for a singular kernel; Undefined for a non-finite one."""
    if not np.isfinite(kernel).all():
        raise Undefined("the ReLU-code kernel has non-finite entries")
    sign, logabsdet = np.linalg.slogdet(kernel)
    return -np.inf if sign == 0 else float(logabsdet)


def nwot_value(p: Pass) -> float:
    """log |det K_H| of the kernel summed over every ReLU of the forward pass (``p.kernel``)."""
    return log_det(p.kernel)


nwot = proxy("nwot", higher_is_better=True, tap=Tap("relu_kernel", nwot_value),
             summary="NASWOT: log|det| of the Hamming kernel of binary ReLU codes")


nwot.infinite_ok = True  # -inf (singular kernel) is a value: the worst
nwot.version = 2  # version 1 stored singular kernels as undefined (NaN)
