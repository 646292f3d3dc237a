"""Entry points: read any supported source, pick one quantity from it, or convert it to a compact table."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from bnbench.truth.cache import cached_table
from bnbench.truth.csv_sources import read_nats_csv, read_nb201_csv
from bnbench.truth.detect import detect_kind
from bnbench.truth.ground import GroundTruth
from bnbench.truth.nats_dir import read_nats_dir
from bnbench.truth.nb201_pth import read_nb201_pth
from bnbench.truth.spec import TruthSpec
from bnbench.truth.table import TruthTable, read_table, write_table

READERS: dict[str, Callable[[Path], TruthTable]] = {
    "nb201-pth": read_nb201_pth, "nats-dir": read_nats_dir, "table": read_table,
    "nb201-csv": read_nb201_csv, "nats-csv": read_nats_csv,
}
CACHED = ("nb201-pth", "nats-dir")  # slow to read: converted once, then read from the cache


def read_source(path: str | os.PathLike, dataset: str | None = None, epochs: int | None = None) -> TruthTable:
    """Every quantity ``path`` holds, whatever its kind (recognised by content).

    ``dataset`` / ``epochs``: the setting and budget the user stated explicitly; only an accuracy CSV whose
    file name does not state them uses them (and one whose name contradicts them is refused).
    """
    kind = detect_kind(path)
    if kind == "nb201-csv":
        return read_nb201_csv(Path(path), dataset, epochs)
    reader = READERS[kind]
    return cached_table(path, reader) if kind in CACHED else reader(Path(path))


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
    return write_table(out_path, table.archs, table.indices, table.columns, meta)
