"""Cost of ``bnbench truth build`` per architecture, for every space with an embedded digits table.

For each space, the build config recorded in the header of its embedded table (``bnbench/_embedded``) is
re-run on the table's first ``--archs`` architectures (seed 0, fold 0, through the build's own
:func:`bnbench.train.build_truth.train_run`, so every reduction the table used applies) with one torch thread, side
by side in one process. Printed per space: the seconds per run (one architecture, one seed, one fold), training
images/s (images x epochs / s), the cost of one architecture
in the table (seconds per run x seeds x folds), the cost of the whole table, and the seconds per run the table's
own build recorded (taken on the build machine, possibly with other jobs running: compare within one run of this
script only).

    python benchmarks/truth_build_cost.py [--spaces nb201,nb101,darts,mobilenet] [--archs 3]

Measured 2026-12-01, ``--archs 2``, quiet machine, one thread: s/run (train img/s), s/arch: nb201 (C=8, N=1, 8x8,
5 epochs) 1.2 (5,203), 10.4; nb101 (stem 16, 1 cell per stack) 1.2 (5,208), 10.4; darts (C=4, 3 cells, 3 epochs)
2.3 (1,148), 14.1; mobilenet (stem 8 at 16x16, 5 epochs) 21.5 (209), 128.8. The builds recorded 2.7 / 4.7 / 7.3 /
30.9 s per run with other jobs sharing the two cores.
"""

from __future__ import annotations

import argparse

import torch

from bnbench.datasets import load_dataset
from bnbench.embedded import TABLES, embedded_truth_path
from bnbench.train.build_truth import BuildConfig, pooled, train_run
from bnbench.truth import read_source


def table_build(space: str) -> tuple[dict, BuildConfig, list[str]]:
    """The embedded table's build metadata, its build config and its architectures (file order)."""
    table = read_source(embedded_truth_path(space), space=space)
    truth = table.truth(table.specs()[0], source="embedded")
    archs = table.arch_specs_of(truth.archs) if table.arch_specs is not None else list(truth.archs)
    return truth.meta, BuildConfig.from_dict(truth.meta["config"]), archs


def cost(space_name: str, n_archs: int) -> str:
    meta, build, archs = table_build(space_name)
    data = load_dataset(build.dataset, None)
    full = pooled(data)
    runs = [train_run(build, data, full, arch, seed=0, fold=0) for arch in archs[:n_archs]]
    per_run = sum(r["seconds"] for r in runs) / len(runs)
    images = sum(r["train_images"] for r in runs) / len(runs) * build.train.epochs
    runs_per_arch = len(build.seeds) * build.folds
    cfg = build.train
    return (f"{space_name:9s} {cfg.channels}/{cfg.cells} res {cfg.resolution or 'native'} {cfg.epochs} ep: "
            f"{per_run:6.1f} s/run ({images / per_run:5.0f} train img/s), {runs_per_arch} runs/arch -> "
            f"{per_run * runs_per_arch:6.1f} s/arch, table of {len(archs)} archs {per_run * runs_per_arch * len(archs) / 3600:4.1f} "
            f"CPU-h (recorded at build: {meta.get('seconds_per_run', float('nan')):.1f} s/run)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--spaces", default=",".join(TABLES), help=f"comma-separated (default: {','.join(TABLES)})")
    p.add_argument("--archs", type=int, default=3, help="architectures timed per space (default: 3)")
    args = p.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread; each space at its embedded table's recorded config")
    for name in args.spaces.split(","):
        print(cost(name, args.archs), flush=True)


if __name__ == "__main__":
    main()
