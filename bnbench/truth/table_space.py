"""Which search space a ground truth belongs to, and the one-line refusal to use it with another.

Every table records its space in ``meta["space"]``: readers of benchmark files set it (``nb201`` for the
NB201 ``.pth``, NATS-Bench directories and NB201/NATS CSVs; ``nb101`` for the NB101 tfrecords, pickles and
CSVs), tables built by ``bnbench truth build`` record it in their config. For an older table without it, the
space is inferred from the content: NB201 arch strings start with ``|``, NB101 keys are 32-digit module hashes
(or, in hand-made tables, ``{"matrix": ...}`` JSON), DARTS keys are ``Genotype(...)`` strings, MobileNet keys
``k3e6-k5e3-...`` block strings. A table that shows none of these has no known space and is never refused. A
``mobilenet`` table serves ``mobilenet-depth`` too (every fixed-depth architecture is one of the depth space).
"""

from __future__ import annotations

import os
import re

from bnbench.truth.fail import fail
from bnbench.truth.table import TruthTable

KEY_WORDS = {"nb201": "NB201 arch strings", "nb101": "module hashes", "darts": "DARTS genotypes",
             "mobilenet": "MBConv block strings", "mobilenet-depth": "MBConv block strings"}
NAMES = {"nb201": "NB201", "nb101": "NB101", "darts": "DARTS", "mobilenet": "MobileNet",
         "mobilenet-depth": "MobileNet (depth search)"}
SERVES = {"mobilenet": {"mobilenet-depth"}}  # a table of the key space is valid for these spaces too
_HASH = re.compile(r"^[0-9a-f]{32}$")
_BLOCKS = re.compile(r"^(k\d+e\d+|id)(-(k\d+e\d+|id))+$")


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
    if archs and all(_BLOCKS.match(a) for a in archs):
        return "mobilenet-depth" if any("id" in a.split("-") for a in archs) else "mobilenet"
    return None


def check_space(table: TruthTable, space: str | None, source: str | os.PathLike) -> TruthTable:
    """``table`` with ``meta["space"]`` set where it can be told; BenchmarkError naming ``source`` when it belongs
    to a space other than ``space`` (None: no check)."""
    found = infer_space(table)
    if found is not None:
        table.meta.setdefault("space", found)
    if space is None or found is None or found == str(space).lower() or str(space).lower() in SERVES.get(found, ()):
        return table
    name = NAMES.get(found, found)
    keys = f" ({KEY_WORDS[found]})" if found in KEY_WORDS else ""
    raise fail(source, f"a ground truth of the {name} space{keys}, but --space {space}; pass a ground truth of the "
                       f"{space} space or --space {found}")
