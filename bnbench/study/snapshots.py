"""Supernet snapshots at chosen epochs of one training run, resumable.

The trainer writes ``supernet.pt`` atomically after every epoch and resumes from it exactly
(:func:`bnbench.train.supernet.train_supernet`), so one run to the last epoch serves every listed epoch:
train to epoch ``e`` (``stop_after=e``), copy the checkpoint to ``supernet-epoch<e>.pt``, continue. A
snapshot at epoch ``e`` is thus the state after ``e`` epochs of the full run (its cosine schedule spans all
``cfg.epochs``), not a run trained for ``e`` epochs. Existing snapshots are never retrained.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterable

from bnbench.errors import BnbenchError
from bnbench.train.config import TrainConfig
from bnbench.train.supernet import CHECKPOINT, load_checkpoint, train_supernet


def snapshot_path(run_dir: Path, epoch: int) -> Path:
    return Path(run_dir) / f"supernet-epoch{epoch}.pt"


def ensure_snapshots(cfg: TrainConfig, dataset, run_dir: str | os.PathLike, epochs: Iterable[int],
                     progress: bool = True) -> dict[int, Path]:
    """``{epoch: snapshot path}`` for each of ``epochs`` (<= ``cfg.epochs``), training only what is missing."""
    run_dir = Path(run_dir)
    wanted = sorted(set(int(e) for e in epochs))
    if not wanted or wanted[0] < 0 or wanted[-1] > cfg.epochs:
        raise BnbenchError(f"snapshot epochs {wanted}: expected epochs in 0..{cfg.epochs} (0: the initialised supernet)")
    out: dict[int, Path] = {}
    for epoch in wanted:
        path = snapshot_path(run_dir, epoch)
        if not path.exists():
            _check_not_past(run_dir / CHECKPOINT, epoch)
            train_supernet(cfg, dataset, run_dir, progress=progress, stop_after=epoch)
            tmp = path.with_name(f".{path.name}.tmp")
            shutil.copyfile(run_dir / CHECKPOINT, tmp)
            os.replace(tmp, path)
        out[epoch] = path
    return out


def _check_not_past(checkpoint: Path, epoch: int) -> None:
    if checkpoint.exists():
        done = int(load_checkpoint(checkpoint)["epoch"])
        if done > epoch:
            raise BnbenchError(f"{checkpoint} is at epoch {done} but the snapshot of epoch {epoch} is missing: "
                               f"delete {checkpoint.parent} to retrain")


def train_seconds(path: str | os.PathLike) -> float:
    """Training time (s) of the epochs a snapshot holds, from its history."""
    return float(sum(h["seconds"] for h in load_checkpoint(path)["history"]))
