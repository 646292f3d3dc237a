"""Time per architecture of the composite indicator's terms, extrapolated to 1,000 NB201 cells.

Times expressivity, trainability and uncertainty each alone and all three in one pass (what
``composite`` costs), on a stratified sample of cells, with a supernet at a reduced setting (default
C=16, N=1, 16x16 inputs; untrained weights cost the same as trained ones). Synthetic CIFAR-shaped data
unless --data-dir is given. Target: the three terms score 1,000 cells in under 10 minutes on 2 cores.

    python benchmarks/composite_speed.py [--data-dir ../shared/data/cifar10] [--archs 20] [--threads 1]
"""

from __future__ import annotations

import argparse
import time

import torch
from scoring_speed import synthetic  # sibling script (benchmarks/ is on sys.path when run as a script)

from bnbench.datasets import load_dataset
from bnbench.indicators import ScoringContext
from bnbench.indicators.composite.composite import TERMS
from bnbench.indicators.composite.engine import compute
from bnbench.spaces import get_space
from bnbench.train.config import TrainConfig
from bnbench.train.supernet import TrainResult, build_supernet


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", default=None, help="CIFAR-10 root (default: synthetic images)")
    p.add_argument("--archs", type=int, default=20, help="cells timed (stratified sample)")
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--cells", type=int, default=1)
    p.add_argument("--resolution", type=int, default=16)
    p.add_argument("--batch-size", type=int, default=64, help="training batch size = MC-BN batch size")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    p.add_argument("--bn-every-op", action="store_true", help="a trainable BN on every candidate op")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_dataset("cifar10-valid", args.data_dir) if args.data_dir else synthetic()
    cfg = TrainConfig(dataset=data.name, channels=args.channels, cells=args.cells, resolution=args.resolution,
                      batch_size=args.batch_size, bn_every_op=args.bn_every_op)
    result = TrainResult(build_supernet(cfg, data).eval(), cfg)
    space = get_space("nb201")
    archs = space.sample(args.archs, 0)
    ctx = ScoringContext(space=space, dataset=data, supernet=result, progress=False)
    compute(archs[:2], ctx, TERMS)  # warm-up
    print(f"threads: {torch.get_num_threads()}  data: {data.description}  supernet: C={cfg.channels} N={cfg.cells} "
          f"{cfg.resolution}x{cfg.resolution} bn_every_op={cfg.bn_every_op}  cells timed: {len(archs)}")
    print("wall = elapsed time; cpu = this process's CPU time (stabler on a shared machine)")
    for terms in [(t,) for t in TERMS] + [TERMS]:
        wall, cpu = time.perf_counter(), time.process_time()
        compute(archs, ctx, terms)
        wall, cpu = [(time.perf_counter() - wall) / len(archs), (time.process_time() - cpu) / len(archs)]
        label = "all three (composite)" if len(terms) > 1 else terms[0]
        print(f"{label:>22}: wall {wall * 1e3:6.1f} ms/arch, cpu {cpu * 1e3:6.1f} ms/arch -> 1,000 cells in "
              f"{wall * 1e3 / 60:5.2f} min wall, {cpu * 1e3 / 60:5.2f} min cpu")


if __name__ == "__main__":
    main()
