"""Supernet training with single-path uniform sampling (SPOS, Guo et al., ECCV 2020).

Each step draws one cell uniformly from the 15,625 (the same cell in every position, as NB201
networks repeat one cell) and trains that path. In ``bn`` mode only BatchNorm affine parameters
learn (BN-NAS, Chen et al., ICCV 2021). All randomness of epoch ``e`` comes from generators seeded
with ``(seed, e)``, so a run resumed from an epoch checkpoint ends with exactly the weights of an
uninterrupted run.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from bnbench import progress as progress_log
from bnbench.datasets import BatchAugmenter, Dataset, iterate_batches
from bnbench.datasets.registry import HOLDOUT_DATASETS, SHAPES
from bnbench.errors import BnbenchError
from bnbench.spaces import get_space
from bnbench.train import distributed, loop
from bnbench.train.config import TrainConfig
from bnbench.train.params import select_trainable
from bnbench.utils.env import package_versions
from bnbench.utils.io import atomic_torch_save
from bnbench.utils.placement import place
from bnbench.utils.seed import deterministic_cuda

CHECKPOINT = "supernet.pt"
FORMAT = "bnbench-supernet-v1"  # v1 checkpoints without a "data" record still load where their images are unchanged
SPACE = "nb201"  # the space of checkpoints written before they recorded one


@dataclass
class TrainResult:
    model: torch.nn.Module  # the space's supernet
    config: TrainConfig
    history: list[dict] = field(default_factory=list)
    resumed_from: int = 0

    @property
    def train_seconds(self) -> float:
        return float(sum(h["seconds"] for h in self.history))


def build_supernet(cfg: TrainConfig, dataset: Dataset) -> torch.nn.Module:
    torch.manual_seed(cfg.seed)
    in_ch = dataset.train.x.shape[1]
    return get_space(cfg.space).supernet(cfg.build_options(), num_classes=dataset.num_classes, in_channels=in_ch)


def epoch_generators(seed: int, epoch: int, device: torch.device) -> tuple[np.random.Generator, torch.Generator]:
    """Independent generators for arch sampling and for data order/augmentation of one epoch."""
    arch_rng = np.random.default_rng([seed, epoch, 0])
    data_gen = torch.Generator(device=device).manual_seed(int(np.random.SeedSequence([seed, epoch, 1]).generate_state(1)[0]))
    return arch_rng, data_gen


def train_supernet(cfg: TrainConfig, dataset: Dataset, out_dir: str | Path | None = None,
                   progress: bool = True, stop_after: int | None = None,
                   announce: Callable[[str], None] | None = None) -> TrainResult:
    """Train (or resume) a supernet; with ``out_dir`` a checkpoint is written atomically after every epoch.

    Before the first epoch it runs, ``announce`` (default: a line on stderr) gets
    :func:`training_line`: the dataset, image count and resolution trained on (also recorded in the
    checkpoint). A checkpoint in ``out_dir`` is resumed only if it was trained with the same config on
    the same training images; BnbenchError otherwise.
    """
    device = dataset.train.x.device
    if device.type == "cuda":
        deterministic_cuda()
    model = place(build_supernet(cfg, dataset), device)
    optimizer = loop.sgd(select_trainable(model, cfg.train_mode, cfg.bn_scope), cfg.lr, cfg.momentum, cfg.weight_decay)
    result = TrainResult(model, cfg)
    ckpt = Path(out_dir) / CHECKPOINT if out_dir else None
    if ckpt is not None and ckpt.exists():
        result.resumed_from = _restore(ckpt, cfg, model, optimizer, result, dataset)
    augmenter = BatchAugmenter(dataset.mean, dataset.std, dataset.augment, cfg.resolution)
    steps = _steps_per_epoch(len(dataset.train), cfg.batch_size)
    last = cfg.epochs if stop_after is None else min(cfg.epochs, stop_after)
    main = distributed.is_main()  # under torchrun: rank 0 logs and writes the checkpoint (bnbench.train.distributed)
    if result.resumed_from < last and main:
        (announce or _stderr)(training_line(cfg, dataset))
    trained = distributed.wrap(model)  # DDP when launched by torchrun with several processes, else the model itself
    for epoch in range(result.resumed_from, last):
        stats = _train_epoch(trained, optimizer, dataset, augmenter, cfg, epoch, steps, progress and main)
        result.history.append(stats)
        if main:
            progress_log.line(progress_log.epoch_line(f"supernet {cfg.train_mode}", epoch + 1, cfg.epochs,
                                                      stats["loss"], stats["images_per_s"],
                                                      sum(h["seconds"] for h in result.history)))
        if ckpt is not None and main:
            save_checkpoint(ckpt, cfg, model, optimizer, result.history, epoch + 1, dataset)
    if ckpt is not None and last == 0 and main and not ckpt.exists():  # epoch 0: the initialised supernet, kept for reuse
        save_checkpoint(ckpt, cfg, model, optimizer, result.history, 0, dataset)
    model.eval()
    return result


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def training_line(cfg: TrainConfig, dataset: Dataset) -> str:
    """E.g. ``training on cifar10-valid: 25000 train images, 3x32x32, 10 classes (this copy's ...)``."""
    shape = "x".join(str(d) for d in dataset.train.x.shape[1:])
    if cfg.resolution is not None and cfg.resolution != dataset.resolution:
        shape += f" resized to {cfg.resolution}x{cfg.resolution}"
    what = (dataset.images.get("train") or {}).get("images")
    return (f"training on {dataset.name}: {len(dataset.train)} train images, {shape}, {dataset.num_classes} classes"
            + (f" ({what})" if what else ""))


def data_record(cfg: TrainConfig, dataset: Dataset) -> dict:
    """What a checkpoint records about the data it was trained on (checked before it is loaded)."""
    train = dataset.images.get("train") or {}
    return {"dataset": dataset.name, "channels": dataset.channels, "classes": int(dataset.num_classes),
            "resolution": int(dataset.resolution), "input_resolution": int(cfg.resolution or dataset.resolution),
            "train_images": {k: train.get(k) for k in ("images", "count", "pool", "digest")},
            "line": training_line(cfg, dataset)}


def _steps_per_epoch(n: int, batch_size: int) -> int:
    return max(1, n // batch_size)


def _train_epoch(model, optimizer, dataset, augmenter, cfg: TrainConfig, epoch: int, steps: int, progress: bool) -> dict:
    """One epoch: SPOS (one uniform path per step) or FairNAS (the step's ``m`` strict-fair paths on the same batch,
    gradients summed, one update). ``images_per_s`` counts forward passes: ``m`` per image under FairNAS."""
    model.train()
    arch_rng, data_gen = epoch_generators(cfg.seed, epoch, dataset.train.x.device)
    space = get_space(cfg.space)
    paths = space.fair_paths(arch_rng, steps) if cfg.sampler == "fairnas" else space.random_paths(arch_rng, steps)
    batches = iterate_batches(dataset.train, cfg.batch_size, augmenter, train=True, generator=data_gen,
                              shuffle=True, drop_last=True)
    start, losses = time.perf_counter(), []
    bar = zip(paths, batches)
    if progress and progress_log.mode() == "bars":
        bar = tqdm(bar, total=steps, desc=f"supernet {cfg.train_mode} epoch {epoch + 1}/{cfg.epochs}", leave=False)
    for step, (arch, (x, y)) in enumerate(bar):
        x, y = distributed.shard(x, y)  # this rank's slice of the global batch (whole batch in one process)
        loop.set_lr(optimizer, loop.cosine_lr(cfg.lr, epoch * steps + step, cfg.epochs * steps, cfg.schedule))
        if cfg.sampler == "fairnas":
            losses.append(loop.accumulated_step([_path_forward(model, a) for a in arch], optimizer, x, y,
                                                label_smoothing=cfg.label_smoothing, grad_clip=cfg.grad_clip))
        else:
            losses.append(loop.train_step(_path_forward(model, arch), optimizer, x, y,
                                          label_smoothing=cfg.label_smoothing, grad_clip=cfg.grad_clip))
    seconds = time.perf_counter() - start
    passes = paths.shape[1] if cfg.sampler == "fairnas" else 1
    return {"epoch": epoch + 1, "loss": float(np.mean(losses)), "seconds": seconds,
            "images_per_s": steps * cfg.batch_size * passes / max(seconds, 1e-9), "paths_per_step": passes}


def _path_forward(model, arch):
    return lambda inp: model(inp, arch)


def save_checkpoint(path: Path, cfg: TrainConfig, model, optimizer, history: list[dict], epoch: int,
                    dataset: Dataset | None = None) -> None:
    state = {"format": FORMAT, "space": cfg.space, "config": cfg.to_dict(), "epoch": epoch, "model": model.state_dict(),
             "optimizer": optimizer.state_dict(), "history": history, "versions": package_versions()}
    if dataset is not None:
        state["data"] = data_record(cfg, dataset)
    atomic_torch_save(state, path)


def _restore(path: Path, cfg: TrainConfig, model, optimizer, result: TrainResult, dataset: Dataset) -> int:
    state = load_checkpoint(path)
    check_compatible(path, state, dataset, cfg.space, hint=f"delete {path} or use another --out")
    saved = _saved_config(path, state).to_dict()
    if saved != cfg.to_dict():
        diff = {k: (v, cfg.to_dict().get(k)) for k, v in saved.items() if cfg.to_dict().get(k) != v}
        raise BnbenchError(f"checkpoint {path} was trained with a different config {diff}: use another --out")
    _load_weights(path, model, state["model"])
    optimizer.load_state_dict(state["optimizer"])
    result.history = list(state["history"])
    return int(state["epoch"])


_REQUIRED = {"config": dict, "epoch": int, "model": dict, "history": list}


def load_checkpoint(path: str | Path) -> dict:
    """Read a bnbench supernet checkpoint; one-line BnbenchError for a missing, truncated, corrupt or
    foreign file, or one lacking the entries a checkpoint holds."""
    path = Path(path)
    if not path.exists():
        raise BnbenchError(f"supernet checkpoint {path} does not exist")
    if not path.is_file():
        raise BnbenchError(f"supernet checkpoint {path} is not a file (expected DIR/{CHECKPOINT})")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a corrupt file
        raise BnbenchError(f"supernet checkpoint {path} is unreadable ({type(exc).__name__}): truncated or not a bnbench checkpoint") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise BnbenchError(f"supernet checkpoint {path} is not a bnbench supernet checkpoint "
                           f"(written by bnbench train-supernet or correlate)")
    bad = [key for key, kind in _REQUIRED.items() if not isinstance(state.get(key), kind)]
    if bad:
        raise BnbenchError(f"supernet checkpoint {path} is incomplete: no valid {', '.join(bad)} entry")
    return state


def checkpoint_data(state: dict) -> dict:
    """The checkpoint's data record; for checkpoints written before it existed, what can be inferred:
    the dataset named in its config, input channels and classes from its weights' shapes, the dataset's
    native resolution, and ``train_images`` None (unknown)."""
    if isinstance(state.get("data"), dict):
        return state["data"]
    cfg, weights = state["config"], state["model"]
    name = str(cfg.get("dataset"))
    stem, head = weights.get("stem.0.weight"), weights.get("classifier.weight")
    shape = SHAPES.get(name)
    resolution = shape[1] if shape else None
    return {"dataset": name, "channels": int(stem.shape[1]) if stem is not None and stem.ndim == 4 else None,
            "classes": int(head.shape[0]) if head is not None and head.ndim == 2 else None,
            "resolution": resolution, "input_resolution": cfg.get("resolution") or resolution, "train_images": None}


def _shape_words(name: str, channels, classes, resolution) -> str:
    parts = []
    if channels is not None:
        parts.append(f"{channels} channel{'s' if channels != 1 else ''}")
    if classes is not None:
        parts.append(f"{classes} classes")
    if resolution is not None:
        parts.append(f"{resolution}x{resolution}")
    return f"{name} ({', '.join(parts)})" if parts else name


def check_compatible(path: str | Path, state: dict, dataset: Dataset, space: str, hint: str | None = None) -> None:
    """BnbenchError (one line) unless the checkpoint was trained in ``space`` on ``dataset``'s kind of
    images (name, input channels, classes, input resolution) and on the same training images, so that it
    never saw the images indicators evaluate on. Checked before any weight is loaded."""
    saved_space = str(state.get("space", SPACE))
    if saved_space != space:
        raise BnbenchError(f"supernet {path} was trained in the {saved_space} space, this run uses {space}")
    data = checkpoint_data(state)
    cfg_res = state["config"].get("resolution")
    mine = (dataset.channels, int(dataset.num_classes), int(cfg_res or dataset.resolution))
    theirs = (data.get("channels"), data.get("classes"), data.get("input_resolution"))
    differs = [a is not None and a != b for a, b in zip(theirs, mine)]
    if data.get("dataset") != dataset.name or any(differs):
        retrain = hint or f"pass --dataset {data.get('dataset')} or train a supernet on {dataset.name}"
        raise BnbenchError(f"supernet {path} was trained on {_shape_words(str(data.get('dataset')), *theirs)}, this "
                           f"run uses {_shape_words(dataset.name, *mine)}: {retrain}")
    _check_images(path, data.get("train_images"), dataset, hint)


def _check_images(path, saved: dict | None, dataset: Dataset, hint: str | None) -> None:
    current = dataset.images.get("train") or {}
    retrain = hint or f"retrain it (bnbench train-supernet --dataset {dataset.name})"
    if saved is None:
        if dataset.name in HOLDOUT_DATASETS:
            raise BnbenchError(f"supernet {path} records no training images: written before bnbench held "
                               f"{len(dataset.valid)} of the {dataset.name} training images out for the indicators, "
                               f"it was trained on them; {retrain}")
        return  # older checkpoints of datasets whose train split is unchanged
    if saved.get("digest") and current.get("digest") and saved["digest"] != current["digest"]:
        raise BnbenchError(f"supernet {path} was trained on other {dataset.name} images than this run's training "
                           f"split: {saved.get('images')} ({saved.get('pool')} images, digest {saved['digest']}) vs "
                           f"{current.get('images')} ({current.get('pool')} images, digest {current['digest']}); "
                           f"{retrain}")


def _load_weights(path, model, weights: dict) -> None:
    try:
        model.load_state_dict(weights)
    except (RuntimeError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()
        raise BnbenchError(f"supernet checkpoint {path} does not fit its own config: "
                           f"{first[0] if first else type(exc).__name__}") from None


def _saved_config(path: str | Path, state: dict) -> TrainConfig:
    """The checkpoint's TrainConfig (older ones, written before configs named their space, read as NB201)."""
    try:
        return TrainConfig.from_dict({"space": state.get("space", SPACE), **state["config"]})
    except (TypeError, ValueError) as exc:
        raise BnbenchError(f"supernet checkpoint {path} has an invalid config ({exc})") from None


def load_supernet(path: str | Path, dataset: Dataset, space: str = SPACE) -> TrainResult:
    """Rebuild a trained supernet from its checkpoint (on the dataset's device).

    BnbenchError, one line, before any weight is loaded, when the checkpoint was trained in another space,
    on another dataset / number of input channels / classes / resolution, or on other training images.
    """
    state = load_checkpoint(path)
    try:
        space = get_space(space).name  # an alias names the same space
    except BnbenchError:
        pass  # not registered: the space check below says what the checkpoint holds
    check_compatible(path, state, dataset, space)
    cfg = _saved_config(path, state)
    model = place(build_supernet(cfg, dataset), dataset.train.x.device)
    _load_weights(path, model, state["model"])
    model.eval()
    return TrainResult(model, cfg, list(state["history"]), int(state["epoch"]))
