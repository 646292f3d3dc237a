"""``bnbench search evolution``: one search run from the command line's options to ``search.json``.

The run builds the scoring context as ``correlate`` does (the dataset and the supernet only when the indicator
needs them; ``--supernet`` reuses a trained one), runs :func:`~bnbench.search.evolution.evolve` with the
indicator as the fitness (and, with ``random_baseline``, random search with the same number of evaluations and
the same fitness), and writes ``search.json``: the config, seeds, package versions, every evaluated architecture
in order (string, fitness, generation, origin), the found architecture, the number of distinct architectures
evaluated, wall times and, where the ground truth covers them, the true value of the found architectures and of
the best architecture after each evaluation (the "best so far" curve), beside the best of the truth itself.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from bnbench.errors import BnbenchError
from bnbench.experiment import (RunOptions, build_context, dataset_name, load_truth_and_table, net_spec,
                                train_config)
from bnbench.search.evolution import EvolutionConfig, SearchResult, evolve, random_search
from bnbench.search.fitness import indicator_fitness, parse_constraint
from bnbench.search.within import Candidates
from bnbench.utils.env import package_versions
from bnbench.utils.io import atomic_write_json


def run_search(opts: RunOptions, cfg_overrides: dict[str, Any], indicator: str, evolution: EvolutionConfig,
               constraint: str | None = None, random_baseline: bool = False,
               line: Callable[[str], None] | None = None, within_truth: bool = False) -> dict:
    """Run the search of the module docstring; writes ``opts.out/search.json`` and returns its document.
    ``within_truth``: search only among the ground truth's cells (:mod:`bnbench.search.within`; for NB101 / NB301
    tables, which hold samples of their spaces). Raises BnbenchError (one line) on bad input."""
    from bnbench.indicators import get
    from bnbench.spaces import get_space

    start = time.perf_counter()
    out = Path(opts.out)
    space = get_space(opts.space)
    name = dataset_name(opts)
    truth, _ = load_truth_and_table(opts, name)
    cfg = train_config(name, opts.seed, **{"space": opts.space, **cfg_overrides})
    ind = get(indicator)
    ctx = build_context(opts, [ind], name, truth, cfg, out)
    ctx.space, ctx.network = space, net_spec(name, truth)
    fitness = indicator_fitness(indicator, ctx)
    admissible = parse_constraint(constraint, ctx)
    within = truth_candidates(space, truth) if within_truth else None
    found = evolve(space, fitness, evolution, admissible, progress=line, within=within)
    doc = {
        "command": "search evolution", "bnbench_version": package_versions()["bnbench"],
        "config": {"space": space.name, "dataset": name, "indicator": indicator, "direction": ind.direction,
                   "constraint": constraint, "evolution": evolution.to_dict(), "train": cfg.to_dict(),
                   "network": ctx.network.__dict__, "scoring": dict(opts.scoring), "supernet": opts.supernet,
                   "benchmark": opts.benchmark,
                   "within": None if within is None else {"set": "ground truth", "cells": len(within)}},
        "seeds": {"evolution": evolution.seed, "supernet": cfg.seed, "scoring": opts.seed},
        "versions": package_versions(),
        "ground_truth": {"description": truth.description(), "source": str(truth.source)},
        "supernet_train_s": ctx.supernet.train_seconds if ctx.supernet is not None else 0.0,
        "evolution": describe(space, found, truth),
    }
    if random_baseline:
        baseline = random_search(space, fitness, found.evaluations, seed=evolution.seed, constraint=admissible,
                                 within=within)
        doc["random_search"] = describe(space, baseline, truth)
    doc["truth_best"] = truth_best(truth, space, admissible)
    doc["total_s"] = time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "search.json", doc)
    return doc


def truth_candidates(space: Any, truth: Any) -> Candidates:
    """The ground truth's cells as the set a search is restricted to."""
    return Candidates(space, space.parse_many(truth.specs or truth.archs), label=f"the ground truth {truth.source}")


def describe(space: Any, result: SearchResult, truth: Any) -> dict:
    """A search result as JSON: the found architecture, its true value (None where the truth lacks it), the
    true value of the best architecture after each evaluation, and every evaluation in order."""
    keys = [space.truth_key(a) for a in result.archs]
    true = true_values(truth, keys)
    best = result.best()
    curve = result.best_so_far()
    return {"found": space.to_str(result.archs[best]), "found_fitness": _num(result.scores[best]),
            "found_truth": _num(true[best]), "evaluations": result.evaluations, "seconds": result.seconds,
            "fitness_seconds": result.fitness_seconds, "config": result.config,
            "best_so_far_truth": [_num(true[i]) for i in curve],
            "evaluated": [{"arch": space.to_str(a), "fitness": _num(s), "generation": int(g), "origin": o,
                           "truth": _num(t)}
                          for a, s, g, o, t in zip(result.archs, result.scores, result.generation, result.origin, true)]}


def truth_best(truth: Any, space: Any, admissible: Callable[[np.ndarray], np.ndarray] | None) -> dict:
    """The best architecture of the ground truth (among the admissible ones under a constraint): what a perfect
    search would find. Only meaningful where the truth covers the whole space (NB201)."""
    values = np.asarray(truth.values, dtype=np.float64)
    order = np.argsort(-values, kind="stable")
    if admissible is not None:
        specs = truth.specs or truth.archs
        ok = admissible(space.parse_many([specs[i] for i in order]))
        order = order[ok]
    if not len(order):
        return {"arch": None, "truth": None, "covers": len(truth)}
    top = int(order[0])
    return {"arch": (truth.specs or truth.archs)[top], "truth": float(values[top]), "covers": len(truth)}


def true_values(truth: Any, keys: list[str]) -> np.ndarray:
    """Truth value of each key, NaN where the truth does not cover it."""
    position = {a: i for i, a in enumerate(truth.archs)}
    return np.array([truth.values[position[k]] if k in position else np.nan for k in keys], dtype=np.float64)


def _num(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def check_indicator(name: str) -> None:
    """BnbenchError (one line) unless ``name`` is a registered indicator or a family member (``econas:...``)."""
    from bnbench.indicators import get

    try:
        get(name)
    except BnbenchError as err:
        raise BnbenchError(f"--indicator {name!r}: {err}") from None
