"""SynFlow (Tanaka et al., "Pruning neural networks without any data by iteratively conserving synaptic
flow", NeurIPS 2020), as a NAS proxy by Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS",
ICLR 2021 (SamsungLabs/zero-cost-nas ``foresight/pruners/measures/synflow.py``).

    R = 1^T |f|(1),   score = sum over conv/linear weights theta of |theta * dR/dtheta|

Conventions (as the reference ``synflow`` measure, registered with ``bn=False``):

* the network is the ``bn=False`` copy (``make(bn=False)``): for NB201 no BN in the stem, cells or head;
  the reduction blocks keep theirs, as zero-cost-nas's ``nasbench2`` model does; train mode;
* float64 throughout; every parameter *and buffer* replaced by its absolute value (the reference
  linearises the whole ``state_dict``); the network is a throwaway copy, so the signs need no restoring;
* input: a single all-ones image of the batch's shape; no data and no labels (data-free);
* weights without a gradient (ops cut off from the output) contribute 0; biases are not summed.

Higher is better.
"""

from __future__ import annotations

import torch

from bnbench.indicators.zc.common import Batch, NetFactory, grad_or_zero, shape_batch, weight_layers
from bnbench.indicators.zc.runner import proxy


@proxy("synflow", higher_is_better=True, needs=(), batch=shape_batch,
       summary="SynFlow: sum |theta * dR/dtheta|, R = sum of outputs of |theta| on an all-ones input (float64, no cell BN)")
def synflow(make: NetFactory, batch: Batch) -> float:
    net = make(bn=False).double()
    with torch.no_grad():
        for tensor in net.state_dict().values():
            if tensor.is_floating_point():
                tensor.abs_()
    net.zero_grad()
    ones = torch.ones((1, *batch.shape[1:]), dtype=torch.float64, device=batch.device)
    net(ones).sum().backward()
    return float(sum((m.weight * grad_or_zero(m.weight)).abs().sum().item() for m in weight_layers(net)))
