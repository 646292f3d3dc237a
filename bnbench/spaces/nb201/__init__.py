"""NAS-Bench-201 search space (Dong & Yang, ICLR 2020): cells, networks, supernet, sampling."""

from __future__ import annotations

import numpy as np

from bnbench.spaces.nb201 import arch
from bnbench.spaces.nb201.model import VARIANTS, Network, Supernet
from bnbench.spaces.nb201.sampling import stratified_sample


class NB201Space:
    """Adapter exposing NB201 through the interface every bnbench search space provides."""

    name = "nb201"
    ops = arch.OPS
    num_edges = arch.NUM_EDGES
    num_archs = arch.NUM_ARCHS
    variants = tuple(VARIANTS)  # stand-alone network variants (see bnbench.spaces.nb201.model)

    parse = staticmethod(arch.parse)
    to_str = staticmethod(arch.to_str)
    canonical = staticmethod(arch.canonical)
    parse_many = staticmethod(arch.parse_many)

    def all_archs(self) -> np.ndarray:
        return arch.ops_matrix(arch.all_archs())

    def sample(self, n: int, seed: int, pool: np.ndarray | None = None) -> np.ndarray:
        """A stratified sample of ``n`` cells (rows of ``pool``, default the whole space)."""
        pool = self.all_archs() if pool is None else pool
        return pool[stratified_sample(pool, n, seed)]

    def network(self, ops, **kw) -> Network:
        """Stand-alone network; ``kw``: C, N, num_classes, in_channels, fair, variant, bn (see Network)."""
        return Network(ops, **kw)

    def supernet(self, **kw) -> Supernet:
        return Supernet(**kw)


__all__ = ["NB201Space", "Network", "Supernet", "arch"]
