"""The BN fairness study (Zhu et al., "Training BatchNorm Only in Neural Architecture Search and Beyond",
arXiv 2112.00265): does the BN-NAS score survive a BN on every op, and does a composite indicator?

Stages, each cached under ``out`` so that a rerun resumes where it stopped:

1. Supernets: BN-only in the original space (``original-bn``) and with a BN on every op (``fair-bn``),
   plus full training in the original space (``original-full``) for the training curve. Each run trains
   once to the last checkpoint epoch, keeping a snapshot at every epoch it is scored at
   (:mod:`bnbench.study.snapshots`).
2. Samples: ``samples=2`` draws two disjoint stratified samples of ``sample_archs`` cells (seeds ``seed``,
   ``seed + 1``): the composite's formulation (its term weights) is chosen on the first ("selection")
   and every number is reported on the second ("report"); ``samples=1`` reports on one sample with the
   default weights only.
3. Scores (``scores/<run>/epoch<e>/<sample>/<indicator>.json``), correlated with the truth: Kendall tau
   and Spearman rho with bootstrap intervals (:func:`bnbench.correlation.correlate`).
4. Op frequencies among the ``top`` cells of each indicator beside those of the truth's top cells (cells tied
   at the cut count with their probability of making it under random tie-breaking, never by row order).
5. Training curve: tau of each indicator after each checkpoint epoch of BN-only and full training,
   against cumulative training time.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bnbench.errors import BnbenchError
from bnbench.experiment import RunOptions
from bnbench.indicators import ScoringContext, parse_list
from bnbench.indicators.composite import WORST, count_degenerate
from bnbench.study import analysis

DEFAULT_INDICATORS = ("bn", "composite", "expressivity", "trainability", "uncertainty", "feature_rank", "params",
                      "supernet_acc")
TERMS = ("expressivity", "trainability", "uncertainty")


@dataclass
class FairnessConfig:
    """Everything the study depends on: ``run`` (data, truth, seed, scoring options, output directory; its
    ``indicators`` and ``sample_archs`` are the study's) plus the study's own stages; ``train``:
    TrainConfig overrides (channels, cells, resolution, ...)."""

    run: RunOptions = field(default_factory=lambda: RunOptions(out="runs/fairness", indicators=",".join(DEFAULT_INDICATORS),
                                                               sample_archs=1000))
    samples: int = 2
    checkpoints: tuple[int, ...] = (0, 1, 2, 5, 10)  # 0: the initialised supernet (is training needed?)
    curve_modes: tuple[str, ...] = ("bn", "full")
    curve_indicators: tuple[str, ...] | None = None  # scored at the curve's earlier epochs (None: all)
    top: int = 50
    train: dict[str, Any] = field(default_factory=dict)


def runs(cfg: FairnessConfig, dataset: str) -> dict[str, tuple[Any, list[int]]]:
    """``{run name: (TrainConfig, epochs scored)}``."""
    from bnbench.experiment import train_config

    last = max(cfg.checkpoints)
    out = {}
    for name, mode, fair in (("original-bn", "bn", False), ("fair-bn", "bn", True), ("original-full", "full", False)):
        curve = not fair and mode in cfg.curve_modes
        if mode == "full" and not curve:
            continue
        train = train_config(dataset, cfg.run.seed, **{**cfg.train, "epochs": last, "train_mode": mode, "bn_every_op": fair})
        out[name] = (train, sorted(cfg.checkpoints) if curve else [last])
    return out


def run_fairness(cfg: FairnessConfig) -> dict[str, Any]:
    """Run (or resume) the study; writes results.json, report.md and figures to ``cfg.run.out``; returns the results."""
    from bnbench.datasets import load_dataset
    from bnbench.experiment import dataset_name, isomorphism_classes, load_truth_and_table, net_spec, \
        score_indicators, with_baselines
    from bnbench.spaces import get_space
    from bnbench.study.report import write_study_report
    from bnbench.study.snapshots import ensure_snapshots, train_seconds
    from bnbench.train.supernet import load_supernet
    from bnbench.utils.seed import resolve_device

    opts = cfg.run
    start, out = time.perf_counter(), Path(opts.out)
    if opts.sample_archs is None:
        raise BnbenchError("the fairness study needs a sample size (--sample-archs)")
    name, space = dataset_name(opts), get_space(opts.space)
    truth, table = load_truth_and_table(opts, name)
    indicators = with_baselines(parse_list(opts.indicators))  # params, flops, convs: structural reference rows
    first = sorted(indicators, key=lambda i: i.name != "composite")  # its terms then come from the engine's memo
    on_curve = [i for i in first if cfg.curve_indicators is None or i.name in cfg.curve_indicators]
    ops, values = np.asarray(space.parse_many(truth.arch_strings())), np.asarray(truth.values, dtype=float)
    drawn = analysis.disjoint_samples(space, ops, values, opts.sample_archs, opts.seed, cfg.samples)
    samples = dict(zip(("selection", "report") if cfg.samples == 2 else ("report",), drawn))
    plan = runs(cfg, name)
    any_train = next(iter(plan.values()))[0]
    data = load_dataset(name, opts.data_dir, resolve_device(opts.device), train_fraction=any_train.train_fraction,
                        seed=opts.seed)
    results: dict[str, Any] = {"command": "study fairness", "config": asdict(cfg), "dataset": name,
                               "ground_truth": {"description": truth.description(), "source": str(truth.source)},
                               "train": {r: t.to_dict() for r, (t, _) in plan.items()},
                               "samples": {s: int(len(o)) for s, (o, _) in samples.items()}, "runs": {}}

    def score(run: str, epoch: int, sample: str, which) -> dict[str, tuple[np.ndarray, float]]:
        train, _ = plan[run]
        ctx = ScoringContext(space=space, network=net_spec(name, truth), dataset=data, seed=opts.seed, train=train,
                             supernet=load_supernet(snaps[run][epoch], data), options=dict(opts.scoring),
                             progress=opts.progress)
        key = {"truth": truth.description(), "train": train.to_dict(), "epoch": epoch, "sample": sample,
               "seed": opts.seed}
        return score_indicators(which, samples[sample][0], ctx, out / "scores" / run / f"epoch{epoch}" / sample, key)

    snaps = {run: ensure_snapshots(train, data, out / "supernets" / run, epochs, opts.progress)
             for run, (train, epochs) in plan.items()}
    report_ops, report_truth = samples["report"]
    groups, keys = isomorphism_classes(space, truth, report_ops)  # representatives: lowest benchmark index
    from bnbench.truth.ceiling import ceiling

    results["ceiling"] = ceiling(truth, table, [space.truth_key(o) for o in report_ops], opts.benchmark,
                                 n_boot=opts.n_boot, seed=opts.seed)
    structure = (space, report_ops)
    for run, (train, epochs) in plan.items():
        entry = results["runs"][run] = {"epochs": {}}
        for epoch in epochs:
            which = first if epoch in (0, epochs[-1]) else on_curve  # epoch 0: is training needed at all?
            scores = score(run, epoch, "report", which)
            entry["epochs"][epoch] = {"train_s": train_seconds(snaps[run][epoch]),
                                      "indicators": _judge([i for i in indicators if i in which], scores,
                                                           report_truth, groups, keys, cfg, structure)}
        final = scores
        top_rows = {i.name: analysis.top_weights(final[i.name][0], i.higher_is_better, cfg.top) for i in indicators}
        top_rows["truth"] = analysis.top_weights(report_truth, True, cfg.top)
        entry["top_ops"] = {k: analysis.op_frequencies(space, report_ops, w) for k, w in top_rows.items()}
        if set(TERMS) <= {i.name for i in indicators} and run != "original-full":
            terms = [i for i in indicators if i.name in TERMS]
            selection = score(run, epochs[-1], "selection", terms) if "selection" in samples else None
            entry["composite_choice"] = analysis.composite_choice(final, selection, samples, groups, keys,
                                                                  opts.n_boot, opts.seed)
    results["timings"] = {"total_s": time.perf_counter() - start}
    write_study_report(out, results)
    return results


def _judge(indicators, scores: dict, truth: np.ndarray, groups, keys, cfg: FairnessConfig,
           structure: tuple | None = None) -> dict[str, dict]:
    """Per indicator: correlation statistics, scoring time, the count of worst-score (degenerate) cells
    (for ``composite``: cells with a worst score in any of its scored terms), whether it is a structural
    baseline and, where params were scored, what it knows beyond structure (:mod:`bnbench.structural`;
    ``structure``: (space, the scored architectures))."""
    from bnbench.indicators.cost import STRUCTURAL_BASELINES
    from bnbench.structural import beyond_structure

    worst = {n: count_degenerate(n, s) for n, (s, _) in scores.items()}
    if "composite" in scores and set(TERMS) <= set(scores):
        worst["composite"] = int(np.any([scores[t][0] == WORST[t] for t in TERMS], axis=0).sum())
    params = scores["params"][0] if "params" in scores else None
    strata = structure[0].structure_strata(structure[1], params) if structure and params is not None else None
    out = {}
    for i in indicators:
        entry = {**analysis.correlate_scores(i, scores[i.name][0], truth, groups, keys, cfg.run.n_boot, cfg.run.seed),
                 "time_s": scores[i.name][1], "degenerate": worst[i.name], "baseline": i.name in STRUCTURAL_BASELINES}
        if strata is not None:
            entry["beyond_structure"] = beyond_structure(scores[i.name][0], truth, params, *strata,
                                                         higher_is_better=i.higher_is_better, n_boot=cfg.run.n_boot,
                                                         seed=cfg.run.seed)
        out[i.name] = entry
    return out
