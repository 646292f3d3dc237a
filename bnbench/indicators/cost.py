"""Cheap cost baselines: parameter count and FLOPs of the stand-alone network (higher is better).

Both are additive over ops (every op on a cell edge sees a fixed input shape), so they are computed
once per (cell, edge, op) on the supernet's modules and gathered: ``params = skeleton + sum of op
params``; FLOPs are counted with torch's own ``FlopCounterMode`` (2 FLOPs per multiply-accumulate;
convolutions and the classifier, as torch counts them; pooling and additions count 0).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
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
    """``{"params": (base, table), "flops": (base, table)}`` for this network spec."""
    model = Supernet(net.channels, net.cells, net.num_classes, net.in_channels)
    cells = model.cells()
    params = np.zeros((len(cells), len(cells[0].edges), len(cells[0].edges[0])))
    flops = np.zeros_like(params)
    for c, (cell, side) in enumerate(zip(cells, _cell_sides(model, net.resolution))):
        x = torch.zeros(1, cell.channels, side, side)
        for e, edge in enumerate(cell.edges):
            for o, op in enumerate(edge):
                params[c, e, o] = count_params(op)
                flops[c, e, o] = _flops(op, x)
    skeleton = Network((0,) * 6, net.channels, net.cells, net.num_classes, net.in_channels)
    x = torch.zeros(1, net.in_channels, net.resolution, net.resolution)
    return {"params": (float(count_params(skeleton)), params), "flops": (_flops(skeleton, x), flops)}


@torch.no_grad()
def _flops(module: torch.nn.Module, x: torch.Tensor) -> float:
    module.eval()
    with FlopCounterMode(display=False) as counter:
        module(x)
    return float(counter.get_total_flops())


@register("params", higher_is_better=True, summary="parameter count of the stand-alone network (M)")
def params(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    base, table = cost_tables(ctx.network)["params"]
    return gather_sum(table, archs, base) / 1e6


@register("flops", higher_is_better=True, summary="FLOPs of one forward pass of the stand-alone network (M)")
def flops(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    base, table = cost_tables(ctx.network)["flops"]
    return gather_sum(table, archs, base) / 1e6
