"""Per search space: BN score of many architectures from one supernet, and SPOS training throughput.

For every registered space (or ``--spaces``): the time to score N architectures with ``bn`` (NB201: all 15,625;
others: ``--archs`` sampled ones; target under 50 ms) from a supernet at the space's default preset, and
supernet training images/s in full and BN-only mode at the default preset and at a reduced one, side by side in
one process with one torch thread. Medians of ``--repeats`` runs.

    python benchmarks/space_speed.py [--spaces nb201,nb101] [--archs 10000] [--steps 20] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from bnbench.datasets import Dataset, ImageSplit
from bnbench.datasets.augment import AugmentConfig
from bnbench.indicators import NetSpec, ScoringContext, get
from bnbench.spaces import SPACES, get_space
from bnbench.train import loop
from bnbench.train.config import TrainConfig
from bnbench.train.params import select_trainable
from bnbench.train.supernet import TrainResult, build_supernet


def synthetic(n: int, side: int) -> Dataset:
    g = torch.Generator().manual_seed(0)
    split = lambda m: ImageSplit(torch.randint(0, 256, (m, 3, side, side), dtype=torch.uint8, generator=g),  # noqa: E731
                                 torch.randint(0, 10, (m,), generator=g))
    return Dataset("synthetic", split(n), split(n), 10, (0.5,) * 3, (0.25,) * 3, side, AugmentConfig(),
                   f"synthetic {side}x{side}")


def bn_time(space, archs: np.ndarray, repeats: int) -> float:
    data = synthetic(64, 32)
    cfg = TrainConfig(dataset="cifar10-valid", space=space.name, **space.presets["default"])
    ctx = ScoringContext(space=space, network=NetSpec(), supernet=TrainResult(build_supernet(cfg, data), cfg))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        get("bn")(archs, ctx)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def throughput(space, preset: dict, side: int, mode: str, steps: int, batch: int = 64) -> float:
    data = synthetic(batch, side)
    cfg = TrainConfig(dataset="cifar10-valid", space=space.name, train_mode=mode, batch_size=batch, **preset)
    model = build_supernet(cfg, data)
    opt = loop.sgd(select_trainable(model, mode, cfg.bn_scope), cfg.lr, cfg.momentum, cfg.weight_decay)
    paths = space.random_paths(np.random.default_rng(0), steps + 2)
    x = data.train.x.float() / 255
    y = data.train.y
    model.train()
    for i, arch in enumerate(paths):
        if i == 2:
            start = time.perf_counter()  # two warm-up steps
        loop.train_step(lambda inp, a=arch: model(inp, a), opt, x, y)
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spaces", default=",".join(SPACES))
    p.add_argument("--archs", type=int, default=10000, help="architectures scored where the space is not enumerated")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread, batch 64, synthetic images")
    for name in args.spaces.split(","):
        space = get_space(name)
        archs = space.all_archs() if space.size and space.size <= 20000 else space.sample(args.archs, 0)
        print(f"{space.name}: bn score of {len(archs):,} architectures: {1000 * bn_time(space, archs, args.repeats):.1f} ms"
              " (target < 50 ms)")
        for label, preset, side in (("default", space.presets["default"], 32), ("reduced", space.presets["digits"], 16)):
            full = throughput(space, preset, side, "full", args.steps)
            bn = throughput(space, preset, side, "bn", args.steps)
            print(f"  SPOS {label} {preset} {side}x{side}: full {full:,.0f} img/s, BN-only {bn:,.0f} img/s "
                  f"(BN-only / full {bn / full:.2f}x)")


if __name__ == "__main__":
    main()
