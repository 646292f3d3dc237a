"""``bnbench search evolution``: evolutionary search (SPOS / BN-NAS) driven by any indicator."""

from __future__ import annotations

import argparse

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
    s = e.add_argument_group("indicator settings")
    common.add_scoring_options(s)
    s.add_argument("--seed", type=int, default=0, help="seed of supernet training and scoring (default: 0)")
    s.add_argument("--no-progress", action="store_true", help="hide progress bars")
    e.add_argument("--out", default=None, help="output directory (default: runs/search-<space>-<indicator>-seed<seed>)")
    e.set_defaults(func=run)


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
                     line=None if args.no_progress else progress.line)
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
