"""Supernet training throughput (images/s) in `full` and `bn` (BN-only) modes, side by side with the NCHW layout
bnbench used before :mod:`bnbench.utils.placement` and, given a checkout of D-X-Y/AutoDL-Projects
(``--reference PATH``), with NAS-Bench-201's own single-path supernet run unmodified.

Settings: C=16, N=5, 32x32, batch 64 (NB201 size) and a reduced one (C=8, N=1, 16x16, batch 64); synthetic
CIFAR-shaped images (throughput does not depend on pixel values); the same sequence of uniformly sampled cells
for every row; SGD with Nesterov momentum as bnbench trains. The reference is ``TinyNetworkRANDOM`` (the SPOS /
random-search supernet of NAS-Bench-201's RANDOM-NAS: cell BN without affine parameters, as its search
script builds it); its "BN-only" freezes every conv and linear weight and trains the BN parameters it has (stem,
reduction blocks, last BN). Each row is the median of ``--repeats`` runs of ``--steps`` steps after 3 warm-up steps.

    python benchmarks/train_throughput.py [--steps 20] [--repeats 3] [--threads 1] [--reference ../AutoDL-Projects]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

from bnbench.spaces.nb201 import arch as A
from bnbench.spaces.nb201.model import Supernet
from bnbench.train import loop
from bnbench.train.params import select_trainable
from bnbench.utils.placement import place

SETTINGS = {"NB201 C=16 N=5 32x32": (16, 5, 32), "reduced C=8 N=1 16x16": (8, 1, 16)}
WARMUP = 3


def timed(step, steps: int, batch: int, device: str) -> float:
    """images/s of ``steps`` calls of ``step(i)`` after the warm-up."""
    for i in range(WARMUP):
        step(i)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(WARMUP, WARMUP + steps):
        step(i)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def bnbench_rate(channels: int, cells: int, side: int, mode: str, steps: int, batch: int, device: str,
                 layout: str) -> float:
    torch.manual_seed(0)
    model = Supernet(C=channels, N=cells).train()
    model = place(model, device) if layout == "bnbench" else model.to(device)  # "nchw": the layout before
    opt = loop.sgd(select_trainable(model, mode), 0.05, 0.9, 0.0)
    x = torch.randn(batch, 3, side, side, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    codes = torch.randint(0, A.NUM_ARCHS, (steps + WARMUP,), generator=torch.Generator().manual_seed(0))

    def step(i: int) -> None:
        arch = A.decode(int(codes[i]))
        loop.train_step(lambda inp: model(inp, arch), opt, x, y)

    return timed(step, steps, batch, device)


def reference_rate(path: str, channels: int, cells: int, side: int, mode: str, steps: int, batch: int,
                   device: str) -> float:
    sys.path.insert(0, os.path.abspath(path))
    import random

    from xautodl.models.cell_operations import SearchSpaceNames  # the reference checkout
    from xautodl.models.cell_searchs.search_model_random import TinyNetworkRANDOM

    torch.manual_seed(0)
    random.seed(0)
    net = TinyNetworkRANDOM(channels, cells, 4, 10, SearchSpaceNames["nas-bench-201"], False, False).to(device).train()
    params = [p for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d) for p in m.parameters()] \
        if mode == "bn" else list(net.parameters())
    for p in net.parameters():
        p.requires_grad_(mode == "full")
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True)
    x = torch.randn(batch, 3, side, side, device=device)
    y = torch.randint(0, 10, (batch,), device=device)

    def step(i: int) -> None:
        net.random_genotype(True)
        opt.zero_grad()
        F.cross_entropy(net(x)[1], y).backward()
        opt.step()

    return timed(step, steps, batch, device)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--reference", default=None, help="a checkout of D-X-Y/AutoDL-Projects (its xautodl package)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"device {args.device}, {torch.get_num_threads()} torch thread(s) of {os.cpu_count()} cores, batch "
          f"{args.batch}, {args.steps} steps, median of {args.repeats}")
    rows = [("bnbench", lambda *a: bnbench_rate(*a, layout="bnbench"))]
    if args.device == "cpu":
        rows.append(("bnbench, NCHW", lambda *a: bnbench_rate(*a, layout="nchw")))
    if args.reference:
        rows.append(("NB201 reference", lambda *a: reference_rate(args.reference, *a)))
    for name, (c, n, side) in SETTINGS.items():
        print(f"\n{name}")
        rates = {}
        for label, fn in rows:
            for mode in ("full", "bn"):
                rates[label, mode] = statistics.median(fn(c, n, side, mode, args.steps, args.batch, args.device)
                                                       for _ in range(args.repeats))
            print(f"  {label:18s} full {rates[label, 'full']:7.0f} img/s   bn {rates[label, 'bn']:7.0f} img/s   "
                  f"bn/full {rates[label, 'bn'] / rates[label, 'full']:.2f}x", flush=True)
        for label, _ in rows[1:]:
            print(f"  bnbench / {label:18s} full {rates['bnbench', 'full'] / rates[label, 'full']:.2f}x   "
                  f"bn {rates['bnbench', 'bn'] / rates[label, 'bn']:.2f}x")


if __name__ == "__main__":
    main()
