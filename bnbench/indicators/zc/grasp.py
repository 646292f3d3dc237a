"""GraSP (Wang et al., "Picking Winning Tickets Before Training by Preserving Gradient Flow", ICLR 2020),
as a NAS proxy by Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021
(zero-cost-nas ``foresight/pruners/measures/grasp.py``).

    g = dL/dtheta (held constant),  Hg = d(g . dL/dtheta)/dtheta,  score = sum over conv/linear weights of -theta * Hg

Sign convention, as the reference: the per-weight saliency is ``-theta * Hg`` (their comment: GraSP
prunes the *bottom* of ``theta * Hg``; zero-cost-nas negates it and found accuracy to correlate
*positively* with the negated sum), summed with signs (no absolute value). The published NB201
correlation (rho 0.51) is for this sum, higher = better. Conventions: L = mean cross-entropy of the
batch, temperature T = 1, one iteration, train mode, default initialisation; weights without a
gradient contribute 0. Higher is better.

The reference runs the batch forward twice (once for ``g`` without a graph, once with ``create_graph``)
because it may split the batch; with one batch both passes compute the same gradient (same weights,
same images, BN on the same batch statistics), so here one forward with ``create_graph`` gives ``g``
(detached) and the graph to differentiate: same score, one forward/backward fewer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bnbench.indicators.zc.common import Batch, NetFactory, weight_layers
from bnbench.indicators.zc.runner import proxy


@proxy("grasp", higher_is_better=True, summary="GraSP: sum of -theta * (H g) over conv/linear weights")
def grasp(make: NetFactory, batch: Batch) -> float:
    net = make()
    weights = [m.weight for m in weight_layers(net)]
    net.zero_grad()
    grads = torch.autograd.grad(F.cross_entropy(net(batch.x), batch.y), weights, create_graph=True, allow_unused=True)
    z = sum((g.detach() * g).sum() for g in grads if g is not None)
    if not isinstance(z, torch.Tensor) or not z.requires_grad:
        return 0.0  # no weight reaches the loss: Hg = 0
    z.backward()
    return float(sum((-w.detach() * w.grad).sum() for w in weights if w.grad is not None))
