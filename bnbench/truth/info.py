"""What a ground-truth source holds, in words: ``bnbench truth info SOURCE``."""

from __future__ import annotations

import os
from collections import defaultdict

import numpy as np

from bnbench.truth.detect import detect_kind
from bnbench.truth.load import read_source
from bnbench.truth.select import is_built
from bnbench.truth.spec import SPLIT_WORDS, seeds_column

KIND_WORDS = {"nb201-pth": "official NAS-Bench-201 .pth", "nats-dir": "NATS-Bench topology archive directory",
              "table": "bnbench truth table", "nb201-csv": "accuracy CSV", "nats-csv": "NATS-Bench accuracy CSV",
              "nb101-tfrecord": "official NAS-Bench-101 .tfrecord", "nb101-pkl": "NAS-Bench-101 API pickle",
              "nb101-csv": "NAS-Bench-101 accuracy CSV"}
SPACE_KEYS = {"nb201": "NB201 arch strings", "nb101": "module hashes of the pruned cells, each with its spec"}
_NAMED_COLUMNS = ("arch", "index", "adjacency", "ops", "hash")  # columns_read entries that name a source column


def describe_source(path: str | os.PathLike, dataset: str | None = None, epochs: int | None = None) -> list[str]:
    """Lines describing ``path``: kind, architectures, and per setting the splits, metrics, budgets and seeds.

    ``dataset`` / ``epochs`` label an accuracy CSV whose name does not state them (as in ``correlate``).
    Raises BenchmarkError for a source bnbench cannot read.
    """
    kind = detect_kind(path)
    table = read_source(path, dataset=dataset, epochs=epochs)
    meta = table.meta
    indexed = int((np.asarray(table.indices) >= 0).sum())
    lines = [f"{os.fspath(path)}: {KIND_WORDS.get(kind, kind)} ({kind})",
             f"architectures: {len(table.archs)}" + (f" ({indexed} with a benchmark index)" if indexed else
                                                     " (no benchmark index)")]
    if meta.get("space"):
        keys = SPACE_KEYS.get(meta["space"])
        lines.append(f"space: {meta['space']}" + (f" (keys: {keys})" if keys else ""))
    if kind == "table" and meta.get("source_kind"):
        lines.append(f"converted from: {meta.get('source')} ({meta['source_kind']})")
    if is_built(meta):
        cfg = meta["config"]
        lines.append(f"built by bnbench: {cfg.get('space')} on {cfg.get('dataset')}, seeds {cfg.get('seeds')}, "
                     f"{cfg.get('folds')} folds, training {cfg.get('train')}")
    lines.append(f"aggregation: {meta.get('aggregation', 'not recorded')}")
    if meta.get("repeats"):
        lines.append(f"rows: {meta['repeats']}")
    if meta.get("setting_from"):
        lines.append(f"setting and budget taken from: {meta['setting_from']}")
    if meta.get("columns_read"):
        read = meta["columns_read"]
        lines.append("columns read: " + ", ".join(f"{k} <- {v!r}" if k in _NAMED_COLUMNS else f"{k!r} -> {v}"
                                                  for k, v in read.items() if v is not None))
    grouped: dict[str, dict[tuple[str, str], list[int]]] = defaultdict(lambda: defaultdict(list))
    for spec in table.specs():
        grouped[spec.dataset][(spec.split, spec.metric)].append(spec.epochs)
    for dataset_name, quantities in grouped.items():
        lines.append(f"{dataset_name}:")
        for (split, metric), budgets in quantities.items():
            parts = []
            for b in sorted(budgets, reverse=True):
                values = table.columns[f"{dataset_name}:{split}:{metric}:{b}"]
                n = int(np.isfinite(values).sum())
                parts.append(f"{b} epochs ({n} archs, {np.nanmin(values):.4g}-{np.nanmax(values):.4g}"
                             f"{_seeds(table, dataset_name, b)})")
            lines.append(f"  {SPLIT_WORDS.get(split, split)} {metric}: " + "; ".join(parts))
    if not grouped:
        lines.append("no ground-truth quantity")
    return lines


def _seeds(table, dataset: str, epochs: int) -> str:
    """', seeds per arch: 1-3' from the seed-count column, the built table's config, or nothing if unknown."""
    counts = table.columns.get(seeds_column(dataset, epochs))
    if counts is not None and np.isfinite(counts).any():
        low, high = int(np.nanmin(counts)), int(np.nanmax(counts))
        return f", seeds per arch: {low}" + (f"-{high}" if high != low else "")
    if is_built(table.meta):
        cfg = table.meta["config"]
        return f", seeds per arch: {len(cfg.get('seeds', []))} (x {cfg.get('folds')} folds)"
    return ", seeds per arch: not recorded"
