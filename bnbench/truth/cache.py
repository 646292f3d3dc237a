"""Cache of slow-to-read benchmark sources as compact tables, keyed by the source's name, size and mtime.

The directory is ``$BNBENCH_CACHE`` if set, else ``~/.cache/bnbench/truth/``. A cached table records
its key in its header; a table whose key no longer matches the source (or that cannot be read) is
rebuilt. Failing to write the cache only costs speed: the table is still returned.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from pathlib import Path
from typing import Callable

from bnbench.errors import BenchmarkError
from bnbench.truth.table import TruthTable, read_table, write_table

ENV = "BNBENCH_CACHE"


def cache_dir() -> Path:
    """Where converted sources are kept."""
    env = os.environ.get(ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "bnbench" / "truth"


def source_key(path: Path) -> dict:
    """Name, size and mtime of a file; for a directory, of all its entries together."""
    if path.is_dir():
        stats = [e.stat() for e in os.scandir(path)] + [path.stat()]
        return {"name": path.name, "size": sum(s.st_size for s in stats[:-1]), "files": len(stats) - 1,
                "mtime_ns": max(s.st_mtime_ns for s in stats)}
    stat = path.stat()
    return {"name": path.name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def cache_path(path: Path, key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", path.name)[:80]
    return cache_dir() / f"{stem}-{digest}.csv"


def cached_table(path: str | os.PathLike, build: Callable[[Path], TruthTable]) -> TruthTable:
    """The cached table of ``path`` if still current, else ``build(path)``, cached for next time."""
    path = Path(path)
    key = source_key(path)
    target = cache_path(path, key)
    table = _read_current(target, key)
    if table is not None:
        return table
    table = build(path)
    table.meta["source_key"] = key
    try:
        write_table(target, table.archs, table.indices, table.columns, table.meta, specs=table.arch_specs)
        table.meta = read_table(target).meta  # same created/versions as the cached copy
    except (OSError, BenchmarkError) as err:
        warnings.warn(f"could not cache {path} as {target}: {err}", stacklevel=2)
    return table


def _read_current(target: Path, key: dict) -> TruthTable | None:
    if not target.is_file():
        return None
    try:
        table = read_table(target)
    except BenchmarkError:
        return None
    return table if table.meta.get("source_key") == key else None
