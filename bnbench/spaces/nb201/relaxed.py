"""The continuous relaxation of the NB201 cell (DARTS, Liu et al. ICLR 2019, on NAS-Bench-201 as its DARTS-V1
baseline runs it), with BNAS-v2's memory remedy: partial channel connections and edge normalisation (PC-DARTS,
Xu et al. ICLR 2020, as BNAS-v2's BNASv2PC uses them; Ding et al., arXiv 2009.08886).

Every edge ``i -> j`` of every cell computes the mixed op

    m_e(x) = sum_o softmax(alpha_e)_o * o(x)                  (o over the 5 ops; ``none`` contributes 0)

with one ``alpha`` (6 edges x 5 ops) shared by all cells, as NB201's DARTS baseline shares it. With partial
channels ``K > 1`` only the first ``C/K`` channels of the edge's input go through the mixed op (whose ops are
built at ``C/K`` channels); the other channels bypass it, the two parts are concatenated and the channels shuffled
in ``K`` groups (PC-DARTS's ``channel_shuffle``). With edge normalisation node ``j`` sums its incoming edges
weighted by ``softmax(beta_j)`` over them (``beta``: one value per edge, softmax per destination node), so the
derived cell does not depend on the 1/K sampling of channels alone. The stem, reduction blocks and head are
NB201's (:class:`~bnbench.spaces.nb201.model.Skeleton`).

Candidate ops follow DARTS's search network: their BNs have no affine parameters (``affine=False``) unless asked
(BN-only search trains BN affine parameters, so it needs them). The derived cell takes the strongest op of every
edge, ``none`` included (NB201's ``genotype()`` of its DARTS baseline).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bnbench.spaces.nb201.arch import EDGES, NUM_NODES, OPS
from bnbench.spaces.nb201.model import Skeleton
from bnbench.spaces.relaxation import ArchitectureParameters, channel_shuffle
from bnbench.spaces.nb201.ops import make_op

NUM_EDGES = len(EDGES)
PARAMETER_FREE = tuple(i for i, name in enumerate(OPS) if name in ("none", "skip_connect", "avg_pool_3x3"))


class RelaxedCell(nn.Module):
    """An NB201 cell whose every edge holds the mixed op of all five ops (at ``channels // partial`` width)."""

    def __init__(self, channels: int, partial: int = 1, affine: bool = False):
        super().__init__()
        if partial < 1 or channels % partial:
            from bnbench.errors import BnbenchError

            raise BnbenchError(f"partial channels K={partial}: expected a divisor of the cell width {channels}")
        self.channels, self.partial = channels, partial
        width = channels // partial
        self.edges = nn.ModuleList(nn.ModuleList(make_op(name, width, affine=affine, track=False) for name in OPS)
                                   for _ in EDGES)

    def mixed(self, e: int, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        if self.partial > 1:
            width = self.channels // self.partial
            part, rest = x[:, :width], x[:, width:]
        else:
            part, rest = x, None
        out = sum(weights[o] * op(part) for o, op in enumerate(self.edges[e]) if OPS[o] != "none")
        if rest is None:
            return out
        return channel_shuffle(torch.cat([out, rest], dim=1), self.partial)

    def forward(self, x: torch.Tensor, op_weights: torch.Tensor, edge_weights: torch.Tensor | None) -> torch.Tensor:
        """``op_weights``: (6, 5) softmaxed alpha; ``edge_weights``: (6,) per-edge weights (softmax per node) or
        None (plain sum, DARTS)."""
        nodes = [x]
        e = 0
        for j in range(1, NUM_NODES):
            terms = []
            for i in range(j):
                out = self.mixed(e, nodes[i], op_weights[e])
                terms.append(out if edge_weights is None else edge_weights[e] * out)
                e += 1
            nodes.append(sum(terms[1:], terms[0]))
        return nodes[-1]


class RelaxedSupernet(ArchitectureParameters, Skeleton):
    """NB201's skeleton with relaxed cells and the architecture parameters ``alpha`` (6 x 5) and ``beta`` (6,).

    ``forward(x)`` uses the current ``alpha``/``beta``; :meth:`arch_parameters` are the ones the architecture
    optimiser updates, :meth:`weight_parameters` the rest."""

    def __init__(self, C: int = 16, N: int = 5, num_classes: int = 10, in_channels: int = 3, partial: int = 1,
                 edge_norm: bool = False, affine: bool = False):
        super().__init__(lambda c: RelaxedCell(c, partial, affine), C, N, num_classes, in_channels)
        self.edge_norm = edge_norm
        self.alpha = nn.Parameter(1e-3 * torch.randn(NUM_EDGES, len(OPS)))  # DARTS's initialisation
        self.beta = nn.Parameter(1e-3 * torch.randn(NUM_EDGES)) if edge_norm else None

    def op_weights(self) -> torch.Tensor:
        return F.softmax(self.alpha, dim=-1)

    def edge_weights(self) -> torch.Tensor | None:
        """softmax(beta) over the incoming edges of each node, as one (6,) vector in edge order."""
        if self.beta is None:
            return None
        parts, e = [], 0
        for j in range(1, NUM_NODES):
            parts.append(F.softmax(self.beta[e:e + j], dim=0))
            e += j
        return torch.cat(parts)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ops, edges = self.op_weights(), self.edge_weights()
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x, ops, edges) if isinstance(layer, RelaxedCell) else layer(x)
        return self.classifier(self.global_pooling(self.lastact(x)).flatten(1))

    def derive(self) -> np.ndarray:
        """The derived cell: the op of largest weight on every edge (``none`` included), 6 op indices."""
        return self.alpha.detach().argmax(dim=-1).cpu().numpy().astype(np.int64)

    @staticmethod
    def parameter_free(row: np.ndarray) -> float:
        """Share of the cell's 6 edges holding a parameter-free op (none, skip, pooling)."""
        return float(np.isin(np.asarray(row), PARAMETER_FREE).mean())
