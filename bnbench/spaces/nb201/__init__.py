"""NAS-Bench-201 search space (Dong & Yang, ICLR 2020): cells, networks, supernet, sampling, cost.

Representations and options: see :mod:`bnbench.spaces.nb201.space` (the interface adapter ``SPACE``);
the cell encoding and canonical form in :mod:`~bnbench.spaces.nb201.arch`, networks in
:mod:`~bnbench.spaces.nb201.model`, exact cost in :mod:`~bnbench.spaces.nb201.cost`.
"""

from __future__ import annotations

from bnbench.spaces.nb201 import arch
from bnbench.spaces.nb201.model import VARIANTS, Network, Supernet
from bnbench.spaces.nb201.space import SPACE, NB201Options, NB201Space

__all__ = ["NB201Options", "NB201Space", "Network", "SPACE", "Supernet", "VARIANTS", "arch"]
