"""The official NB101 API's data as a pickled dict (e.g. NASLib's ``nb101_dummy.pkl``, 30 records).

Layout, exactly what ``nasbench.api.NASBench.get_metrics_from_hash`` returns for every hash::

    {module_hash: (fixed_stats, {epochs: [run, run, run]})}

``fixed_stats``: ``module_adjacency`` (pruned V x V 0/1 array), ``module_operations`` (V op names),
``trainable_parameters``; each run: ``final_`` / ``halfway_`` + ``train_accuracy`` / ``validation_accuracy`` /
``test_accuracy`` (fractions) / ``training_time``. The table (:mod:`bnbench.truth.nb101_records`) holds per
budget the mean over runs in percent, the run count, ``...:halfway`` columns and ``trainable_parameters``.

The file is unpickled with an allow-list (dicts, lists, tuples, numbers, strings and numpy arrays/scalars
only), so a pickle that would run other code is refused rather than executed. Every key is checked: the cell
is validated and pruned (``make_cell``) and its recomputed module hash must equal the key (about 0.7 ms per
cell).
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path
from typing import Any

from bnbench.errors import ArchError
from bnbench.truth.fail import fail, short
from bnbench.truth.nb101_records import HALFWAY, RunTable
from bnbench.truth.table import TruthTable

EXPECTED = ("expected the NB101 API's dict {module_hash: (fixed_stats, {epochs: [run, ...]})} pickled "
            "(as nb101-30-records.pkl)")
QUANTITIES = [(s, "accuracy", "") for s in ("train", "valid", "test")] + \
             [(s, "accuracy", HALFWAY) for s in ("train", "valid", "test")]
RUN_KEYS = [f"final_{s}_accuracy" for s in ("train", "validation", "test")] + \
           [f"halfway_{s}_accuracy" for s in ("train", "validation", "test")]
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"), ("numpy", "ndarray"),
            ("numpy", "dtype"), ("collections", "OrderedDict"),
            ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),  # protocol 5 arrays
            ("_codecs", "encode")}  # protocol 2 writes an array's bytes as _codecs.encode(text, "latin1")


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")
        with warnings.catch_warnings():  # numpy 2 warns about the numpy.core path older pickles name
            warnings.simplefilter("ignore", DeprecationWarning)
            return super().find_class(module, name)


def read_nb101_pickle(path: str | os.PathLike) -> TruthTable:
    """Every run of every cell in the pickled dict; BenchmarkError for another layout or a wrong key."""
    path = Path(path)
    data = _load(path)
    runs = RunTable(QUANTITIES, scale=100.0)
    for key, value in data.items():
        fixed, computed = _entry(path, key, value)
        spec = _cell(path, key, fixed)
        row = runs.new_row(key, spec, _number(fixed.get("trainable_parameters")))
        for epochs, run_list in computed.items():
            if type(epochs) is not int or epochs <= 0 or not isinstance(run_list, (list, tuple)):
                raise fail(path, f"{key}: computed stats {epochs!r} -> {type(run_list).__name__}, expected "
                                 f"{{epochs: [run, ...]}}; {EXPECTED}")
            for run in run_list:
                if not isinstance(run, dict) or not any(k in run for k in RUN_KEYS):
                    raise fail(path, f"{key}: a {epochs}-epoch run is not a dict of {RUN_KEYS[1]} etc.; {EXPECTED}")
                runs.add(row, epochs, [_number(run.get(k)) for k in RUN_KEYS])
    meta = {"values": "final_* of each run (halfway = halfway_*), percent, mean over the runs of each cell and "
                      "budget", "checks": f"module hash recomputed for all {len(runs)} cells"}
    return runs.table(path, "nb101-pkl", meta, listed="runs per cell")


def _load(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            data = _Unpickler(fh).load()
    except Exception as err:  # UnpicklingError, EOFError, ValueError, ... on a damaged or foreign file
        raise fail(path, f"unreadable pickle ({short(err)}); {EXPECTED}") from None
    if not isinstance(data, dict) or not data:
        raise fail(path, f"holds a {type(data).__name__}{' (empty)' if data == {} else ''}; {EXPECTED}")
    return data


def _entry(path: Path, key: Any, value: Any) -> tuple[dict, dict]:
    if not isinstance(key, str) or not isinstance(value, (tuple, list)) or len(value) != 2 \
            or not isinstance(value[0], dict) or not isinstance(value[1], dict):
        raise fail(path, f"entry {str(key)[:40]!r} is not module_hash -> (fixed_stats, computed_stats); {EXPECTED}")
    return value[0], value[1]


def _cell(path: Path, key: str, fixed: dict) -> str:
    from bnbench.spaces.nb101.arch import make_cell, module_hash, to_str  # here: bnbench.spaces brings torch

    if "module_adjacency" not in fixed or "module_operations" not in fixed:
        raise fail(path, f"{key}: fixed_stats lacks module_adjacency / module_operations; {EXPECTED}")
    adjacency = fixed["module_adjacency"]
    matrix = adjacency.tolist() if hasattr(adjacency, "tolist") else adjacency
    try:
        cell = make_cell(matrix, list(fixed["module_operations"]))
    except (ArchError, TypeError) as err:
        raise fail(path, f"{key}: {err}") from None
    recomputed = module_hash(cell)
    if recomputed != key:
        raise fail(path, f"key {key} is not the module hash of its cell ({recomputed}); {EXPECTED}")
    return to_str(cell)


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")
