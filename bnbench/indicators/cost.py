"""Cheap cost baselines: parameter count, FLOPs and multiply-accumulates of the stand-alone network
(higher is better).

All three are additive over ops (every op on a cell edge sees a fixed input shape), so they are computed
once per (cell, edge, op) on the supernet's modules and gathered: ``cost = skeleton + sum of op costs``.

* ``params``: trainable parameters, in millions, as NB201 reports them (BN running statistics excluded).
* ``flops``: floating-point operations of one forward pass of one image, in millions, counted by torch's
  own ``FlopCounterMode``: **2 FLOPs per multiply-accumulate** of the convolutions and the classifier's
  matrix product (pooling, BN, additions and bias additions count 0).
* ``macs``: **multiply-accumulates** of one forward pass of one image, in millions: the benchmark's
  convention. NB201's reported "flops" (``get_cost_info(...)['flops']``, computed by its
  ``utils/flop_benchmark.get_model_infos``) are these: per convolution ``k_h k_w C_in/groups C_out H_out
  W_out`` (+ ``C_out H_out W_out`` when it has a bias), per linear layer ``in * out`` (+ ``out`` for the
  bias); pooling, BN and additions are not summed. So ``macs = flops / 2 + b / 1e6`` with ``b`` the bias
  additions (for NB201 only the classifier's: ``num_classes``, 1e-5 M on CIFAR-10). Example, derived by
  hand: a cell of ``none`` edges leaves stem + two reduction blocks + classifier, 7,783,050 MACs
  (``macs`` 7.78305, ``flops`` 15.56608); see ``tests/test_traps_proxies.py``.

A ranking by ``flops`` and one by ``macs`` are identical; quote ``macs`` beside a benchmark's figures.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from bnbench.indicators.op_table import gather_sum
from bnbench.indicators.registry import NetSpec, ScoringContext, register
from bnbench.spaces.nb201.model import Cell, Network, Supernet, count_params


def _cell_sides(model: Supernet, resolution: int) -> list[int]:
    """Input side of every cell: each reduction block halves it (3x3 conv, stride 2, padding 1)."""
    sides, side = [], resolution
    for layer in model.layers:
        if isinstance(layer, Cell):
            sides.append(side)
        else:
            side = (side + 1) // 2
    return sides


@lru_cache(maxsize=16)
def cost_tables(net: NetSpec) -> dict[str, tuple[float, np.ndarray]]:
    """``{"params" | "flops" | "macs": (skeleton, table)}`` for this network spec; ``table`` has shape
    (cells, edges, ops) and the units are counts (not millions)."""
    model = Supernet(net.channels, net.cells, net.num_classes, net.in_channels)
    cells = model.cells()
    params = np.zeros((len(cells), len(cells[0].edges), len(cells[0].edges[0])))
    flops, macs = np.zeros_like(params), np.zeros_like(params)
    for c, (cell, side) in enumerate(zip(cells, _cell_sides(model, net.resolution))):
        x = torch.zeros(1, cell.channels, side, side)
        for e, edge in enumerate(cell.edges):
            for o, op in enumerate(edge):
                params[c, e, o] = count_params(op)
                flops[c, e, o] = _flops(op, x)
                macs[c, e, o] = _macs(op, x)
    skeleton = Network((0,) * 6, net.channels, net.cells, net.num_classes, net.in_channels)
    x = torch.zeros(1, net.in_channels, net.resolution, net.resolution)
    return {"params": (float(count_params(skeleton)), params), "flops": (_flops(skeleton, x), flops),
            "macs": (_macs(skeleton, x), macs)}


@torch.no_grad()
def _flops(module: nn.Module, x: torch.Tensor) -> float:
    module.eval()
    with FlopCounterMode(display=False) as counter:
        module(x)
    return float(counter.get_total_flops())


@torch.no_grad()
def _macs(module: nn.Module, x: torch.Tensor) -> float:
    """Multiply-accumulates of ``module(x)`` per image, counted as NB201's ``flop_benchmark`` counts them
    (convolutions and linear layers, one extra operation per output element for a bias)."""
    total = 0

    def hook(layer: nn.Module, inputs, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(layer, nn.Conv2d):
            per_output = math.prod(layer.kernel_size) * layer.in_channels // layer.groups
            total += (per_output + (layer.bias is not None)) * output[0].numel()  # output[0]: one image
        else:
            total += (layer.in_features + (layer.bias is not None)) * layer.out_features

    module.eval()
    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        module(x[:1])
    finally:
        for h in handles:
            h.remove()
    return float(total)


@register("params", higher_is_better=True, summary="parameter count of the stand-alone network (M)")
def params(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    base, table = cost_tables(ctx.network)["params"]
    return gather_sum(table, archs, base) / 1e6


@register("flops", higher_is_better=True,
          summary="FLOPs of one forward pass (M): 2 per multiply-accumulate (torch), twice NB201's 'flops'; see macs")
def flops(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    base, table = cost_tables(ctx.network)["flops"]
    return gather_sum(table, archs, base) / 1e6


@register("macs", higher_is_better=True,
          summary="multiply-accumulates of one forward pass (M): what NB201 reports as 'flops'")
def macs(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    base, table = cost_tables(ctx.network)["macs"]
    return gather_sum(table, archs, base) / 1e6
