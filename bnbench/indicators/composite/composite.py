"""Composite BN indicator: a weighted sum of the normalised ranks of expressivity, trainability and uncertainty.

Zhu et al. (arXiv 2112.00265) find that once every op carries a BN (``fair``/bn_every_op) the BN-NAS
score stops ranking subnets, and judge a BN-trained subnet instead on expressivity, trainability and
uncertainty. Their formulas are not public; this is ours. Each term ``t`` is oriented so that higher is
better (``s_t = +expressivity, -trainability, -uncertainty``) and ranked among the n scored cells
(average ranks for ties, 1 = worst), then

    composite(a) = sum_t w_t * rank(s_t)(a) / n,

higher is better. Ranks make the three terms' incommensurable scales comparable and are robust to their
heavy tails; the price is that a cell's composite depends on which cells are scored with it (a sample
property, as any rank). Weights: ``ctx.options["composite_weights"]``, a mapping ``{term: w}``, a string
``"expressivity=1,trainability=0.5"`` or three numbers in the order above; default 1 each. Terms of weight
0 are not computed. Cells with a degenerate term share the bottom rank of that term.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping

import numpy as np
from scipy.stats import rankdata

from bnbench.errors import BnbenchError
from bnbench.indicators.composite.diagnostics import WORST, record
from bnbench.indicators.registry import ScoringContext, register

TERMS = ("expressivity", "trainability", "uncertainty")
HIGHER_IS_BETTER = {"expressivity": True, "trainability": False, "uncertainty": False}


def parse_weights(spec: Any) -> dict[str, float]:
    """``{term: weight}`` from None (all 1), a mapping, ``"name=w,..."`` or a sequence of three numbers."""
    if spec is None:
        return dict.fromkeys(TERMS, 1.0)
    if isinstance(spec, str):
        try:
            items = (item.split("=") for item in spec.split(",") if item.strip())
            spec = {k.strip(): float(v) for k, v in items}
        except ValueError:
            raise BnbenchError(f"composite_weights {spec!r}: expected 'expressivity=1,trainability=1,...'") from None
    if not isinstance(spec, Mapping):
        values = list(spec)
        if len(values) != len(TERMS):
            raise BnbenchError(f"composite_weights {values!r}: expected {len(TERMS)} numbers ({', '.join(TERMS)})")
        spec = dict(zip(TERMS, values))
    unknown = set(spec) - set(TERMS)
    if unknown:
        raise BnbenchError(f"composite_weights: unknown term(s) {', '.join(sorted(unknown))} "
                           f"(terms: {', '.join(TERMS)})")
    weights = {t: float(spec.get(t, 0.0)) for t in TERMS}
    if any(not np.isfinite(w) or w < 0 for w in weights.values()) or not any(weights.values()):
        raise BnbenchError(f"composite_weights {weights}: expected non-negative finite weights, not all 0")
    return weights


def rank_sum(terms: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """``sum_t w_t rank(oriented term t) / n`` (average ranks of ties; 1 = worst)."""
    n = len(next(iter(terms.values())))
    total = np.zeros(n)
    for t, w in weights.items():
        if w:
            oriented = terms[t] if HIGHER_IS_BETTER[t] else -np.asarray(terms[t])
            total += w * rankdata(oriented, method="average") / n
    return total


@register("composite", higher_is_better=True, needs=("supernet", "data"),
          summary="weighted rank sum of expressivity, trainability and uncertainty (Zhu et al.-style)", version=2)
def composite(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    from bnbench.indicators.composite.engine import evaluate

    weights = parse_weights(ctx.options.get("composite_weights"))
    active = [t for t in TERMS if weights[t]]
    terms = evaluate(archs, ctx, active)
    worst = np.zeros(len(archs), dtype=bool)
    for t in active:
        worst |= terms[t] == WORST[t]
    record("composite", len(archs), Counter({"worst value in a term": int(worst.sum())} if worst.any() else {}))
    return rank_sum(terms, weights)
