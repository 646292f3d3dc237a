"""Strict JSON for results.json: numpy scalars and arrays become Python values, NaN/inf become null."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..utils.io import atomic_write_text


def to_jsonable(obj: Any) -> Any:
    """A copy of ``obj`` that ``json.dumps(..., allow_nan=False)`` accepts (non-finite floats -> None)."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset, np.ndarray)):
        return [to_jsonable(v) for v in (obj.tolist() if isinstance(obj, np.ndarray) else obj)]
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return str(obj)


def write_results_json(path: str | os.PathLike, results: dict[str, Any]) -> Path:
    """Atomically write ``results`` as indented strict JSON (NaN -> null)."""
    return atomic_write_text(path, json.dumps(to_jsonable(results), indent=2, allow_nan=False) + "\n")
