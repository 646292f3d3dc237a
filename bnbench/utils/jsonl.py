"""Append-only JSON Lines logs: each record is fsynced as it is written, a line torn by a kill is skipped.

Used by every resumable per-item cache (``truth build``'s run log, the zero-cost proxy store), so that a
killed run loses at most the record it was writing and a rerun continues where it stopped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator


def read_jsonl(path: str | os.PathLike) -> tuple[list[dict[str, Any]], int]:
    """(the readable records of ``path`` in order, the count of unreadable lines); empty if it is missing."""
    path = Path(path)
    records, torn = [], 0
    if path.exists():
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                torn += 1
                continue
            if isinstance(record, dict):
                records.append(record)
            else:
                torn += 1
    return records, torn


def append_jsonl(path: str | os.PathLike, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Write each of ``records`` (consumed lazily) as one fsynced line, then yield it.

    A last line torn by a kill is terminated first, so the next record starts on its own line.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        if fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                fh.write(b"\n")
        for record in records:
            fh.write((json.dumps(record, allow_nan=False) + "\n").encode())
            fh.flush()
            os.fsync(fh.fileno())
            yield record
