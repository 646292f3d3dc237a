"""Degenerate subnets of the composite terms: logged, counted, recognisable from the scores alone.

A subnet whose output does not depend on its input (e.g. an NB201 cell whose output node receives only
``none`` edges: the cell emits zeros and everything after it is constant), whose NTK is singular or whose
computation is not finite gets its term's defined worst value ``WORST[term]``, never NaN. Each such cell
is logged at DEBUG on the ``bnbench.indicators.composite`` logger, each call's count at INFO, and the last
call's counts per indicator are kept in :data:`DIAGNOSTICS` (``{name: TermDiagnostics}``). Since every
worst value lies outside the range of regular scores, ``count_degenerate(name, scores)`` also recovers the
count from cached scores (as a report reads them).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

LOGGER = logging.getLogger("bnbench.indicators.composite")

# expressivity: log det of a regular m x m Hamming kernel exceeds m log(1e-12) > -27.7 m (> -1e6 for the
# probe sizes allowed); trainability: log10 condition number capped at 12; uncertainty: normalised mutual
# information, at most 1; feature_rank: effective rank >= 1 for any non-zero Gram matrix.
WORST = {"expressivity": -1e6, "trainability": 12.0, "uncertainty": 1.0, "feature_rank": 0.0}


@dataclass
class TermDiagnostics:
    """Counts of one indicator's last call: ``n`` cells scored, ``degenerate`` of them given the worst value."""

    n: int = 0
    degenerate: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"n": self.n, "degenerate": self.degenerate, "reasons": dict(self.reasons)}


DIAGNOSTICS: dict[str, TermDiagnostics] = {}


def record(name: str, n: int, reasons: Counter) -> None:
    """Store and log the degenerate-cell counts of a call of indicator ``name``."""
    DIAGNOSTICS[name] = TermDiagnostics(n, sum(reasons.values()), dict(reasons))
    if reasons:
        detail = ", ".join(f"{why}: {count}" for why, count in sorted(reasons.items()))
        LOGGER.info("%s: %d/%d cells got the worst score (%s)", name, sum(reasons.values()), n, detail)


def count_degenerate(name: str, scores: np.ndarray) -> int:
    """How many of a term's ``scores`` are its worst value (0 for indicators without one)."""
    if name not in WORST:
        return 0
    return int(np.sum(np.asarray(scores, dtype=float) == WORST[name]))
