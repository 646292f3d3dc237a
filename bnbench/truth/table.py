"""bnbench's compact ground-truth table: a one-line JSON header, then ``index,arch,<column>...`` CSV.

Line 1 is ``# bnbench-truth-table v1 {json}`` (source, aggregation, created, package versions and,
for tables bnbench built itself, their config and seeds). The CSV that follows has one column per
quantity, named ``{dataset}:{split}:{metric}:{epochs}``; an empty cell means "not measured".

The ``arch`` column holds each architecture's **truth key**: the architecture string itself for NB201 and
MobileNet, the canonical genotype string for DARTS (CSV-quoted: it holds commas), the official module hash of the
pruned cell for NB101 (a short, canonical key: isomorphic specs share it). Where
the key is not the architecture itself, a third fixed column ``spec`` follows ``arch`` (``index,arch,spec,...``)
holding the architecture in its space's one-line string form (NB101: ``{"matrix": [[...]], "ops": [...]}``),
CSV-quoted as needed, so bnbench can build and score every row; ``TruthTable.arch_specs`` holds it (None for
tables without the column). Tables without specs (every NB201 table) are written exactly as before.
The header's ``space`` entry names the search space the keys belong to (see :mod:`bnbench.truth.table_space`).
"""

from __future__ import annotations

import io
import json
import math
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from bnbench.truth.csvread import read_csv
from bnbench.truth.fail import fail, short
from bnbench.truth.ground import GroundTruth
from bnbench.truth.spec import TruthSpec, parse_column
from bnbench.utils.env import package_versions
from bnbench.utils.io import atomic_write_text

MAGIC = "# bnbench-truth-table"
VERSION = "v1"
HEADER = f"{MAGIC} {VERSION} "
FIXED = ("index", "arch")
SPEC = "spec"  # the optional third fixed column: the architecture, where ``arch`` holds only its key
EXPECTED = f"expected a bnbench truth table ('{HEADER.strip()} {{json}}' then an index,arch,... CSV)"


@dataclass
class TruthTable:
    """Every quantity a source has, one float64 column each (NaN = not measured for that arch)."""

    archs: list[str]
    indices: np.ndarray
    columns: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)
    arch_specs: list[str] | None = None  # the space's string form of each row, where ``archs`` are keys

    def truth(self, spec: TruthSpec, source: str | os.PathLike | None = None) -> GroundTruth:
        """The :class:`GroundTruth` for ``spec`` (archs with no value left out); BenchmarkError if absent."""
        source = os.fspath(source if source is not None else self.meta.get("source", "<table>"))
        key = spec.column()
        if key not in self.columns:
            raise fail(source, f"has no {key} ({spec.describe()}); available: {', '.join(self.columns) or 'none'}")
        values = self.columns[key]
        keep = np.flatnonzero(np.isfinite(values))
        if keep.size == 0:
            raise fail(source, f"column {key} has no values")
        return GroundTruth(archs=[self.archs[i] for i in keep], indices=self.indices[keep], values=values[keep],
                           spec=spec, source=source, aggregation=str(self.meta.get("aggregation", "mean of seeds")),
                           meta=dict(self.meta))

    def specs(self) -> list[TruthSpec]:
        """The quantities (4-part columns) this table holds."""
        return [s for s in map(parse_column, self.columns) if s is not None]

    def arch_specs_of(self, keys: Sequence[str], source: str | os.PathLike | None = None) -> list[str]:
        """The architecture (space string form) of each truth key in ``keys``; the keys themselves for a table
        whose keys are the architectures. BenchmarkError naming the source for a key the table lacks."""
        if self.arch_specs is None:
            return [str(k) for k in keys]
        position = {a: i for i, a in enumerate(self.archs)}
        missing = [k for k in keys if k not in position]
        if missing:
            source = os.fspath(source if source is not None else self.meta.get("source", "<table>"))
            raise fail(source, f"{len(missing)} truth keys are not in the table, e.g. {missing[0]}")
        return [self.arch_specs[position[k]] for k in keys]


def write_table(path: str | os.PathLike, archs: Sequence[str], indices: Sequence[int] | np.ndarray,
                columns: Mapping[str, np.ndarray], meta: Mapping, specs: Sequence[str] | None = None) -> Path:
    """Write a compact table atomically; ``meta`` gains ``created`` and ``versions`` unless given.

    ``specs``: the architecture of each row in its space's one-line form, where ``archs`` are keys (NB101's
    module hashes); written as the ``spec`` column. None (NB201) writes no such column.
    """
    archs = [str(a) for a in archs]
    _check_table(path, archs, indices, columns, specs)
    meta = {"format": f"bnbench-truth-table {VERSION}", **dict(meta)}
    meta.setdefault("created", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    meta.setdefault("versions", package_versions())
    fixed = [*FIXED, SPEC] if specs is not None else list(FIXED)
    lines = [HEADER + json.dumps(meta, default=str), ",".join([*fixed, *columns])]
    cells = [_cells(v) for v in columns.values()]
    index_cells = [str(i) for i in np.asarray(indices, dtype=np.int64).tolist()]
    if specs is not None:
        cells.insert(0, [_quoted(str(s)) for s in specs])
    lines.extend(",".join(row) for row in zip(index_cells, [_quoted(a) for a in archs], *cells))
    return atomic_write_text(path, "\n".join(lines) + "\n")


def _quoted(text: str) -> str:
    """A CSV field: quoted (inner quotes doubled) when it holds a comma or a quote."""
    return '"' + text.replace('"', '""') + '"' if ("," in text or '"' in text) else text


def _cells(values: np.ndarray) -> list[str]:
    """Shortest exact text of each float (``repr``); empty for NaN/inf ("not measured")."""
    return [repr(x) if math.isfinite(x) else "" for x in np.asarray(values, dtype=np.float64).tolist()]


def _check_table(path: str | os.PathLike, archs: list[str], indices, columns: Mapping[str, np.ndarray],
                 specs: Sequence[str] | None = None) -> None:
    lengths = {len(archs), len(indices), *(len(v) for v in columns.values())} | ({len(specs)} if specs is not None
                                                                                 else set())
    if len(lengths) != 1:
        raise fail(path, f"cannot write a truth table with mismatched lengths {sorted(lengths)}")
    bad = [n for n in columns if any(ch in n for ch in ',"\n\r')]  # architectures are quoted (DARTS genotypes)
    bad += [a for a in archs if not a or any(ch in a for ch in "\n\r")]
    bad += [n for n in columns if n in (*FIXED, SPEC)]
    bad += [s for s in specs or () if not s or any(ch in str(s) for ch in "\n\r")]
    if bad:
        raise fail(path, f"cannot write a truth table: name {bad[0]!r} contains a comma/quote/newline, is empty "
                         "or is reserved")


def read_table(path: str | os.PathLike) -> TruthTable:
    """Read a compact table (milliseconds for 15,625 rows)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise fail(path, f"cannot read ({short(err)}); {EXPECTED}") from None
    first, _, body = text.partition("\n")
    meta = _parse_header(path, first)
    archs, indices, columns, specs = _parse_body(path, body)
    return TruthTable(archs, indices, columns, meta=meta, arch_specs=specs)


def _parse_header(path: Path, first: str) -> dict:
    if not first.startswith(MAGIC):
        raise fail(path, f"first line is not the table header; {EXPECTED}")
    version, _, payload = first[len(MAGIC):].strip().partition(" ")
    if version != VERSION:
        raise fail(path, f"table format {version!r} is not supported (expected {VERSION})")
    try:
        meta = json.loads(payload)
    except json.JSONDecodeError as err:
        raise fail(path, f"header metadata is not valid JSON ({short(err)}); {EXPECTED}") from None
    if not isinstance(meta, dict):
        raise fail(path, f"header metadata is not a JSON object; {EXPECTED}")
    return meta


def _parse_body(path: Path, body: str) -> tuple[list[str], np.ndarray, dict[str, np.ndarray], list[str] | None]:
    import pandas as pd

    header = body.partition("\n")[0].split(",")
    if tuple(header[:2]) != FIXED or len(set(header)) != len(header):
        raise fail(path, f"table columns start {header[:2]} (or repeat a name); {EXPECTED}")
    first = 3 if header[2:3] == [SPEC] else 2
    dtypes = {name: "float64" for name in header[first:]} | {"index": "int64", "arch": str, SPEC: str}
    try:
        df = read_csv(io.StringIO(body), dtype=dtypes)
    except (ValueError, pd.errors.ParserError) as err:
        raise fail(path, f"malformed table rows ({short(err)}); {EXPECTED}") from None
    archs = df["arch"].tolist()
    problem = "no rows" if not archs else "an empty arch cell" if not all(isinstance(a, str) for a in archs) \
        else "repeated architectures" if len(set(archs)) != len(archs) else None
    specs = df[SPEC].tolist() if first == 3 else None
    if specs is not None and not all(isinstance(s, str) and s for s in specs):
        problem = "an empty spec cell"
    if problem:
        raise fail(path, f"table has {problem}; {EXPECTED}")
    columns = {name: df[name].to_numpy(dtype=np.float64) for name in header[first:]}
    return archs, df["index"].to_numpy(dtype=np.int64), columns, specs
