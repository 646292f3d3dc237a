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

from bnbench.indicators.zc.common import Batch, NetFactory, shape_batch, weight_layers
from bnbench.indicators.zc.runner import proxy


@proxy("l2_norm", higher_is_better=True, needs=(), batch=shape_batch,
       summary="sum over conv/linear layers of the L2 norm of the initial weights")
@torch.no_grad()
def l2_norm(make: NetFactory, batch: Batch) -> float:
    return float(sum(m.weight.norm() for m in weight_layers(make())))
