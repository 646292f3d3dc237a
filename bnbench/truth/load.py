"""Entry points: read any supported source, pick one quantity from it, or convert it to a compact table."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from bnbench.truth.cache import cached_table
from bnbench.truth.csv_sources import read_nats_csv, read_nb201_csv
from bnbench.truth.darts_csv import read_darts_csv
from bnbench.truth.detect import detect_kind
from bnbench.truth.ground import GroundTruth
from bnbench.truth.nats_dir import read_nats_dir
from bnbench.truth.nb101_csv import read_nb101_csv
from bnbench.truth.nb101_pickle import read_nb101_pickle
from bnbench.truth.nb101_tfrecord import read_nb101_tfrecord
from bnbench.truth.nb201_pth import read_nb201_pth
from bnbench.truth.spec import TruthSpec
from bnbench.truth.table import TruthTable, read_table, write_table
from bnbench.truth.table_space import check_space

READERS: dict[str, Callable[[Path], TruthTable]] = {
    "nb201-pth": read_nb201_pth, "nats-dir": read_nats_dir, "table": read_table,
    "nb201-csv": read_nb201_csv, "nats-csv": read_nats_csv,
    "nb101-tfrecord": read_nb101_tfrecord, "nb101-pkl": read_nb101_pickle, "nb101-csv": read_nb101_csv,
    "darts-csv": read_darts_csv,
}
SPACES = {"nb201-pth": "nb201", "nats-dir": "nb201", "nb201-csv": "nb201", "nats-csv": "nb201",
          "nb101-tfrecord": "nb101", "nb101-pkl": "nb101", "nb101-csv": "nb101",
          "darts-csv": "darts"}  # a table records its own
CACHED = ("nb201-pth", "nats-dir", "nb101-tfrecord", "nb101-pkl")  # slow to read: converted once, then cached
LABELLED = ("nb201-csv", "nb101-csv", "darts-csv")  # readers that take the user's --dataset / --truth-epochs


def read_source(path: str | os.PathLike, dataset: str | None = None, epochs: int | None = None,
                space: str | None = None) -> TruthTable:
    """Every quantity ``path`` holds, whatever its kind (recognised by content).

    ``dataset`` / ``epochs``: the setting and budget the user stated explicitly; only an accuracy CSV whose
    file name does not state them uses them (and one whose name contradicts them is refused).
    ``space``: the search space the caller works in; a source of another space is a one-line BenchmarkError
    (:func:`bnbench.truth.table_space.check_space`). The table's ``meta["space"]`` is set either way.
    """
    kind = detect_kind(path)
    if kind in LABELLED:
        table = READERS[kind](Path(path), dataset, epochs)
    else:
        reader = _recording_space(READERS[kind], SPACES.get(kind))
        table = cached_table(path, reader) if kind in CACHED else reader(Path(path))
    if kind in SPACES:
        table.meta.setdefault("space", SPACES[kind])
    return check_space(table, space, path)


def _recording_space(reader: Callable[[Path], TruthTable], space: str | None) -> Callable[[Path], TruthTable]:
    """``reader`` whose table records ``space`` (before caching, so the cached copy records it too)."""
    if space is None:
        return reader

    def read(path: Path) -> TruthTable:
        table = reader(path)
        table.meta.setdefault("space", space)
        return table

    return read


def load_truth(path: str | os.PathLike, spec: TruthSpec = TruthSpec()) -> GroundTruth:
    """The ``spec`` quantity of every architecture ``path`` has a value for."""
    return read_source(path).truth(spec, source=os.fspath(path))


def convert(path: str | os.PathLike, out_path: str | os.PathLike, dataset: str | None = None,
            epochs: int | None = None) -> Path:
    """Write every quantity of any supported source to a compact table at ``out_path``.

    ``dataset`` / ``epochs`` label an accuracy CSV whose file name does not state them (see :func:`read_source`).
    """
    table = read_source(path, dataset=dataset, epochs=epochs)
    meta = dict(table.meta)
    meta.setdefault("source", os.fspath(path))
    return write_table(out_path, table.archs, table.indices, table.columns, meta, specs=table.arch_specs)
