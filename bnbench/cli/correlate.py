"""``bnbench correlate``: indicators against ground truth, with a table, results.json and a report."""

from __future__ import annotations

import argparse

from bnbench.cli import common

DEFAULT_INDICATORS = "bn,composite,supernet_acc"  # bnbench.experiment.DEFAULT_INDICATORS (not imported: CLI start-up)



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
    """A thin layer over :func:`bnbench.api.correlate`: the same keywords, the table printed."""
    from bnbench.api import correlate
    from bnbench.experiment import dataset_name
    from bnbench.report.table import format_table

    opts = common.run_options(args)
    out = args.out or f"runs/correlate-{opts.space}-{dataset_name(opts)}-seed{opts.seed}"
    train = {k: v for k, v in common.train_overrides(args).items() if k != "space"}
    result = correlate(space=opts.space, indicators=args.indicators, benchmark=opts.benchmark, dataset=opts.dataset,
                       data_dir=opts.data_dir, out=out, sample_archs=args.sample_archs, seed=opts.seed,
                       supernet=opts.supernet, truth_split=opts.truth_split, truth_metric=opts.truth_metric,
                       truth_epochs=opts.truth_epochs, n_boot=args.bootstrap, scores=args.scores, device=opts.device,
                       progress=opts.progress, **train, **common.scoring_options(args))
    print(format_table(result.results))
    print(f"wrote {out}/results.json, scores.csv, report.md, report.html")
    return 0
