"""The correlate / score pipelines as library functions (the CLI only parses arguments).

correlate: ground truth -> architecture sample -> supernet (trained, resumed or loaded) ->
indicator scores (cached per indicator) -> rank correlations -> results.json, scores.csv, report.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bnbench.errors import BnbenchError
from bnbench.indicators import NetSpec, ScoringContext, parse_list
from bnbench.train.config import TrainConfig
from bnbench.utils.io import atomic_write_json

# (num_classes, in_channels, native resolution) of each named dataset, for data-free indicators
DATASET_SHAPES = {"cifar10-valid": (10, 3, 32), "cifar10": (10, 3, 32), "cifar100": (100, 3, 32),
                  "ImageNet16-120": (120, 3, 16), "digits": (10, 1, 8)}
# Supernet presets: the embedded digits default is sized to finish in well under 3 minutes on 2 cores.
PRESETS = {"digits": dict(channels=16, cells=2, epochs=30, batch_size=64),
           "default": dict(channels=16, cells=5, epochs=10, batch_size=64)}


@dataclass
class RunOptions:
    """Everything a correlate/score run depends on besides the training config."""

    space: str = "nb201"
    dataset: str | None = None
    data_dir: str | None = None
    device: str = "auto"
    benchmark: str | None = None
    truth_split: str = "valid"
    truth_metric: str = "accuracy"
    truth_epochs: int | None = None
    indicators: str = "bn,supernet_acc,params"
    sample_archs: int | None = None
    seed: int = 0
    supernet: str | None = None
    out: str = "runs/correlate"
    n_boot: int = 1000
    scoring: dict[str, Any] = field(default_factory=dict)
    progress: bool = True


def dataset_name(opts: RunOptions) -> str:
    if opts.dataset:
        if opts.dataset not in DATASET_SHAPES:
            raise BnbenchError(f"--dataset {opts.dataset!r}: expected one of {', '.join(DATASET_SHAPES)}")
        return opts.dataset
    return "cifar10-valid" if opts.benchmark else "digits"


def train_config(name: str, seed: int, **overrides: Any) -> TrainConfig:
    """The preset for dataset ``name`` with every explicitly given (non-None) override applied."""
    base = dict(PRESETS["digits" if name == "digits" else "default"], dataset=name, seed=seed)
    base.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig(**base)


def load_ground_truth(opts: RunOptions, name: str):
    """The truth named by --benchmark (any supported kind) or the embedded table.

    Without --truth-epochs the budget is 200 epochs when the source has it, else the source's only
    budget for this dataset/split/metric (bnbench-built tables record their own reduced protocol).
    """
    from bnbench.embedded import embedded_truth_path
    from bnbench.truth import TruthSpec, read_source

    path = opts.benchmark or embedded_truth_path(opts.space)
    table = read_source(path)
    epochs = opts.truth_epochs
    if epochs is None:
        budgets = {s.epochs for s in table.specs() if (s.dataset, s.split, s.metric) == (name, opts.truth_split, opts.truth_metric)}
        epochs = 200 if 200 in budgets or len(budgets) != 1 else budgets.pop()
    spec = TruthSpec(dataset=name, split=opts.truth_split, metric=opts.truth_metric, epochs=epochs)
    truth = table.truth(spec, source=path)
    if not opts.benchmark:
        truth.source = f"embedded:{Path(path).name}"
    return truth


def net_spec(name: str, truth=None) -> NetSpec:
    """The stand-alone network the truth was measured on (for params/FLOPs)."""
    classes, in_ch, res = DATASET_SHAPES[name]
    train = (getattr(truth, "meta", None) or {}).get("config", {}).get("train", {})
    return NetSpec(channels=int(train.get("channels", 16)), cells=int(train.get("cells", 5)), num_classes=classes,
                   in_channels=in_ch, resolution=int(train.get("resolution") or res))


def needs(indicators, what: str) -> bool:
    return any(what in ind.needs for ind in indicators)


def get_supernet(cfg: TrainConfig, dataset, opts: RunOptions, out: Path):
    """Load --supernet, or train one in ``out/supernet`` (resuming / reusing a finished checkpoint)."""
    from bnbench.train.supernet import load_supernet, train_supernet

    if opts.supernet:
        return load_supernet(opts.supernet, dataset)
    return train_supernet(cfg, dataset, out / "supernet", progress=opts.progress)


# Scoring options that never change a score: worker count (bit-identical results, tested) and the store's folder.
RESULT_NEUTRAL_OPTIONS = frozenset({"jobs", "cache_dir"})


def _cache_key(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def weights_digest(model) -> str:
    """SHA-256 (16 hex digits) of a module's state (parameters and buffers, by name): the cache key's proof of
    which weights were scored, since a config alone does not pin them (full training is not bit-reproducible
    across thread counts, and a checkpoint path may be overwritten)."""
    import torch

    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()[:16]


def score_indicators(indicators, archs: np.ndarray, ctx: ScoringContext, cache_dir: Path | None,
                     key_payload: dict) -> dict[str, tuple[np.ndarray, float]]:
    """Scores and wall time of each indicator; finished indicators are cached atomically in ``cache_dir``.

    A cache entry is keyed on ``key_payload``, the indicator's name and definition version, the architectures,
    the supernet's weights (for indicators that need one) and the values of the scoring options the indicator
    read while scoring (:class:`~bnbench.utils.read_options.ReadOptions`): changing an option that one
    indicator reads rescores that indicator only.
    """
    from bnbench.utils.read_options import ReadOptions, still_valid

    out: dict[str, tuple[np.ndarray, float]] = {}
    arch_hash = hashlib.sha256(np.ascontiguousarray(archs).tobytes()).hexdigest()[:16]
    weights = weights_digest(ctx.supernet.model) if ctx.supernet is not None and needs(indicators, "supernet") else None
    for ind in indicators:
        key = _cache_key({**key_payload, "indicator": ind.name, "version": ind.version, "archs": arch_hash,
                          "supernet_weights": weights if "supernet" in ind.needs else None})
        path = cache_dir / f"{ind.name}.json" if cache_dir else None
        cached = json.loads(path.read_text()) if path and path.exists() else None
        if cached and cached.get("key") == key and still_valid(cached.get("options", {}), ctx.options):
            out[ind.name] = (np.array(cached["scores"], dtype=float), float(cached["seconds"]))
            continue
        options = ReadOptions(ctx.options, ignore=RESULT_NEUTRAL_OPTIONS)
        start = time.perf_counter()
        scores = ind(archs, replace(ctx, options=options))
        seconds = time.perf_counter() - start
        if path:
            atomic_write_json(path, {"key": key, "options": options.read, "seconds": seconds,
                                     "scores": [None if not np.isfinite(s) else float(s) for s in scores]})
        out[ind.name] = (scores, seconds)
    return out


def select_archs(space, truth, n: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(op matrix, truth values) of all truth archs or a stratified sample of ``n`` of them."""
    ops = space.parse_many(truth.archs)
    values = np.asarray(truth.values, dtype=float)
    if n is not None and n < len(ops):
        from bnbench.spaces.nb201.sampling import stratified_sample

        keep = stratified_sample(ops, n, seed)
        ops, values = ops[keep], values[keep]
    return ops, values


def scores_frame(space, ops: np.ndarray, scores: dict, truth_values: np.ndarray | None = None) -> pd.DataFrame:
    df = pd.DataFrame({"arch": [space.to_str(o) for o in ops]})
    if truth_values is not None:
        df["truth"] = truth_values
    for name, (values, _) in scores.items():
        df[name] = values
    return df


def build_context(opts: RunOptions, indicators, name: str, truth, cfg: TrainConfig, out: Path) -> ScoringContext:
    """Load the dataset and the supernet only when some indicator needs them."""
    from bnbench.datasets import load_dataset
    from bnbench.utils.seed import resolve_device

    ctx = ScoringContext(space=None, network=net_spec(name, truth), seed=opts.seed, progress=opts.progress,
                         options={**opts.scoring, "cache_dir": str(out)})  # cache_dir: per-architecture proxy store
    if needs(indicators, "data") or needs(indicators, "supernet"):
        ctx.dataset = load_dataset(name, opts.data_dir, resolve_device(opts.device),
                                   train_fraction=cfg.train_fraction, seed=cfg.seed)
    if needs(indicators, "supernet"):
        ctx.supernet = get_supernet(cfg, ctx.dataset, opts, out)
    return ctx


def read_scores_csv(path: str, space, indicator_names: str | None):
    """(indicators, op matrix, {name: (scores, 0.0)}) from a ``bnbench score`` CSV."""
    from bnbench.errors import BenchmarkError
    from bnbench.indicators import get

    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise BenchmarkError(f"--scores {path}: unreadable CSV ({exc})") from None
    if "arch" not in df.columns or len(df.columns) < 2:
        raise BenchmarkError(f"--scores {path}: expected an 'arch' column and one column per indicator")
    names = [n.strip() for n in indicator_names.split(",")] if indicator_names else [c for c in df.columns if c != "arch"]
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise BenchmarkError(f"--scores {path}: no column {', '.join(missing)} (columns: {', '.join(df.columns)})")
    indicators = [get(n) for n in names]
    ops = space.parse_many(df["arch"])
    return indicators, ops, {n: (pd.to_numeric(df[n], errors="coerce").to_numpy(float), 0.0) for n in names}


def run_correlate(opts: RunOptions, cfg_overrides: dict[str, Any], scores_csv: str | None = None) -> dict:
    """The full correlate experiment; writes results.json, scores.csv, report.md and plots to ``opts.out``.

    With ``scores_csv`` (the output of ``bnbench score``) the given scores are correlated instead of
    computing indicators; every scored architecture must be covered by the ground truth.
    """
    from bnbench.spaces import get_space

    start = time.perf_counter()
    out = Path(opts.out)
    space = get_space(opts.space)
    name = dataset_name(opts)
    truth = load_ground_truth(opts, name)
    cfg = train_config(name, opts.seed, **cfg_overrides)
    if scores_csv:
        indicators, ops, scores = read_scores_csv(scores_csv, space, opts.indicators or None)
        truth_values = truth.lookup([space.to_str(o) for o in ops])
        network, train_seconds = net_spec(name, truth), 0.0
    else:
        indicators = parse_list(opts.indicators)
        ops, truth_values = select_archs(space, truth, opts.sample_archs, opts.seed)
        ctx = build_context(opts, indicators, name, truth, cfg, out)
        ctx.space = space
        key = {"truth": truth.description(), "train": cfg.to_dict(), "supernet": opts.supernet, "seed": opts.seed}
        scores = score_indicators(indicators, ops, ctx, out / "scores", key)
        network, train_seconds = ctx.network, (ctx.supernet.train_seconds if ctx.supernet else 0.0)
    results = assemble_results(opts, name, cfg, truth, space, indicators, ops, scores, truth_values, network)
    results["config"]["scores_csv"] = scores_csv
    results["timings"] = {"supernet_train_s": train_seconds, "total_s": time.perf_counter() - start}
    from bnbench.report import write_report

    df = scores_frame(space, ops, scores, truth_values)
    write_report(out, results, df, "truth", {i.name: i.higher_is_better for i in indicators})
    return results


def assemble_results(opts: RunOptions, name: str, cfg: TrainConfig, truth, space, indicators, ops, scores,
                     truth_values, network: NetSpec) -> dict:
    """The results.json document: config, seeds, versions, ground truth and per-indicator statistics."""
    from bnbench.correlation import correlate
    from bnbench.utils.env import package_versions

    groups = [space.canonical(o) for o in ops]
    results = {
        "bnbench_version": package_versions()["bnbench"], "command": "correlate",
        "config": {"space": opts.space, "dataset": name, "benchmark": opts.benchmark, "sample_archs": opts.sample_archs,
                   "indicators": [i.name for i in indicators], "train": cfg.to_dict(), "network": network.__dict__,
                   "scoring": dict(opts.scoring), "supernet": opts.supernet, "n_boot": opts.n_boot},
        "seeds": {"sample": opts.seed, "supernet": cfg.seed, "scoring": opts.seed, "bootstrap": opts.seed},
        "versions": package_versions(),
        "ground_truth": {"description": truth.description(), "source": str(truth.source), "n": int(len(ops)),
                         "meta": truth.meta},
        "indicators": {},
    }
    for ind in indicators:
        values, seconds = scores[ind.name]
        stats = correlate(values, truth_values, higher_is_better=ind.higher_is_better, groups=groups,
                          n_boot=opts.n_boot, seed=opts.seed)
        results["indicators"][ind.name] = {"direction": ind.direction, "time_s": seconds,
                                           "time_per_arch_s": seconds / max(len(ops), 1), **stats}
    return results
