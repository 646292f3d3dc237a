"""Time to score all 15,625 NB201 cells with `bn` vs the per-architecture cost of `supernet_acc`.

BN-NAS (Chen et al., ICCV 2021) reports evaluation >600,000x faster than one-shot accuracy. This
script times both on this machine from the same supernet (C=16, N=5, 32x32 synthetic CIFAR-shaped
data unless --data-dir is given) and prints the ratio per architecture.

    python benchmarks/scoring_speed.py [--data-dir ../shared/data/cifar10] [--archs 20] [--device cuda]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from bnbench.datasets import Dataset, ImageSplit, load_dataset
from bnbench.datasets.augment import AugmentConfig
from bnbench.indicators import ScoringContext, get
from bnbench.spaces import get_space
from bnbench.train.config import TrainConfig
from bnbench.train.supernet import TrainResult, build_supernet


def synthetic(n: int = 2048) -> Dataset:
    g = torch.Generator().manual_seed(0)
    split = lambda m: ImageSplit(torch.randint(0, 256, (m, 3, 32, 32), dtype=torch.uint8, generator=g),  # noqa: E731
                                 torch.randint(0, 10, (m,), generator=g))
    return Dataset("synthetic", split(n), split(n), 10, (0.5,) * 3, (0.25,) * 3, 32, AugmentConfig(), "synthetic 32x32")


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=None)
    p.add_argument("--archs", type=int, default=20, help="architectures timed for supernet_acc")
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--val-images", type=int, default=1000)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    data = load_dataset("cifar10-valid", args.data_dir) if args.data_dir else synthetic()
    data = data.to(args.device)
    cfg = TrainConfig(dataset=data.name, channels=16, cells=5, batch_size=64)
    result = TrainResult(build_supernet(cfg, data).to(args.device).eval(), cfg)
    space = get_space("nb201")
    every = space.all_archs()
    ctx = ScoringContext(space=space, dataset=data, supernet=result, progress=False,
                         options={"calib_batches": 4, "val_images": args.val_images})
    bn = get("bn")
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        bn(every, ctx)
        times.append(time.perf_counter() - start)
    bn_all = statistics.median(times)
    get("supernet_acc")(space.sample(2, 1), ctx)  # warm-up
    sync(args.device)
    start = time.perf_counter()
    get("supernet_acc")(space.sample(args.archs, 0), ctx)
    sync(args.device)
    acc_each = (time.perf_counter() - start) / args.archs
    bn_each = bn_all / len(every)
    where = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU, {torch.get_num_threads()} threads"
    print(f"device: {where}  data: {data.description}")
    print(f"bn: all {len(every)} cells in {bn_all * 1e3:.2f} ms (median of {args.repeats}) = {bn_each * 1e6:.3f} us/arch")
    print(f"supernet_acc: {acc_each:.3f} s/arch (4 x 64 calibration images, {args.val_images} validation images)")
    print(f"ratio supernet_acc / bn per architecture: {acc_each / bn_each:,.0f}x")


if __name__ == "__main__":
    main()
