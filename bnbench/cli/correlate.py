"""``bnbench correlate``: indicators against ground truth, with a table, results.json and a report."""

from __future__ import annotations

import argparse

from bnbench.cli import common

DEFAULT_INDICATORS = "bn,composite,supernet_acc"  # + the structural baselines params, flops, convs


def register(sub) -> None:
    p = sub.add_parser("correlate", help="rank-correlate indicators with ground truth",
                       description="Score architectures with indicators and rank-correlate them with the ground truth. "
                                   "Without --benchmark it runs on the embedded digits default.")
    common.add_space(p)
    common.add_data(p)
    common.add_truth(p)
    common.add_training(p)
    common.add_scoring(p, default=DEFAULT_INDICATORS)
    p.add_argument("--sample-archs", type=int, default=None, help="stratified sample of N architectures (default: all with truth)")
    p.add_argument("--scores", default=None, help="correlate the columns of this `bnbench score` CSV instead of scoring")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the 95%% intervals")
    p.add_argument("--out", default=None, help="output directory (default: runs/correlate-<space>-<dataset>-seed<seed>)")
    p.set_defaults(func=run, indicators=None)  # None: DEFAULT_INDICATORS, or every column of --scores


def run(args: argparse.Namespace) -> int:
    from bnbench.experiment import dataset_name, run_correlate
    from bnbench.report.table import format_table

    if args.indicators is None and not args.scores:
        args.indicators = DEFAULT_INDICATORS
    opts = common.run_options(args)
    opts.n_boot = args.bootstrap
    opts.sample_archs = args.sample_archs
    opts.out = args.out or f"runs/correlate-{opts.space}-{dataset_name(opts)}-seed{opts.seed}"
    results = run_correlate(opts, common.train_overrides(args), scores_csv=args.scores)
    print(format_table(results))
    print(f"wrote {opts.out}/results.json, scores.csv, report.md")
    return 0
