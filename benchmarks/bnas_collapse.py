"""Performance collapse of differentiable search (NB201 cell or DARTS cell) with and without BNAS-v2's remedies, on real CIFAR-10.

Runs ``bnbench.search.differentiable.search`` for every variant (``darts``: plain first-order DARTS; ``clr``: the
confident learning rate; ``pc_en``: partial channels K=4 with edge normalisation; ``clr_pc_en``: both; on request
``second_order`` and ``second_order_clr``: DARTS's unrolled architecture gradient; with ``--modes bn`` the
same training only BN affine parameters, the classifier and alpha) and every seed, and
prints per variant: the share of parameter-free ops (none / skip / pooling) in the derived cell at every epoch
(mean over seeds), the derived cells' true accuracy (NB201 ``cifar10-valid`` test accuracy, 200 epochs), and
``dartsalpha``'s Kendall tau over all 15,625 cells against that truth (the whole alpha as a ranking). Writes a JSON
of every run. ``--jobs N`` runs N searches at once, one torch thread each.

    OMP_NUM_THREADS=1 python benchmarks/bnas_collapse.py --data-dir ../shared/data/cifar10 \\
        --benchmark ../shared/data/nb201/nb201-v1_1-cifar10-valid-200ep.csv --seeds 3 --epochs 10 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import time
from pathlib import Path

import numpy as np

VARIANTS = {"darts": {}, "clr": {"clr": True}, "pc_en": {"partial": 4, "edge_norm": True},
            "clr_pc_en": {"clr": True, "partial": 4, "edge_norm": True}, "second_order": {"order": 2},
            "second_order_clr": {"order": 2, "clr": True}}
DEFAULT_VARIANTS = "darts,clr,pc_en,clr_pc_en"
_JOB: dict = {}


def run_one(task: tuple[str, dict, int]) -> dict:
    import torch

    from bnbench.search.differentiable import DifferentiableConfig, search

    torch.set_num_threads(1)
    name, extra, seed = task
    args = _JOB["args"]
    cfg = DifferentiableConfig(epochs=args.epochs, channels=args.channels, cells=args.cells,
                               resolution=args.resolution, train_fraction=args.train_fraction,
                               batch_size=args.batch_size, seed=seed, **extra)
    result = search(_JOB["data"], cfg, space=args.space)
    alpha = result.alpha()
    return {"variant": name, "seed": seed, "seconds": result.seconds,
            "alpha": alpha.reshape(-1, alpha.shape[-1]).tolist(),
            "history": [{k: v for k, v in h.items() if k != "alpha"} for h in result.history]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--space", default="nb201", help="nb201 | darts")
    p.add_argument("--benchmark", required=True, help="NB201 cifar10-valid table (its test accuracy is the truth) or "
                                                      "an NB301 genotype table (its validation accuracy)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--cells", type=int, default=1)
    p.add_argument("--resolution", type=int, default=16)
    p.add_argument("--train-fraction", type=float, default=0.2)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--variants", default=DEFAULT_VARIANTS, help=f"of {', '.join(VARIANTS)} (default: {DEFAULT_VARIANTS})")
    p.add_argument("--modes", default="full", help="full | bn | full,bn: train every weight, or only BN affine "
                                                   "parameters, the classifier and alpha (default: full)")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--out", default="runs/bnas-collapse")
    args = p.parse_args()
    os.environ.setdefault("BNBENCH_PROGRESS", "off")
    from scipy.stats import kendalltau

    from bnbench.datasets import load_dataset
    from bnbench.experiment import RunOptions, load_truth_and_table
    from bnbench.indicators.darts_alpha import log_prob
    from bnbench.spaces import get_space

    space = get_space(args.space)
    nb201 = space.name == "nb201"
    dataset = "cifar10-valid" if nb201 else "cifar10"
    opts = RunOptions(space=space.name, dataset=dataset, data_dir=args.data_dir, benchmark=args.benchmark,
                      truth_split="test" if nb201 else "valid")
    truth, _ = load_truth_and_table(opts, dataset)
    true = dict(zip(truth.archs, truth.values))
    _JOB.update(args=args, data=load_dataset(dataset, args.data_dir, truth_split="test" if nb201 else None))
    base = {n: VARIANTS[n] for n in args.variants.split(",")}
    variants = {}
    for mode in args.modes.split(","):
        variants.update({(n if mode == "full" else f"{n}+bn_only"): {**v, "train_mode": mode} for n, v in base.items()})
    tasks = [(n, v, s) for n, v in variants.items() for s in range(args.seeds)]
    start = time.perf_counter()
    if args.jobs > 1:
        with mp.get_context("fork").Pool(args.jobs) as pool:
            runs = pool.map(run_one, tasks, chunksize=1)
    else:
        runs = [run_one(t) for t in tasks]
    all_archs = space.parse_many(truth.specs or truth.archs)
    truth_all = np.asarray(truth.values, dtype=np.float64)

    def true_of(derived: str) -> float | None:
        return true.get(space.truth_key(space.parse(derived)))

    print(f"{space.name} CIFAR-10, C={args.channels} cells={args.cells} {args.resolution}x{args.resolution}, "
          f"{args.train_fraction:.0%} of the training images (halved: weights / alpha), {args.epochs} epochs, "
          f"{args.seeds} seeds; truth {truth.description()} (best cell {max(true.values()):.2f}, {len(truth)} cells)\n")
    print(f"{'variant':18s} parameter-free share per epoch (mean of seeds)        derived true acc   "
          f"dartsalpha tau   s/run")
    for name in variants:
        mine = [r for r in runs if r["variant"] == name]
        shares = np.mean([[h["parameter_free"] for h in r["history"]] for r in mine], axis=0)
        accs = [a for a in (true_of(r["history"][-1]["derived"]) for r in mine) if a is not None]
        taus = []
        for r in mine:
            score = log_prob(np.asarray(r["alpha"]), space.choices(all_archs))  # the dartsalpha indicator
            taus.append(kendalltau(score, truth_all).statistic)
            r["derived_truth"] = true_of(r["history"][-1]["derived"])
            r["dartsalpha_tau"] = taus[-1]
        acc = (f"{statistics.mean(accs):6.2f} ± {statistics.pstdev(accs):5.2f}" if len(accs) == len(mine)
               else f"{len(accs)} of {len(mine)} in the truth")
        print(f"{name:18s} {' '.join(f'{s:.2f}' for s in shares):52s} {acc:16s}   "
              f"{statistics.mean(taus):+.3f} ± {statistics.pstdev(taus):.3f}   "
              f"{statistics.mean(r['seconds'] for r in mine):6.0f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bnas_collapse.json").write_text(json.dumps({"config": vars(args), "truth": truth.description(),
                                                        "runs": runs}, indent=1))
    print(f"\nwrote {out}/bnas_collapse.json ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
