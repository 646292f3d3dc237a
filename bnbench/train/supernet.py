"""Supernet training with single-path uniform sampling (SPOS, Guo et al., ECCV 2020).

Each step draws one cell uniformly from the 15,625 (the same cell in every position, as NB201
networks repeat one cell) and trains that path. In ``bn`` mode only BatchNorm affine parameters
learn (BN-NAS, Chen et al., ICCV 2021). All randomness of epoch ``e`` comes from generators seeded
with ``(seed, e)``, so a run resumed from an epoch checkpoint ends with exactly the weights of an
uninterrupted run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from bnbench.datasets import BatchAugmenter, Dataset, iterate_batches
from bnbench.errors import BnbenchError
from bnbench.spaces.nb201.arch import NUM_ARCHS, decode
from bnbench.spaces.nb201.model import Supernet
from bnbench.train import loop
from bnbench.train.config import TrainConfig
from bnbench.train.params import select_trainable
from bnbench.utils.env import package_versions
from bnbench.utils.io import atomic_torch_save
from bnbench.utils.seed import deterministic_cuda

CHECKPOINT = "supernet.pt"


@dataclass
class TrainResult:
    model: Supernet
    config: TrainConfig
    history: list[dict] = field(default_factory=list)
    resumed_from: int = 0

    @property
    def train_seconds(self) -> float:
        return float(sum(h["seconds"] for h in self.history))


def build_supernet(cfg: TrainConfig, dataset: Dataset) -> Supernet:
    torch.manual_seed(cfg.seed)
    in_ch = dataset.train.x.shape[1]
    return Supernet(C=cfg.channels, N=cfg.cells, num_classes=dataset.num_classes, in_channels=in_ch, fair=cfg.fair)


def epoch_generators(seed: int, epoch: int, device: torch.device) -> tuple[np.random.Generator, torch.Generator]:
    """Independent generators for arch sampling and for data order/augmentation of one epoch."""
    arch_rng = np.random.default_rng([seed, epoch, 0])
    data_gen = torch.Generator(device=device).manual_seed(int(np.random.SeedSequence([seed, epoch, 1]).generate_state(1)[0]))
    return arch_rng, data_gen


def train_supernet(cfg: TrainConfig, dataset: Dataset, out_dir: str | Path | None = None,
                   progress: bool = True, stop_after: int | None = None) -> TrainResult:
    """Train (or resume) a supernet; with ``out_dir`` a checkpoint is written atomically after every epoch."""
    device = dataset.train.x.device
    if device.type == "cuda":
        deterministic_cuda()
    model = build_supernet(cfg, dataset).to(device)
    optimizer = loop.sgd(select_trainable(model, cfg.train_mode, cfg.bn_scope), cfg.lr, cfg.momentum, cfg.weight_decay)
    result = TrainResult(model, cfg)
    ckpt = Path(out_dir) / CHECKPOINT if out_dir else None
    if ckpt is not None and ckpt.exists():
        result.resumed_from = _restore(ckpt, cfg, model, optimizer, result)
    augmenter = BatchAugmenter(dataset.mean, dataset.std, dataset.augment, cfg.resolution)
    steps = _steps_per_epoch(len(dataset.train), cfg.batch_size)
    last = cfg.epochs if stop_after is None else min(cfg.epochs, stop_after)
    for epoch in range(result.resumed_from, last):
        stats = _train_epoch(model, optimizer, dataset, augmenter, cfg, epoch, steps, progress)
        result.history.append(stats)
        if ckpt is not None:
            save_checkpoint(ckpt, cfg, model, optimizer, result.history, epoch + 1)
    model.eval()
    return result


def _steps_per_epoch(n: int, batch_size: int) -> int:
    return max(1, n // batch_size)


def _train_epoch(model, optimizer, dataset, augmenter, cfg: TrainConfig, epoch: int, steps: int, progress: bool) -> dict:
    model.train()
    arch_rng, data_gen = epoch_generators(cfg.seed, epoch, dataset.train.x.device)
    codes = arch_rng.integers(0, NUM_ARCHS, size=steps)
    batches = iterate_batches(dataset.train, cfg.batch_size, augmenter, train=True, generator=data_gen,
                              shuffle=True, drop_last=True)
    start, losses = time.perf_counter(), []
    bar = tqdm(zip(codes, batches), total=steps, desc=f"supernet {cfg.train_mode} epoch {epoch + 1}/{cfg.epochs}",
               disable=not progress, leave=False)
    for step, (code, (x, y)) in enumerate(bar):
        arch = decode(int(code))
        loop.set_lr(optimizer, loop.cosine_lr(cfg.lr, epoch * steps + step, cfg.epochs * steps, cfg.schedule))
        losses.append(loop.train_step(lambda inp: model(inp, arch), optimizer, x, y))
    seconds = time.perf_counter() - start
    return {"epoch": epoch + 1, "loss": float(np.mean(losses)), "seconds": seconds,
            "images_per_s": steps * cfg.batch_size / max(seconds, 1e-9)}


def save_checkpoint(path: Path, cfg: TrainConfig, model, optimizer, history: list[dict], epoch: int) -> None:
    atomic_torch_save({"format": "bnbench-supernet-v1", "space": "nb201", "config": cfg.to_dict(), "epoch": epoch,
                       "model": model.state_dict(), "optimizer": optimizer.state_dict(), "history": history,
                       "versions": package_versions()}, path)


def _restore(path: Path, cfg: TrainConfig, model, optimizer, result: TrainResult) -> int:
    state = load_checkpoint(path)
    if state["config"] != cfg.to_dict():
        diff = {k: (v, cfg.to_dict().get(k)) for k, v in state["config"].items() if cfg.to_dict().get(k) != v}
        raise BnbenchError(f"checkpoint {path} was trained with a different config {diff}: use another --out")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    result.history = list(state["history"])
    return int(state["epoch"])


def load_checkpoint(path: str | Path) -> dict:
    """Read a bnbench supernet checkpoint; a clear error for anything else."""
    path = Path(path)
    if not path.is_file():
        raise BnbenchError(f"supernet checkpoint {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a corrupt file
        raise BnbenchError(f"supernet checkpoint {path} is unreadable ({type(exc).__name__}): truncated or not a bnbench checkpoint") from None
    if not isinstance(state, dict) or state.get("format") != "bnbench-supernet-v1":
        raise BnbenchError(f"supernet checkpoint {path} is not a bnbench supernet checkpoint")
    return state


def load_supernet(path: str | Path, dataset: Dataset) -> TrainResult:
    """Rebuild a trained supernet from its checkpoint (on the dataset's device)."""
    state = load_checkpoint(path)
    cfg = TrainConfig.from_dict(state["config"])
    model = build_supernet(cfg, dataset).to(dataset.train.x.device)
    model.load_state_dict(state["model"])
    model.eval()
    return TrainResult(model, cfg, list(state["history"]), int(state["epoch"]))
