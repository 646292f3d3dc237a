"""Evolutionary search within the cells of a benchmark table (NB101, NB301 samples) with each indicator as the fitness.

The NB101 and NB301 truths here are samples of their spaces (250 and 362 cells), so the search runs *within* the
table (``bnbench search evolution --within-truth``; :mod:`bnbench.search.within`): random architectures are drawn
from the table, children are projected onto the nearest table cell not yet evaluated. Per indicator, the whole table
is scored once (one store, shared by every seed; the per-arch cost is printed), which also gives the indicator's
Kendall tau on the table and the true accuracy of its top-scored cell (what exhaustive search with that fitness
finds; a search that stops earlier can find a better cell when the fitness's top is not the truth's). Then for each of ``--search-seeds`` seeds an evolution with a budget of a fraction of
the table (default: population 10, 4 generations, top 5 parents, 5 mutations p=0.1 and 5 crossovers per
generation: 50 cells) and random search over the table with the same number of evaluations and the same fitness.
Prints mean and standard deviation of the found cells' true accuracy over seeds beside the table's best, median
and mean, and writes a JSON of every run and a plot of the best-scored cell's true accuracy so far against
evaluations (mean over seeds; evolution solid, random search dashed). Scores are kept in ``--out`` (the
per-architecture store), so a rerun with the same ``--out`` scores nothing again.

    OMP_NUM_THREADS=1 python benchmarks/search_tables.py --space nb101 --data-dir ../shared/data/cifar10 \\
        --benchmark ../shared/data/nb101/naslib-nb101-cifar10-250.csv --truth-epochs 108 \\
        --indicators params,synflow,nwot --out runs/search-tables-nb101
    OMP_NUM_THREADS=1 python benchmarks/search_tables.py --space darts --data-dir ../shared/data/cifar10 \\
        --benchmark ../shared/data/darts/naslib-nb301-cifar10-362.csv \\
        --indicators params,synflow,nwot --out runs/search-tables-nb301
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bnbench.experiment import RunOptions, build_context, load_truth_and_table, net_spec, train_config
from bnbench.indicators import get
from bnbench.search import EvolutionConfig, evolve, random_search
from bnbench.search.fitness import indicator_fitness
from bnbench.search.run import describe, true_values, truth_candidates
from bnbench.spaces import get_space


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--space", required=True, help="nb101 | darts (or any space whose truth is a table of samples)")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--benchmark", required=True)
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--truth-epochs", type=int, default=None)
    p.add_argument("--indicators", default="params,synflow,nwot")
    p.add_argument("--search-seeds", type=int, default=10)
    p.add_argument("--population", type=int, default=10)
    p.add_argument("--generations", type=int, default=4)
    p.add_argument("--parents", type=int, default=5)
    p.add_argument("--mutations", type=int, default=5)
    p.add_argument("--crossovers", type=int, default=5)
    p.add_argument("--channels", type=int, default=4, help="supernet (bn, composite, supernet_acc): C")
    p.add_argument("--cells", type=int, default=3)
    p.add_argument("--resolution", type=int, default=16)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--train-fraction", type=float, default=0.2)
    p.add_argument("--jobs", type=int, default=1, help="zero-cost proxies: worker processes")
    p.add_argument("--out", default="runs/search-tables")
    args = p.parse_args()
    os.environ.setdefault("BNBENCH_PROGRESS", "off")
    from scipy.stats import kendalltau

    out = Path(args.out)
    space = get_space(args.space)
    opts = RunOptions(space=space.name, dataset=args.dataset, data_dir=args.data_dir, benchmark=args.benchmark,
                      truth_epochs=args.truth_epochs, out=str(out), progress=False,
                      scoring={"val_images": 250, "calib_batches": 2, "model_variant": "zc", "jobs": args.jobs})
    truth, _ = load_truth_and_table(opts, args.dataset)
    cells = truth_candidates(space, truth)
    values = true_values(truth, [space.truth_key(a) for a in cells.archs])
    cfg = train_config(args.dataset, 0, space=space.name, train_mode="bn", channels=args.channels, cells=args.cells,
                       resolution=args.resolution, epochs=args.epochs, train_fraction=args.train_fraction)
    names = args.indicators.split(",")
    start = time.perf_counter()
    base = build_context(opts, [get(n) for n in names], args.dataset, truth, cfg, out)
    base.space, base.network = space, net_spec(args.dataset, truth)
    evo_cfg = dict(population=args.population, generations=args.generations, parents=args.parents,
                   mutations=args.mutations, crossovers=args.crossovers)
    print(f"{space.name}: truth {truth.description()}; {len(cells)} distinct cells: best {np.nanmax(values):.2f}, "
          f"median {np.nanmedian(values):.2f}, mean {np.nanmean(values):.2f}; evolution {evo_cfg}"
          + (f"; supernet trained once, {time.perf_counter() - start:.0f} s" if base.supernet is not None else ""),
          flush=True)
    record: dict = {"config": vars(args), "truth": truth.description(), "cells": len(cells),
                    "table": {"best": float(np.nanmax(values)), "median": float(np.nanmedian(values)),
                              "mean": float(np.nanmean(values))}, "indicators": {}}
    print(f"\n{'indicator':13s} {'tau (table)':>11s} {'exhaustive':>16s} {'evolution':>15s} "
          f"{'random, same fitness':>21s} {'evals':>6s} {'s/arch':>7s}")
    for name in names:
        ctx = replace(base, memo={})  # one store per indicator, shared by its seeds
        fitness = indicator_fitness(name, ctx)
        t0 = time.perf_counter()
        scores = fitness(cells.archs)  # the whole table once: exhaustive search, tau
        per_arch = (time.perf_counter() - t0) / len(cells)
        ok = np.isfinite(scores) & np.isfinite(values)
        tau = kendalltau(scores[ok], values[ok]).statistic
        exhaustive = float(values[int(np.argmax(np.where(np.isfinite(scores), scores, -np.inf)))])
        evo, rnd, runs = [], [], []
        for seed in range(args.search_seeds):
            found = evolve(space, fitness, EvolutionConfig(**evo_cfg, seed=seed), within=cells)
            baseline = random_search(space, fitness, found.evaluations, seed=seed, within=cells)
            evolved, drawn = describe(space, found, truth), describe(space, baseline, truth)
            evo.append(evolved["found_truth"])
            rnd.append(drawn["found_truth"])
            runs.append({"seed": seed, "found": evolved["found"], "truth": evolved["found_truth"],
                         "random_found": drawn["found"], "random_truth": drawn["found_truth"],
                         "evaluations": found.evaluations, "best_so_far_truth": evolved["best_so_far_truth"],
                         "random_best_so_far_truth": drawn["best_so_far_truth"]})
        record["indicators"][name] = {"tau": float(tau), "exhaustive_truth": exhaustive, "seconds_per_arch": per_arch,
                                      "runs": runs}
        print(f"{name:13s} {tau:+11.3f} {exhaustive:16.2f} {statistics.mean(evo):8.2f} ± {statistics.pstdev(evo):4.2f} "
              f"{statistics.mean(rnd):13.2f} ± {statistics.pstdev(rnd):4.2f} {runs[0]['evaluations']:6d} "
              f"{per_arch:7.2f}", flush=True)
    record["total_s"] = time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    (out / f"search_tables_{space.name}.json").write_text(json.dumps(record, indent=1))
    plot(record, space.name, out / f"search_tables_{space.name}.png")
    print(f"\nwrote {out}/search_tables_{space.name}.json and .png ({record['total_s']:.0f} s)")


def plot(record: dict, space: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for k, (name, result) in enumerate(record["indicators"].items()):
        color = f"C{k}"
        for key, style, label in (("best_so_far_truth", "-", "evolution"), ("random_best_so_far_truth", "--",
                                                                              "random")):
            runs = [r[key] for r in result["runs"]]
            n = min(len(r) for r in runs)
            ax.plot(np.arange(1, n + 1), np.mean([r[:n] for r in runs], axis=0), style, color=color,
                    label=f"{name} {label}")
    ax.axhline(record["table"]["best"], color="k", ls=":", lw=1, label=f"best cell {record['table']['best']:.2f}")
    ax.axhline(record["table"]["median"], color="grey", ls=":", lw=1, label="median cell")
    ax.set_xlabel("cells evaluated")
    ax.set_ylabel("true accuracy of the best-scored cell so far (%)")
    ax.set_title(f"{space}: search within the {record['cells']} table cells (mean of seeds)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
