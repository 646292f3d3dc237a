"""Which columns of an accuracy CSV bnbench reads: the architecture, an optional benchmark index, metrics.

An accuracy CSV (kind ``nb201-csv``: the NB201 exports such as ``nb201-v1_1-cifar10-valid-200ep.csv``, or any
table a user writes) needs one **architecture column** and at least one **metric column**; everything else is
optional and ignored (``cfg name``, ``C``, ``N``, ...):

* architecture: ``arch str``, ``arch``, ``arch_str``, ``architecture`` (the first present, case-insensitive);
* benchmark index (optional): ``file id``, ``index``, ``arch index`` (integers; -1 = unknown when absent);
* metrics: ``<split> <metric>`` with split ``train``, ``validation`` / ``valid`` / ``val``, ``test`` and metric
  ``accuracy`` / ``acc`` (percent) or ``loss``, spaces, ``_`` or ``-`` between the words, any case
  (``validation accuracy``, ``test_acc``, ``valid-loss``). A split that has no column is simply absent.
"""

from __future__ import annotations

import re

ARCH_COLUMNS = ("arch str", "arch", "arch_str", "architecture")
INDEX_COLUMNS = ("file id", "index", "arch index")
_SPLIT_WORDS = {"train": "train", "training": "train", "validation": "valid", "valid": "valid", "val": "valid",
                "test": "test"}
_METRIC_WORDS = {"accuracy": "accuracy", "acc": "accuracy", "loss": "loss"}
_METRIC = re.compile(r"^\s*([a-z]+)[\s_-]+([a-z]+)\s*$")
EXPECTED_COLUMNS = ("an architecture column (arch str | arch | architecture) and at least one metric column "
                    "such as 'validation accuracy', 'test accuracy', 'train loss'")


def _find(fields: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {f.strip().lower(): f for f in fields}
    return next((lowered[n] for n in names if n in lowered), None)


def arch_column(fields: list[str]) -> str | None:
    """The architecture column of a header, or None."""
    return _find(fields, ARCH_COLUMNS)


def index_column(fields: list[str]) -> str | None:
    """The benchmark-index column of a header, or None (the index is optional)."""
    return _find(fields, INDEX_COLUMNS)


def metric_of(name: str) -> tuple[str, str] | None:
    """``(split, metric)`` a column name stands for, e.g. ``'validation accuracy'`` -> ``('valid', 'accuracy')``."""
    match = _METRIC.match(name.lower())
    if match is None:
        return None
    split, metric = _SPLIT_WORDS.get(match[1]), _METRIC_WORDS.get(match[2])
    return (split, metric) if split and metric else None


def metric_columns(fields: list[str]) -> dict[str, tuple[str, str]]:
    """``{column: (split, metric)}`` for every metric column of a header, in header order."""
    return {f: m for f in fields if (m := metric_of(f)) is not None}
