"""Supernet training throughput (images/s) in `full` and `bn` modes.

Settings: C=16, N=5, 32x32, batch 64 (NB201 size) and a reduced one (C=8, N=1, 16x16, batch 64).
Synthetic CIFAR-shaped images (throughput does not depend on pixel values).

    python benchmarks/train_throughput.py [--steps 30]
"""

from __future__ import annotations

import argparse
import time

import torch

from bnbench.spaces.nb201 import arch as A
from bnbench.spaces.nb201.model import Supernet
from bnbench.train import loop
from bnbench.train.params import select_trainable

SETTINGS = {"NB201 C=16 N=5 32x32": (16, 5, 32), "reduced C=8 N=1 16x16": (8, 1, 16)}


def throughput(channels: int, cells: int, side: int, mode: str, steps: int, batch: int, device: str) -> float:
    torch.manual_seed(0)
    model = Supernet(C=channels, N=cells).to(device).train()
    opt = loop.sgd(select_trainable(model, mode), 0.05, 0.9, 0.0)
    x = torch.randn(batch, 3, side, side, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    codes = torch.randint(0, A.NUM_ARCHS, (steps + 3,), generator=torch.Generator().manual_seed(0))
    for i, code in enumerate(codes):
        if i == 3:  # warm-up done
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            start = time.perf_counter()
        arch = A.decode(int(code))
        loop.train_step(lambda inp: model(inp, arch), opt, x, y)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    print(f"device {args.device}, threads {torch.get_num_threads()}, batch {args.batch}, {args.steps} steps")
    for name, (c, n, side) in SETTINGS.items():
        rates = {mode: throughput(c, n, side, mode, args.steps, args.batch, args.device) for mode in ("full", "bn")}
        print(f"{name:24s} full {rates['full']:8.0f} img/s   bn {rates['bn']:8.0f} img/s   bn/full {rates['bn'] / rates['full']:.2f}x")


if __name__ == "__main__":
    main()
