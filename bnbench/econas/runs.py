"""Training architectures from scratch at EcoNAS reduced settings: one task per (architecture, setting, seed).

The images (Zhou et al., CVPR 2020, train on the training split and rank on held-out images):

* training: the dataset's training split as :func:`~bnbench.datasets.load_dataset` gives it for the run's truth
  (``Dataset.train``; e.g. bnbench's 25k half of CIFAR-10's training set for the NB201 ``cifar10-valid`` truth),
  of which the setting's ``s`` keeps a class-stratified ``1/s`` drawn from (seed, ``SAMPLE_STREAM``);
* evaluation: ``Dataset.eval``, the split disjoint from the training images and, where the data allows, from the
  truth's images (CIFAR-10's test set for an NB201 validation truth: see :mod:`bnbench.datasets.protocol`);
  ``eval_images`` keeps a fixed class-stratified subset of it (the same for every setting and seed).

Each finished task appends a record ``{arch, setting, seed, acc (top-1 %), seconds (wall seconds of training and
evaluation, one thread), seconds_total, epoch_from, train_images, eval_images, key}`` to a JSON-lines store;
``key`` hashes everything that changes the result (space, dataset and its images, the setting's full training
config and stop epoch, evaluation images), so a rerun reuses finished tasks, continues where a killed one stopped,
and never mixes configurations. Failed tasks are recorded with their reason and retried by the next run.

Continued runs (a hierarchical stage ``c4r4s0e60@40`` after ``c4r4s0e60@20``, :mod:`bnbench.econas.setting`): a
task of a setting that stops early writes its training state to ``<checkpoints>/<run key>/<arch hash>-s<seed>-
e<epoch>.pt`` (the job's ``checkpoints`` folder: ``econas-checkpoints/`` beside the store), and a task that continues
it starts from that file (``epoch_from``; ``seconds`` is then the continuation's own time and ``seconds_total``
adds the earlier stage's). Where the file is missing (another machine, a deleted folder) the task trains from
epoch 0 instead: the same network (training is deterministic), at the full cost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from bnbench.econas.setting import ReducedSetting
from bnbench.engine import Engine, is_failure, run_tasks
from bnbench.errors import BnbenchError
from bnbench.progress import track
from bnbench.utils.jsonl import append_jsonl, read_jsonl

log = logging.getLogger(__name__)

SAMPLE_STREAM = 7  # seed stream of the s-reduction's training subset
EVAL_STREAM = 8  # seed stream of the fixed evaluation subset


@dataclass(frozen=True)
class ProxyJob:
    """What every task of one reduced-training job shares (picklable; workers rebuild the dataset from it).

    ``base``: the unreduced training config (a :meth:`TrainConfig.to_dict`: the truth network's build options,
    optimiser, batch size, ...); ``full_channels`` / ``native_side``: the width and image side the divisors
    apply to; ``eval_images``: evaluation images kept (None = all of ``Dataset.eval``)."""

    space: str
    dataset: str
    data_dir: str | None
    truth_split: str | None
    base: dict = field(hash=False)
    full_channels: int = 16
    native_side: int = 32
    eval_images: int | None = None
    device: str = "cpu"
    checkpoints: str | None = field(default=None, compare=False)

    def train_config(self, setting: ReducedSetting):
        from bnbench.train.config import TrainConfig

        return setting.train_config(TrainConfig.from_dict(self.base), self.full_channels, self.native_side)

    def key(self, setting: ReducedSetting, images: dict) -> str:
        """Hash of everything that changes a (arch, setting, seed) result except the arch and seed."""
        payload = {"space": self.space, "dataset": self.dataset, "truth_split": self.truth_split,
                   "train": self.train_config(setting).to_dict(), "eval_images": self.eval_images, "images": images}
        if setting.stop:
            payload["stop"] = setting.stop
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]

    def checkpoint(self, setting: ReducedSetting, images: dict, arch: str, seed: int, epoch: int) -> Path | None:
        """Where the training state of ``arch``'s run of ``setting`` (seed ``seed``) after ``epoch`` is kept (None:
        the job keeps no checkpoints)."""
        if self.checkpoints is None:
            return None
        name = hashlib.sha256(arch.encode()).hexdigest()[:16]
        return Path(self.checkpoints) / self.key(setting.run, images) / f"{name}-s{int(seed)}-e{int(epoch)}.pt"


@dataclass
class _State:
    job: ProxyJob
    dataset: Any
    eval: Any
    images: dict


def setup(job: ProxyJob) -> _State:
    """Load the job's dataset (once per worker process) and fix its evaluation images."""
    from bnbench.datasets import load_dataset
    from bnbench.datasets.sampling import stratified_subset

    dataset = load_dataset(job.dataset, job.data_dir, job.device, truth_split=job.truth_split)
    evaluation = dataset.eval
    if job.eval_images is not None and job.eval_images < len(evaluation):
        keep = stratified_subset(evaluation.y.cpu().numpy(), job.eval_images / len(evaluation), [0, EVAL_STREAM])
        evaluation = type(evaluation)(evaluation.x[keep], evaluation.y[keep])
    images = {"train": dataset.images["train"]["digest"], "eval": dataset.images["eval"]["digest"],
              "eval_count": len(evaluation)}
    return _State(job, dataset, evaluation, images)


def train_task(state: _State, task: tuple) -> dict:
    """Train architecture ``task[0]`` at setting ``task[1]`` with seed ``task[2]``; its store record. A task
    ``(arch, setting, seed, epoch_from, seconds_before)`` continues the run's checkpoint after ``epoch_from`` (which
    took ``seconds_before``) where the file exists (module docstring)."""
    from bnbench.datasets import ImageSplit
    from bnbench.datasets.sampling import stratified_subset
    from bnbench.spaces import get_space
    from bnbench.train.standalone import run_seed, train_network

    arch, name, seed = task[:3]
    epoch_from, seconds_before = (int(task[3]), float(task[4])) if len(task) > 3 else (0, 0.0)
    job, data = state.job, state.dataset
    setting = ReducedSetting.parse(name)
    cfg = job.train_config(setting)
    ops = get_space(job.space).parse(arch)
    train = data.train
    if setting.s:
        keep = stratified_subset(train.y.cpu().numpy(), setting.train_fraction, [seed, SAMPLE_STREAM])
        train = ImageSplit(train.x[keep], train.y[keep])
    resume = job.checkpoint(setting, state.images, arch, seed, epoch_from) if epoch_from else None
    if resume is None or not resume.exists():
        resume, epoch_from, seconds_before = None, 0, 0.0
    save = job.checkpoint(setting, state.images, arch, seed, setting.stop) if setting.stop else None
    start = time.perf_counter()
    acc = train_network(ops, train, state.eval, cfg, data.mean, data.std, data.augment, data.num_classes,
                        run_seed(seed, *ops), stop=setting.epochs_trained, resume=resume, checkpoint=save)
    seconds = time.perf_counter() - start
    return {"arch": arch, "setting": name, "seed": int(seed), "acc": float(acc), "seconds": seconds,
            "seconds_total": seconds_before + seconds, "epoch_from": epoch_from, "train_images": len(train),
            "eval_images": len(state.eval), "device": str(train.x.device.type), "key": job.key(setting, state.images)}


class RunStore:
    """The append-only record of finished (arch, setting, seed) runs at ``path`` (JSON lines, fsynced per record;
    a line torn by a kill is ignored). ``path`` None: in memory only."""

    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        self.records: dict[tuple[str, str, str, int], dict] = {}
        self.failures: list[dict] = []
        if self.path is not None:
            for rec in read_jsonl(self.path)[0]:
                self._add(rec)

    def _add(self, rec: dict) -> None:
        if is_failure(rec):
            self.failures.append(rec)
        elif {"key", "arch", "setting", "seed", "acc"} <= rec.keys():
            self.records[(rec["key"], rec["arch"], rec["setting"], int(rec["seed"]))] = rec

    def get(self, key: str, arch: str, setting: str, seed: int) -> dict | None:
        return self.records.get((key, arch, setting, int(seed)))

    def extend(self, records: Iterable[dict]) -> Iterable[dict]:
        """Record each of ``records`` (lazily, appended to the file as it comes) and yield it."""
        stream = append_jsonl(self.path, records) if self.path is not None else records
        for rec in stream:
            self._add(rec)
            yield rec


class ProxyRunner:
    """Runs (arch, setting, seed) tasks of one job through an engine into a store; the driver side."""

    def __init__(self, job: ProxyJob, store: RunStore, engine: Engine = Engine(), progress: bool = True):
        self.job, self.store, self.engine, self.progress = job, store, engine, progress
        from bnbench.engine import worker_state

        self.state = worker_state(partial(setup, job))  # the driver's own copy: image digests (and jobs=1 runs)
        self.failed: list[dict] = []

    def key(self, setting: ReducedSetting) -> str:
        return self.job.key(setting, self.state.images)

    def ensure(self, archs: list[str], setting: ReducedSetting, seeds: Iterable[int], label: str = "",
               after: ReducedSetting | None = None) -> None:
        """Train every (arch, setting, seed) not yet in the store; ``after``: the earlier stop of the same run whose
        checkpoints the runs continue (:meth:`ReducedSetting.continues`)."""
        try:  # a setting the space cannot build (e.g. too few channels): one line here, not a failure per run
            key = self.key(setting)
        except BnbenchError as err:
            raise BnbenchError(f"econas {setting.name}: {err}") from None
        continued = after if after is not None and setting.continues(after) else None
        before_key = self.key(continued) if continued is not None else None
        todo = [self._task(a, setting, int(s), continued, before_key) for a in archs for s in seeds
                if self.store.get(key, a, setting.name, s) is None]
        if not todo:
            return
        records = run_tasks(train_task, partial(setup, self.job), todo, self.engine, cuda=self.job.device != "cpu")
        for rec in track(self.store.extend(records), len(todo), label or f"econas {setting.name}", self.progress,
                         unit="run"):
            if is_failure(rec):
                self.failed.append(rec)
                log.warning("econas %s: run %s failed after %d attempt(s): %s", setting.name, rec["task"],
                            rec["attempts"], rec["failed"])

    def _task(self, arch: str, setting: ReducedSetting, seed: int, continued: ReducedSetting | None,
              before_key: str | None) -> tuple:
        """The task tuple of one run; it continues ``continued``'s run (key ``before_key``) where that one is stored."""
        before = self.store.get(before_key, arch, continued.name, seed) if continued is not None else None
        if before is None:
            return (arch, setting.name, seed)
        return (arch, setting.name, seed, continued.stop, _total_seconds(before))

    def accuracy(self, archs: list[str], setting: ReducedSetting, seeds: Iterable[int],
                 after: ReducedSetting | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(accuracy %, seconds) arrays of shape (len(archs), len(seeds)) from the store; NaN where a run failed.
        The seconds are what the network cost from epoch 0 (``seconds_total``); with ``after`` (the earlier stop of
        the same run, see :meth:`ensure`) they are the continuation's own: the total less ``after``'s total."""
        seeds = [int(s) for s in seeds]
        self.ensure(archs, setting, seeds, after=after)
        key = self.key(setting)
        continued = after is not None and setting.continues(after)
        before_key = self.key(after) if continued else None
        acc = np.full((len(archs), len(seeds)), np.nan)
        sec = np.full((len(archs), len(seeds)), np.nan)
        for i, a in enumerate(archs):
            for j, s in enumerate(seeds):
                rec = self.store.get(key, a, setting.name, s)
                if rec is not None:
                    acc[i, j], sec[i, j] = rec["acc"], _total_seconds(rec)
                    before = self.store.get(before_key, a, after.name, s) if continued else None
                    if before is not None:
                        sec[i, j] = max(0.0, sec[i, j] - _total_seconds(before))
        return acc, sec


def _total_seconds(record: dict) -> float:
    """Seconds the record's network cost from epoch 0 (records before continued runs existed: ``seconds``)."""
    return float(record.get("seconds_total", record["seconds"]))


def parse_seeds(text: Any, what: str = "--econas-seeds") -> tuple[int, ...]:
    """``"0,1"`` / ``[0, 1]`` / ``0`` -> (0, 1); one-line BnbenchError otherwise."""
    if isinstance(text, int):
        return (text,)
    if isinstance(text, (list, tuple)):
        items = list(text)
    else:
        items = [t.strip() for t in str(text).split(",") if t.strip()]
    try:
        seeds = tuple(int(s) for s in items)
    except ValueError:
        raise BnbenchError(f"{what} {text!r}: expected comma-separated integers, e.g. 0,1") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise BnbenchError(f"{what} {text!r}: expected distinct integer seeds, e.g. 0,1")
    return seeds
