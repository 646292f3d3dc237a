"""TE-NAS NTK condition number (Chen et al., "Neural Architecture Search on ImageNet in Four GPU Hours:
A Theoretically Inspired Perspective", ICLR 2021; VITA-Group/TENAS ``lib/procedures/ntk.py``).

For each sample i, g_i = d(sum_c f_c(x_i)) / d theta over every parameter whose name contains
``weight`` (convs, linear and affine BN weights), backpropagated through the whole batch's graph (so BN
couples the samples, as the reference's ``logit[i].backward(..., retain_graph=True)``);
NTK = G G^T (N x N) and

    score = lambda_max(NTK) / lambda_min(NTK)

Lower is better (a well-conditioned NTK trains faster): registered with ``higher_is_better=False``,
not negated. Conventions: train mode (``get_ntk_n(..., train_mode=True)``); initialisation is PyTorch's
default, which is what the reference's launch script ends up with (its ``--init kaiming_normal`` matches
none of ``init_model``'s branches); one repeat (TE-NAS averages 3 re-initialisations of a C=3, N=1
supernet); the first ``te_ntk_batch`` images of the batch, default 16 = ``prune_tenas.py``'s default
``--batch_size`` (its NB201 launch script passes 72; the cost grows as N^2, since each of the N
per-sample backward passes runs through the whole N-image graph); eigenvalues in float64. A
non-positive lambda_min (singular NTK) gives NaN, reason logged.
"""

from __future__ import annotations

import torch

from bnbench.indicators.zc.common import Batch, NetFactory, Undefined, image_batch
from bnbench.indicators.zc.runner import proxy

NTK_BATCH = 16


def condition_number(grads: torch.Tensor) -> float:
    grads = grads.double()
    ntk = grads @ grads.T
    eigenvalues = torch.linalg.eigvalsh(ntk).cpu().numpy()
    if not eigenvalues[0] > 0:
        raise Undefined(f"NTK is singular (smallest eigenvalue {eigenvalues[0]:.3g})")
    return float(eigenvalues[-1] / eigenvalues[0])


def ntk_batch(ctx) -> Batch:
    return image_batch(ctx, te_ntk_batch=int(ctx.options.get("te_ntk_batch", NTK_BATCH)))


@proxy("te_ntk", higher_is_better=False, batch=ntk_batch, summary="TE-NAS: condition number of the empirical NTK (lower is better)")
def te_ntk(make: NetFactory, batch: Batch) -> float:
    net = make()
    n = int(batch.options["te_ntk_batch"])
    weights = [w for name, w in net.named_parameters() if "weight" in name]
    logits = net(batch.x[:n])
    rows = []
    for i in range(len(logits)):
        grads = torch.autograd.grad(logits[i].sum(), weights, retain_graph=True, allow_unused=True)
        rows.append(torch.cat([(g if g is not None else torch.zeros_like(w)).reshape(-1) for g, w in zip(grads, weights)]))
    return condition_number(torch.stack(rows))
