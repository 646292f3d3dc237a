"""Exact parameter, MAC and FLOP counts of stand-alone DARTS networks, vectorised over encoded genotypes.

DARTS cells have fixed widths (every node has the cell's ``c`` channels and the output is always the four nodes'
concatenation), so a network's cost is additive over its ops: ``cost = skeleton + sum over cells and pairs of the
op's cost``, where an op's cost depends on the op, the cell's width and input side, and its stride (2 on a
reduction cell's edges from its two inputs). The op costs are measured once on the ops built in isolation (as
the network builds them) and summed per cell type into tables ``T[cell type, stride 2?, op]``; the skeleton (stem,
preprocessing, classifier, auxiliary head) is one network's total minus its ops. 10,000 genotypes take a few ms.

Conventions (``bnbench.indicators.cost``, as NB101 and NB201 here): ``params`` every trainable tensor (BN running
statistics excluded; the auxiliary head counts when it is built, unlike DARTS's reported size, which leaves it
out: :func:`bnbench.spaces.darts.model.count_params`); ``macs`` per convolution ``k_h k_w C_in/groups C_out H_out
W_out`` (no convolution has a bias), per linear layer ``in * out + out``; ``flops`` torch ``FlopCounterMode``'s
count, 2 per multiply-accumulate of the convolutions and linear layers (biases not counted): ``2 * (macs -
num_classes)`` without the auxiliary head. Pooling, BN, ReLU, sums and concatenations count 0.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch import nn

from bnbench.errors import BnbenchError
from bnbench.spaces.counting import measured_cost
from bnbench.spaces.darts import arch as A
from bnbench.spaces.darts.encoding import check_rows, encode
from bnbench.spaces.darts.model import VARIANTS, Network, check_options, reduction_cells
from bnbench.spaces.darts.ops import make_op

NAMES = ("params", "macs", "flops")


def measure(module: nn.Module, x: torch.Tensor) -> tuple[int, int, int]:
    """``(params, macs, flops)`` of ``module`` on one image ``x[:1]`` (:func:`bnbench.spaces.counting.measured_cost`)."""
    counted = measured_cost(module, x)
    return counted["params"], counted["macs"], counted["flops"]


@lru_cache(maxsize=4096)
def _op_cost(name: str, c: int, stride: int, side: int, variant: str, bn_every_op: bool, bn: bool) -> np.ndarray:
    cfg = VARIANTS[variant]
    op = make_op(name, c, stride, affine=cfg["affine"], use_bn=bn, pool_bn=cfg["pool_bn"], bn_every_op=bn_every_op)
    return np.asarray(measure(op, torch.zeros(1, c, side, side)), dtype=np.int64)


def cell_layout(C: int, layers: int, resolution: int) -> list[tuple[bool, int, int]]:
    """``(reduction, width, input side)`` of every cell; BnbenchError when a reduction meets an odd side."""
    out, side, c = [], resolution, C
    reductions = reduction_cells(layers)
    for i in range(layers):
        reduction = i in reductions
        if reduction:
            if side % 2:
                raise BnbenchError(f"DARTS network: a {resolution}x{resolution} input reaches reduction cell {i} at "
                                   f"{side}x{side}; FactorizedReduce needs even sides (use a side divisible by 4)")
            c *= 2
        out.append((reduction, c, side))
        side = side // 2 if reduction else side
    return out


@lru_cache(maxsize=64)
def cost_tables(C: int, layers: int, num_classes: int, in_channels: int, resolution: int, auxiliary: bool,
                bn_every_op: bool, variant: str, bn: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(skeleton (3,), table (2 cell types, 2 strides, 7 ops, 3))``: costs summed over the cells of each type."""
    table = np.zeros((2, 2, len(A.OPS), 3), dtype=np.int64)
    for reduction, c, side in cell_layout(C, layers, resolution):
        for stride in ((1, 2) if reduction else (1,)):
            at = side if stride == 2 or not reduction else side // 2
            for o, name in enumerate(A.OPS):
                table[int(reduction), int(stride == 2), o] += _op_cost(name, c, stride, at, variant, bn_every_op, bn)
    probe = A.Genotype(*(((A.OPS[0], 0), (A.OPS[0], 1)) * A.NODES,) * 2)  # max pools on inputs 0 and 1
    net = Network(probe, C, layers, num_classes, in_channels, auxiliary, 0.0, bn_every_op, variant=variant, bn=bn)
    total = np.asarray(measure(net, torch.zeros(1, in_channels, resolution, resolution)), dtype=np.int64)
    if auxiliary:  # the head runs in training mode only: measure it on its own input
        side = [s // 2 if r else s for r, _, s in cell_layout(C, layers, resolution)][2 * layers // 3]
        head = net.auxiliary_head
        total[1:] += measure(head, torch.zeros(1, head.features[2].in_channels, side, side))[1:]
    return total - _rows_cost(table, encode(probe)[None])[0], table


def _rows_cost(table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    pairs = rows.reshape(len(rows), 2, A.PAIRS, 2)
    kind = np.arange(2)[None, :, None]
    strided = ((kind == 1) & (pairs[..., 1] < 2)).astype(np.int64)
    return table[np.broadcast_to(kind, strided.shape), strided, pairs[..., 0]].sum(axis=(1, 2))


def cost(archs: np.ndarray, C: int | None = None, layers: int | None = None, num_classes: int = 10,
         in_channels: int = 3, resolution: int = 32, auxiliary: bool = False, bn_every_op: bool = False,
         variant: str = "official", bn: bool = True) -> dict[str, np.ndarray]:
    """``{"params", "macs", "flops"}`` (int64 counts, one per row of ``archs``) of the stand-alone networks
    (``C`` / ``layers`` None: the variant's defaults); ArchError for a row that is no genotype, BnbenchError for
    impossible options."""
    rows = check_rows(archs)
    if variant not in VARIANTS:
        raise BnbenchError(f"DARTS model variant {variant!r}: expected one of {', '.join(VARIANTS)}")
    C, layers = C or VARIANTS[variant]["C"], layers or VARIANTS[variant]["layers"]
    check_options(C=C, layers=layers, num_classes=num_classes, in_channels=in_channels, resolution=resolution)
    skeleton, table = cost_tables(int(C), int(layers), int(num_classes), int(in_channels), int(resolution),
                                  bool(auxiliary), bool(bn_every_op), variant, bool(bn))
    values = skeleton[None, :] + _rows_cost(table, rows)
    return {name: values[:, k].copy() for k, name in enumerate(NAMES)}
