"""Seeding: every run is reproducible from its seed."""

from __future__ import annotations

import os
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


def deterministic_cuda() -> None:
    """Make CUDA kernels deterministic (cuDNN's fixed algorithms, cuBLAS workspace) so that a seeded
    training, and a resumed one, give the same weights on a GPU as they do on the CPU. Ops without a
    deterministic CUDA kernel warn instead of failing."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)
