"""Seconds per architecture of every zero-cost proxy on the CPU (NB201, C=16, N=5, 32x32, batch 64).

Scores ``--archs`` stratified-sample cells with each proxy (no store: every run recomputes) and prints
the mean wall time per architecture. Synthetic CIFAR-shaped images unless ``--data-dir`` is given.

    python benchmarks/zc_speed.py [--archs 3] [--proxies synflow,snip] [--threads 1] [--data-dir ../shared/data/cifar10]
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from bnbench.datasets import Dataset, ImageSplit, load_dataset
from bnbench.datasets.augment import AugmentConfig
from bnbench.indicators import NetSpec, ScoringContext, get
from bnbench.indicators.zc import PROXIES
from bnbench.spaces import get_space


def synthetic(n: int = 512) -> Dataset:
    g = torch.Generator().manual_seed(0)
    split = ImageSplit(torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g),
                       torch.randint(0, 10, (n,), generator=g))
    return Dataset("synthetic", split, split, 10, (0.5,) * 3, (0.25,) * 3, 32, AugmentConfig(), "synthetic 32x32")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--archs", type=int, default=3)
    p.add_argument("--proxies", default=",".join(PROXIES))
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    p.add_argument("--variant", default="zc")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()
    os.environ.pop("BNBENCH_CACHE", None)  # time the computation, not the store
    torch.set_num_threads(args.threads)
    data = load_dataset("cifar10-valid", args.data_dir) if args.data_dir else synthetic()
    space = get_space("nb201")
    archs = space.sample(args.archs, 0)
    ctx = ScoringContext(space=space, network=NetSpec(16, 5, 10, 3, 32), dataset=data, seed=0, progress=False,
                         options={"model_variant": args.variant, "zc_batch_size": 64})
    print(f"{len(archs)} archs, C=16 N=5 32x32, batch 64, variant {args.variant}, {torch.get_num_threads()} thread(s)")
    for name in args.proxies.split(","):
        start = time.perf_counter()
        get(name)(archs, ctx)
        print(f"{name:18s} {(time.perf_counter() - start) / len(archs):8.2f} s/arch", flush=True)


if __name__ == "__main__":
    main()
