"""Composite BN indicator in the spirit of Zhu et al., "Training BatchNorm Only in Neural Architecture Search
and Beyond" (arXiv 2112.00265): a BN-trained subnet is judged on expressivity, trainability and
uncertainty, each its own registered indicator, and ``composite`` combines their ranks.

Importing this package registers ``expressivity``, ``trainability``, ``uncertainty``, ``composite`` and
``feature_rank`` (an expressivity alternative kept for the ablation), and ``composite_untrained`` (the composite on
the initialised supernet: training-free).
"""

from bnbench.indicators.composite import composite, expressivity, feature_rank, trainability, uncertainty  # noqa: F401
from bnbench.indicators.composite import untrained  # noqa: F401  (after composite: it wraps it)
from bnbench.indicators.composite.diagnostics import DIAGNOSTICS, WORST, count_degenerate

__all__ = ["DIAGNOSTICS", "WORST", "count_degenerate"]
