"""NAS-Bench-201 through the search-space interface (:class:`bnbench.spaces.base.SearchSpace`).

Representations:

* string: the official arch string ``|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|...|``;
* encoding: 6 op indices (edge order (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2); ops in :data:`arch.OPS`
  order), so an ``(n, 6)`` int64 matrix; enumeration code ``sum(op_e * 5**e)`` for the 15,625 cells;
* decisions: the 6 edges, each with the 5 ops; ``choices`` is the encoding itself (no decision is ever
  unused; a ``none`` edge is a choice whose op runs no module, so the supernet declares no slot for it);
* canonical form: NATS-Bench's isomorphism-canonical ``UniqueString`` (6,466 classes);
* truth key: the official string (the benchmark's own index comes from the truth source).

Options: ``C`` (channels of the first stage; ``--channels``), ``N`` (cells per stage; ``--cells``),
``bn_every_op`` (a trainable BN after skip_connect and avg_pool_3x3; ``--bn-every-op``). The benchmark's
networks are C=16, N=5.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

import numpy as np
from torch import nn

from bnbench.errors import BnbenchError
from bnbench.spaces.base import Decision, SearchSpace, SpaceOptions
from bnbench.spaces.nb201 import arch as A
from bnbench.spaces.nb201.sampling import conv_ops, strata, stratified_sample


@dataclass(frozen=True)
class NB201Options(SpaceOptions):
    """Build options of NB201 networks and supernets."""

    C: int = 16
    N: int = 5
    bn_every_op: bool = False

    COMMON: ClassVar[dict[str, str]] = {"channels": "C", "cells": "N"}

    def __post_init__(self) -> None:
        if self.C < 1 or self.N < 1:
            raise BnbenchError(f"nb201 options C={self.C}, N={self.N}: expected positive integers")


class NB201Space(SearchSpace):
    """NAS-Bench-201 (Dong & Yang, ICLR 2020): one cell of 6 edges x 5 ops, repeated 3N times."""

    name = "nb201"
    aliases = ("nas-bench-201", "nasbench201", "nats-tss", "nb-201")
    summary = "NAS-Bench-201 cells: 6 edges x 5 ops, 15,625 architectures (6,466 isomorphism classes)"
    decisions = tuple(Decision(f"edge {to}<-{src}", A.OPS) for to, src in A.EDGES)
    width = A.NUM_EDGES
    size = A.NUM_ARCHS
    Options = NB201Options
    variants = ("official", "zc")
    default_truth_epochs = 200
    presets = {"digits": dict(channels=16, cells=2), "default": dict(channels=16, cells=5)}
    arch_help = "an official NB201 string such as |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|...|"
    # kept for callers written against the adapter before the interface existed
    ops = A.OPS
    num_edges = A.NUM_EDGES
    num_archs = A.NUM_ARCHS

    def parse(self, text: str) -> np.ndarray:
        return np.asarray(A.parse(text), dtype=np.int64)

    def parse_many(self, texts) -> np.ndarray:
        return A.parse_many(texts)

    def to_str(self, arch: Sequence[int]) -> str:
        return A.to_str(arch)

    def canonical(self, arch: Sequence[int] | str) -> str:
        return A.canonical(arch)

    def all_archs(self) -> np.ndarray:
        return A.ops_matrix(A.all_archs())

    def sample(self, n: int, seed: int, pool: np.ndarray | None = None) -> np.ndarray:
        """A stratified sample of ``n`` distinct cells (rows of ``pool``, default the whole space)."""
        pool = self.all_archs() if pool is None else pool
        return pool[stratified_sample(pool, n, seed)]

    def random_paths(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` cells drawn uniformly with replacement (SPOS: one path per training step)."""
        codes = rng.integers(0, A.NUM_ARCHS, size=n)
        return A.ops_matrix(A.decode(int(c)) for c in codes)

    def strata(self, archs: np.ndarray) -> np.ndarray:
        """(#nor_conv_3x3, #nor_conv_1x1) of each cell, as one label."""
        return strata(archs)

    def conv_ops(self, archs: np.ndarray) -> np.ndarray:
        """Number of convolutions (nor_conv_3x3 and nor_conv_1x1) on the cell's six edges (0..6)."""
        return conv_ops(archs)

    def structure_strata(self, archs: np.ndarray, params: np.ndarray) -> tuple[np.ndarray, str]:
        """The number of convolutions of the cell (0..6): cells with equal counts differ in where the convolutions
        sit and in the parameter-free ops, not in how many weights they hold."""
        return conv_ops(archs), "number of convolutions in the cell"

    def choices(self, archs: np.ndarray) -> np.ndarray:
        return np.asarray(archs, dtype=np.int64).reshape(-1, self.width)

    def network(self, arch: Sequence[int], options: NB201Options | None = None, num_classes: int = 10,
                in_channels: int = 3, variant: str = "official", bn: bool = True) -> nn.Module:
        from bnbench.spaces.nb201.model import Network

        o = options or NB201Options()
        return Network(arch, C=o.C, N=o.N, num_classes=num_classes, in_channels=in_channels, fair=o.bn_every_op,
                       variant=variant, bn=bn)

    def supernet(self, options: NB201Options | None = None, num_classes: int = 10, in_channels: int = 3) -> nn.Module:
        from bnbench.spaces.nb201.model import Supernet

        o = options or NB201Options()
        return Supernet(C=o.C, N=o.N, num_classes=num_classes, in_channels=in_channels, fair=o.bn_every_op)

    def relaxed_supernet(self, channels: int | None = None, cells: int | None = None, num_classes: int = 10,
                         in_channels: int = 3, partial: int = 1, edge_norm: bool = False,
                         affine: bool = False) -> nn.Module:
        """NB201's DARTS relaxation (:mod:`bnbench.spaces.nb201.relaxed`); default C=16, N=5 as its DARTS baseline."""
        from bnbench.spaces.nb201.relaxed import RelaxedSupernet

        return RelaxedSupernet(channels or 16, cells or 5, num_classes, in_channels, partial, edge_norm, affine)

    def cost(self, archs: np.ndarray, options: NB201Options | None = None, num_classes: int = 10,
             in_channels: int = 3, resolution: int = 32) -> dict[str, np.ndarray]:
        from bnbench.spaces.nb201.cost import cost

        o = options or NB201Options()
        return cost(archs, o.C, o.N, num_classes, in_channels, resolution, o.bn_every_op)


SPACE = NB201Space()
