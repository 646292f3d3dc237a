"""Trainability: condition number of the subnet's empirical NTK w.r.t. its BatchNorm affine parameters.

BN-only training moves only ``theta`` = the (gamma, beta) of the BNs on the subnet's path (its cell ops'
BNs plus the always-used stem, reduction-block and head BNs). Zhu et al. (arXiv 2112.00265) argue that
such training runs in the neural-tangent-kernel regime, where the kernel's spectrum governs how fast and
how well gradient descent converges (Jacot et al., NeurIPS 2018; TE-NAS, Chen et al., ICLR 2021). With
``f(x) = v . z(x)`` (``z``: the C logits; ``v``: a fixed seeded unit vector orthogonal to all-ones, the
direction softmax ignores; averaged over such ``v`` the kernel is the NTK of the centred logits summed over
classes, divided by C - 1), the pooled MC-BN statistics frozen (eval mode) and n fixed training images,

    J = d f(x_i) / d theta  (n x P, per-sample gradients via torch.func ``vmap(grad)``),  Theta = J J^T,
    trainability = log10(lambda_max(Theta) / lambda_min(Theta)) = 2 log10(s_max(J) / s_min(J)),

with the singular values ``s`` of J taken in float64. Lower is better (a well-conditioned kernel trains
all directions at similar speed). A singular kernel (``lambda_min <= 1e-12 lambda_max``, e.g. a constant
subnet, whose rows of J coincide) scores ``WORST["trainability"] = 12``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch.func import functional_call, grad, vmap

from bnbench.indicators.composite.diagnostics import WORST
from bnbench.indicators.composite.probe import Probe, Stats
from bnbench.indicators.registry import ScoringContext, register


def ntk_jacobian(probe: Probe, arch: Sequence[int], stats: Stats) -> tuple[torch.Tensor, torch.Tensor]:
    """(n x P Jacobian of ``f`` w.r.t. the path BNs' affine parameters, the n outputs ``f(x_i)``).

    Pooled statistics in eval mode make the samples independent, so one ``vmap(grad(f))`` pass gives
    all per-sample gradients (no loop of n backward passes).
    """
    bufs = probe.buffers_for(stats, None)
    names = [f"{n}.{p}" for n in stats for p in ("weight", "bias")]
    theta = {name: probe.params[name] for name in names if name in probe.params}

    def f(th: dict[str, torch.Tensor], x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = probe.logits(functional_call(probe.wrapper, {**th, **bufs}, (x[None], arch)))[0] @ probe.probe
        return out, out.detach()

    if not theta:
        with torch.no_grad(), probe.eval_mode(stats):
            with probe.swapped(bufs):
                outputs = probe.logits(probe.wrapper(probe.ntk_images, arch)) @ probe.probe
        return torch.zeros(len(probe.ntk_images), 0), outputs
    # no_grad outside: torch.func.grad still differentiates f w.r.t. theta, but the supernet's own
    # parameters (trainable ones included) build no autograd graph
    with torch.no_grad(), probe.eval_mode(stats):
        grads, outputs = vmap(grad(f, has_aux=True), in_dims=(None, 0))(theta, probe.ntk_images)
    return torch.cat([g.reshape(len(g), -1) for g in grads.values()], dim=1), outputs


def log_condition(jacobian: torch.Tensor) -> tuple[float, str | None]:
    """(log10 condition number of ``J J^T``, capped at the worst value; reason or None)."""
    worst = WORST["trainability"]
    jac = jacobian.to(torch.float64)
    if not torch.isfinite(jac).all():
        return worst, "non-finite NTK"
    if jac.shape[1] < jac.shape[0]:
        return worst, "singular NTK (fewer BN parameters than samples)"
    lam = torch.linalg.svdvals(jac) ** 2
    if lam[0] <= 0 or lam[-1] <= lam[0] * 10.0 ** -worst:
        return worst, "singular NTK"
    return float(torch.log10(lam[0] / lam[-1])), None


@register("trainability", higher_is_better=False, needs=("supernet", "data"),
          summary="log10 condition number of the NTK w.r.t. the path's BN affine parameters")
def trainability(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    from bnbench.indicators.composite.engine import evaluate

    return evaluate(archs, ctx, ("trainability",))["trainability"]
