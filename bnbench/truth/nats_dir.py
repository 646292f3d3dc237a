"""NATS-Bench topology (tss) archive directories, read through ``nats_bench.create(..., 'tss', fast_mode=True)``.

Layout (e.g. ``NATS-tss-v1_0-3ffb9-simple/``): ``meta.pickle.pbz2`` (a bz2-compressed pickle whose
``meta_archs`` lists the 15,625 arch strings in index order) and one ``{index:06d}.pickle.pbz2`` (or
``{index}.pickle.pbz2``) per architecture: ``{hp: ArchResults state}`` with hp '12' and '200'.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from bnbench.truth.api_reader import ColumnBuilder, arch_values
from bnbench.truth.detect import NATS_META
from bnbench.truth.fail import fail, short
from bnbench.truth.table import TruthTable

EXT = "pickle.pbz2"
EXPECTED = "expected a NATS-Bench topology archive directory (NATS-tss-v1_0-3ffb9-simple/)"


def read_nats_dir(path: str | os.PathLike) -> TruthTable:
    """Every dataset / split / metric / schedule value of every architecture in the directory."""
    path = Path(path)
    api = _api(path)
    archs = list(api.meta_archs)
    _check_archs(path, archs)
    builder = ColumnBuilder(len(archs))
    for index in range(len(archs)):
        builder.add(index, arch_values(api, index, _results(api, path, index), path))
        api.arch2infos_dict.pop(index, None)  # read once: keep memory flat over 15,625 archs
    meta = {"source": os.fspath(path), "source_kind": "nats-dir", "aggregation": "mean of seeds",
            "values": "final epoch of each schedule, mean over seeds (get_more_info, is_random=False)"}
    return TruthTable(archs, np.arange(len(archs), dtype=np.int64), builder.columns(), meta)


def _api(path: Path) -> Any:
    from nats_bench import create

    try:
        return create(os.fspath(path), "tss", fast_mode=True, verbose=False)
    except Exception as err:  # bz2/pickle/KeyError on a damaged meta file
        raise fail(path, f"unreadable {NATS_META} ({short(err)}); {EXPECTED}") from None


def _check_archs(path: Path, archs: list[str]) -> None:
    if not archs or not all(isinstance(a, str) and a.startswith("|") and "~" in a for a in archs):
        raise fail(path, f"{NATS_META} does not list topology arch strings (size-space archive?); {EXPECTED}")
    names = set(os.listdir(path))
    missing = [i for i in range(len(archs)) if f"{i:06d}.{EXT}" not in names and f"{i}.{EXT}" not in names]
    if missing:
        raise fail(path, f"{len(missing)} of {len(archs)} per-architecture files are missing "
                         f"(e.g. {missing[0]:06d}.{EXT}); {EXPECTED}")


def _results(api: Any, path: Path, index: int) -> dict:
    try:
        api.reload(os.fspath(path), index)
        return api.arch2infos_dict[index]
    except Exception as err:  # truncated bz2, bad pickle, wrong record layout
        raise fail(path, f"unreadable record of architecture {index} ({index:06d}.{EXT}: {short(err)}); "
                         f"{EXPECTED}") from None
