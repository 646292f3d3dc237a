"""Capture of the software environment, recorded in every result file."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

_PACKAGES = ("bnbench", "torch", "numpy", "scipy", "pandas", "scikit-learn", "nas-bench-201", "nats_bench")


def package_versions() -> dict[str, str]:
    """Versions of Python and of the packages whose behaviour can change a result."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out
