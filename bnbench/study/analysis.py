"""Pieces of the fairness study's analysis: disjoint samples, top-k op frequencies, composite weight choice."""

from __future__ import annotations

import itertools

import numpy as np

from bnbench.correlation import correlate, topk_membership
from bnbench.errors import BnbenchError
from bnbench.indicators.composite.composite import TERMS, rank_sum
from bnbench.indicators.registry import Indicator
from bnbench.spaces.base import choice_counts
from bnbench.spaces.sampling import stratified_indices


def disjoint_samples(space, ops: np.ndarray, values: np.ndarray, n: int, seed: int,
                     count: int = 2) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` disjoint stratified samples of ``n`` rows: sample i is drawn from what samples < i left,
    with seed ``seed + i`` (sample 0 is exactly ``select_archs``' sample for ``seed``)."""
    if n * count > len(ops):
        raise BnbenchError(f"{count} disjoint samples of {n} architectures need {n * count}; the truth has {len(ops)}")
    left = np.arange(len(ops))
    samples = []
    for i in range(count):
        keep = left[stratified_indices(space.strata(ops[left]), n, seed + i)] if n < len(left) else left
        samples.append((ops[keep], values[keep]))
        left = np.setdiff1d(left, keep)
    return samples


def top_weights(scores: np.ndarray, higher_is_better: bool, top: int) -> np.ndarray:
    """P(row is among the ``top`` best scores) when ties are broken uniformly at random (never by row order):
    1 above the cut, (slots left) / (rows tied at the cut) at it, 0 below (:func:`topk_membership`).
    NaN scores are never among the top (0; ``top`` shrinks to the number of non-NaN scores); -inf / +inf
    are the worst / best values (mirrored when lower is better)."""
    scores = np.asarray(scores, dtype=np.float64)
    oriented = scores if higher_is_better else -scores
    weights = np.zeros(scores.size)
    valid = ~np.isnan(oriented)
    k = min(int(top), int(valid.sum()))
    if k > 0:
        weights[valid] = topk_membership(oriented[valid], k)
    return weights


def op_frequencies(space, archs: np.ndarray, weights: np.ndarray) -> dict[str, float]:
    """Share of each choice (NB201: op) among all used decisions (edges) of the architectures, each weighted by
    ``weights`` (e.g. its :func:`top_weights`: the expected shares under random tie-breaking); sums to 1
    (all 0 when no weight)."""
    counts = choice_counts(space, np.asarray(archs), np.asarray(weights, dtype=np.float64))
    total = sum(counts.values())
    return {op: float(c / total) if total > 0 else 0.0 for op, c in counts.items()}


def weight_grid() -> list[dict[str, float]]:
    """The composite formulations tried: every non-empty subset of the three terms, equal weights."""
    return [{t: float(t in subset) for t in TERMS} for r in (3, 2, 1) for subset in itertools.combinations(TERMS, r)]


def choose_weights(terms: dict[str, np.ndarray], truth: np.ndarray) -> tuple[dict[str, float], list[dict]]:
    """The grid weights with the highest Kendall tau on this (selection) sample, and every weight's tau."""
    table = []
    for weights in weight_grid():
        stats = correlate(rank_sum(terms, weights), truth, n_boot=0)
        table.append({"weights": weights, "kendall_tau": stats["kendall_tau"], "spearman_rho": stats["spearman_rho"]})
    best = max(table, key=lambda row: -np.inf if row["kendall_tau"] is None else row["kendall_tau"])
    return best["weights"], table


def weights_label(weights: dict[str, float]) -> str:
    return "+".join(t for t in TERMS if weights.get(t)) or "none"


def correlate_scores(indicator: Indicator, scores: np.ndarray, truth: np.ndarray, groups, keys, n_boot: int,
                     seed: int) -> dict:
    """``correlate`` in the indicator's direction; ``keys`` pick each isomorphism class's representative."""
    return correlate(scores, truth, higher_is_better=indicator.higher_is_better, groups=groups, keys=keys,
                     n_boot=n_boot, seed=seed)


def composite_choice(report: dict, selection: dict | None, samples: dict, groups, keys, n_boot: int,
                     seed: int) -> dict:
    """Composite weights chosen on the selection sample (``{term: (scores, s)}``), judged on the report sample."""
    if selection is None:
        return {"chosen": None, "reason": "one sample only: no selection sample to choose weights on"}
    weights, table = choose_weights({t: selection[t][0] for t in TERMS}, samples["selection"][1])
    judged = correlate(rank_sum({t: report[t][0] for t in TERMS}, weights), samples["report"][1], groups=groups,
                       keys=keys, n_boot=n_boot, seed=seed)
    return {"chosen": weights, "label": weights_label(weights), "selection_table": table, "report": judged}
