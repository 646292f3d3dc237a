"""Official NAS-Bench-201 ``.pth`` files (e.g. NAS-Bench-201-v1_1-096897.pth), read through ``NASBench201API``.

The file is a torch-saved dict ``{'meta_archs': [arch str] , 'arch2infos': {index: {'less': ArchResults
state, 'full': ArchResults state}}, 'evaluated_indexes': [...]}``; the API maps 'less' to the 12-epoch
schedule (hp '12') and 'full' to the 200-epoch one (hp '200'). The dict is handed to the API in chunks,
so the API's deep copy never doubles the memory a multi-GB file takes.
"""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from bnbench.truth.api_reader import ColumnBuilder, arch_values
from bnbench.truth.fail import fail, short
from bnbench.truth.table import TruthTable

REQUIRED = ("meta_archs", "arch2infos", "evaluated_indexes")
EXPECTED = "expected an official NAS-Bench-201 .pth (NAS-Bench-201-v1_1-096897.pth)"
_CHUNK = 512


def read_nb201_pth(path: str | os.PathLike) -> TruthTable:
    """Every dataset / split / metric / schedule value of every evaluated architecture in ``path``."""
    path = Path(path)
    data = torch_load(path)
    meta_archs, infos = _checked(path, data)
    indices = sorted(infos)
    builder = ColumnBuilder(len(indices))
    for start in range(0, len(indices), _CHUNK):
        chunk = indices[start:start + _CHUNK]
        api = _api(path, meta_archs, {i: infos.pop(i) for i in chunk})  # pop: free each chunk once read
        for row, index in enumerate(chunk, start):
            builder.add(row, arch_values(api, index, api.arch2infos_dict[index], path))
    meta = {"source": os.fspath(path), "source_kind": "nb201-pth", "aggregation": "mean of seeds",
            "values": "final epoch of each schedule, mean over seeds (get_more_info, is_random=False)"}
    return TruthTable([meta_archs[i] for i in indices], np.asarray(indices, dtype=np.int64), builder.columns(), meta)


def torch_load(path: Path) -> Any:
    """``torch.load`` with ``weights_only=True``; full unpickling (with a warning) only when the file
    needs classes outside torch's allowlist. The official file holds plain containers and numbers;
    the fallback exists for copies re-saved with other classes and is only safe for files you trust.
    """
    import torch

    try:
        with warnings.catch_warnings():  # torch warns about the pickle protocol of any non-torch pickle
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "Unsupported global" not in str(err):
            raise fail(path, f"truncated or corrupt torch file ({_reason(err)}); {EXPECTED}") from None
        warnings.warn(f"{path}: {_reason(err)}; loading it with full unpickling (trusted files only)", stacklevel=2)
    except Exception as err:  # torch raises RuntimeError/EOFError/... on damaged files
        raise fail(path, f"truncated or corrupt torch file ({_reason(err)}); {EXPECTED}") from None
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:
        raise fail(path, f"truncated or corrupt torch file ({_reason(err)}); {EXPECTED}") from None


def _reason(err: BaseException) -> str:
    """The informative part of a torch.load error (the weights-only unpickler buries it mid-text)."""
    text = str(err)
    marker = "WeightsUnpickler error:"
    if marker in text:
        detail = text.split(marker, 1)[1].strip().splitlines()[0].split(". ")[0].split(" was not ")[0]
        return f"{type(err).__name__}: {detail}"
    return short(err)


def _checked(path: Path, data: Any) -> tuple[list[str], dict]:
    if not isinstance(data, dict) or any(k not in data for k in REQUIRED):
        found = sorted(map(str, data))[:5] if isinstance(data, dict) else type(data).__name__
        raise fail(path, f"torch file without the NB201 keys {', '.join(REQUIRED)} (found {found}); {EXPECTED}")
    meta_archs, infos = list(data["meta_archs"]), data["arch2infos"]
    if not isinstance(infos, dict):
        raise fail(path, f"arch2infos is a {type(infos).__name__}, not a dict; {EXPECTED}")
    bad = [i for i in infos if not isinstance(i, int) or not 0 <= i < len(meta_archs)]
    if not infos or bad:
        raise fail(path, f"arch2infos is empty or has indices outside meta_archs (e.g. {bad[:3]}); {EXPECTED}")
    return meta_archs, infos


def _api(path: Path, meta_archs: list[str], infos: dict) -> Any:
    from nas_201_api import NASBench201API

    try:
        return NASBench201API({"meta_archs": meta_archs, "arch2infos": infos, "evaluated_indexes": list(infos)},
                              verbose=False)
    except Exception as err:  # the API asserts on duplicate archs and fails on malformed result records
        raise fail(path, f"malformed NB201 records ({short(err)}); {EXPECTED}") from None
