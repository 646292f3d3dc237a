"""``bnbench study fairness``: BN-NAS vs the composite BN indicator with and without a BN on every op."""

from __future__ import annotations

import argparse

from bnbench.cli import common


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated integers like 1,2,5,10") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected epochs >= 0 (0: the initialised supernet)")
    return values


def _names(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def register(sub) -> None:
    from bnbench.study.fairness import DEFAULT_INDICATORS

    p = sub.add_parser("study", help="multi-stage studies (fairness, econas)")
    studies = p.add_subparsers(dest="study", required=True, metavar="STUDY")
    f = studies.add_parser("fairness", help="BN-only supernets with/without a BN on every op; composite indicator",
                           description="Zhu et al. (arXiv 2112.00265)-style study: BN-only supernets in the original "
                                       "and the bn_every_op space, rank correlations of the indicators, top-cell op "
                                       "frequencies, and BN-only vs full training curves. "
                                       "Resumable: rerun to continue.")
    common.add_data(f)
    common.add_truth(f)
    g = f.add_argument_group("study")
    g.add_argument("--sample-archs", type=int, default=1000, help="cells per sample (default: 1000)")
    g.add_argument("--samples", type=int, choices=(1, 2), default=2,
                   help="2: choose the composite's weights on one sample, report on a disjoint second (default)")
    g.add_argument("--checkpoints", type=_ints, default=(0, 1, 2, 5, 10),
                   help="epochs scored, 0 = the initialised supernet (default: 0,1,2,5,10)")
    g.add_argument("--curve-modes", type=_names, default=("bn", "full"), help="training curves: bn,full (default)")
    g.add_argument("--curve-indicators", type=_names, default=None,
                   help="indicators scored at the curves' earlier checkpoints (default: all; the last checkpoint "
                        "and epoch 0 always score all)")
    g.add_argument("--indicators", type=_names, default=DEFAULT_INDICATORS,
                   help="default: " + ",".join(DEFAULT_INDICATORS))
    g.add_argument("--top", type=int, default=50, help="top cells whose op frequencies are compared (default: 50)")
    g.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the 95%% intervals")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--out", default="runs/fairness", help="output directory (default: runs/fairness)")
    g.add_argument("--no-progress", action="store_true", help="hide progress bars")
    t = f.add_argument_group("supernets (each run trains to the last checkpoint epoch)")
    for name, kind in (("channels", int), ("cells", int), ("resolution", int), ("train-fraction", float),
                       ("batch-size", int)):
        t.add_argument(f"--{name}", type=kind, default=None)
    common.add_scoring_options(f.add_argument_group("scoring options"))
    f.set_defaults(func=run)
    register_econas(studies)


def register_econas(studies) -> None:
    from bnbench.study.econas import DEFAULT_SCHEDULES, DEFAULT_SETTINGS

    e = studies.add_parser("econas", help="EcoNAS: which reduced training settings keep the ranking",
                           description="Train a fixed stratified sample of cells from scratch under a grid of EcoNAS "
                                       "reduced settings (c<x>r<y>s<z>e<w>: channels / x, image side / y, training "
                                       "images / z, w epochs; 0 = unreduced), several seeds each, and rank-correlate "
                                       "each setting with the ground truth; hierarchical schedules beside them. "
                                       "Every run is stored as it finishes: rerun to continue.")
    common.add_space(e)
    common.add_data(e)
    common.add_truth(e)
    g = e.add_argument_group("study")
    g.add_argument("--sample-archs", type=int, default=100, help="cells in the fixed stratified sample (default: 100)")
    g.add_argument("--settings", type=_names, default=DEFAULT_SETTINGS,
                   help="comma-separated reduced settings (default: " + ",".join(DEFAULT_SETTINGS) + ")")
    g.add_argument("--seeds", default="0,1", help="training seeds of every setting (default: 0,1)")
    g.add_argument("--schedules", type=_names, default=DEFAULT_SCHEDULES,
                   help="hierarchical schedules, stages joined by +top<fraction>+ (a stage of the same run with a "
                        "later @<epoch> continues it), comma-separated; '' for none "
                        "(default: " + ",".join(DEFAULT_SCHEDULES) + ")")
    g.add_argument("--eval-images", type=int, default=None,
                   help="evaluation images per run (a fixed class-stratified subset of the evaluation split; "
                        "default: all of it)")
    g.add_argument("--batch-size", type=int, default=None, help="training batch (default 256, NB201's protocol)")
    g.add_argument("--lr", type=float, default=None, help="learning rate (default 0.1, NB201's protocol)")
    g.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the 95%% intervals")
    g.add_argument("--seed", type=int, default=0, help="seed of the cell sample and the bootstrap (default: 0)")
    g.add_argument("--out", default="runs/econas", help="output directory (default: runs/econas)")
    g.add_argument("--no-progress", action="store_true", help="hide progress bars")
    common.add_engine(e.add_argument_group("engine"))
    e.set_defaults(func=run_econas_cli)


def run_econas_cli(args: argparse.Namespace) -> int:
    from bnbench.econas.runs import parse_seeds
    from bnbench.experiment import RunOptions
    from bnbench.study.econas import EcoNASConfig, run_econas

    engine = common.engine_of(args)
    run_opts = RunOptions(space=args.space, dataset=args.dataset, data_dir=args.data_dir, device=args.device,
                          benchmark=args.benchmark, truth_split=args.truth_split, truth_metric=args.truth_metric,
                          truth_epochs=args.truth_epochs, sample_archs=args.sample_archs, seed=args.seed,
                          out=args.out, n_boot=args.bootstrap, progress=not args.no_progress,
                          scoring={"engine": engine.kind, "jobs": engine.jobs, "address": engine.address})
    cfg = EcoNASConfig(run=run_opts, settings=args.settings, seeds=parse_seeds(args.seeds, "--seeds"),
                       schedules=args.schedules, eval_images=args.eval_images, batch_size=args.batch_size, lr=args.lr)
    results = run_econas(cfg)
    for row in results["settings"].values():
        tau = "n/a" if row["kendall_tau"] is None else f"{row['kendall_tau']:.3f}"
        print(f"{row['setting']}: tau {tau}, {row['seconds_per_arch']:.1f} s per arch and seed")
    for row in results["schedules"].values():
        print(f"{row['schedule']}: tau {row['kendall_tau']:.3f}, {row['seconds_per_candidate']:.1f} s per candidate")
    print(f"wrote {args.out}/report.md, results.json and tau_vs_cost.png")
    return 0


def run(args: argparse.Namespace) -> int:
    from bnbench.study.fairness import FairnessConfig, run_fairness

    train = {k: getattr(args, k) for k in ("channels", "cells", "resolution", "train_fraction", "batch_size")
             if getattr(args, k) is not None}
    run_opts = common.run_options(args, indicators=",".join(args.indicators), sample_archs=args.sample_archs,
                                  out=args.out, n_boot=args.bootstrap)
    cfg = FairnessConfig(run=run_opts, samples=args.samples, checkpoints=args.checkpoints,
                         curve_modes=args.curve_modes, curve_indicators=args.curve_indicators, top=args.top,
                         train=train)
    results = run_fairness(cfg)
    for run_name, entry in results["runs"].items():
        final = entry["epochs"][max(entry["epochs"], key=int)]["indicators"]
        taus = ", ".join(f"{n} {s['kendall_tau']:.3f}" if s["kendall_tau"] is not None else f"{n} -"
                         for n, s in final.items())
        print(f"{run_name}: tau {taus}")
    print(f"wrote {args.out}/report.md, results.json and figures")
    return 0
