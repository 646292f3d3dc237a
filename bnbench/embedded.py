"""The embedded default: scikit-learn's digits and, per search space, a ground-truth table bnbench built on them.

The table lives in the repository's top-level ``data/`` folder and ships inside the wheel as
``bnbench/_embedded`` (a link to ``data/``). ``bnbench truth build`` regenerates it; its header
records the exact config, seeds and package versions.
"""

from __future__ import annotations

from pathlib import Path

from bnbench.errors import BenchmarkError

EMBEDDED_DIR = Path(__file__).resolve().parent / "_embedded"
TABLES = {"nb201": "nb201-digits-truth.csv", "nb101": "nb101-digits-truth.csv", "darts": "darts-digits-truth.csv",
          "mobilenet": "mobilenet-digits-truth.csv"}


def embedded_truth_path(space: str) -> Path:
    if space not in TABLES:
        raise BenchmarkError(f"no embedded ground truth for space {space!r}: pass --benchmark (embedded: {', '.join(TABLES)})")
    path = EMBEDDED_DIR / TABLES[space]
    if not path.is_file():
        raise BenchmarkError(f"embedded ground-truth table {path} is missing: reinstall bnbench or run `bnbench truth build`")
    return path
