"""``bnbench truth build``: a ground-truth table made by training sampled cells from scratch.

Every sampled cell is trained ``len(seeds) x folds`` times: for each seed, a stratified k-fold split
of the dataset's images (train and validation pooled) gives ``folds`` runs that each train on
``k-1`` folds and test on the held-out one, so every image is tested once per seed. The truth is the
mean held-out accuracy over seeds and folds; the per-seed means are kept as extra columns so the
table's noise ceiling (Kendall tau between two seeds) can be read from it. Finished runs are appended
to ``<out>.runs.jsonl`` as they complete, so a killed build resumes where it stopped.

EcoNAS-style reductions of each run: ``train.resolution`` resizes the images, ``train.train_fraction`` < 1
trains on a class-stratified subset of the training folds (drawn from ``(seed, fold)``), and ``test_fraction`` < 1
evaluates a class-stratified subset of the held-out fold (large datasets: CIFAR-10's 25k-image folds). The
table's header records them with the rest of the config.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
from scipy.stats import kendalltau
from sklearn.model_selection import StratifiedKFold

from bnbench.progress import track
from bnbench.datasets import Dataset, ImageSplit, load_dataset
from bnbench.datasets.sampling import stratified_subset
from bnbench.engine import Engine, is_failure, run_tasks
from bnbench.errors import BnbenchError
from bnbench.spaces import get_space
from bnbench.train.config import TrainConfig
from bnbench.train.standalone import run_seed, train_network
from bnbench.utils.env import package_versions
from bnbench.utils.jsonl import append_jsonl, read_jsonl


@dataclass
class BuildConfig:
    space: str = "nb201"
    dataset: str = "digits"
    sample_archs: int = 300
    sample_seed: int = 0
    seeds: tuple[int, ...] = (0, 1, 2)
    folds: int = 3
    test_fraction: float = 1.0  # stratified fraction of each held-out fold that is evaluated
    train: TrainConfig = field(default_factory=lambda: TrainConfig(dataset="digits", channels=8, cells=1, epochs=15,
                                                                   batch_size=64, train_mode="full", lr=0.05))

    def __post_init__(self) -> None:
        if self.dataset == "cifar10":
            raise BnbenchError("truth build --dataset cifar10: the cifar10 setting has no validation split, and its "
                               "k-fold truth would pool the 10k test images; use --dataset cifar10-valid (the 50k "
                               "training images)")
        if not 0.0 < self.test_fraction <= 1.0:
            raise BnbenchError(f"test_fraction {self.test_fraction}: expected a value in (0, 1]")

    def key(self) -> str:
        """Hash of everything that changes a run's result (resumed runs must match it)."""
        fields_ = {"dataset": self.dataset, "folds": self.folds, "train": self.train.to_dict()}
        if self.test_fraction != 1.0:  # absent when whole, so keys of tables built before it are unchanged
            fields_["test_fraction"] = self.test_fraction
        payload = json.dumps(fields_, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return {**asdict(self), "train": self.train.to_dict()}  # TrainConfig's own form (later knobs at default omitted)

    @classmethod
    def from_dict(cls, data: dict) -> "BuildConfig":
        """The config of :meth:`to_dict` output, e.g. a built table's header ``config``."""
        data = dict(data)
        return cls(**{**data, "seeds": tuple(data["seeds"]), "train": TrainConfig.from_dict(data["train"])})


def pooled(dataset: Dataset) -> ImageSplit:
    return ImageSplit(torch.cat([dataset.train.x, dataset.valid.x]), torch.cat([dataset.train.y, dataset.valid.y]))


def fold_indices(labels: np.ndarray, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified k-fold (train, test) index pairs, shuffled with ``seed``."""
    kfold = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(kfold.split(np.zeros(len(labels)), labels))


def setup(cfg: BuildConfig, data_dir: str | None) -> tuple[BuildConfig, Dataset, ImageSplit]:
    """A worker's state: the build config, its dataset and the pooled images the folds split."""
    dataset = load_dataset(cfg.dataset, data_dir)
    return cfg, dataset, pooled(dataset)


def run_split(cfg: BuildConfig, full: ImageSplit, seed: int, fold: int) -> tuple[ImageSplit, ImageSplit]:
    """The (training, held-out) images of run ``(seed, fold)``: fold ``fold`` of the stratified ``cfg.folds``-fold
    split of ``full`` shuffled with ``seed`` is held out; ``cfg.train.train_fraction`` / ``cfg.test_fraction`` < 1
    keep a class-stratified subset of the training folds / the held-out fold (drawn from ``(seed, fold)``)."""
    labels = full.y.numpy()
    train_idx, test_idx = fold_indices(labels, cfg.folds, seed)[fold]
    if cfg.train.train_fraction < 1:
        train_idx = train_idx[stratified_subset(labels[train_idx], cfg.train.train_fraction, [seed, fold, 1])]
    if cfg.test_fraction < 1:  # never a training image: the subset is drawn from the held-out fold
        test_idx = test_idx[stratified_subset(labels[test_idx], cfg.test_fraction, [seed, fold, 2])]
    return ImageSplit(full.x[train_idx], full.y[train_idx]), ImageSplit(full.x[test_idx], full.y[test_idx])


def train_run(cfg: BuildConfig, data: Dataset, full: ImageSplit, arch: str, seed: int, fold: int) -> dict:
    """Train one (arch, seed, fold) run of the build from scratch and return its record: held-out accuracy (%),
    wall seconds of training and evaluation, training images, and the config key it belongs to."""
    ops = get_space(cfg.space).parse(arch)
    tr, te = run_split(cfg, full, seed, fold)
    start = time.perf_counter()
    acc = train_network(ops, tr, te, cfg.train, data.mean, data.std, data.augment, data.num_classes,
                        run_seed(seed, *ops, fold))
    return {"arch": arch, "seed": seed, "fold": fold, "acc": acc, "seconds": time.perf_counter() - start,
            "train_images": len(tr), "key": cfg.key()}


def run_task(state: tuple[BuildConfig, Dataset, ImageSplit], task: tuple[str, int, int]) -> dict:
    """Train one (arch, seed, fold) run in a worker (:func:`train_run`)."""
    return train_run(*state, *task)


def read_runs(path: Path, key: str) -> dict[tuple[str, int, int], dict]:
    """Finished runs with a matching config key; a torn last line (killed mid-write) is ignored."""
    return {(rec["arch"], rec["seed"], rec["fold"]): rec for rec in read_jsonl(path)[0] if rec.get("key") == key}


def build_truth(cfg: BuildConfig, out: str | Path, data_dir: str | None = None, jobs: int = 1,
                progress: bool = True, engine: Engine | None = None) -> Path:
    """Train every (arch, seed, fold) run not yet in the run log and write the truth table at ``out``.

    Runs go to ``engine`` (default: ``jobs`` local processes; :mod:`bnbench.engine`), one task per (arch, seed,
    fold), each with one torch thread, so the table does not depend on the engine. A run that still fails after its
    retries is recorded in the log with its reason and the build stops with a one-line BnbenchError after the
    other runs finished; rerunning retries the failed ones."""
    out = Path(out)
    engine = engine or Engine(jobs=jobs)
    space = get_space(cfg.space)
    archs = [space.to_str(a) for a in space.sample(cfg.sample_archs, cfg.sample_seed)]
    log = out.with_name(out.name + ".runs.jsonl")
    runs = read_runs(log, cfg.key())
    todo = [(a, s, f) for a in archs for s in cfg.seeds for f in range(cfg.folds) if (a, s, f) not in runs]
    failed = []
    done = run_tasks(run_task, partial(setup, cfg, data_dir), todo, engine)
    for rec in track(append_jsonl(log, done), len(todo), "truth build", progress, unit="run"):
        if is_failure(rec):
            failed.append(rec)
        else:
            runs[(rec["arch"], rec["seed"], rec["fold"])] = rec
    if failed:
        raise BnbenchError(f"truth build: {len(failed)} of {len(todo)} runs failed (first: run {failed[0]['task']}: "
                           f"{failed[0]['failed']}); finished runs are kept in {log}, rerun to retry the failed ones")
    return _write(cfg, out, archs, runs)


def _write(cfg: BuildConfig, out: Path, archs: list[str], runs: dict) -> Path:
    from bnbench.truth import write_table
    from bnbench.truth.select import BUILT_SOURCE

    acc = np.array([[[runs[(a, s, f)]["acc"] for f in range(cfg.folds)] for s in cfg.seeds] for a in archs])
    per_seed = acc.mean(axis=2)  # (archs, seeds)
    column = f"{cfg.dataset}:valid:accuracy:{cfg.train.epochs}"
    columns = {column: per_seed.mean(axis=1)}
    columns.update({f"{column}:seed{s}": per_seed[:, i] for i, s in enumerate(cfg.seeds)})
    seconds = np.array([r["seconds"] for r in runs.values()])
    meta = {"source": BUILT_SOURCE, "aggregation": f"mean of {len(cfg.seeds)} seeds x {cfg.folds} folds",
            "config": cfg.to_dict(), "config_key": cfg.key(), "versions": package_versions(),
            "summary": summary(per_seed), "seconds_per_run": float(seconds.mean()), "runs": int(acc.size)}
    space = get_space(cfg.space)
    keys = [space.truth_key(space.parse(a)) for a in archs]  # NB201: the string itself; NB101: the module hash
    meta["space"] = space.name
    return write_table(out, keys, np.full(len(archs), -1), columns, meta, specs=None if keys == archs else archs)


def summary(per_seed: np.ndarray) -> dict:
    """Accuracy spread of the truth and its noise ceiling (Kendall tau between the first two seeds)."""
    truth = per_seed.mean(axis=1)
    out = {"min": float(truth.min()), "max": float(truth.max()), "std": float(truth.std()),
           "p10": float(np.percentile(truth, 10)), "p90": float(np.percentile(truth, 90))}
    if per_seed.shape[1] >= 2:
        out["tau_seed0_vs_seed1"] = float(kendalltau(per_seed[:, 0], per_seed[:, 1]).statistic)
    return out
