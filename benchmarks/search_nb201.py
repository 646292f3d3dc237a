"""Evolutionary search on NB201 with each indicator as the fitness, against the real truth.

For each indicator and each of ``--search-seeds`` seeds: BN-NAS's evolution (population 50, 20 generations, top 10
parents, 25 mutations p=0.1, 25 crossovers; 1,050 distinct cells) and random search with the same number of
evaluations and the same fitness; the found cell's true CIFAR-10 test accuracy (NB201's ``cifar10-valid`` setting:
trained 200 epochs on the 25k training half, tested on the 10k test images; the indicators never see the test
images) and, for comparison with published NB201 results, NATS-Bench's ``cifar10`` test accuracy (trained on all
50k). Prints mean and standard deviation over seeds, the wall time per search, and writes a JSON of every run
and a plot of the best true accuracy so far against evaluations (mean over seeds).

The supernet-based indicators (``bn``, ``composite``, ``supernet_acc``) read one BN-only supernet trained once on
CIFAR-10's training half at a reduced CPU setting (``--channels``/``--cells``/``--resolution``/``--epochs``); the
zero-cost proxies and ``params`` score NB201's own network (C=16, N=5, 32x32). One store per indicator is shared
by its seeds, so an architecture that two searches meet is scored once (later seeds are cheaper: the wall time
of the first seed is the cost of a search from scratch and is printed separately).

    OMP_NUM_THREADS=1 python benchmarks/search_nb201.py --data-dir ../shared/data/cifar10 \\
        --benchmark ../shared/data/nb201/nb201-v1_1-cifar10-valid-200ep.csv \\
        --nats ../shared/data/nb201/nats-tss-test-200ep.csv --indicators bn,params --out runs/search-nb201
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
from bnbench.spaces import get_space


def nats_lookup(path: str | None) -> dict[str, float]:
    if not path:
        return {}
    import pandas as pd

    df = pd.read_csv(path)
    return dict(zip(df["ArchitectureString"], df["CIFAR10TestAccuracy200Epochs"]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--benchmark", required=True, help="NB201 cifar10-valid table (its test accuracy is the truth)")
    p.add_argument("--nats", default=None, help="NATS-Bench test-accuracy CSV (cifar10 setting), reported beside")
    p.add_argument("--indicators", default="bn,composite,synflow,nwot,supernet_acc,params")
    p.add_argument("--search-seeds", type=int, default=5)
    p.add_argument("--generations", type=int, default=20)
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--cells", type=int, default=1)
    p.add_argument("--resolution", type=int, default=16)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--train-fraction", type=float, default=0.4)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--out", default="runs/search-nb201")
    p.add_argument("--jobs", type=int, default=1,
                   help="zero-cost proxies: worker processes scoring each batch of new cells (default: 1)")
    args = p.parse_args()
    os.environ.setdefault("BNBENCH_PROGRESS", "off")
    out = Path(args.out)
    space = get_space("nb201")
    opts = RunOptions(space="nb201", dataset="cifar10-valid", data_dir=args.data_dir, benchmark=args.benchmark,
                      truth_split="test", out=str(out), progress=False,
                      scoring={"val_images": 250, "calib_batches": 2, "zc_batch_size": 64, "model_variant": "zc",
                               "jobs": args.jobs})
    truth, _ = load_truth_and_table(opts, "cifar10-valid")
    true = dict(zip(truth.archs, truth.values))
    nats = nats_lookup(args.nats)
    cfg = train_config("cifar10-valid", 0, space="nb201", train_mode="bn", channels=args.channels, cells=args.cells,
                       resolution=args.resolution, epochs=args.epochs, train_fraction=args.train_fraction,
                       batch_size=args.batch_size)
    names = args.indicators.split(",")
    start = time.perf_counter()
    base = build_context(opts, [get(n) for n in names], "cifar10-valid", truth, cfg, out)
    base.space, base.network = space, net_spec("cifar10-valid", truth)
    trained = (f"supernet: {cfg.train_mode}, C={cfg.channels} N={cfg.cells} {cfg.resolution}x{cfg.resolution}, "
               f"{cfg.epochs} epochs, {time.perf_counter() - start:.0f} s (trained once, shared); "
               if base.supernet is not None else "no supernet needed; ")
    print(f"{trained}truth: {truth.description()}; best cell {max(true.values()):.2f} (NATS cifar10 "
          f"{max(nats.values()) if nats else float('nan'):.2f})", flush=True)
    record: dict = {"config": {**vars(args), "train": cfg.to_dict()}, "truth": truth.description(), "runs": {}}
    curves = {}
    print(f"\n{'indicator':13s} {'evolution (test acc)':>21s} {'NATS c10':>9s} {'random, same fitness':>21s} "
          f"{'evals':>6s} {'s/search':>9s} {'first':>7s}")
    for name in names:
        ctx = replace(base, memo={})  # one store per indicator, shared by its seeds
        fitness = indicator_fitness(name, ctx)
        evo, rnd, walls, runs = [], [], [], []
        for seed in range(args.search_seeds):
            found = evolve(space, fitness, EvolutionConfig(generations=args.generations, seed=seed))
            base_line = random_search(space, fitness, found.evaluations, seed=seed)
            keys = [space.to_str(a) for a in found.archs]
            best = keys[found.best()]
            rbest = space.to_str(base_line.archs[base_line.best()])
            evo.append(true[best])
            rnd.append(true[rbest])
            walls.append(found.seconds)
            curves.setdefault(name, []).append([true[keys[i]] for i in found.best_so_far()])
            runs.append({"seed": seed, "found": best, "truth": true[best], "nats_cifar10": nats.get(best),
                         "evaluations": found.evaluations, "seconds": found.seconds, "random_found": rbest,
                         "random_truth": true[rbest], "random_seconds": base_line.seconds})
        record["runs"][name] = runs
        nats_mean = statistics.mean(r["nats_cifar10"] for r in runs) if nats else float("nan")
        print(f"{name:13s} {statistics.mean(evo):8.2f} ± {statistics.pstdev(evo):4.2f}      {nats_mean:9.2f} "
              f"{statistics.mean(rnd):8.2f} ± {statistics.pstdev(rnd):4.2f}      {runs[0]['evaluations']:6d} "
              f"{statistics.mean(walls):9.1f} {walls[0]:7.1f}", flush=True)
    record["total_s"] = time.perf_counter() - start
    out.mkdir(parents=True, exist_ok=True)
    (out / "search_nb201.json").write_text(json.dumps(record, indent=1))
    plot(curves, max(true.values()), out / "best_so_far.png")
    print(f"\nwrote {out}/search_nb201.json and best_so_far.png ({record['total_s']:.0f} s)")


def plot(curves: dict, best: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, runs in curves.items():
        n = min(len(r) for r in runs)
        mean = np.mean([r[:n] for r in runs], axis=0)
        ax.plot(np.arange(1, n + 1), mean, label=name)
    ax.axhline(best, color="k", ls=":", lw=1, label=f"best cell {best:.2f}")
    ax.set_xscale("log")
    ax.set_xlabel("architectures evaluated")
    ax.set_ylabel("true test accuracy of the best-scored cell so far (%)")
    ax.set_title("NB201 CIFAR-10: evolution driven by each indicator (mean of seeds)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
