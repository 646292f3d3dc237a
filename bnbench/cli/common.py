"""Argument groups shared by the subcommands (defined once, never copy-pasted)."""

from __future__ import annotations

import argparse
import sys

from bnbench.train.config import BN_SCOPES, SAMPLERS, SCHEDULES, TRAIN_MODES


def add_space(p: argparse.ArgumentParser) -> None:
    from bnbench.spaces import SPACES

    p.add_argument("--space", default="nb201", help=f"search space: {' | '.join(SPACES)} (default: nb201; "
                                                    "`bnbench spaces` lists them with their options)")
    p.add_argument("--space-option", action="append", default=[], metavar="NAME=VALUE", dest="space_option",
                   help="a build option of the space beyond --channels/--cells/--bn-every-op (repeatable)")


def parse_space_options(items: list[str]) -> dict[str, str]:
    """``["num_stacks=2", ...]`` -> ``{"num_stacks": "2"}`` (values typed by the space); one-line error otherwise."""
    from bnbench.errors import BnbenchError

    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise BnbenchError(f"--space-option {item!r}: expected NAME=VALUE")
        out[name.strip()] = value.strip()
    return out


def add_data(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--dataset", default=None,
                   help="cifar10-valid | cifar10 | cifar100 | ImageNet16-120 | digits (default: cifar10-valid when --data-dir or "
                        "--benchmark is given, else digits; score: cifar10-valid)")
    g.add_argument("--data-dir", default=None, help="root holding cifar-10-batches-py/, cifar-100-python/, ImageNet16/ (default: $BNBENCH_DATA)")
    g.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default: auto)")


def add_truth(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("ground truth")
    g.add_argument("--benchmark", default=None,
                   help="NB201 .pth, NATS-Bench directory, bnbench table or CSV table (default: the embedded digits table)")
    g.add_argument("--truth-split", default="valid", help="train | valid | test (default: valid)")
    g.add_argument("--truth-metric", default="accuracy", help="accuracy | loss (default: accuracy)")
    g.add_argument("--truth-epochs", type=int, default=None, help="training budget of the truth (default: 200, or the table's own)")


def add_training(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("supernet training (EcoNAS-style reductions)")
    g.add_argument("--train-mode", choices=TRAIN_MODES, default="bn", help="bn: BatchNorm-only; full: all parameters")
    g.add_argument("--bn-scope", choices=BN_SCOPES, default=None,
                   help="BN-only: which affine parameters learn: 'last' (each op's last BN, classifier frozen: faithful "
                        "BN-NAS), 'all' (every BN), either '+classifier' (also the linear classifier; default "
                        "all+classifier, since with a frozen classifier the SPOS loss stays at chance)")
    g.add_argument("--bn-every-op", action="store_true", dest="bn_every_op",
                   help="fairness mode: a trainable BN on every candidate op, parameter-free ones included")
    g.add_argument("--fair", action="store_true", dest="fair_alias", help=argparse.SUPPRESS)  # deprecated alias
    g.add_argument("--sampler", choices=SAMPLERS, default=None,
                   help="spos: one uniform path per step; fairnas: FairNAS strict fairness, m paths per step covering "
                        "every choice once, gradients summed (default: spos)")
    g.add_argument("--epochs", type=int, default=None, help="supernet epochs")
    g.add_argument("--channels", type=int, default=None, help="width of the network (NB201: C, 16; NB101: stem channels, 128; DARTS: C, 36; MobileNet: stem width, 40)")
    g.add_argument("--cells", type=int, default=None, help="depth of the network (NB201: N cells per stage, 5; NB101: cells per stack, 3; DARTS: layers, 20; MobileNet: repeats of each block, 1)")
    g.add_argument("--resolution", type=int, default=None, help="input side in pixels (default: native)")
    g.add_argument("--train-fraction", type=float, default=None, help="fraction of training images (default: 1)")
    g.add_argument("--batch-size", type=int, default=None)
    g.add_argument("--lr", type=float, default=None)
    g.add_argument("--label-smoothing", type=float, default=None,
                   help="cross-entropy label smoothing epsilon (default 0; BN-NAS's code uses 0.1)")
    g.add_argument("--grad-clip", type=float, default=None,
                   help="clip the gradient's L2 norm to this (default: no clipping; BN-NAS's code uses 5)")
    g.add_argument("--weight-decay", type=float, default=None)
    g.add_argument("--schedule", choices=SCHEDULES, default="cosine")
    g.add_argument("--supernet", default=None, help="use this trained supernet checkpoint instead of training one")


def add_scoring(p: argparse.ArgumentParser, default: str | None) -> None:
    g = p.add_argument_group("indicators")
    g.add_argument("--indicators", default=default, required=default is None,
                   help="comma-separated indicator names (see `bnbench indicators`)"
                        + (f"; default {default}" if default else "")
                        + "; correlate always adds the structural baselines params, flops and convs as reference rows")
    add_scoring_options(g)
    g.add_argument("--seed", type=int, default=0, help="seed of sampling, training and scoring (default: 0)")
    g.add_argument("--no-progress", action="store_true", help="hide progress bars")


def add_engine(g, jobs: bool = True) -> None:
    """``--engine local|ray`` and ``--address`` (and ``--jobs`` unless the group has it): see :mod:`bnbench.engine`."""
    g.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="where per-architecture runs go: local worker processes (--jobs) or Ray, one task per run "
                        "(results are identical; ray needs `pip install \"bnbench[ray]\"`) (default: local)")
    g.add_argument("--address", default=None,
                   help="--engine ray: the address of an existing Ray cluster (default: start a local instance with "
                        "this machine's cores, or --jobs of them)")
    if jobs:
        g.add_argument("--jobs", type=int, default=1, help="parallel worker processes (default: 1)")


def engine_of(args: argparse.Namespace):
    """The :class:`bnbench.engine.Engine` of parsed ``--engine/--address/--jobs``."""
    from bnbench.engine import Engine, import_ray

    if args.engine == "ray":
        import_ray()
    jobs = args.jobs if args.engine == "local" or args.jobs != 1 else None  # ray: all cores unless --jobs is set
    return Engine(kind=args.engine, jobs=jobs, address=args.address)


def add_scoring_options(g) -> None:
    """Per-indicator settings (supernet_acc, the composite terms, the zero-cost proxies)."""
    g.add_argument("--calib-batches", type=int, default=4, help="supernet_acc: training batches for BN recalibration")
    g.add_argument("--val-images", type=int, default=1000, help="supernet_acc: validation images per subnet")
    for name, what in COMPOSITE_OPTIONS.items():
        g.add_argument(f"--{name.replace('_', '-')}", type=int, default=None, help=f"composite terms: {what}")
    g.add_argument("--composite-weights", default=None,
                   help="composite: term weights, e.g. 'trainability=1,uncertainty=1' (default: 1 each)")
    g.add_argument("--model-variant", choices=("official", "zc"), default="zc",
                   help="network the zero-cost proxies score: zc = zero-cost-nas's NB201 model (cell BN without "
                        "affine/running stats, conv bias), official = NB201's own (default: zc)")
    g.add_argument("--zc-batch-size", type=int, default=None,
                   help="zero-cost proxies: training images per architecture (default: the batch of the space's "
                        "published per-architecture values: NB201 64 as zero-cost-nas, NB101 and DARTS 32 as "
                        "NAS-Bench-Suite-Zero)")
    g.add_argument("--zc-batch", choices=("fixed", "per-arch"), default="fixed",
                   help="zero-cost proxies: one un-augmented batch for every architecture (fixed), or a random "
                        "augmented batch per architecture as zero-cost-nas draws it (per-arch) (default: fixed)")
    g.add_argument("--jobs", type=int, default=1,
                   help="zero-cost proxies and econas runs: parallel CPU worker processes (default: 1)")
    add_engine(g, jobs=False)
    g.add_argument("--econas-seeds", default="0",
                   help="econas:<setting>: training seeds per architecture, the score is their mean (default: 0)")
    g.add_argument("--econas-eval-images", type=int, default=None,
                   help="econas:<setting>: evaluation images (a fixed class-stratified subset of the evaluation "
                        "split; default: all of it)")
    g.add_argument("--econas-batch-size", type=int, default=None, help="econas:<setting>: batch size (default 256)")
    g.add_argument("--econas-lr", type=float, default=None, help="econas:<setting>: learning rate (default 0.1)")
    g.add_argument("--search-checkpoint", default=None,
                   help="dartsalpha: the search.json of a `bnbench search darts` run (its architecture weights)")


COMPOSITE_OPTIONS = {"mc_batches": "MC-BatchNorm draws K (default 4)",
                     "mc_batch_size": "images per MC-BN draw (default: the supernet's batch size, at most 64)",
                     "probe_images": "validation images of expressivity/uncertainty (default 64)",
                     "ntk_samples": "training images of the trainability NTK (default 32)"}


def scoring_options(args: argparse.Namespace) -> dict:
    """The ``ScoringContext.options`` a parsed command line gives (composite options only where set)."""
    options = {"calib_batches": args.calib_batches, "val_images": args.val_images, "model_variant": args.model_variant,
               "zc_batch_size": args.zc_batch_size, "zc_batch": args.zc_batch, "jobs": args.jobs,
               "engine": args.engine, "address": args.address}
    if args.engine == "ray":
        from bnbench.engine import import_ray

        import_ray()  # not installed: one line now, not after the supernet trained
    names = getattr(args, "indicators", None) or ""
    names = names.split(",") if isinstance(names, str) else list(names)  # study fairness: a tuple
    names.append(getattr(args, "indicator", None) or "")  # search evolution's fitness
    if any(n.strip().startswith("econas:") for n in names):
        options.update(econas_seeds=args.econas_seeds, econas_eval_images=args.econas_eval_images,
                       econas_batch_size=args.econas_batch_size, econas_lr=args.econas_lr)
    options.update({k: getattr(args, k) for k in COMPOSITE_OPTIONS if getattr(args, k) is not None})
    if args.composite_weights is not None:
        options["composite_weights"] = args.composite_weights
    if getattr(args, "search_checkpoint", None):  # its digest keys the score cache: a rerun search rescores
        from bnbench.errors import BnbenchError
        from bnbench.indicators.darts_alpha import file_digest

        try:
            options.update(search_checkpoint=args.search_checkpoint,
                           search_checkpoint_sha256=file_digest(args.search_checkpoint))
        except OSError as err:
            raise BnbenchError(f"--search-checkpoint {args.search_checkpoint}: {err.strerror or err}") from None
    return options


def run_options(args: argparse.Namespace, **overrides):
    """The shared options of a parsed command line as a :class:`bnbench.experiment.RunOptions`."""
    from bnbench.experiment import RunOptions

    fields = dict(space=getattr(args, "space", "nb201"), dataset=args.dataset, data_dir=args.data_dir,
                  device=args.device, benchmark=getattr(args, "benchmark", None),
                  truth_split=getattr(args, "truth_split", "valid"), truth_metric=getattr(args, "truth_metric", "accuracy"),
                  truth_epochs=getattr(args, "truth_epochs", None), indicators=getattr(args, "indicators", ""),
                  seed=args.seed, supernet=getattr(args, "supernet", None),
                  scoring=scoring_options(args) if hasattr(args, "calib_batches") else {},
                  progress=not args.no_progress)
    fields.update(overrides)
    return RunOptions(**fields)


def train_overrides(args: argparse.Namespace) -> dict:
    """Training knobs given on the command line (None = take the dataset's preset)."""
    if getattr(args, "fair_alias", False):  # the old name of --bn-every-op, kept working
        print("bnbench: --fair is deprecated, use --bn-every-op (--fair never meant FairNAS strict-fair sampling)",
              file=sys.stderr)
    bn_every_op = bool(getattr(args, "bn_every_op", False) or getattr(args, "fair_alias", False))
    return {"space": getattr(args, "space", None), "space_options": parse_space_options(getattr(args, "space_option", [])) or None,
            "train_mode": args.train_mode, "bn_scope": args.bn_scope, "bn_every_op": bn_every_op or None,
            "epochs": args.epochs,
            "channels": args.channels, "cells": args.cells, "resolution": args.resolution,
            "train_fraction": args.train_fraction, "batch_size": args.batch_size, "lr": args.lr,
            "weight_decay": args.weight_decay, "schedule": args.schedule, "sampler": getattr(args, "sampler", None),
            "label_smoothing": getattr(args, "label_smoothing", None), "grad_clip": getattr(args, "grad_clip", None)}
