"""What a search maximises and what it must respect: an indicator as a fitness, a cost constraint.

* :func:`indicator_fitness`: any registered indicator, signed so that higher is better (``te_ntk``, lower is
  better, is negated); per-architecture indicators keep their scores in the run's store
  (``ScoringContext.memo``), so nothing is scored twice within a run.
* :func:`parse_constraint`: ``params<=X`` / ``flops<=Y`` / ``macs<=Z`` (millions, as the ``params`` / ``flops``
  / ``macs`` indicators count them for the context's stand-alone network; ``M`` / ``K`` / ``G`` suffixes accepted:
  ``params<=1.2M`` is 1.2 million parameters), several joined with ``,``.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable

import numpy as np

from bnbench.errors import BnbenchError
from bnbench.indicators import ScoringContext, get

COST_KEYS = ("params", "flops", "macs")
_SCALE = {"": 1.0, "k": 1e-3, "m": 1.0, "g": 1e3}  # into millions
_TERM = re.compile(r"^\s*(params|flops|macs)\s*<=\s*([0-9]*\.?[0-9]+(?:e[-+]?\d+)?)\s*([kmg]?)\s*$", re.I)


def indicator_fitness(name: str, ctx: ScoringContext) -> Callable[[np.ndarray], np.ndarray]:
    """``fitness(archs) -> scores``, higher is better, of the registered indicator ``name`` in ``ctx``.
    Raises BnbenchError (one line) for an unknown indicator or one whose needs ``ctx`` lacks."""
    indicator = get(name)
    problem = indicator.missing(ctx)
    if problem:
        raise BnbenchError(problem)
    sign = 1.0 if indicator.higher_is_better else -1.0

    def fitness(archs: np.ndarray) -> np.ndarray:
        return sign * indicator(np.asarray(archs), ctx)

    return fitness


def parse_constraint(text: str | None, ctx: ScoringContext) -> Callable[[np.ndarray], np.ndarray] | None:
    """``admissible(archs) -> (n,) bool`` for ``text`` such as ``"params<=1.2M,flops<=200"`` (None for no
    constraint); BnbenchError naming the bad term otherwise."""
    if not text or not text.strip():
        return None
    limits: list[tuple[str, float]] = []
    for term in text.split(","):
        match = _TERM.match(term)
        if not match:
            raise BnbenchError(f"--constraint {term.strip()!r}: expected params<=X, flops<=X or macs<=X (millions; "
                               "K/M/G suffixes accepted), several joined with ','")
        key, value, unit = match.group(1).lower(), float(match.group(2)), match.group(3).lower()
        limits.append((key, value * _SCALE[unit]))
    cost_ctx = replace(ctx, options={})  # the cost indicators read no option

    def admissible(archs: np.ndarray) -> np.ndarray:
        archs = np.asarray(archs)
        ok = np.ones(len(archs), dtype=bool)
        for key, limit in limits:
            ok &= get(key)(archs, cost_ctx) <= limit
        return ok

    return admissible
