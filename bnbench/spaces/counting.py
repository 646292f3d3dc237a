"""Counting a built network's cost: the measurement every space's closed-form ``cost()`` is checked against.

Conventions (one image's forward pass, eval mode): ``params`` every parameter tensor's ``numel`` (BN running
statistics are buffers, excluded); ``macs`` multiply-accumulates of every ``Conv2d`` (``k_h k_w c_in / groups``
per output value, plus one for a bias) and ``Linear`` (``in`` per output, plus one for a bias), by forward hooks;
``flops`` torch's ``FlopCounterMode`` count (2 per multiply-accumulate of convolutions and matrix products; it
does not count BN, activations, pooling or additions).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


@torch.no_grad()
def measured_cost(model: nn.Module, x: torch.Tensor) -> dict[str, int]:
    """``{"params", "macs", "flops"}`` of ``model`` on one image ``x[:1]`` (``x``: N x C x H x W); the model's
    train/eval mode is restored afterwards."""
    macs = 0

    def hook(layer: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        nonlocal macs
        if isinstance(layer, nn.Conv2d):
            per_output = math.prod(layer.kernel_size) * layer.in_channels // layer.groups
            macs += (per_output + (layer.bias is not None)) * output[0].numel()
        else:
            macs += (layer.in_features + (layer.bias is not None)) * layer.out_features

    was_training = model.training
    model.eval()
    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with FlopCounterMode(display=False) as counter:
            model(x[:1])
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return {"params": sum(p.numel() for p in model.parameters()), "macs": int(macs),
            "flops": int(counter.get_total_flops())}
