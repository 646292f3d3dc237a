"""Every value of one architecture, read through an official API (NB201 or NATS-Bench topology).

Values come from ``api.get_more_info(index, dataset, iepoch=None, hp=hp, is_random=False)``: the
final epoch of schedule ``hp`` ('200' = the full schedule, '12' = the short one), averaged over all
seeds. Its ``train-`` / ``valid-`` / ``test-`` keys map to bnbench splits as follows:

================ ================= ======================================= ========================
dataset          ``train``         ``valid``                               ``test``
================ ================= ======================================= ========================
cifar10-valid    train (25k)       x-valid (other 25k of the train set)    ori-test (10k test set)
cifar10          train (all 50k)   none (no such split)                    ori-test (10k test set)
cifar100         train (50k)       x-valid (half of the 10k test set)      x-test (the other half)
ImageNet16-120   train             x-valid (half of its 6k test set)       x-test (the other half)
================ ================= ======================================= ========================

The API's ``valtest`` (ori-test of cifar100 / ImageNet16-120, i.e. x-valid + x-test) is not kept.
Next to the values, ``{dataset}:seeds:{epochs}`` records how many seeds (training runs) each mean is over.
"""

from __future__ import annotations

import math
import os
from typing import Any, Mapping

import numpy as np

from bnbench.truth.fail import fail, short
from bnbench.truth.spec import METRICS, NB201_DATASETS, SETTING_SPLITS, SPLITS, column_name, parse_column, seeds_column


def arch_values(api: Any, index: int, results: Mapping[str, Any], path: str | os.PathLike) -> dict[str, float]:
    """``{column: value}`` for every schedule (``results``: hp -> ArchResults) and dataset of ``index``."""
    out: dict[str, float] = {}
    for hp, archres in results.items():
        for dataset in archres.get_dataset_names():
            try:
                info = api.get_more_info(index, dataset, iepoch=None, hp=hp, is_random=False)
            except Exception as err:  # the API raises bare KeyError/ValueError/AssertionError on bad records
                raise fail(path, f"architecture {index}, {hp}-epoch schedule, {dataset}: unreadable result "
                                 f"({short(err)}); expected complete official benchmark records") from None
            seeds = archres.get_dataset_seeds(dataset) if hasattr(archres, "get_dataset_seeds") else None
            if seeds:
                out[seeds_column(dataset, int(hp))] = float(len(seeds))
            for split in SETTING_SPLITS.get(dataset, SPLITS):
                for metric in METRICS:
                    value = info.get(f"{split}-{metric}")
                    if value is not None and math.isfinite(float(value)):
                        out[column_name(dataset, split, metric, int(hp))] = float(value)
    return out


class ColumnBuilder:
    """Collects per-row ``{column: value}`` dicts into NaN-padded float64 columns."""

    def __init__(self, rows: int) -> None:
        self.rows = rows
        self._columns: dict[str, np.ndarray] = {}

    def add(self, row: int, values: Mapping[str, float]) -> None:
        for name, value in values.items():
            column = self._columns.get(name)
            if column is None:
                column = self._columns[name] = np.full(self.rows, np.nan)
            column[row] = value

    def columns(self) -> dict[str, np.ndarray]:
        """Columns ordered dataset, split, metric, then longest schedule first."""
        return {name: self._columns[name] for name in sorted(self._columns, key=column_order)}


def column_order(name: str) -> tuple:
    spec = parse_column(name)
    if spec is None:
        return (2, name)
    rank = NB201_DATASETS.index(spec.dataset) if spec.dataset in NB201_DATASETS else len(NB201_DATASETS)
    split = SPLITS.index(spec.split) if spec.split in SPLITS else len(SPLITS)
    metric = METRICS.index(spec.metric) if spec.metric in METRICS else len(METRICS)
    return (1, rank, spec.dataset, split, metric, -spec.epochs)
