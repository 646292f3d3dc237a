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

from bnbench.indicators.zc.runner import proxy
from bnbench.indicators.zc.shared import Pass, Tap


def grasp_value(p: Pass) -> float:
    """sum over conv/linear weights of -theta * (H g); 0 where no weight reaches the loss (H g = 0)."""
    return float(sum((-m.weight.detach() * hg).sum() for m, hg in zip(p.layers, p.hvp) if hg is not None))


grasp = proxy("grasp", higher_is_better=True, tap=Tap("hvp", grasp_value),
              summary="GraSP: sum of -theta * (H g) over conv/linear weights")
