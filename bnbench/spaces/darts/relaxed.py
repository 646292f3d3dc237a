"""The continuous relaxation of the DARTS cell space (Liu et al., ICLR 2019, ``cnn/model_search.py``) with
BNAS-v2's memory remedy, partial channel connections and edge normalisation (PC-DARTS, Xu et al. ICLR 2020,
``model_search.py``; Ding et al., arXiv 2009.08886).

Skeleton as the SPOS supernet (:mod:`bnbench.spaces.darts.supernet`). Every edge ``(node i, state j)`` of a cell
computes ``sum_o softmax(alpha_e)_o * o(x)`` over the 7 ops and ``none``; one ``alpha`` per cell type (normal,
reduce), 14 edges x 8 ops, shared by all cells of that type. Poolings are followed by a BN, and the candidate
ops' BNs have no affine parameters (DARTS's search network) unless asked (BN-only search trains them). With
partial channels ``K > 1`` the first ``C/K`` channels of an edge's input go through the mixed op (ops built at
``C/K``), the rest bypass it (max-pooled 2x2 on a reduction cell's strided edges, as PC-DARTS), and the channels
are shuffled in ``K`` groups. With edge normalisation node ``i`` sums its ``i + 2`` incoming edges weighted by
``softmax(beta)`` over them.

Derivation (DARTS's ``genotype()``; PC-DARTS's with edge normalisation): per node the two incoming edges with
the largest non-``none`` op weight (times the edge's ``softmax(beta)`` weight with edge normalisation), each with
its strongest non-``none`` op; the result is an encoded genotype of the space.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bnbench.spaces.darts import arch as A
from bnbench.spaces.darts.encoding import EDGES, NUM_EDGES, edge_index, encode
from bnbench.spaces.darts.model import STEM_MULTIPLIER, cell_layout, check_options
from bnbench.spaces.darts.ops import FactorizedReduce, ReLUConvBN, make_op
from bnbench.spaces.darts.supernet import SUPERNET_OPS
from bnbench.spaces.nb101.model import GlobalAvgPool
from bnbench.spaces.relaxation import ArchitectureParameters, channel_shuffle

PARAMETER_FREE = tuple(i for i, name in enumerate(SUPERNET_OPS) if name not in A.PARAMETERISED)
NONE_INDEX = SUPERNET_OPS.index(A.NONE)


class RelaxedDartsCell(nn.Module):
    """A DARTS search cell: preprocessing and, on each of the 14 edges, the mixed op of the 8 ops."""

    def __init__(self, c_pp: int, c_p: int, c: int, reduction: bool, reduction_prev: bool, partial: int = 1,
                 affine: bool = False):
        super().__init__()
        from bnbench.errors import BnbenchError

        if partial < 1 or c % partial:
            raise BnbenchError(f"partial channels K={partial}: expected a divisor of the cell width {c}")
        self.reduction, self.c, self.partial = reduction, c, partial
        self.preprocess0 = FactorizedReduce(c_pp, c, affine) if reduction_prev else ReLUConvBN(c_pp, c, affine=affine)
        self.preprocess1 = ReLUConvBN(c_p, c, affine=affine)
        width = c // partial
        self.edges = nn.ModuleList(
            nn.ModuleList(make_op(name, width, 2 if reduction and src < 2 else 1, affine=affine, pool_bn=True)
                          for name in SUPERNET_OPS) for _, src in EDGES)

    def mixed(self, e: int, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        strided = self.reduction and EDGES[e][1] < 2
        if self.partial > 1:
            width = self.c // self.partial
            part, rest = x[:, :width], x[:, width:]
        else:
            part, rest = x, None
        out = sum(weights[o] * op(part) for o, op in enumerate(self.edges[e]) if o != NONE_INDEX)
        if rest is None:
            return out
        rest = F.max_pool2d(rest, 2, 2) if strided else rest
        return channel_shuffle(torch.cat([out, rest], dim=1), self.partial)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor,
                edge_weights: torch.Tensor | None) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(A.NODES):
            terms = []
            for j in range(node + 2):
                e = edge_index(node, j)
                out = self.mixed(e, states[j], weights[e])
                terms.append(out if edge_weights is None else edge_weights[e] * out)
            states.append(sum(terms[1:], terms[0]))
        return torch.cat(states[2:], dim=1)


class RelaxedDartsSupernet(ArchitectureParameters, nn.Module):
    """DARTS's search network with ``alpha`` (2, 14, 8: normal, reduce) and, with edge normalisation, ``beta``
    (2, 14). The interface of :class:`~bnbench.spaces.nb201.relaxed.RelaxedSupernet`: ``arch_parameters``,
    ``weight_parameters``, ``op_weights`` (the softmaxed alpha, one row per decision: 28 x 8), ``derive``
    (an encoded genotype) and ``parameter_free`` (the share of parameter-free ops in a derived genotype)."""

    def __init__(self, C: int = 16, layers: int = 8, num_classes: int = 10, in_channels: int = 3, partial: int = 1,
                 edge_norm: bool = False, affine: bool = False):
        super().__init__()
        check_options(C=C, layers=layers, num_classes=num_classes, in_channels=in_channels)
        c = STEM_MULTIPLIER * C
        self.stem = nn.Sequential(nn.Conv2d(in_channels, c, 3, padding=1, bias=False), nn.BatchNorm2d(c))
        layout = cell_layout(C, layers)
        self.cells = nn.ModuleList(RelaxedDartsCell(*widths, partial, affine) for widths in layout)
        self.global_pooling = GlobalAvgPool()
        self.classifier = nn.Linear(A.NODES * layout[-1][2], num_classes)
        self.alpha = nn.Parameter(1e-3 * torch.randn(2, NUM_EDGES, len(SUPERNET_OPS)))
        self.beta = nn.Parameter(1e-3 * torch.randn(2, NUM_EDGES)) if edge_norm else None

    def op_weights(self) -> torch.Tensor:
        """softmax(alpha) per edge, as (28, 8): the normal cell's 14 edges, then the reduction cell's."""
        return F.softmax(self.alpha, dim=-1).reshape(2 * NUM_EDGES, -1)

    def edge_weights(self) -> torch.Tensor | None:
        """(2, 14): softmax(beta) over each node's incoming edges, per cell type; None without edge normalisation."""
        if self.beta is None:
            return None
        parts = [F.softmax(self.beta[:, edge_index(node, 0):edge_index(node, 0) + node + 2], dim=-1)
                 for node in range(A.NODES)]
        return torch.cat(parts, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = F.softmax(self.alpha, dim=-1)
        edges = self.edge_weights()
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            t = int(cell.reduction)
            s0, s1 = s1, cell(s0, s1, weights[t], None if edges is None else edges[t])
        return self.classifier(self.global_pooling(s1).flatten(1))

    def derive(self) -> np.ndarray:
        """The derived genotype's encoding row (module docstring)."""
        weights = F.softmax(self.alpha.detach(), dim=-1).cpu().numpy()
        edges = self.edge_weights()
        edges = None if edges is None else edges.detach().cpu().numpy()
        cells = []
        for t in range(2):
            pairs = []
            for node in range(A.NODES):
                candidates = []
                for j in range(node + 2):
                    e = edge_index(node, j)
                    w = weights[t, e].copy()
                    w[NONE_INDEX] = -np.inf
                    strength = w.max() * (1.0 if edges is None else edges[t, e])
                    candidates.append((strength, j, int(w.argmax())))
                top = sorted(candidates, key=lambda c: (-c[0], c[1]))[:2]
                pairs += [(SUPERNET_OPS[op], j) for _, j, op in sorted(top, key=lambda c: c[1])]
            cells.append(pairs)
        return encode(A.make_genotype(cells[0], cells[1]))

    @staticmethod
    def parameter_free(row: np.ndarray) -> float:
        """Share of the derived genotype's 16 ops that are parameter-free (skip, pooling)."""
        ops = np.asarray(row).reshape(2, A.PAIRS, 2)[..., 0]
        return float(np.isin(ops, [A.OPS.index(n) for n in A.OPS if n not in A.PARAMETERISED]).mean())
