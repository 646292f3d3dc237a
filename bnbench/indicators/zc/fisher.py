"""Fisher (Turner et al., "BlockSwap", ICLR 2020; Theis et al. 2018), as a NAS proxy by Abdelfattah
et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021 (zero-cost-nas
``foresight/pruners/measures/fisher.py``).

For every conv/linear layer with output activations ``a`` (N x K x H x W) and their loss gradient
``g = dL/da``, the per-channel Fisher saliency is

    F_k = 0.5 * mean_n ( sum_{h,w} a[n,k,h,w] * g[n,k,h,w] )^2       (no spatial sum for linear layers)

and, as the reference, each channel's value is broadcast to all ``prod(W.shape[1:])`` weights of that
output channel before summing:  score = sum_l sum_k F_lk * prod(W_l.shape[1:]). ``a`` is the layer's
raw output (before BN), conv bias included. Conventions: L = mean cross-entropy of the batch, train
mode, default initialisation; layers whose output gets no gradient contribute 0. Higher is better.
"""

from __future__ import annotations

import math

import torch

from bnbench.indicators.zc.common import Batch, NetFactory, loss_backward, weight_layers
from bnbench.indicators.zc.runner import proxy


@proxy("fisher", higher_is_better=True, summary="Fisher: per-channel 0.5*mean_n(sum_hw act*grad)^2, broadcast to weights")
def fisher(make: NetFactory, batch: Batch) -> float:
    net = make()
    layers = weight_layers(net)
    fisher_k: dict[int, torch.Tensor] = {}

    def on_forward(index: int):
        def hook(module, inputs, act):
            a = act.detach()  # the gradient hook must not hold ``act`` itself: a cycle frees nothing until gc runs

            def on_grad(grad: torch.Tensor) -> None:
                g_nk = (a * grad).sum(dim=tuple(range(2, a.dim()))) if a.dim() > 2 else a * grad
                fisher_k[index] = fisher_k.get(index, 0) + 0.5 * g_nk.pow(2).mean(0)

            if act.requires_grad:
                act.register_hook(on_grad)
        return hook

    handles = [m.register_forward_hook(on_forward(i)) for i, m in enumerate(layers)]
    try:
        loss_backward(net, batch)
    finally:
        for h in handles:
            h.remove()
    return float(sum(f.abs().sum() * math.prod(layers[i].weight.shape[1:]) for i, f in fisher_k.items()))
