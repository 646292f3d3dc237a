"""Wall time of one ``truth build`` on the local engine and on a local Ray instance at equal settings.

Both engines train the same (arch, seed, fold) runs with one torch thread per task, so the two tables must be
identical (checked and printed); the difference is the engine's overhead (Ray: starting the instance, one worker
process per CPU importing torch and bnbench, shipping the tasks). Ray's start is timed separately.

    python benchmarks/engine_truth_build.py --archs 20 --jobs 2          # digits, no data needed
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--archs", type=int, default=20)
    p.add_argument("--seeds", default="0")
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--jobs", type=int, default=2, help="local worker processes = CPUs of the local Ray instance")
    p.add_argument("--dataset", default="digits")
    p.add_argument("--data-dir", default=None)
    args = p.parse_args()

    from bnbench.engine import Engine, import_ray
    from bnbench.train.build_truth import BuildConfig, build_truth
    from bnbench.train.config import TrainConfig

    cfg = BuildConfig(dataset=args.dataset, sample_archs=args.archs, seeds=tuple(int(s) for s in args.seeds.split(",")),
                      folds=args.folds, train=TrainConfig(dataset=args.dataset, channels=8, cells=1, epochs=args.epochs,
                                                          batch_size=64, train_mode="full", lr=0.05))
    runs = args.archs * len(cfg.seeds) * cfg.folds
    print(f"truth build: {args.archs} archs x {len(cfg.seeds)} seeds x {cfg.folds} folds = {runs} runs, "
          f"{args.dataset}, C=8 N=1, {args.epochs} epochs, {args.jobs} workers")
    tables, rows = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        tables["local"] = build_truth(cfg, Path(tmp) / "local.csv", args.data_dir, progress=False,
                                      engine=Engine(jobs=args.jobs))
        rows.append(("local", time.perf_counter() - start, 0.0))
        ray = import_ray()
        start = time.perf_counter()
        ray.init(num_cpus=args.jobs, include_dashboard=False, log_to_driver=False)
        ray.get(ray.remote(lambda: 0).remote())  # one round trip: a worker is up
        ray_start = time.perf_counter() - start
        start = time.perf_counter()
        tables["ray"] = build_truth(cfg, Path(tmp) / "ray.csv", args.data_dir, progress=False,
                                    engine=Engine(kind="ray", jobs=args.jobs))
        rows.append(("ray (local instance)", time.perf_counter() - start, ray_start))
        ray.shutdown()
        same = pd.read_csv(tables["local"], comment="#").equals(pd.read_csv(tables["ray"], comment="#"))
    print(f"{'engine':22s} {'build wall s':>12s} {'s per run':>10s} {'+ engine start s':>17s}")
    for name, wall, begin in rows:
        print(f"{name:22s} {wall:12.1f} {wall / runs:10.2f} {begin:17.1f}")
    print(f"tables identical: {same}")


if __name__ == "__main__":
    main()
