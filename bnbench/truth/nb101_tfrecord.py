"""The official NAS-Bench-101 files ``nasbench_only108.tfrecord`` / ``nasbench_full.tfrecord``, without TensorFlow.

Each TFRecord (framing and checksums: :mod:`bnbench.truth.tfrecord`) is one training run, a UTF-8 JSON list
(as ``nasbench.api.NASBench.__init__`` parses it)::

    [module_hash, epochs, raw_adjacency, raw_operations, raw_metrics]

``raw_adjacency`` the pruned V x V matrix as V*V characters ``0``/``1`` (row-major), ``raw_operations`` the V op
names joined by commas, ``raw_metrics`` a base64 ``ModelMetrics`` protobuf (:mod:`bnbench.truth.nb101_metrics`)
whose ``evaluation_data`` are, as the official API reads them, [0] at initialisation, [1] halfway and [2] at
the end of training. ``nasbench_only108`` holds 3 runs of each of the 423,624 cells at 108 epochs (1,270,872
records, 499 MB); ``nasbench_full`` 3 runs at each of 4, 12, 36 and 108 epochs.

The table (:mod:`bnbench.truth.nb101_records`) has per budget the mean over runs of the final train / valid /
test accuracy in percent (the file stores fractions), ``...:halfway`` columns for evaluation [1], the run
count, and ``trainable_parameters``. The file is streamed record by record (memory grows with the cells, not
the records) and converted once to a cached compact table (:func:`bnbench.truth.cache.cached_table`).

Checks: every checksum; every record's JSON layout, its adjacency bits and op names (at most 7 vertices and 9
edges, strictly upper triangular, ``input`` ... ``output``); for the first :data:`HASH_CHECKS` distinct cells
also that the stored cell is pruned and its recomputed module hash equals the stored one (about 0.7 ms a cell
in ``bnbench.spaces.nb101.arch``, so all 423,624 would add minutes; a file keyed or laid out otherwise fails
on its first cells). Anything else is a one-line BenchmarkError naming the file and the record.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
from pathlib import Path

from types import ModuleType

from bnbench.errors import ArchError
from bnbench.truth.fail import fail
from bnbench.truth.nb101_metrics import decode_model_metrics
from bnbench.truth.nb101_records import HALFWAY, RunTable, spec_json
from bnbench.truth.table import TruthTable
from bnbench.truth.tfrecord import crc_implementation, iter_records

EXPECTED = "expected the official NAS-Bench-101 nasbench_only108.tfrecord or nasbench_full.tfrecord"
LAYOUT = "a JSON list [module hash, epochs, adjacency bits, comma-joined ops, base64 ModelMetrics]"
HASH_CHECKS = 500
QUANTITIES = [(s, "accuracy", "") for s in ("train", "valid", "test")] + \
             [(s, "accuracy", HALFWAY) for s in ("train", "valid", "test")]


class _Bad(ValueError):
    """A malformed record (the reason, without the file and record number)."""


def read_nb101_tfrecord(path: str | os.PathLike) -> TruthTable:
    """Every run in ``path`` gathered per cell (module hash) and budget; BenchmarkError for a damaged, truncated
    or foreign file."""
    from bnbench.spaces.nb101 import arch  # imported here: bnbench.spaces brings torch

    path = Path(path)
    runs = RunTable(QUANTITIES, scale=100.0)
    checked = records = 0
    for number, data in enumerate(iter_records(path, EXPECTED)):
        try:
            key, epochs, raw_adjacency, raw_operations, raw_metrics = _fields(data)
            row = runs.row(key)
            metrics = _metrics(raw_metrics)
            if row < 0:
                spec = _spec(raw_adjacency, raw_operations, arch)
                if checked < HASH_CHECKS:
                    _check_hash(key, raw_adjacency, raw_operations, spec, arch)
                    checked += 1
                row = runs.new_row(key, spec, metrics.trainable_parameters)
            if len(metrics.evaluations) < 3:
                raise _Bad(f"{len(metrics.evaluations)} evaluations in its ModelMetrics, not the 3 (initial, "
                           "halfway, final) the official API reads")
            half, final = metrics.evaluations[1], metrics.evaluations[2]
            runs.add(row, epochs, (final.train_accuracy, final.validation_accuracy, final.test_accuracy,
                                   half.train_accuracy, half.validation_accuracy, half.test_accuracy))
        except _Bad as err:
            raise fail(path, f"record {number}: {err}; {EXPECTED}") from None
        records = number + 1
    meta = {"values": "final evaluation of each run (ModelMetrics.evaluation_data[2]; halfway = [1]), percent, "
                      "mean over the runs of each cell and budget",
            "records": records, "checks": f"all checksums ({crc_implementation()} CRC-32C); module hash recomputed "
                                          f"for the first {checked} cells"}
    return runs.table(path, "nb101-tfrecord", meta, listed="runs per cell")


def _fields(data: bytes) -> tuple[str, int, str, str, str]:
    try:
        fields = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _Bad(f"not {LAYOUT} (a foreign TFRecord file?)") from None
    if not (isinstance(fields, list) and len(fields) == 5 and isinstance(fields[0], str)
            and type(fields[1]) is int and all(isinstance(f, str) for f in fields[2:])):
        raise _Bad(f"not {LAYOUT} (found {str(fields)[:60]!r}; a foreign TFRecord file?)")
    if len(fields[0]) != 32 or fields[1] <= 0:
        raise _Bad(f"module hash {fields[0][:40]!r} or epochs {fields[1]} out of range")
    return fields[0], fields[1], fields[2], fields[3], fields[4]


def _metrics(raw: str):
    try:
        return decode_model_metrics(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError) as err:
        raise _Bad(f"unreadable ModelMetrics ({err})") from None


def _spec(raw_adjacency: str, raw_operations: str, arch: ModuleType) -> str:
    """The cell's one-line JSON after the cheap structural checks (the file holds pruned cells)."""
    n = math.isqrt(len(raw_adjacency))
    ops = raw_operations.split(",")
    problem = None
    if n * n != len(raw_adjacency) or not 2 <= n <= arch.MAX_VERTICES or not set(raw_adjacency) <= {"0", "1"}:
        problem = (f"adjacency {raw_adjacency[:60]!r} is not the bits of a square matrix of 2-{arch.MAX_VERTICES} "
                   "vertices")
    elif len(ops) != n or ops[0] != "input" or ops[-1] != "output" or not set(ops[1:-1]) <= set(arch.OPS):
        problem = f"ops {raw_operations[:100]!r} are not input, {n - 2} of {', '.join(arch.OPS)}, output"
    elif any(raw_adjacency[i * n + j] == "1" for i in range(n) for j in range(i + 1)):
        problem = "adjacency is not strictly upper triangular"
    elif raw_adjacency.count("1") > arch.MAX_EDGES:
        problem = f"{raw_adjacency.count('1')} edges, more than NB101's {arch.MAX_EDGES}"
    if problem:
        raise _Bad(problem)
    rows = [[1 if c == "1" else 0 for c in raw_adjacency[i * n:(i + 1) * n]] for i in range(n)]
    return spec_json(rows, ops)


def _check_hash(key: str, raw_adjacency: str, raw_operations: str, spec: str, arch: ModuleType) -> None:
    n = math.isqrt(len(raw_adjacency))
    matrix = [[int(c) for c in raw_adjacency[i * n:(i + 1) * n]] for i in range(n)]
    try:
        cell = arch.make_cell(matrix, raw_operations.split(","))
    except ArchError as err:
        raise _Bad(str(err)) from None
    if arch.to_str(cell) != spec:
        raise _Bad(f"cell {spec[:80]}... is not pruned (the official files hold pruned cells)")
    recomputed = arch.module_hash(cell)
    if recomputed != key:
        raise _Bad(f"stored module hash {key} differs from its cell's, {recomputed}")
