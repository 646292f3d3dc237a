"""The one-shot DARTS supernet: both cell types, every edge holding every op (Liu et al., ICLR 2019,
``cnn/model_search.py``), trained by single-path sampling (SPOS, Guo et al., ECCV 2020).

Skeleton as the stand-alone network (:mod:`bnbench.spaces.darts.model`): stem Conv3x3 + BN to ``3C``, ``layers``
cells with reductions at ``layers // 3`` and ``2 * layers // 3`` (width doubling), preprocessing of each cell's two
inputs (1x1 ReLU-conv-BN, or FactorizedReduce after a reduction), concatenation of the four nodes, global average
pooling, linear ``classifier``; no auxiliary head and no drop-path. Each cell holds, on each of its 14 edges
``(node i, input j)`` (:data:`~bnbench.spaces.darts.encoding.EDGES`), the 7 genotype ops and ``none``
(``edges[e][o]``, ``o`` indexing :data:`~bnbench.spaces.darts.arch.OPS`, ``none`` last), with stride 2 on a
reduction cell's edges from its inputs, as ``MixedOp``: each pooling is followed by a BN. Unlike DARTS's search
network every BN is affine (trainable): BN-NAS reads and trains their scales. ``bn_every_op`` also gives the
stride-1 ``skip_connect`` a trainable BN (the reduction cells' strided skip is a FactorizedReduce, which ends in
one already).

``forward(x, arch)`` runs one genotype: in every normal cell the normal pairs, in every reduction cell the reduce
pairs, each node the sum of its two ops (DARTS's weighted sum over all ops and inputs, with one-hot weights on the
chosen ones). Only the chosen ops run; the others keep their weights and BN statistics.

**Slots** (:mod:`bnbench.spaces.base`): ``Slot("cells.k.edges.e.o", decision, o)`` for every cell ``k``, edge ``e``
and genotype op ``o`` (``none`` has none), decision ``e`` in a normal cell and ``14 + e`` in a reduction cell: a
slot runs iff the genotype puts op ``o`` on that edge of that cell type, so the BN score sums over both cell types'
chosen ops. BatchNorm: PyTorch's defaults (momentum 0.1), default initialisation.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from bnbench.errors import BnbenchError
from bnbench.spaces.base import Slot
from bnbench.spaces.darts import arch as A
from bnbench.spaces.darts.encoding import EDGES, NUM_EDGES, decode, edge_index
from bnbench.spaces.darts.model import STEM_MULTIPLIER, cell_layout, check_options
from bnbench.spaces.darts.ops import FactorizedReduce, ReLUConvBN, make_op
from bnbench.spaces.nb101.model import GlobalAvgPool

SUPERNET_OPS = A.OPS + (A.NONE,)

# per cell type: ((edge, input, op index), ...) for the 8 pairs in order
Plan = tuple[tuple[tuple[int, int, int], ...], tuple[tuple[int, int, int], ...]]


@lru_cache(maxsize=1 << 16)
def _plan(row: tuple[int, ...]) -> Plan:
    genotype = decode(row)
    return tuple(tuple((edge_index(p // 2, src), src, A.OPS.index(op)) for p, (op, src) in enumerate(genotype.cell(kind)))
                 for kind in A.CELL_TYPES)  # type: ignore[return-value]


def plan(arch: Sequence[int] | np.ndarray | torch.Tensor) -> Plan:
    """The (cached) pairs of one encoded genotype per cell type; ArchError if it encodes none."""
    if isinstance(arch, torch.Tensor):
        arch = arch.detach().cpu().numpy()
    return _plan(tuple(int(v) for v in np.asarray(arch).reshape(-1)))


class SuperCell(nn.Module):
    """One supernet cell: preprocessing and every op on each of the 14 edges (module docstring)."""

    def __init__(self, c_pp: int, c_p: int, c: int, reduction: bool, reduction_prev: bool, bn_every_op: bool = False):
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = FactorizedReduce(c_pp, c) if reduction_prev else ReLUConvBN(c_pp, c)
        self.preprocess1 = ReLUConvBN(c_p, c)
        self.edges = nn.ModuleList(
            nn.ModuleList(make_op(name, c, 2 if reduction and src < 2 else 1, affine=True, pool_bn=True,
                                  bn_every_op=bn_every_op) for name in SUPERNET_OPS) for _, src in EDGES)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, pairs: tuple[tuple[int, int, int], ...]) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(A.NODES):
            (e1, i1, o1), (e2, i2, o2) = pairs[2 * node], pairs[2 * node + 1]
            states.append(self.edges[e1][o1](states[i1]) + self.edges[e2][o2](states[i2]))
        return torch.cat(states[2:], dim=1)


class Supernet(nn.Module):
    """The DARTS weight-sharing supernet (module docstring). ``forward(x, arch)`` / ``features(x, arch)`` take one
    encoded genotype (32 ints); ``slots()`` lists the op slots."""

    def __init__(self, C: int = 16, layers: int = 8, num_classes: int = 10, in_channels: int = 3,
                 bn_every_op: bool = False):
        super().__init__()
        check_options(C=C, layers=layers, num_classes=num_classes, in_channels=in_channels)
        self.C, self.layers, self.num_classes, self.bn_every_op = C, layers, num_classes, bool(bn_every_op)
        c = STEM_MULTIPLIER * C
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        layout = cell_layout(C, layers)
        self.cells = nn.ModuleList(SuperCell(*widths, bn_every_op) for widths in layout)
        self.global_pooling = GlobalAvgPool()
        self.classifier = nn.Linear(A.NODES * layout[-1][2], num_classes)

    def slots(self) -> list[Slot]:
        """One slot per (cell, edge, genotype op); decision ``e`` (normal) or ``14 + e`` (reduction)."""
        return [Slot(f"cells.{k}.edges.{e}.{o}", NUM_EDGES * int(cell.reduction) + e, o)
                for k, cell in enumerate(self.cells) for e in range(NUM_EDGES) for o in range(len(A.OPS))]

    def features(self, x: torch.Tensor, arch: Any) -> torch.Tensor:
        """Penultimate features (B, 16 C): the last cell's output averaged over H and W."""
        normal, reduce = plan(arch)
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            if cell.reduction and (s1.shape[-1] % 2 or s1.shape[-2] % 2):
                raise BnbenchError(f"DARTS supernet: reduction cell {i} gets a {s1.shape[-2]}x{s1.shape[-1]} feature "
                                   "map; its FactorizedReduce needs even sides (use inputs divisible by 4)")
            s0, s1 = s1, cell(s0, s1, reduce if cell.reduction else normal)
        return self.global_pooling(s1).flatten(1)

    def forward(self, x: torch.Tensor, arch: Any) -> torch.Tensor:
        return self.classifier(self.features(x, arch))
