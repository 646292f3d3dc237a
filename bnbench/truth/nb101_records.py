"""NAS-Bench-101 training runs gathered into a :class:`TruthTable`: one row per cell, the mean of its runs.

Every NB101 source (the official tfrecords, the API's pickled dict, accuracy CSVs) lists **runs**: one cell
(pruned spec, keyed by its official module hash) trained once for a budget of 4, 12, 36 or 108 epochs. A table
row is one cell; each value is the mean over that cell's runs at that budget, and ``{dataset}:seeds:{epochs}``
records how many runs it is the mean of (3 in the official files: NB101 trained every cell three times).

The setting is NB101's own CIFAR-10 protocol, labelled :data:`DATASET` (``nb101-cifar10``) so that it is never
confused with NB201's ``cifar10`` (trained on all 50k images, no validation split): each cell is trained on
40,000 training images; ``train`` is the accuracy on a fixed 10,000 of them, ``valid`` on the other 10,000
training images held out, ``test`` on the 10,000-image test set. Accuracies are percent (the official files
store fractions; readers convert). Columns ``...:{epochs}:halfway`` hold the evaluation at half the schedule
(epoch ``epochs/2`` of the ``epochs``-epoch schedule, not a shorter schedule's end), and
``trainable_parameters`` the official parameter count.

Keys and specs: ``TruthTable.archs`` are the module hashes (``bnbench.spaces.nb101.arch.module_hash`` of the
pruned cell, the official ``hash_module``); ``TruthTable.arch_specs`` the pruned cells in the space's one-line
JSON form (``arch.to_str``), which bnbench builds and scores. NB101 has no integer index: indices are -1.
"""

from __future__ import annotations

import json
import math
import os
from array import array
from typing import Sequence

import numpy as np

from bnbench.truth.fail import fail
from bnbench.truth.spec import column_name, seeds_column
from bnbench.truth.table import TruthTable

SPACE = "nb101"
DATASET = "nb101-cifar10"
BUDGETS = (4, 12, 36, 108)  # the official schedules (nasbench_full); nasbench_only108 has 108 only
DEFAULT_EPOCHS = 108
PARAMS_COLUMN = "trainable_parameters"
HALFWAY = ":halfway"
SPLITS_NOTE = ("NB101 CIFAR-10 protocol: trained on 40k training images; train = a fixed 10k of them, valid = the "
               "10k held-out training images, test = the 10k test set; percent")
KEYS_NOTE = "archs are official module hashes of the pruned cells; spec = the cell as one-line JSON"
DATASET_ALIASES = (None, "cifar10", DATASET)  # what a user may name the one NB101 setting as


def nb101_dataset(path: str | os.PathLike, dataset: str | None) -> str:
    """:data:`DATASET` for ``dataset`` None, ``cifar10`` or ``nb101-cifar10``; BenchmarkError for anything else."""
    if dataset not in DATASET_ALIASES:
        raise fail(path, f"an NB101 ground truth holds one setting, {DATASET} (CIFAR-10, 40k/10k/10k), not "
                         f"--dataset {dataset}")
    return DATASET


def spec_json(rows: Sequence[Sequence[int]], ops: Sequence[str]) -> str:
    """The one-line JSON form of a cell (identical to ``arch.to_str`` of the same pruned cell)."""
    return json.dumps({"matrix": [list(r) for r in rows], "ops": list(ops)}, separators=(", ", ": "))


class RunTable:
    """Runs accumulated per cell and budget (streaming: memory grows with cells, not runs).

    ``quantities``: ``(split, metric, suffix)`` per value a run carries, e.g. ``("valid", "accuracy", "")`` or
    ``("test", "accuracy", HALFWAY)``; each run gives one float per quantity (NaN = not measured), multiplied
    by ``scale`` (100 for fractions). A value missing from some runs is the mean of the runs that have it.
    """

    def __init__(self, quantities: Sequence[tuple[str, str, str]], scale: float = 1.0, dataset: str = DATASET):
        self.quantities = list(quantities)
        self.scale = float(scale)
        self.dataset = dataset
        self.keys: list[str] = []
        self.specs: list[str] = []
        self._row: dict[str, int] = {}
        self._cap = 1024
        # per budget: sums and counts (row-major, one slot per row and quantity) and runs per row; compact typed
        # arrays, updated element by element (a numpy scalar update costs ten times more per run)
        self._budgets: dict[int, tuple[array, array, array]] = {}
        self._params = array("d", [math.nan]) * self._cap

    def __len__(self) -> int:
        return len(self.keys)

    def row(self, key: str) -> int:
        """The row of cell ``key``, or -1 if not seen yet (then call :meth:`new_row`)."""
        return self._row.get(key, -1)

    def new_row(self, key: str, spec: str, params: float | None = None) -> int:
        """Start the row of a cell seen for the first time."""
        row = len(self.keys)
        if row == self._cap:
            self._grow()
        self._row[key] = row
        self.keys.append(key)
        self.specs.append(spec)
        if params is not None:
            self._params[row] = params
        return row

    def add(self, row: int, epochs: int, values: Sequence[float]) -> None:
        """One run of the cell in ``row`` at budget ``epochs`` (``values`` in :attr:`quantities` order)."""
        arrays = self._budgets.get(epochs)
        if arrays is None:
            q = len(self.quantities)
            arrays = self._budgets[epochs] = (array("d", [0.0]) * (self._cap * q), array("q", [0]) * (self._cap * q),
                                              array("q", [0]) * self._cap)
        sums, counts, runs = arrays
        runs[row] += 1
        slot = row * len(self.quantities)
        isfinite = math.isfinite
        for value in values:
            if isfinite(value):  # NaN / inf: not measured
                sums[slot] += value
                counts[slot] += 1
            slot += 1

    def _grow(self) -> None:
        self._params.extend(array("d", [math.nan]) * self._cap)
        for sums, counts, runs in self._budgets.values():
            sums.extend(array("d", [0.0]) * len(sums))
            counts.extend(array("q", [0]) * len(counts))
            runs.extend(array("q", [0]) * len(runs))
        self._cap *= 2

    def _arrays(self, epochs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sums ``(n, q)``, counts ``(n, q)`` and runs ``(n,)`` of budget ``epochs`` for the ``n`` rows so far."""
        n, q = len(self.keys), len(self.quantities)
        sums, counts, runs = self._budgets[epochs]
        return (np.frombuffer(sums, np.float64)[:n * q].reshape(n, q),
                np.frombuffer(counts, np.int64)[:n * q].reshape(n, q), np.frombuffer(runs, np.int64)[:n])

    def run_counts(self) -> np.ndarray:
        """Runs per cell at each budget that cell has (all budgets together), for the aggregation note."""
        counts = [runs[runs > 0] for runs in (self._arrays(e)[2] for e in self._budgets)]
        return np.concatenate(counts) if counts else np.zeros(0, np.int64)

    def columns(self) -> dict[str, np.ndarray]:
        """Mean per quantity and budget (longest budget first), the run counts, then the parameter count."""
        n = len(self.keys)
        out: dict[str, np.ndarray] = {}
        for epochs in sorted(self._budgets, reverse=True):
            sums, counts, runs = (a.copy() for a in self._arrays(epochs))
            for i, (split, metric, suffix) in enumerate(self.quantities):
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = np.where(counts[:, i] > 0, sums[:, i] / counts[:, i], np.nan) * self.scale
                if np.isfinite(mean).any():
                    out[column_name(self.dataset, split, metric, epochs) + suffix] = mean
            out[seeds_column(self.dataset, epochs)] = np.where(runs > 0, runs, np.nan).astype(np.float64)
        params = np.frombuffer(self._params, np.float64)[:n].copy()
        if np.isfinite(params).any():
            out[PARAMS_COLUMN] = params
        return out

    def table(self, path: str | os.PathLike, kind: str, meta: dict | None = None,
              listed: str = "runs per cell") -> TruthTable:
        """The finished table; BenchmarkError naming ``path`` if no run was read."""
        if not self.keys:
            raise fail(path, "holds no NB101 run")
        runs = self.run_counts()
        low, high = int(runs.min()), int(runs.max())
        count = f"{low}" if low == high else f"{low}-{high}"
        full = {"source": os.fspath(path), "source_kind": kind, "space": SPACE,
                "aggregation": f"mean of the {count} {listed}", "splits": SPLITS_NOTE, "keys": KEYS_NOTE,
                **(meta or {})}
        return TruthTable(list(self.keys), np.full(len(self.keys), -1, dtype=np.int64), self.columns(), full,
                          arch_specs=list(self.specs))
