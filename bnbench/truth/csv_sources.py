"""Accuracy CSVs exported from the benchmarks: NB201 per-dataset files and the NATS-Bench test file.

* ``nb201-csv``: ``file id`` (official index), ``arch str``, ``train/validation/test accuracy``; the
  dataset and budget come from the file name ``nb201-v1_1-<dataset>-<epochs>ep.csv``.
* ``nats-csv``: row i = index i; ``ArchitectureString`` and ``<CIFAR10|CIFAR100|ImageNet><Split>Accuracy
  <epochs>Epochs`` columns (CIFAR10 test = ``cifar10`` ori-test; CIFAR100/ImageNet test = x-test).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from bnbench.truth.csvread import read_csv
from bnbench.truth.detect import NATS_CSV_ARCH, NATS_CSV_VALUE, NB201_CSV_COLUMNS
from bnbench.truth.fail import fail, short
from bnbench.truth.spec import NB201_DATASETS, column_name
from bnbench.truth.table import TruthTable

NB201_NAME = re.compile(r"(?i)(cifar10-valid|cifar100|cifar10|imagenet16-120)[-_](\d+)ep")
NB201_SPLITS = {"train accuracy": "train", "validation accuracy": "valid", "test accuracy": "test"}
NATS_DATASETS = {"CIFAR10": "cifar10", "CIFAR100": "cifar100", "ImageNet": "ImageNet16-120"}


def read_nb201_csv(path: str | os.PathLike) -> TruthTable:
    """One dataset's train / valid / test accuracy at the budget named in the file name."""
    path = Path(path)
    match = NB201_NAME.search(path.name)
    if match is None:
        raise fail(path, "cannot tell the dataset and budget from the file name; expected "
                         f"nb201-v1_1-<dataset>-200ep.csv with <dataset> one of {', '.join(NB201_DATASETS)}")
    dataset = {d.lower(): d for d in NB201_DATASETS}[match[1].lower()]
    df = _read(path, NB201_CSV_COLUMNS, {c: "float64" for c in NB201_SPLITS} | {"arch str": str})
    indices = _indices(path, df["file id"])
    columns = {column_name(dataset, split, "accuracy", int(match[2])): df[c].to_numpy(np.float64)
               for c, split in NB201_SPLITS.items()}
    return _table(path, "nb201-csv", df["arch str"].tolist(), indices, columns)


def read_nats_csv(path: str | os.PathLike) -> TruthTable:
    """Accuracy columns of the NATS-Bench CSV, one per dataset / split / budget."""
    from pandas.api.types import is_numeric_dtype

    path = Path(path)
    df = _read(path, (NATS_CSV_ARCH,), {NATS_CSV_ARCH: str})
    values = [n for n in df.columns if NATS_CSV_VALUE.match(n)]
    bad = [n for n in values if not is_numeric_dtype(df[n])]
    if not values or bad:
        problem = f"column {bad[0]} is not numeric" if bad else "has no accuracy column"
        raise fail(path, f"NATS-Bench CSV {problem}; expected numbers in columns like CIFAR10TestAccuracy200Epochs")
    columns = {_nats_column(n): df[n].to_numpy(np.float64) for n in values}
    return _table(path, "nats-csv", df[NATS_CSV_ARCH].tolist(), np.arange(len(df), dtype=np.int64), columns)


def _nats_column(name: str) -> str:
    data, split, epochs = NATS_CSV_VALUE.match(name).groups()
    dataset = NATS_DATASETS[data]
    if (data, split) == ("CIFAR10", "Valid"):
        dataset = "cifar10-valid"  # CIFAR-10 has a validation split only in the cifar10-valid setting
    return column_name(dataset, split.lower(), "accuracy", int(epochs))


def _read(path: Path, needed: tuple[str, ...], dtypes: dict):
    import pandas as pd

    try:
        df = read_csv(path, dtype=dtypes)
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise fail(path, f"unreadable CSV ({short(err)}); expected columns {', '.join(needed)} "
                         "(numbers except the arch strings)") from None
    missing = [c for c in needed if c not in df.columns]
    if missing or df.empty:
        raise fail(path, f"CSV {'has no rows' if not missing else 'lacks ' + ', '.join(missing)}; "
                         f"expected columns {', '.join(needed)}")
    return df


def _indices(path: Path, column) -> np.ndarray:
    values = column.to_numpy(np.float64, na_value=np.nan)
    if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
        raise fail(path, "column 'file id' has empty or non-integer cells; expected the official NB201 index")
    return values.astype(np.int64)


def _table(path: Path, kind: str, archs: list, indices: np.ndarray, columns: dict[str, np.ndarray]) -> TruthTable:
    if not all(isinstance(a, str) and a for a in archs) or len(set(archs)) != len(archs):
        raise fail(path, "architecture column has empty or repeated cells; expected one row per NB201 arch string")
    columns = {k: v for k, v in columns.items() if np.isfinite(v).any()}
    meta = {"source": os.fspath(path), "source_kind": kind, "aggregation": "mean of seeds"}
    return TruthTable(archs, indices, columns, meta)
