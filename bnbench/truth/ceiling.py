"""The ceiling: how well two independent measurements of the same truth rank the same architectures.

No indicator can be expected to rank a truth better than a second, independent measurement of that truth does,
so reports draw this Kendall tau as the ceiling line of their tau chart. Two sources, tried in this order:

* **A bnbench-built table** (``bnbench truth build``) keeps one column per training seed
  (``<column>:seed<k>``): the ceiling is the tau between the mean of the first half of the seeds and the mean
  of the second half (2 seeds: seed 0 against seed 1; 3 seeds: seed 0 against the mean of seeds 1 and 2). It
  compares truths averaged over about half the seeds each, so it understates the reliability of the full mean.
* **NB201 on cifar10-valid** (validation accuracy of networks trained on the 25,000-image train half): a
  NATS-Bench topology CSV (``CIFAR10TestAccuracy200Epochs``; networks trained again, on all 50,000 training
  images, and tested on the 10,000 test images) given as ``ceiling_source`` or found beside the benchmark
  file. Only cifar10-valid has such a second, independently trained run: NB201's cifar100 and ImageNet16-120
  validation and test accuracies are two halves of one evaluation of the same trained networks, and NATS-Bench
  reuses those runs, so no independent ceiling is offered there.

The tau is computed on exactly the run's architectures, with a bootstrap interval
(:func:`bnbench.correlation.correlate`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from bnbench.errors import BnbenchError

NATS_TEST = ("cifar10", "test", "accuracy", 200)  # the independent truth of cifar10-valid


def seed_columns(table, column: str) -> list[str]:
    """The per-seed columns ``<column>:seed<k>`` of a built table, in seed order."""
    prefix = column + ":seed"
    found = [(int(k[len(prefix):]), k) for k in table.columns if k.startswith(prefix) and k[len(prefix):].isdigit()]
    return [k for _, k in sorted(found)]


def ceiling(truth, table, keys: Sequence[str], benchmark: str | None, *, ceiling_source: str | None = None,
            n_boot: int = 1000, seed: int = 0) -> dict[str, Any] | None:
    """``{"kendall_tau", "ci", "n", "description", "source"}`` for the run's truth keys ``keys``, or None where no
    independent second measurement exists (module docstring). BnbenchError (one line) for a ``ceiling_source``
    that is unreadable or does not hold the architectures."""
    column = truth.spec.column()
    seeds = seed_columns(table, column)
    if len(seeds) >= 2:
        rows = _rows(table.archs, keys)
        half = len(seeds) // 2
        first = np.nanmean([table.columns[k][rows] for k in seeds[:half]], axis=0)
        second = np.nanmean([table.columns[k][rows] for k in seeds[half:]], axis=0)
        what = (f"{_names(seeds[:half])} against {_names(seeds[half:])} of the same table (independent "
                "training seeds)")
        return _tau(first, second, what, str(truth.source), n_boot, seed)
    source = ceiling_source or _beside(benchmark)
    if source is None or truth.spec.dataset != "cifar10-valid" or truth.spec.split != "valid":
        return None
    from bnbench.truth import read_source
    from bnbench.truth.spec import TruthSpec

    other = read_source(source, space="nb201")
    spec = TruthSpec(*NATS_TEST)
    if spec.column() not in other.columns:
        raise BnbenchError(f"ceiling source {source} has no {spec.describe()} column")
    values = other.truth(spec, source=source)
    second = values.lookup(list(keys))
    what = ("NATS-Bench cifar10 test accuracy after 200 epochs (networks retrained on all 50,000 training images) "
            "against this truth")
    return _tau(truth.lookup(list(keys)), second, what, str(source), n_boot, seed)


def _names(columns: list[str]) -> str:
    seeds = [c.rsplit(":", 1)[1] for c in columns]
    return seeds[0] if len(seeds) == 1 else "the mean of " + ", ".join(seeds)


def _rows(archs: Sequence[str], keys: Sequence[str]) -> np.ndarray:
    position = {a: i for i, a in enumerate(archs)}
    missing = [k for k in keys if k not in position]
    if missing:
        raise BnbenchError(f"ceiling: {len(missing)} architectures have no per-seed values, e.g. {missing[0]}")
    return np.asarray([position[k] for k in keys], dtype=np.int64)


def _beside(benchmark: str | None) -> str | None:
    """A NATS-Bench topology CSV in the benchmark file's folder (recognised by content), if there is one."""
    if not benchmark or not Path(benchmark).is_file():
        return None
    from bnbench.truth.detect import detect_kind

    for path in sorted(Path(benchmark).parent.glob("*.csv")):
        try:
            if os.fspath(path) != os.fspath(benchmark) and detect_kind(path) == "nats-csv":
                return os.fspath(path)
        except BnbenchError:
            continue
    return None


def _tau(a: np.ndarray, b: np.ndarray, what: str, source: str, n_boot: int, seed: int) -> dict[str, Any] | None:
    from bnbench.correlation import correlate

    stats = correlate(a, b, n_boot=n_boot, seed=seed)
    if stats["kendall_tau"] is None:
        return None
    return {"kendall_tau": stats["kendall_tau"], "ci": stats["kendall_tau_ci"], "spearman_rho": stats["spearman_rho"],
            "n": stats["n"], "description": what, "source": source}
