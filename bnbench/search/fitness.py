"""What a search maximises and what it must respect: an indicator as a fitness, a cost constraint.

* :func:`indicator_fitness`: any registered indicator, signed so that higher is better (``te_ntk``, lower is
  better, is negated); each architecture is scored once per fitness object (searches that share it, e.g. several
  seeds and their random-search baselines, reuse the scores), and per-architecture zero-cost proxies also keep
  theirs in the run's store (``ScoringContext.memo``).
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
    scores: dict[bytes, float] = {}  # an indicator is a pure function of (architecture, context): scored once

    def fitness(archs: np.ndarray) -> np.ndarray:
        archs = np.asarray(archs, dtype=np.int64)
        keys = [row.tobytes() for row in archs]
        todo = list({k: i for i, k in enumerate(keys) if k not in scores}.values())
        if todo:
            scores.update(zip((keys[i] for i in todo), sign * indicator(archs[todo], ctx)))
        return np.array([scores[k] for k in keys], dtype=np.float64)

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
