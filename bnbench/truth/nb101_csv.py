"""NB101 accuracy CSVs: one row per training run, the cell as an adjacency matrix and an op list.

Columns (kind ``nb101-csv``, recognised by its header): an adjacency column (``adjacency``, ``matrix``,
``module_adjacency``: a JSON list of 0/1 rows), an ops column (``ops``, ``operations``, ``module_operations``:
a JSON list of op names, official spelling) and at least one metric column as in NB201 CSVs
(:mod:`bnbench.truth.columns`: ``validation_accuracy``, ``test accuracy``, ``train_loss``, ...; accuracies in
percent). An optional hash column (``nb101_hash``, ``module_hash``, ``hash``) is checked against the recomputed
hash. Other columns are ignored.

Matrices may be raw, unpruned samples (NAS-Bench-Suite-Zero's ``zc_nasbench101.json``, as in
``naslib-nb101-cifar10-250.csv``, stores them so: 153 of its 250 have more than 9 edges before pruning):
each row is pruned first and then checked and hashed, as the official ``ModelSpec`` does, so the value
belongs to the pruned cell. Rows of the same pruned cell (in that file, 250 rows are 162 cells, one cell 29
times) are **repeated runs**, each one training run drawn from the cell's three: the table holds their mean
and ``{dataset}:seeds:{epochs}`` how many rows it is over (the aggregation note states the range).

The setting is NB101's CIFAR-10 protocol (``nb101-cifar10``; ``--dataset cifar10`` or none names it). The
budget comes from the file name (``...-108ep.csv``) or ``--truth-epochs``; a file that says neither is refused
(never a silent default budget), as is a budget other than NB101's 4, 12, 36, 108 epochs or values that are
fractions.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from bnbench.errors import ArchError
from bnbench.truth.columns import metric_columns
from bnbench.truth.csvread import read_csv
from bnbench.truth.fail import fail, short
from bnbench.truth.nb101_records import BUDGETS, RunTable, nb101_dataset

ADJACENCY_COLUMNS = ("adjacency", "matrix", "module_adjacency", "adjacency_matrix")
OPS_COLUMNS = ("ops", "operations", "module_operations")
HASH_COLUMNS = ("nb101_hash", "module_hash", "hash")
EXPECTED_COLUMNS = ("an adjacency column (adjacency | matrix: JSON 0/1 rows), an ops column (ops: JSON op names) "
                    "and a metric column such as validation_accuracy (percent)")
BUDGET_NAME = re.compile(r"(?i)(?:^|[-_.])(\d+)ep(?:ochs?)?(?=[-_.]|$)")
NAMING = f"name it ...-<epochs>ep.csv (NB101 budgets: {', '.join(map(str, BUDGETS))})"


def find(fields: list[str], names: tuple[str, ...]) -> str | None:
    """The first of ``names`` among ``fields`` (case-insensitive), or None."""
    lowered = {f.strip().lower(): f for f in fields}
    return next((lowered[n] for n in names if n in lowered), None)


def is_nb101_header(fields: list[str]) -> bool:
    """True for a header with both an adjacency and an ops column."""
    return find(fields, ADJACENCY_COLUMNS) is not None and find(fields, OPS_COLUMNS) is not None


def read_nb101_csv(path: str | os.PathLike, dataset: str | None = None, epochs: int | None = None):
    """Every metric column of an NB101 CSV, rows of one pruned cell averaged; BenchmarkError for a budget that
    neither the name nor ``epochs`` states, an invalid cell, a wrong hash or fractions."""
    path = Path(path)
    label = nb101_dataset(path, dataset)
    budget, budget_from = _budget(path, epochs)
    df, (adj_col, ops_col), metrics, values = read_metric_csv(
        path, [("an adjacency column", ADJACENCY_COLUMNS), ("an ops column", OPS_COLUMNS)], EXPECTED_COLUMNS)
    hash_col = find(list(df.columns), HASH_COLUMNS)
    runs = RunTable([(split, metric, "") for split, metric in metrics.values()], dataset=label)
    cached: dict[tuple[str, str], tuple[str, str]] = {}
    for i, (adj, ops) in enumerate(zip(df[adj_col].tolist(), df[ops_col].tolist())):
        key, spec = cached.get((adj, ops)) or _cell(path, i, adj, ops)
        cached[(adj, ops)] = (key, spec)
        if hash_col is not None and df[hash_col].iat[i].strip() not in ("", key):
            raise fail(path, f"line {i + 2}: {hash_col} {df[hash_col].iat[i].strip()!r} is not the module hash "
                             f"of its pruned cell ({key})")
        row = runs.row(key)
        if row < 0:
            row = runs.new_row(key, spec)
        runs.add(row, budget, [v[i] for v in values.values()])
    counts = runs.run_counts()
    meta = {"setting_from": budget_from,
            "repeats": f"{len(df)} rows, {len(runs)} distinct cells (module hash after pruning); repeated rows of "
                       "a cell are separate training runs, averaged",
            "columns_read": {"adjacency": adj_col, "ops": ops_col, **({"hash": hash_col} if hash_col else {}),
                             **{name: f"{label}:{split}:{metric}:{budget}" for name, (split, metric)
                                in metrics.items()}}}
    listed = "rows listed per cell" if counts.max() > 1 else "row listed per cell (one run)"
    return runs.table(path, "nb101-csv", meta, listed=listed)


def stated_budget(path: Path, epochs: int | None) -> tuple[int | None, str | None]:
    """The training budget a CSV table states and where from: its file name's ``<N>ep`` (a different
    ``--truth-epochs`` is refused in one line), else ``--truth-epochs``; ``(None, None)`` when neither says."""
    match = BUDGET_NAME.search(path.stem)
    named = int(match[1]) if match else None
    if named is not None and epochs is not None and int(epochs) != named:
        raise fail(path, f"its file name says {named} epochs but --truth-epochs says {epochs}")
    if named is not None:
        return named, "its file name"
    return (int(epochs), "--truth-epochs") if epochs is not None else (None, None)


def _budget(path: Path, epochs: int | None) -> tuple[int, str]:
    budget, source = stated_budget(path, epochs)
    if budget is None:
        raise fail(path, f"cannot tell the training budget from the file name; {NAMING}, or pass --truth-epochs "
                         "(108 for NB101's full schedule)")
    if int(budget) not in BUDGETS:
        raise fail(path, f"{budget} epochs is not an NB101 budget ({', '.join(map(str, BUDGETS))})")
    return int(budget), source


def _cell(path: Path, i: int, adj: str, ops: str) -> tuple[str, str]:
    from bnbench.spaces.nb101.arch import make_cell, module_hash, to_str  # here: bnbench.spaces brings torch

    try:
        matrix, op_list = json.loads(adj), json.loads(ops)
    except json.JSONDecodeError as err:
        raise fail(path, f"line {i + 2}: adjacency / ops are not JSON lists ({err.msg}); expected "
                         f"{EXPECTED_COLUMNS}") from None
    try:
        cell = make_cell(matrix, op_list)
    except ArchError as err:
        raise fail(path, f"line {i + 2}: {err}") from None
    return module_hash(cell), to_str(cell)


def read_metric_csv(path: Path, required: list[tuple[str, tuple[str, ...]]], expected: str):
    """A text CSV with its architecture columns and metric columns checked: ``(df, columns, metrics, values)``.

    ``required``: ``(what, names)`` per architecture column (e.g. ``("a genotype column", GENOTYPE_COLUMNS)``);
    ``columns`` the column found for each, ``metrics`` :func:`metric_columns`, ``values`` each metric column as
    exact floats. BenchmarkError naming ``path`` (with ``expected``) for an unreadable file, the first missing
    column, no rows, text in a metric column or accuracies given as fractions."""
    import pandas as pd

    try:
        df = read_csv(path, dtype=str, keep_default_na=False)
    except (ValueError, OSError, pd.errors.ParserError) as err:
        raise fail(path, f"unreadable CSV ({short(err)}); expected {expected}") from None
    df.columns = [str(c).strip() for c in df.columns]
    fields = list(df.columns)
    columns, metrics = [find(fields, names) for _, names in required], metric_columns(fields)
    missing = next((what for (what, _), col in zip(required, columns) if col is None),
                   None if metrics else "a metric column")
    if missing:
        raise fail(path, f"CSV lacks {missing} (columns: {', '.join(fields)[:120]}); expected {expected}")
    if df.empty:
        raise fail(path, f"CSV has no rows; expected {expected}")
    values = {name: _numeric(path, df[name], name) for name in metrics}
    _check_percent(path, {name: v for name, v in values.items() if metrics[name][1] == "accuracy"})
    return df, columns, metrics, values


def _numeric(path: Path, column, name: str) -> np.ndarray:
    """Exact floats (Python's parser) of a text column; empty cells NaN; BenchmarkError for text."""
    out = np.full(len(column), np.nan)
    for i, cell in enumerate(column.tolist()):
        cell = cell.strip()
        if not cell:
            continue
        try:
            out[i] = float(cell)
        except ValueError:
            raise fail(path, f"line {i + 2}: column {name!r} holds {cell[:30]!r}, not a number; expected numbers "
                             "(percent for accuracies)") from None
    return out


def _check_percent(path: Path, accuracies: dict[str, np.ndarray]) -> None:
    for name, values in accuracies.items():
        finite = values[np.isfinite(values)]
        if finite.size and 0.0 <= finite.min() and finite.max() <= 1.0:
            raise fail(path, f"its {name} values all lie in [0, 1] (max {finite.max():g}): fractions, not the "
                             "percentages bnbench reads; multiply them by 100")
        if finite.size and (finite.min() < 0.0 or finite.max() > 100.0):
            raise fail(path, f"its {name} values reach {finite.min():g}..{finite.max():g}, outside 0-100 %")
