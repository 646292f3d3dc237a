"""``bnbench truth``: convert benchmark files to bnbench tables, build a table by training, inspect one."""

from __future__ import annotations

import argparse

from bnbench.cli.common import add_engine, engine_of
from bnbench.errors import BnbenchError


def register(sub) -> None:
    p = sub.add_parser("truth", help="ground-truth tables: convert, build, info")
    tsub = p.add_subparsers(dest="truth_command", required=True, metavar="ACTION")
    c = tsub.add_parser("convert", help="convert an NB201 .pth / NATS-Bench dir / CSV into a compact bnbench table")
    c.add_argument("source")
    c.add_argument("out")
    c.add_argument("--dataset", default=None, help="setting of an accuracy CSV whose file name does not state it")
    c.add_argument("--truth-epochs", type=int, default=None, help="budget of an accuracy CSV whose name does not state it")
    c.set_defaults(func=run_convert)
    i = tsub.add_parser("info", help="what a ground-truth source holds: settings, splits, metrics, budgets, seeds")
    i.add_argument("source")
    i.add_argument("--dataset", default=None, help="setting of an accuracy CSV whose file name does not state it")
    i.add_argument("--truth-epochs", type=int, default=None, help="budget of an accuracy CSV whose name does not state it")
    i.set_defaults(func=run_info)
    b = tsub.add_parser("build", help="build a ground-truth table by training sampled cells (k-fold x seeds)")
    b.add_argument("--space", default="nb201", help="search space (default: nb201; `bnbench spaces` lists them)")
    b.add_argument("--space-option", action="append", default=[], metavar="NAME=VALUE", dest="space_option",
                   help="a build option of the trained networks beyond --channels/--cells (repeatable), e.g. DARTS's "
                        "auxiliary=1 (auxiliary loss x0.4) or drop_path_prob=0.2 (ramped over the epochs)")
    b.add_argument("--dataset", default="digits", help="digits | cifar10-valid | cifar100 | ImageNet16-120 (default: digits)")
    b.add_argument("--data-dir", default=None, help="root of the image datasets (default: $BNBENCH_DATA)")
    b.add_argument("--sample-archs", type=int, default=300, help="architectures sampled uniformly (default: 300)")
    b.add_argument("--sample-seed", type=int, default=0, help="seed of the architecture sample (default: 0)")
    b.add_argument("--seeds", default="0,1,2", help="comma-separated training seeds (default: 0,1,2)")
    b.add_argument("--folds", type=int, default=3, help="stratified k-fold splits per seed (default: 3)")
    b.add_argument("--channels", type=int, default=8, help="width of the trained networks (the space's --channels knob; default: 8)")
    b.add_argument("--cells", type=int, default=1, help="depth of the trained networks (the space's --cells knob; default: 1)")
    b.add_argument("--resolution", type=int, default=None, help="input side in pixels the images are resized to (default: native)")
    b.add_argument("--train-fraction", type=float, default=1.0,
                   help="stratified fraction of each run's training fold that is trained on (default: 1)")
    b.add_argument("--test-fraction", type=float, default=1.0,
                   help="stratified fraction of each held-out fold that is evaluated (default: 1)")
    b.add_argument("--epochs", type=int, default=15, help="training epochs per run (default: 15)")
    b.add_argument("--batch-size", type=int, default=64, help="default: 64")
    b.add_argument("--lr", type=float, default=0.05, help="initial learning rate, cosine schedule (default: 0.05)")
    b.add_argument("--weight-decay", type=float, default=5e-4, help="default: 5e-4")
    b.add_argument("--jobs", type=int, default=1, help="parallel worker processes, one torch thread each (default: 1)")
    add_engine(b, jobs=False)
    b.add_argument("--out", required=True, help="the table to write; its runs go to OUT.runs.jsonl (resumed from)")
    b.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    b.set_defaults(func=run_build)


def run_convert(args: argparse.Namespace) -> int:
    from bnbench.truth import convert

    print(f"wrote {convert(args.source, args.out, args.dataset, args.truth_epochs)}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from bnbench.truth.info import describe_source

    print("\n".join(describe_source(args.source, args.dataset, args.truth_epochs)))
    return 0


def run_build(args: argparse.Namespace) -> int:
    from bnbench.cli.common import parse_space_options
    from bnbench.train.build_truth import BuildConfig, build_truth
    from bnbench.train.config import TrainConfig

    try:
        seeds = tuple(int(s) for s in args.seeds.split(","))
    except ValueError:
        raise BnbenchError(f"--seeds {args.seeds!r}: expected comma-separated integers") from None
    train = TrainConfig(dataset=args.dataset, space=args.space, channels=args.channels, cells=args.cells, epochs=args.epochs,
                        resolution=args.resolution, train_fraction=args.train_fraction,
                        space_options=parse_space_options(args.space_option), batch_size=args.batch_size, lr=args.lr,
                        weight_decay=args.weight_decay, train_mode="full")
    cfg = BuildConfig(space=args.space, dataset=args.dataset, sample_archs=args.sample_archs,
                      sample_seed=args.sample_seed, seeds=seeds, folds=args.folds, test_fraction=args.test_fraction,
                      train=train)
    path = build_truth(cfg, args.out, args.data_dir, progress=not args.no_progress, engine=engine_of(args))
    print(f"wrote {path}")
    return 0
