"""Weight-sharing NB101 supernet over the 7-vertex DAG, in the spirit of NAS-Bench-1Shot1 (Zela et al., ICLR 2020).

Every architecture is a sub-graph of one cell template of 7 positions (input 0, interior 1..5, output 6; the
embedding of :mod:`bnbench.spaces.nb101.encoding`), repeated in every cell of the NB101 skeleton. As in
NASBench-1Shot1's one-shot model (``optimizers/darts/model_search.py``: a choice block per interior vertex holding
every op, a 1x1 input projection per choice block and one for the input -> output edge), each cell holds

* at every interior position p (1..5) all three ops with their own weights: ``ops[p-1][c]`` with ``c`` indexing
  :data:`~bnbench.spaces.nb101.arch.OPS` (conv3x3 / conv1x1 ``conv_bn_relu``, maxpool3x3);
* six 1x1 ``conv_bn_relu`` input projections ``projections[p-1]``, one per edge out of the cell input
  (positions 1..5 and the output).

**Fixed widths.** NB101 splits a cell's ``C`` output channels among the vertices feeding its output, so a
stand-alone vertex's width depends on the graph; shared weights need one width per position. Every interior
position works at the cell's width ``C`` (NB101's stage width: 128, 256, 512 in the benchmark), so no
truncation is needed. A used vertex sums its inputs as NB101 does (interior sources, plus the projected cell
input on an edge 0 -> p) and applies its op; the output vertex **sums** the vertices feeding it (the fixed-width
stand-in for NB101's concatenation of ``C/k``-channel vertices: concatenating then applying a fixed
``[I I ... I]`` 1x1 map) and adds the projected input on an edge 0 -> 6, as NB101 adds it to the concatenation.
A cell pruned to input -> output is that projection alone.

Only what the sampled architecture uses runs: its ops, and the projections of its input edges (slots that do
not run keep their weights and BN statistics; a projection is no slot, see below).

**Slots** (:mod:`bnbench.spaces.base`): one per (cell, position, op) module, ``Slot("layers.i.ops.p.c",
decision=p, choice=c)`` with decision p = position - 1 (the space's first five decisions are the vertex ops); a
slot runs iff ``choices[:, p] == c``. BN-NAS reads each op's last BN (the conv ops' BN; maxpool has one only in
the BN-on-every-op mode), BN-only ``last`` training trains exactly those. Projections, stem and classifier are
outside every slot; edges have no module of their own (the input projections are shared by all ops of a
position and are not what BN-NAS scores).

Skeleton as the stand-alone network (:class:`bnbench.spaces.nb101.model.Network`): stem ``conv_bn_relu`` 3x3,
``num_stacks`` stacks of ``cells_per_stack`` cells with a ceil-mode 2x2 max pool and doubled width between
stacks, global average pooling, dense ``classifier``. BatchNorm: PyTorch's momentum 0.1 (a supernet trains for a
few hundred steps; the official 0.003 would leave running statistics near their initial values), NB101's
epsilon; PyTorch's default initialisation, as the NB201 supernet.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from bnbench.spaces.base import Slot
from bnbench.spaces.nb101 import arch as A
from bnbench.spaces.nb101.encoding import NUM_BITS, decode, full_matrices
from bnbench.spaces.nb101.model import Downsample, GlobalAvgPool
from bnbench.spaces.nb101.ops import BN_MOMENTUM_TORCH_DEFAULT, ConvBnRelu, make_op

POSITIONS = A.NUM_INTERIOR  # 5 interior positions


class Plan(NamedTuple):
    """What one architecture runs in every cell: ``vertices`` = ((position, op, from_input, sources), ...) in
    order; ``feeders`` = interior positions feeding the output; ``output_from_input``: edge 0 -> 6."""

    vertices: tuple[tuple[int, int, bool, tuple[int, ...]], ...]
    feeders: tuple[int, ...]
    output_from_input: bool


@lru_cache(maxsize=1 << 16)
def _plan(row: tuple[int, ...]) -> Plan:
    decode(row)  # ArchError for a row that encodes no pruned valid cell
    m = full_matrices(np.asarray(row)[None])[0]
    ops = row[NUM_BITS:]
    vertices = tuple((p, ops[p - 1], bool(m[0, p]), tuple(s for s in range(1, p) if m[s, p]))
                     for p in range(1, POSITIONS + 1) if ops[p - 1] >= 0)
    return Plan(vertices, tuple(p for p in range(1, POSITIONS + 1) if m[p, 6]), bool(m[0, 6]))


def plan(arch: Sequence[int] | np.ndarray | torch.Tensor) -> Plan:
    """The (cached) :class:`Plan` of one encoded architecture; ArchError if it encodes none."""
    if isinstance(arch, torch.Tensor):
        arch = arch.detach().cpu().numpy()
    return _plan(tuple(int(v) for v in np.asarray(arch).reshape(-1)))


class SuperCell(nn.Module):
    """One supernet cell, ``c_in`` -> ``c_out`` channels: every op at every position, six input projections."""

    def __init__(self, c_in: int, c_out: int, bn_every_op: bool = False,
                 momentum: float = BN_MOMENTUM_TORCH_DEFAULT):
        super().__init__()
        self.c_in, self.c_out = c_in, c_out
        self.projections = nn.ModuleList(ConvBnRelu(c_in, c_out, 1, momentum) for _ in range(POSITIONS + 1))
        self.ops = nn.ModuleList(
            nn.ModuleList(make_op(name, c_out, bn_every_op, momentum) for name in A.OPS) for _ in range(POSITIONS))

    def forward(self, x: torch.Tensor, plan: Plan) -> torch.Tensor:
        """(B, c_in, H, W) -> (B, c_out, H, W) for one architecture's :class:`Plan`."""
        values: dict[int, torch.Tensor] = {}
        for p, op, from_input, sources in plan.vertices:
            terms = [values[s] for s in sources]
            if from_input:
                terms.append(self.projections[p - 1](x))
            values[p] = self.ops[p - 1][op](sum(terms[1:], terms[0]))
        terms = [values[p] for p in plan.feeders]
        if plan.output_from_input:
            terms.append(self.projections[POSITIONS](x))
        return sum(terms[1:], terms[0])


class Supernet(nn.Module):
    """The NB101 weight-sharing supernet (module docstring). ``forward(x, arch)`` / ``features(x, arch)`` take one
    encoded architecture (26 ints); ``slots()`` lists the op slots."""

    def __init__(self, stem_channels: int = 128, num_stacks: int = 3, cells_per_stack: int = 3,
                 num_classes: int = 10, in_channels: int = 3, bn_every_op: bool = False,
                 momentum: float = BN_MOMENTUM_TORCH_DEFAULT):
        super().__init__()
        self.stem_channels, self.num_stacks, self.cells_per_stack = stem_channels, num_stacks, cells_per_stack
        self.bn_every_op, self.num_classes = bool(bn_every_op), num_classes
        self.stem = ConvBnRelu(in_channels, stem_channels, 3, momentum)
        layers: list[nn.Module] = []
        c_in = stem_channels
        for stack in range(num_stacks):
            c_out = stem_channels * 2 ** stack
            if stack:
                layers.append(Downsample(ceil_mode=True))
            for _ in range(cells_per_stack):
                layers.append(SuperCell(c_in, c_out, bn_every_op, momentum))
                c_in = c_out
        self.layers = nn.ModuleList(layers)
        self.global_pooling = GlobalAvgPool()
        self.classifier = nn.Linear(c_in, num_classes)

    def cells(self) -> list[SuperCell]:
        return [m for m in self.layers if isinstance(m, SuperCell)]

    def slots(self) -> list[Slot]:
        """One slot per (cell, interior position, op): runs iff the architecture puts that op at that position."""
        return [Slot(f"layers.{i}.ops.{p}.{c}", p, c) for i, layer in enumerate(self.layers)
                if isinstance(layer, SuperCell) for p in range(POSITIONS) for c in range(len(A.OPS))]

    def features(self, x: torch.Tensor, arch: Any) -> torch.Tensor:
        """Penultimate features (B, stem_channels * 2 ** (num_stacks - 1)): last cell's output averaged over H, W."""
        p = plan(arch)
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x, p) if isinstance(layer, SuperCell) else layer(x)
        return self.global_pooling(x).flatten(1)

    def forward(self, x: torch.Tensor, arch: Any) -> torch.Tensor:
        return self.classifier(self.features(x, arch))


def supernet_params(stem_channels: int, num_stacks: int, cells_per_stack: int, num_classes: int, in_channels: int,
                    bn_every_op: bool = False) -> int:
    """Closed-form parameter count of :class:`Supernet` (every op, projection, stem and classifier)."""
    total = 9 * in_channels * stem_channels + 2 * stem_channels
    c_in = stem_channels
    for stack in range(num_stacks):
        c = stem_channels * 2 ** stack
        for _ in range(cells_per_stack):
            total += (POSITIONS + 1) * (c_in * c + 2 * c)  # projections
            total += POSITIONS * (9 * c * c + 2 * c + c * c + 2 * c + (2 * c if bn_every_op else 0))
            c_in = c
    return total + c_in * num_classes + num_classes
