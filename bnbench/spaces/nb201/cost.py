"""Exact parameter, FLOP and MAC counts of stand-alone NB201 networks, for any number of cells at once.

All three are additive over ops in NB201 (every op on a cell edge sees a fixed input shape), so they are
measured once per (cell, edge, op) on the supernet's modules and gathered:
``cost(arch) = skeleton + sum over cells and edges of the chosen op's cost``.

* ``params``: trainable parameters as NB201 reports them (BN running statistics excluded).
* ``flops``: floating-point operations of one image's forward pass, counted by torch's ``FlopCounterMode``:
  2 per multiply-accumulate of the convolutions and the classifier's matrix product.
* ``macs``: multiply-accumulates as NB201's ``utils/flop_benchmark`` counts them (what the benchmark calls
  "flops"): per convolution ``k_h k_w C_in/groups C_out H_out W_out`` (+ ``C_out H_out W_out`` with a bias),
  per linear layer ``in * out`` (+ ``out`` for its bias); pooling, BN and additions count 0.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

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
def cost_tables(C: int, N: int, num_classes: int, in_channels: int, resolution: int,
                bn_every_op: bool = False) -> dict[str, tuple[float, np.ndarray]]:
    """``{"params" | "flops" | "macs": (skeleton, table)}``; ``table`` has shape (cells, edges, ops), in counts."""
    model = Supernet(C, N, num_classes, in_channels, fair=bn_every_op)
    cells = model.cells()
    params = np.zeros((len(cells), len(cells[0].edges), len(cells[0].edges[0])))
    flops, macs = np.zeros_like(params), np.zeros_like(params)
    for c, (cell, side) in enumerate(zip(cells, _cell_sides(model, resolution))):
        x = torch.zeros(1, cell.channels, side, side)
        for e, edge in enumerate(cell.edges):
            for o, op in enumerate(edge):
                params[c, e, o] = count_params(op)
                flops[c, e, o] = _flops(op, x)
                macs[c, e, o] = macs_of(op, x)
    skeleton = Network((0,) * 6, C, N, num_classes, in_channels)
    x = torch.zeros(1, in_channels, resolution, resolution)
    return {"params": (float(count_params(skeleton)), params), "flops": (_flops(skeleton, x), flops),
            "macs": (macs_of(skeleton, x), macs)}


def cost(archs: np.ndarray, C: int, N: int, num_classes: int, in_channels: int, resolution: int,
         bn_every_op: bool = False) -> dict[str, np.ndarray]:
    """``{"params", "flops", "macs"}`` (counts, float64, one per row of the ``(n, 6)`` op matrix ``archs``)."""
    archs = np.asarray(archs, dtype=np.int64).reshape(-1, 6)
    tables = cost_tables(int(C), int(N), int(num_classes), int(in_channels), int(resolution), bool(bn_every_op))
    rows = np.arange(archs.shape[1])
    return {name: base + table.sum(0)[rows, archs].sum(axis=1) for name, (base, table) in tables.items()}


@torch.no_grad()
def _flops(module: nn.Module, x: torch.Tensor) -> float:
    module.eval()
    with FlopCounterMode(display=False) as counter:
        module(x)
    return float(counter.get_total_flops())


@torch.no_grad()
def macs_of(module: nn.Module, x: torch.Tensor) -> float:
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
