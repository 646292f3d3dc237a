"""``pandas.read_csv`` with exact float round-trips on every pandas version."""

from __future__ import annotations

from typing import Any


def read_csv(source: Any, **kwargs: Any):
    """``pd.read_csv`` (C engine); before pandas 3 the round-trip float parser is asked for explicitly."""
    import pandas as pd

    if int(pd.__version__.split(".")[0]) < 3:  # pandas 3 parses floats exactly by default, and deprecates the flag
        kwargs.setdefault("float_precision", "round_trip")
    return pd.read_csv(source, engine="c", **kwargs)
