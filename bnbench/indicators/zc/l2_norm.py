"""L2 norm of the initial weights, a baseline proxy of Abdelfattah et al., "Zero-Cost Proxies for
Lightweight NAS", ICLR 2021 (NASLib ``naslib/predictors/utils/pruners/measures/l2_norm.py``).

    score = sum over conv/linear layers l of ||W_l||_2   (Frobenius norm of each layer's weight)

Conventions: default PyTorch initialisation under the architecture's seed; no data (data-free).
The reference runs on zero-cost-nas's ``nasbench2`` model, whose cells hold *all five* candidate ops
per edge (unused ones masked out), so its sum also counts the unused ops' weights; here only the
architecture's own layers count. Higher is better.
"""

from __future__ import annotations

import torch

from bnbench.indicators.zc.common import shape_batch
from bnbench.indicators.zc.runner import proxy
from bnbench.indicators.zc.shared import Pass, Tap


@torch.no_grad()
def l2_norm_value(p: Pass) -> float:
    """sum over conv/linear layers of the Frobenius norm of the initial weight."""
    return float(sum(m.weight.norm() for m in p.layers))


l2_norm = proxy("l2_norm", higher_is_better=True, needs=(), batch=shape_batch, tap=Tap("weights", l2_norm_value),
                summary="sum over conv/linear layers of the L2 norm of the initial weights")
