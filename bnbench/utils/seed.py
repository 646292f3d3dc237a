"""Seeding: every run is reproducible from its seed."""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a CPU generator seeded with ``seed`` for explicit use."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda`` without a GPU is a clear error."""
    from bnbench.errors import BnbenchError

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise BnbenchError(f"--device {name}: no CUDA device is available on this machine (use --device cpu)")
    if name not in ("cpu",) and not name.startswith("cuda"):
        raise BnbenchError(f"--device {name}: expected auto, cpu or cuda[:N]")
    return torch.device(name)
