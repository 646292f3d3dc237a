"""Accuracy CSVs: NB201-style tables (the benchmark's exports or a user's own) and the NATS-Bench test file.

* ``nb201-csv``: an architecture column and at least one metric column (see :mod:`bnbench.truth.columns`;
  the benchmark index is optional, absent splits are absent). The setting and budget come from the file
  name ``...-<dataset>-<epochs>ep.csv`` (e.g. ``nb201-v1_1-cifar10-valid-200ep.csv``) or, for a file whose
  name does not tell, from the caller (``--dataset`` and ``--truth-epochs``); a name and an explicit
  ``--dataset`` that disagree are refused. The values are then checked against the setting
  (:mod:`bnbench.truth.plausibility`): a file name alone never decides what a table measures.
* ``nats-csv``: row i = index i (in the complete 15,625-row file; a subset has no known index); ``ArchitectureString`` and ``<CIFAR10|CIFAR100|ImageNet><Split>Accuracy
  <epochs>Epochs`` columns (CIFAR10 test = ``cifar10`` ori-test; CIFAR100/ImageNet test = x-test).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from bnbench.truth.columns import EXPECTED_COLUMNS, arch_column, index_column, metric_columns
from bnbench.truth.csvread import read_csv
from bnbench.truth.detect import NATS_CSV_ARCH, NATS_CSV_VALUE
from bnbench.truth.fail import fail, short
from bnbench.truth.plausibility import check_setting
from bnbench.truth.spec import NB201_DATASETS, column_name
from bnbench.truth.table import TruthTable

NB201_NAME = re.compile(r"(?i)(cifar10-valid|cifar100|cifar10|imagenet16-120)[-_](\d+)ep")
NB201_CELLS = 15625
NATS_DATASETS = {"CIFAR10": "cifar10", "CIFAR100": "cifar100", "ImageNet": "ImageNet16-120"}
NAMING = f"name it ...-<dataset>-<epochs>ep.csv with <dataset> one of {', '.join(NB201_DATASETS)}"


def read_nb201_csv(path: str | os.PathLike, dataset: str | None = None, epochs: int | None = None) -> TruthTable:
    """Every metric column of an accuracy CSV, for the setting and budget its name (or the caller) states.

    ``dataset`` / ``epochs``: what the user stated explicitly (``--dataset``, ``--truth-epochs``), used when the
    file name does not tell; BenchmarkError when neither tells, when they contradict the name, or when the
    values contradict the setting.
    """
    path = Path(path)
    setting, budget, claimed_by = _setting(path, dataset, epochs)
    df = _read(path, None, None)
    fields = [str(c) for c in df.columns]
    arch_col, index_col, metrics = arch_column(fields), index_column(fields), metric_columns(fields)
    if arch_col is None or not metrics:
        raise fail(path, f"CSV lacks {'an architecture column' if arch_col is None else 'a metric column'}; "
                         f"expected {EXPECTED_COLUMNS}")
    seen: dict[tuple[str, str], str] = {}
    for name, key in metrics.items():
        if key in seen:
            raise fail(path, f"columns {seen[key]!r} and {name!r} both hold the {key[0]} {key[1]}; keep one")
        seen[key] = name
    values = {key: _numeric(path, df[name], name) for name, key in metrics.items()}
    accuracies = check_setting(path, setting, budget, claimed_by,
                               {split: v for (split, metric), v in values.items() if metric == "accuracy"})
    if "valid" not in accuracies:  # a cifar10 copy of the test column is no split of its own
        values = {key: v for key, v in values.items() if key[0] != "valid" or setting != "cifar10"}
    indices = _indices(path, df[index_col], index_col) if index_col else np.full(len(df), -1, dtype=np.int64)
    columns = {column_name(setting, split, metric, budget): v for (split, metric), v in values.items()}
    archs = [a.strip() if isinstance(a, str) else a for a in df[arch_col].tolist()]
    table = _table(path, "nb201-csv", archs, indices, columns)
    if not {"file id", "cfg name"} <= set(fields):  # not the benchmark's own export: say nothing we do not know
        table.meta["aggregation"] = "aggregation not recorded in the file"
    table.meta["setting_from"] = claimed_by
    table.meta["columns_read"] = {"arch": arch_col, "index": index_col, **{name: column_name(setting, *key, budget)
                                                                            for name, key in metrics.items()
                                                                            if column_name(setting, *key, budget)
                                                                            in columns}}
    return table


def _setting(path: Path, dataset: str | None, epochs: int | None) -> tuple[str, int, str]:
    """(setting, budget, what stated them) from the file name, else from the explicit ``dataset``/``epochs``."""
    match = NB201_NAME.search(path.name)
    named = {d.lower(): d for d in NB201_DATASETS}[match[1].lower()] if match else None
    if named and dataset and dataset != named:
        raise fail(path, f"its file name says {named} but --dataset says {dataset}; rename the file or drop "
                         "--dataset so one of them states the setting")
    if match:
        if epochs is not None and int(epochs) != int(match[2]):
            raise fail(path, f"its file name says {match[2]} epochs but --truth-epochs says {epochs}")
        return named, int(match[2]), "its file name"
    if dataset is None or epochs is None:
        missing = " and ".join(n for n, v in (("--dataset", dataset), ("--truth-epochs", epochs)) if v is None)
        raise fail(path, f"cannot tell the dataset and budget from the file name; {NAMING}, or pass {missing}")
    if dataset not in NB201_DATASETS:
        raise fail(path, f"--dataset {dataset} is not an NB201 setting ({', '.join(NB201_DATASETS)})")
    return dataset, int(epochs), "--dataset"


def _numeric(path: Path, column, name: str) -> np.ndarray:
    from pandas.api.types import is_numeric_dtype

    if not is_numeric_dtype(column):
        raise fail(path, f"column {name!r} is not numeric; expected numbers (percent for accuracies)")
    return column.to_numpy(np.float64, na_value=np.nan)


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
    for dataset in NB201_DATASETS:
        for epochs in {int(NATS_CSV_VALUE.match(n)[3]) for n in values}:
            accuracies = {split: columns[column_name(dataset, split, "accuracy", epochs)] for split in ("valid", "test")
                          if column_name(dataset, split, "accuracy", epochs) in columns}
            if accuracies:
                check_setting(path, dataset, epochs, "its column names", accuracies)
    # Row i is benchmark index i only in the complete file; a subset keeps its rows but has no known index.
    complete = len(df) == NB201_CELLS
    indices = np.arange(len(df), dtype=np.int64) if complete else np.full(len(df), -1, dtype=np.int64)
    table = _table(path, "nats-csv", df[NATS_CSV_ARCH].tolist(), indices, columns)
    if not complete:
        table.meta["index"] = f"unknown: {len(df)} rows, not the complete {NB201_CELLS}-row file"
    return table


def _nats_column(name: str) -> str:
    data, split, epochs = NATS_CSV_VALUE.match(name).groups()
    dataset = NATS_DATASETS[data]
    if (data, split) == ("CIFAR10", "Valid"):
        dataset = "cifar10-valid"  # CIFAR-10 has a validation split only in the cifar10-valid setting
    return column_name(dataset, split.lower(), "accuracy", int(epochs))


def _read(path: Path, needed: tuple[str, ...] | None, dtypes: dict | None):
    import pandas as pd

    wanted = ", ".join(needed) if needed else EXPECTED_COLUMNS
    try:
        df = read_csv(path, dtype=dtypes)
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise fail(path, f"unreadable CSV ({short(err)}); expected columns {wanted} "
                         "(numbers except the arch strings)") from None
    df.columns = [str(c).strip() for c in df.columns]
    needed = needed or ()
    missing = [c for c in needed if c not in df.columns]
    if missing or df.empty:
        raise fail(path, f"CSV {'has no rows' if not missing else 'lacks ' + ', '.join(missing)}; "
                         f"expected columns {wanted}")
    return df


def _indices(path: Path, column, name: str = "file id") -> np.ndarray:
    try:
        values = column.to_numpy(np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        values = np.array([np.nan])
    if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
        raise fail(path, f"column {name!r} has empty or non-integer cells; expected the official NB201 index")
    return values.astype(np.int64)


def _table(path: Path, kind: str, archs: list, indices: np.ndarray, columns: dict[str, np.ndarray]) -> TruthTable:
    if not all(isinstance(a, str) and a for a in archs) or len(set(archs)) != len(archs):
        raise fail(path, "architecture column has empty or repeated cells; expected one row per NB201 arch string")
    columns = {k: v for k, v in columns.items() if np.isfinite(v).any()}
    meta = {"source": os.fspath(path), "source_kind": kind, "aggregation": "mean of seeds"}
    return TruthTable(archs, indices, columns, meta)
