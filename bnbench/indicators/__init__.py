"""Indicators, registered by name (see :mod:`bnbench.indicators.registry`).

Importing this package registers every built-in indicator.
"""

from bnbench.indicators import bn_score, cost, darts_alpha, econas, supernet_acc, zc  # noqa: F401  (registration side effects)
from bnbench.indicators import composite  # noqa: F401  (expressivity, trainability, uncertainty, composite)
from bnbench.indicators.registry import REGISTRY, Indicator, NetSpec, ScoringContext, get, parse_list, register

__all__ = ["REGISTRY", "Indicator", "NetSpec", "ScoringContext", "get", "parse_list", "register"]
