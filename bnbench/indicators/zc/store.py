"""Append-only store of per-architecture proxy results (JSON Lines), so reruns skip finished work.

One record per line: ``{"arch", "proxy", "variant", "seed", "batch", "value", "reason", "seconds", "device"}``;
``value`` is ``null`` when the proxy is undefined for that architecture (``reason`` says why). A record
is keyed by (architecture, proxy, model variant, seed, batch key); the batch key hashes the scored
images (or input shape), the network spec and the proxy options that change the value. The device is
recorded but not part of the key: CPU and GPU values agree to float32 round-off (GPU convolutions may
use TF32: differences of ~0.5% were seen for gradient proxies), so a store is best kept per device. That
holds because the scored networks' BNs are exact on constant channels (:mod:`~bnbench.indicators.zc.exact_bn`,
tagged in the batch key): without it, CPU scores of cells with dead paths were driven by round-off. Each record is
flushed and fsynced as it is written, so a killed run loses at most the record being written; a torn
last line is ignored on reading and the next append starts on a fresh line.

The file is ``$BNBENCH_CACHE/zc_scores.jsonl`` when that variable is set (shared by all runs), else
``zc_scores.jsonl`` in the run's output directory, else nothing is persisted.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Iterable

from bnbench.errors import BnbenchError
from bnbench.utils.jsonl import append_jsonl, read_jsonl

FILENAME = "zc_scores.jsonl"
KEY_FIELDS = ("arch", "proxy", "variant", "seed", "batch")
log = logging.getLogger("bnbench.zc")

Key = tuple


def record_key(record: dict[str, Any]) -> Key:
    return tuple(record[f] for f in KEY_FIELDS)


def store_path(cache_dir: str | os.PathLike | None) -> Path | None:
    """Where the store lives: ``$BNBENCH_CACHE``, else ``cache_dir``, else ``None`` (memory only)."""
    env = os.environ.get("BNBENCH_CACHE")
    if env:
        return Path(env).expanduser() / FILENAME
    return Path(cache_dir) / FILENAME if cache_dir else None


class ScoreStore:
    """Records by key, loaded from ``path`` (if any) and appended to it one line at a time."""

    def __init__(self, path: str | os.PathLike | None):
        self.path = Path(path) if path else None
        self.records: dict[Key, dict[str, Any]] = {}
        self.torn = 0
        if self.path and self.path.exists():
            self._load()

    def _load(self) -> None:
        records, self.torn = read_jsonl(self.path)
        for record in records:
            try:
                self.records[record_key(record)] = record
            except KeyError:
                self.torn += 1  # not one of ours
        if self.torn:
            log.warning("%s: skipped %d unreadable line(s) (a run killed mid-write); they will be recomputed",
                        self.path, self.torn)

    def __contains__(self, key: Key) -> bool:
        return key in self.records

    def get(self, key: Key) -> dict[str, Any] | None:
        return self.records.get(key)

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Add ``records`` (an iterable, consumed lazily), each written and fsynced as it arrives."""
        if self.path is None:
            for record in records:
                self.records[record_key(record)] = record
            return
        try:
            for record in append_jsonl(self.path, records):
                self.records[record_key(record)] = record
        except OSError as err:
            raise BnbenchError(f"cannot write the proxy score store {self.path}: {err.strerror or err}") from None
