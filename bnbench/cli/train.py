"""``bnbench train-supernet``: train (or resume) a supernet and keep its checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path

from bnbench.cli import common


def register(sub) -> None:
    p = sub.add_parser("train-supernet", help="train a one-shot supernet (SPOS; full or BN-only)",
                       description="Train (or resume) a supernet. Under `torchrun --nproc_per_node N bnbench "
                                   "train-supernet ...` the N processes train it together with DistributedDataParallel "
                                   "(gloo on CPU, NCCL on GPUs): each rank takes 1/N of every global batch of the "
                                   "same sampled path; the checkpoint resumes in a single process.")
    common.add_space(p)
    common.add_data(p)
    common.add_training(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="directory for supernet.pt (an existing checkpoint is resumed)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bnbench.train import distributed

    device = distributed.init_from_env(args.device)  # torchrun --nproc_per_node N: one rank of a DDP run
    try:
        return _train(args, device)
    finally:
        distributed.finish()


def _train(args: argparse.Namespace, device: str) -> int:
    from bnbench.datasets import load_dataset
    from bnbench.experiment import dataset_name, train_config
    from bnbench.train import distributed
    from bnbench.train.supernet import CHECKPOINT, train_supernet, training_line
    from bnbench.utils.seed import resolve_device

    opts = common.run_options(args)
    name = dataset_name(opts)  # the rule score and correlate share: --data-dir without --dataset is cifar10-valid
    cfg = train_config(name, args.seed, **common.train_overrides(args))
    data = load_dataset(name, args.data_dir, resolve_device(device), train_fraction=cfg.train_fraction, seed=cfg.seed)
    announced: list[str] = []
    result = train_supernet(cfg, data, args.out, progress=not args.no_progress,
                            announce=lambda line: (announced.append(line), print(line, flush=True)))
    if not distributed.is_main():
        return 0
    if not announced:  # nothing left to train: still say what the checkpoint was trained on
        print(f"{training_line(cfg, data)} (checkpoint already complete)")
    for h in result.history[result.resumed_from:]:
        print(f"epoch {h['epoch']:3d}  loss {h['loss']:.4f}  {h['images_per_s']:.0f} img/s  {h['seconds']:.1f} s")
    print(f"supernet ({cfg.train_mode}, {len(result.history)}/{cfg.epochs} epochs) at {Path(args.out) / CHECKPOINT}")
    return 0
