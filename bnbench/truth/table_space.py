"""Which search space a ground truth belongs to, and the one-line refusal to use it with another.

Every table records its space in ``meta["space"]``: readers of benchmark files set it (``nb201`` for the
NB201 ``.pth``, NATS-Bench directories and NB201/NATS CSVs; ``nb101`` for the NB101 tfrecords, pickles and
CSVs), tables built by ``bnbench truth build`` record it in their config. For an older table without it, the
space is inferred from the content: NB201 arch strings start with ``|``, NB101 keys are 32-digit module hashes
(or, in hand-made tables, ``{"matrix": ...}`` JSON), DARTS keys are ``Genotype(...)`` strings. A table that shows
none of these has no known space and is never refused.
"""

from __future__ import annotations

import os
import re

from bnbench.truth.fail import fail
from bnbench.truth.table import TruthTable

KEY_WORDS = {"nb201": "NB201 arch strings", "nb101": "module hashes", "darts": "DARTS genotypes"}
NAMES = {"nb201": "NB201", "nb101": "NB101", "darts": "DARTS"}
_HASH = re.compile(r"^[0-9a-f]{32}$")


def infer_space(table: TruthTable) -> str | None:
    """The space ``table`` records (``meta["space"]``, else a built table's ``config.space``), else the one its
    keys show; None when nothing tells."""
    meta = table.meta
    recorded = meta.get("space") or (meta.get("config") or {}).get("space")
    if recorded:
        return str(recorded).lower()
    archs = table.archs[:100]
    if archs and all(a.startswith("|") for a in archs):
        return "nb201"
    if archs and all(_HASH.match(a) or a.lstrip().startswith("{") for a in archs):
        return "nb101"
    if archs and all(a.startswith("Genotype(") for a in archs):
        return "darts"
    return None


def check_space(table: TruthTable, space: str | None, source: str | os.PathLike) -> TruthTable:
    """``table`` with ``meta["space"]`` set where it can be told; BenchmarkError naming ``source`` when it belongs
    to a space other than ``space`` (None: no check)."""
    found = infer_space(table)
    if found is not None:
        table.meta.setdefault("space", found)
    if space is None or found is None or found == str(space).lower():
        return table
    name = NAMES.get(found, found)
    keys = f" ({KEY_WORDS[found]})" if found in KEY_WORDS else ""
    raise fail(source, f"an {name} ground truth{keys}, but --space {space}; pass a ground truth of the {space} "
                       f"space or --space {found}")
