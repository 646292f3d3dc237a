"""``bnbench search evolution`` (SPOS / BN-NAS, driven by any indicator) and ``bnbench search darts``
(differentiable search with BNAS-v2's remedies)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bnbench.cli import common


def register(sub) -> None:
    p = sub.add_parser("search", help="search a space with an indicator (evolution)",
                       description="Search architectures with an indicator as the fitness.")
    kinds = p.add_subparsers(dest="search_kind", required=True, metavar="KIND")
    e = kinds.add_parser("evolution", help="evolutionary search (SPOS / BN-NAS), BN-NAS's settings by default",
                         description="Evolutionary search driven by any indicator (BN-NAS's settings by default: "
                                     "population 50, 20 generations, top 10 as parents, 25 mutations with gene "
                                     "probability 0.1, 25 crossovers per generation). Writes OUT/search.json.")
    common.add_space(e)
    common.add_data(e)
    common.add_truth(e)
    common.add_training(e)
    g = e.add_argument_group("search")
    g.add_argument("--indicator", required=True, help="the fitness: any indicator (`bnbench indicators`); lower-is-"
                                                      "better ones are negated")
    g.add_argument("--constraint", default=None,
                   help="e.g. 'params<=1.2M' or 'flops<=200,params<=1' (millions, of the stand-alone network)")
    g.add_argument("--population", type=int, default=50)
    g.add_argument("--generations", type=int, default=20)
    g.add_argument("--parents", type=int, default=10, help="top-k of all evaluated that parent children")
    g.add_argument("--mutations", type=int, default=25, help="mutation children per generation")
    g.add_argument("--mutation-prob", type=float, default=0.1, help="probability of redrawing each gene")
    g.add_argument("--crossovers", type=int, default=25, help="crossover children per generation")
    g.add_argument("--search-seed", type=int, default=None, help="seed of the search (default: --seed)")
    g.add_argument("--random-baseline", action="store_true",
                   help="also run random search with the same number of evaluations and the same fitness")
    g.add_argument("--within-truth", action="store_true",
                   help="search only among the ground truth's cells (for NB101 / NB301 tables, samples of their "
                        "spaces): children become the nearest table cell not yet evaluated")
    s = e.add_argument_group("indicator settings")
    common.add_scoring_options(s)
    s.add_argument("--seed", type=int, default=0, help="seed of supernet training and scoring (default: 0)")
    s.add_argument("--no-progress", action="store_true", help="hide progress bars")
    e.add_argument("--out", default=None, help="output directory (default: runs/search-<space>-<indicator>-seed<seed>)")
    e.set_defaults(func=run)
    register_darts(kinds)


DIFFERENTIABLE_SPACES = ("nb201", "darts")


def register_darts(kinds) -> None:
    d = kinds.add_parser("darts", help="differentiable search (DARTS, first order) with BNAS-v2's CLR and PC+EN",
                         description="Differentiable architecture search on the NB201 cell or the DARTS cell space: "
                                     "first-order bilevel "
                                     "updates on disjoint halves of the training images, optionally BNAS-v2's "
                                     "confident learning rate (--clr) and partial channels with edge normalisation "
                                     "(--partial-channels K --edge-norm). Writes OUT/search.json, the checkpoint "
                                     "`--indicators dartsalpha --search-checkpoint` reads; the search state "
                                     "is kept in OUT/search.state.pt after every epoch and a rerun of the same "
                                     "command resumes from it.")
    d.add_argument("--space", default="nb201", help="search space: nb201 | darts (default: nb201)")
    common.add_data(d)
    common.add_truth(d)
    g = d.add_argument_group("search")
    g.add_argument("--epochs", type=int, default=50)
    g.add_argument("--channels", type=int, default=None, help="C of the relaxed supernet (default 16)")
    g.add_argument("--cells", type=int, default=None, help="NB201: N cells per stage (default 5); DARTS: cells "
                                                            "(default 8)")
    g.add_argument("--resolution", type=int, default=None, help="input side in pixels (default: native)")
    g.add_argument("--train-fraction", type=float, default=1.0, help="fraction of the training images (halved: "
                                                                    "weights / architecture)")
    g.add_argument("--batch-size", type=int, default=64)
    g.add_argument("--lr", type=float, default=0.025, help="weights' initial learning rate (cosine to 0.001)")
    g.add_argument("--arch-lr", type=float, default=3e-4, help="architecture Adam learning rate")
    g.add_argument("--order", type=int, choices=(1, 2), default=1,
                   help="1: first-order DARTS; 2: second order (unrolled virtual step, DARTS's --unrolled)")
    g.add_argument("--clr", action="store_true", help="BNAS-v2's confident learning rate for the architecture")
    g.add_argument("--clr-power", type=float, default=2.0, help="confidence ((epoch+1)/E)^power (default 2)")
    g.add_argument("--partial-channels", type=int, default=1, help="K of partial channel connections (1: off)")
    g.add_argument("--edge-norm", action="store_true", help="edge normalisation (PC-DARTS / BNAS-v2)")
    g.add_argument("--train-mode", choices=("full", "bn"), default="full",
                   help="full: all weights; bn: only BN affine parameters, the classifier and alpha")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--no-progress", action="store_true", help="no per-epoch lines")
    d.add_argument("--out", default=None, help="output directory (default: runs/darts-<space>-seed<seed>); a search "
                                               "state there is resumed")
    d.set_defaults(func=run_darts)


def run_darts(args: argparse.Namespace) -> int:
    from bnbench import progress
    from bnbench.datasets import load_dataset
    from bnbench.errors import BnbenchError
    from bnbench.experiment import dataset_name
    import numpy as np

    from bnbench.search.differentiable import STATE_FILE, DifferentiableConfig, checkpoint, search
    from bnbench.search.run import true_values
    from bnbench.spaces import get_space
    from bnbench.utils.env import package_versions
    from bnbench.utils.io import atomic_write_json
    from bnbench.utils.seed import resolve_device

    space = get_space(args.space)
    if space.name not in DIFFERENTIABLE_SPACES:
        raise BnbenchError(f"search darts --space {space.name}: differentiable search runs on "
                           f"{', '.join(DIFFERENTIABLE_SPACES)}")
    opts = common.run_options(args, space=space.name)
    name = dataset_name(opts)
    cfg = DifferentiableConfig(epochs=args.epochs, channels=args.channels, cells=args.cells,
                               resolution=args.resolution, train_fraction=args.train_fraction,
                               batch_size=args.batch_size, lr=args.lr, arch_lr=args.arch_lr, clr=args.clr, order=args.order,
                               clr_power=args.clr_power, partial=args.partial_channels, edge_norm=args.edge_norm,
                               train_mode=args.train_mode, seed=args.seed)
    truth = _truth_or_none(opts, name) if args.benchmark or name == "digits" else None  # digits: the embedded table
    dataset = load_dataset(name, args.data_dir, resolve_device(args.device), truth_split=args.truth_split)
    out = args.out or f"runs/darts-{space.name}-seed{cfg.seed}"
    result = search(dataset, cfg, progress=None if args.no_progress else progress.line, space=space,
                    state_path=Path(out) / STATE_FILE)
    doc = checkpoint(result)
    doc.update(dataset=name, versions=package_versions(), seeds={"search": cfg.seed},
               ground_truth=None if truth is None else truth.description())
    if truth is not None:
        keys = [space.truth_key(space.parse(record["derived"])) for record in doc["history"]]
        for record, value in zip(doc["history"], true_values(truth, keys)):
            record["derived_truth"] = None if np.isnan(value) else float(value)
    atomic_write_json(f"{out}/search.json", doc)
    last = doc["history"][-1]
    truth_text = "" if truth is None else f", true {last['derived_truth']}"
    print(f"derived {doc['derived']} (parameter-free share {last['parameter_free']:.2f}{truth_text}); "
          f"{result.seconds:.0f} s")
    print(f"wrote {out}/search.json")
    return 0


def _truth_or_none(opts, name: str):
    from bnbench.experiment import load_truth_and_table

    return load_truth_and_table(opts, name)[0]


def run(args: argparse.Namespace) -> int:
    from bnbench import progress
    from bnbench.search.evolution import EvolutionConfig
    from bnbench.search.run import check_indicator, run_search

    check_indicator(args.indicator)
    seed = args.seed if args.search_seed is None else args.search_seed
    evolution = EvolutionConfig(population=args.population, generations=args.generations, parents=args.parents,
                                mutations=args.mutations, mutation_prob=args.mutation_prob,
                                crossovers=args.crossovers, seed=seed)
    out = args.out or f"runs/search-{args.space}-{args.indicator}-seed{seed}"
    opts = common.run_options(args, out=out, indicators=args.indicator)
    train = {k: v for k, v in common.train_overrides(args).items() if k != "space"}
    doc = run_search(opts, train, args.indicator, evolution, args.constraint, args.random_baseline,
                     line=None if args.no_progress else progress.line, within_truth=args.within_truth)
    for label in ("evolution", "random_search"):
        if label in doc:
            r = doc[label]
            truth = "not in the ground truth" if r["found_truth"] is None else f"true {r['found_truth']:.2f}"
            print(f"{label:14s} found {r['found']}  fitness {r['found_fitness']}  {truth}  "
                  f"({r['evaluations']} architectures, {r['seconds']:.1f} s)")
    best = doc["truth_best"]
    if best["truth"] is not None:
        print(f"{'truth best':14s} {best['arch']}  true {best['truth']:.2f} (of {best['covers']} in the ground truth)")
    print(f"wrote {out}/search.json")
    return 0
