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
# Supernet presets per dataset; the space adds its own width/depth (``SearchSpace.presets``): the embedded
# digits default is sized to finish in well under 3 minutes on 2 cores.
#: The indicators ``correlate`` scores when none are named (the structural baselines params, flops, convs are added).
DEFAULT_INDICATORS = "bn,composite,supernet_acc"
PRESETS = {"digits": dict(epochs=30, batch_size=64), "default": dict(epochs=10, batch_size=64)}


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
    indicators: str = "bn,composite,supernet_acc"  # + the structural baselines (experiment.with_baselines)
    sample_archs: int | None = None
    seed: int = 0
    supernet: str | None = None
    out: str = "runs/correlate"
    n_boot: int = 1000
    scoring: dict[str, Any] = field(default_factory=dict)
    progress: bool = True


def dataset_name(opts: RunOptions, without_data: str = "digits") -> str:
    """The dataset of a run, one rule for every command (correlate, score, train-supernet, study):
    ``--dataset`` when given; else ``cifar10-valid`` when data is named (``--data-dir`` or ``--benchmark``);
    else ``without_data``: ``digits`` (the embedded default, no download) for the commands that can run on
    it, ``cifar10-valid`` for ``score``, whose data-free indicators describe the benchmark's own networks."""
    if opts.dataset:
        if opts.dataset not in DATASET_SHAPES:
            raise BnbenchError(f"--dataset {opts.dataset!r}: expected one of {', '.join(DATASET_SHAPES)}")
        return opts.dataset
    return "cifar10-valid" if opts.benchmark or opts.data_dir else without_data


def train_config(name: str, seed: int, space: str | None = None, **overrides: Any) -> TrainConfig:
    """The preset for dataset ``name`` in ``space`` (default nb201) with every given (non-None) override applied."""
    from bnbench.spaces import get_space

    preset = "digits" if name == "digits" else "default"
    space_obj = get_space(space or "nb201")
    base = dict(PRESETS[preset], **space_obj.presets.get(preset, {}), dataset=name, seed=seed, space=space_obj.name)
    base.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig(**base)


def load_ground_truth(opts: RunOptions, name: str):
    """The run's :class:`~bnbench.truth.ground.GroundTruth` (see :func:`load_truth_and_table`)."""
    return load_truth_and_table(opts, name)[0]


def load_truth_and_table(opts: RunOptions, name: str):
    """The truth named by --benchmark (any supported kind) or the embedded table.

    Without --truth-epochs the budget is 200 epochs; a benchmark source without a 200-epoch value is refused
    (never a silent 12-epoch fallback), while a bnbench-built table uses its own recorded budget
    (:func:`bnbench.truth.select.resolve_spec`). An explicit --dataset / --truth-epochs also labels an accuracy
    CSV whose file name does not state its setting and budget.
    """
    from bnbench.embedded import embedded_truth_path
    from bnbench.spaces import get_space
    from bnbench.truth import read_source
    from bnbench.truth.select import resolve_spec

    space = get_space(opts.space)
    setting = space.truth_datasets.get(name, name)  # NB101's CIFAR-10 truth has its own protocol and label
    path = opts.benchmark or embedded_truth_path(space.name)
    table = read_source(path, dataset=opts.dataset, epochs=opts.truth_epochs, space=space.name)
    if not opts.benchmark and setting not in {s.dataset for s in table.specs()}:
        held = ", ".join(sorted({s.dataset for s in table.specs()}))
        raise BnbenchError(f"the embedded {space.name} ground truth holds {held} only, not {name}: pass --benchmark "
                           f"with a {name} truth, or --dataset {held}")
    spec = resolve_spec(table, setting, opts.truth_split, opts.truth_metric, opts.truth_epochs, path,
                        default_epochs=space.default_truth_epochs)
    truth = table.truth(spec, source=path)
    if table.arch_specs is not None:
        truth.specs = table.arch_specs_of(truth.archs)
    truth = truth.canonical_order()  # samples never depend on the file's row order
    if not opts.benchmark:
        truth.source = f"embedded:{Path(path).name}"
    return truth, table


def net_spec(name: str, truth=None) -> NetSpec:
    """The stand-alone network the truth was measured on (for params/FLOPs): a bnbench-built truth records its
    width, depth and other build options; a benchmark's truth uses the space's defaults (the benchmark's own)."""
    classes, in_ch, res = DATASET_SHAPES[name]
    train = (getattr(truth, "meta", None) or {}).get("config", {}).get("train", {})
    width, depth = train.get("channels"), train.get("cells")
    return NetSpec(channels=None if width is None else int(width), cells=None if depth is None else int(depth),
                   num_classes=classes, in_channels=in_ch, resolution=int(train.get("resolution") or res),
                   options=tuple(sorted((train.get("space_options") or {}).items())))


def needs(indicators, what: str) -> bool:
    return any(what in ind.needs for ind in indicators)


def get_supernet(cfg: TrainConfig, dataset, opts: RunOptions, out: Path):
    """Load --supernet, or train one in ``out/supernet`` (resuming / reusing a finished checkpoint)."""
    from bnbench.train.supernet import load_supernet, train_supernet

    if opts.supernet:  # refused in one line unless trained in this space on this dataset's training images
        return load_supernet(opts.supernet, dataset, opts.space)
    return train_supernet(cfg, dataset, out / "supernet", progress=opts.progress)


# Scoring options that never change a score: worker count (bit-identical results, tested) and the store's folder.
# So are where runs go (engine, Ray address) and the data's folder (the images' digests enter the keys instead).
RESULT_NEUTRAL_OPTIONS = frozenset({"jobs", "cache_dir", "engine", "address", "data_dir"})


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


_NONFINITE_FORMAT = "inf-as-string"  # cache entries: +-inf stored as "inf" / "-inf", NaN as null


def encode_scores(scores) -> list[float | str | None]:
    """Strict-JSON list of scores: NaN -> None, +inf / -inf -> "inf" / "-inf" (an infinite score is a rankable
    value, the worst or best, and must not come back from the cache as an undefined NaN)."""
    return [float(v) if np.isfinite(v) else None if np.isnan(v) else ("inf" if v > 0 else "-inf")
            for v in np.asarray(scores, dtype=np.float64).tolist()]


def decode_scores(values) -> np.ndarray:
    """Inverse of :func:`encode_scores`."""
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def _cached_nonfinite_ok(cached: dict) -> bool:
    """Entries written before +-inf was kept stored it as null like NaN: trust them only if they hold no null."""
    return cached.get("nonfinite") == _NONFINITE_FORMAT or all(v is not None for v in cached.get("scores", []))


def score_indicators(indicators, archs: np.ndarray, ctx: ScoringContext, cache_dir: Path | None,
                     key_payload: dict) -> dict[str, tuple[np.ndarray, float]]:
    """Scores and wall time of each indicator; finished indicators are cached atomically in ``cache_dir``.

    A cache entry is keyed on ``key_payload``, the indicator's name and definition version, the architectures,
    the space and the stand-alone network spec (what params, FLOPs and the zero-cost proxies build; it follows the
    ground truth's protocol, so a rebuilt truth table at another width rescores them), the supernet's weights (for
    indicators that need one) and the values of the scoring options the indicator
    read while scoring (:class:`~bnbench.utils.read_options.ReadOptions`): changing an option that one
    indicator reads rescores that indicator only.
    """
    from bnbench.indicators.zc.runner import prefetch as zc_prefetch
    from bnbench.utils.read_options import ReadOptions, still_valid

    out: dict[str, tuple[np.ndarray, float]] = {}
    arch_hash = hashlib.sha256(np.ascontiguousarray(archs).tobytes()).hexdigest()[:16]
    weights = weights_digest(ctx.supernet.model) if ctx.supernet is not None and needs(indicators, "supernet") else None
    network = dict(vars(ctx.network)) if ctx.network is not None else None  # the stand-alone network scored
    pending = []
    for ind in indicators:
        key = _cache_key({**key_payload, "indicator": ind.name, "version": ind.version, "archs": arch_hash,
                          "space": getattr(ctx.space, "name", ctx.space), "network": network,
                          "supernet_weights": weights if "supernet" in ind.needs else None})
        path = cache_dir / f"{ind.name}.json" if cache_dir else None
        cached = json.loads(path.read_text()) if path and path.exists() else None
        if (cached and cached.get("key") == key and still_valid(cached.get("options", {}), ctx.options)
                and _cached_nonfinite_ok(cached)):
            out[ind.name] = (decode_scores(cached["scores"]), float(cached["seconds"]))
            continue
        pending.append((ind, key, path, ReadOptions(ctx.options, ignore=RESULT_NEUTRAL_OPTIONS)))
    # zero-cost proxies that read the same network and images are scored together from shared passes (each is
    # charged an equal share of their time); their indicator calls below then read the run's store
    contexts = {ind.name: replace(ctx, options=options) for ind, _, _, options in pending if ind.ready(ctx)}
    charged = zc_prefetch([ind.name for ind, _, _, _ in pending if ind.name in contexts], archs, contexts)
    for ind, key, path, options in pending:
        start = time.perf_counter()
        scores = ind(archs, contexts.get(ind.name) or replace(ctx, options=options))
        seconds = time.perf_counter() - start + charged.get(ind.name, 0.0)
        if path:
            atomic_write_json(path, {"key": key, "options": options.read, "seconds": seconds,
                                     "nonfinite": _NONFINITE_FORMAT, "scores": encode_scores(scores)})
        out[ind.name] = (scores, seconds)
    return {ind.name: out[ind.name] for ind in indicators}


def select_archs(space, truth, n: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(op matrix, truth values) of all truth archs or a stratified sample of ``n`` of them."""
    ops = space.parse_many(truth.arch_strings())
    values = np.asarray(truth.values, dtype=float)
    if n is not None and n < len(ops):
        from bnbench.spaces.sampling import stratified_indices

        keep = stratified_indices(space.strata(ops), n, seed)
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
    """Load the dataset and the supernet only when some indicator needs them.

    The dataset is told which images define the truth (``opts.truth_split``; ``kfold`` for a bnbench-built
    table, which cross-validates over train and valid pooled; None, e.g. for ``score``, = the dataset's
    usual truth) so that indicators evaluate on images disjoint from them (``Dataset.eval``)."""
    from bnbench.datasets import load_dataset
    from bnbench.datasets.protocol import truth_split_key
    from bnbench.truth.select import is_built
    from bnbench.utils.seed import resolve_device

    from bnbench.spaces import get_space

    space = get_space(opts.space)
    ctx = ScoringContext(space=space, network=net_spec(name, truth), seed=opts.seed, progress=opts.progress, train=cfg,
                         options={**opts.scoring, "cache_dir": str(out), "data_dir": opts.data_dir})  # cache_dir: per-arch stores
    if needs(indicators, "data") or needs(indicators, "supernet"):
        images = space.truth_image_splits.get((name, opts.truth_split), opts.truth_split)
        split = truth_split_key(images, is_built(getattr(truth, "meta", None) or {}))
        ctx.dataset = load_dataset(name, opts.data_dir, resolve_device(opts.device),
                                   train_fraction=cfg.train_fraction, seed=cfg.seed, truth_split=split)
    if needs(indicators, "supernet"):
        ctx.supernet = get_supernet(cfg, ctx.dataset, opts, out)
    return ctx


def images_key(dataset) -> dict | None:
    """What the score caches key on about the data: the digests of the training and evaluation images."""
    if dataset is None or not getattr(dataset, "images", None):
        return None
    rec = dataset.images
    return {"dataset": rec["dataset"], "train": rec["train"]["digest"], "train_count": rec["train"]["count"],
            "eval": rec["eval"]["digest"]}


def evaluation_images(indicators, dataset, supernet, options: dict, seed: int, space: Any = "nb201") -> dict:
    """results.json's ``evaluation_images``: the images the truth is measured on, the images every
    indicator saw (split, count, how chosen) and, per indicator, ``vs_truth``: ``"disjoint"`` or the overlap.

    ``bn`` reads only the supernet's weights, so its images are the supernet's training images; zero-cost
    proxies read a fixed batch of training images; ``supernet_acc`` and the composite's probe images read
    the evaluation split (``Dataset.eval``), chosen disjoint from the truth's images where the data allows.
    """
    from bnbench.datasets.protocol import DISJOINT, combine
    from bnbench.indicators.composite.probe import EVAL_IMAGE_INDICATORS, PROBE_IMAGES
    from bnbench.indicators.supernet_acc import CALIB_BATCHES, VAL_IMAGES
    from bnbench.indicators.zc.common import resolve_batch_size

    if dataset is None or not getattr(dataset, "images", None):
        return {"indicators": {i.name: {"reads": [], "vs_truth": "no images (data-free)"} for i in indicators}}
    rec = dataset.images
    n_train, n_eval = rec["train"]["count"], rec["eval"]["count"]
    where = {"train": f"{dataset.name} train split: {rec['train']['images']}",
             "eval": f"{dataset.name} {rec['eval']['split']} split: {rec['eval']['images']}"}
    relation = {"train": rec["train_vs_truth"], "eval": rec["eval_vs_truth"]}
    batch = supernet.config.batch_size if supernet is not None else 64
    k = int(options.get("mc_batches", 4))
    mc = k * min(int(options.get("mc_batch_size", min(batch, 64))), max(n_train // max(k, 1), 0))

    def read(role: str, split: str, count: int, how: str) -> dict:
        return {"role": role, "split": where[split], "count": int(min(count, n_eval if split == "eval" else n_train)),
                "how": how}

    out = {}
    for ind in indicators:
        reads = []
        if "supernet" in ind.needs and supernet is not None:
            reads.append(read("supernet training", "train", n_train, "every training image, SPOS epochs"))
        if ind.name == "supernet_acc":
            reads.append(read("evaluation", "eval", int(options.get("val_images", VAL_IMAGES)),
                              f"fixed permutation, seed {seed + 1}"))
            reads.append(read("BN recalibration", "train", int(options.get("calib_batches", CALIB_BATCHES)) * batch,
                              f"fixed permutation, seed {seed}"))
        elif ind.name in EVAL_IMAGE_INDICATORS or ind.name == "trainability":
            if ind.name != "trainability":
                reads.append(read("probe images", "eval", int(options.get("probe_images", PROBE_IMAGES)),
                                  f"fixed permutation, seed {seed + 1}"))
            reads.append(read("MC-BN statistics and NTK images", "train", mc, f"fixed permutation, seed {seed}"))
        elif ind.name.startswith("econas:"):
            reads.append(read("training from scratch", "train", n_train,
                              "the training split (the setting's s keeps a class-stratified 1/s per seed)"))
            n_ev = options.get("econas_eval_images")
            reads.append(read("evaluation", "eval", n_eval if n_ev is None else int(n_ev),
                              "every image" if n_ev is None else "a fixed class-stratified subset"))
        elif "data" in ind.needs:
            reads.append(read("zero-cost batch", "train", resolve_batch_size(options.get("zc_batch_size"), space),
                              f"fixed permutation, seed {seed} (per-arch: random per architecture)"))
        roles = {"eval" if r["split"] == where["eval"] else "train" for r in reads}
        out[ind.name] = {"reads": reads,
                         "vs_truth": combine([relation[r] for r in sorted(roles)]) if reads else "no images (data-free)"}
    evaluated = [n for n, v in out.items() if any(r["split"] == where["eval"] for r in v["reads"])]
    return {"dataset": dataset.name, "truth": rec["truth"], "train": rec["train"], "eval": rec["eval"],
            "eval_vs_truth": rec["eval_vs_truth"], "train_vs_truth": rec["train_vs_truth"],
            "evaluated_on_eval_split": evaluated,
            "disjoint": all(v["vs_truth"] in (DISJOINT, "no images (data-free)") for v in out.values()),
            "indicators": out}


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
    seen: dict[tuple, int] = {}
    repeats = [(seen[key], row) for row, key in enumerate(map(tuple, ops)) if seen.setdefault(key, row) != row]
    if repeats:  # the same cell twice would be counted twice in every statistic
        first, row = repeats[0]
        raise BenchmarkError(f"--scores {path}: architecture {df['arch'][row]} is listed twice (lines {first + 2} and "
                             f"{row + 2}; {len(repeats)} repeated row(s) in all); list each architecture once")
    # pandas reads "inf" / "-inf" as +-inf and empty cells as NaN: an infinite score stays a (worst/best) value;
    # any other text is a malformed file, not a silently dropped "undefined" score
    columns = {}
    for n in names:
        values = pd.to_numeric(df[n], errors="coerce")
        bad = values.isna() & df[n].notna() & (df[n].astype(str).str.strip().str.lower() != "nan")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise BenchmarkError(f"--scores {path}: column {n} line {row + 2} holds {df[n].iloc[row]!r}, not a number "
                                 "(an undefined score is an empty cell or NaN)")
        columns[n] = (values.to_numpy(float), 0.0)
    return indicators, ops, columns


def run_correlate(opts: RunOptions, cfg_overrides: dict[str, Any], scores_csv: str | None = None) -> dict:
    """The full correlate experiment; writes results.json, scores.csv, report.md and plots to ``opts.out``.

    With ``scores_csv`` (the output of ``bnbench score``) the given scores are correlated instead of
    computing indicators; every scored architecture must be covered by the ground truth. Returns the
    results.json document (:func:`correlate_frames` also returns the per-architecture scores).
    """
    return correlate_frames(opts, cfg_overrides, scores_csv)[0]


def correlate_frames(opts: RunOptions, cfg_overrides: dict[str, Any],
                     scores_csv: str | None = None) -> tuple[dict, pd.DataFrame]:
    """:func:`run_correlate`, returning (results.json document, scores.csv frame: arch, truth, one column per
    indicator)."""
    from bnbench.spaces import get_space

    start = time.perf_counter()
    out = Path(opts.out)
    space = get_space(opts.space)
    name = dataset_name(opts)
    truth, table = load_truth_and_table(opts, name)
    cfg = train_config(name, opts.seed, **{"space": opts.space, **cfg_overrides})
    if scores_csv:
        indicators, ops, scores = read_scores_csv(scores_csv, space, opts.indicators or None)
        truth_values = truth.lookup([space.truth_key(o) for o in ops])
        network, train_seconds = net_spec(name, truth), 0.0
        baselines = with_baselines(indicators)[len(indicators):]
        if baselines:  # data-free: computed here for the reference rows
            base_ctx = ScoringContext(space=space, network=network, seed=opts.seed, progress=False)
            scores.update(score_indicators(baselines, ops, base_ctx, None, {}))
            indicators = indicators + baselines
    else:
        indicators = with_baselines(parse_list(opts.indicators))
        ops, truth_values = select_archs(space, truth, opts.sample_archs, opts.seed)
        ctx = build_context(opts, indicators, name, truth, cfg, out)
        ctx.space = space
        key = {"space": space.name, "truth": truth.description(), "train": cfg.to_dict(), "supernet": opts.supernet, "seed": opts.seed,
               "images": images_key(ctx.dataset)}  # other training / evaluation images: rescored
        scores = score_indicators(indicators, ops, ctx, out / "scores", key)
        network, train_seconds = ctx.network, (ctx.supernet.train_seconds if ctx.supernet else 0.0)
    results = assemble_results(opts, name, cfg, truth, space, indicators, ops, scores, truth_values, network)
    results["config"]["scores_csv"] = scores_csv
    from bnbench.truth.ceiling import ceiling

    results["ceiling"] = ceiling(truth, table, [space.truth_key(o) for o in ops], opts.benchmark,
                                 n_boot=opts.n_boot, seed=opts.seed)
    results["evaluation_images"] = (
        {"note": f"scores read from {scores_csv}: the images they were computed on are not recorded there "
                 "(`bnbench score` prints them)"} if scores_csv else
        evaluation_images(indicators, ctx.dataset, ctx.supernet, ctx.options, opts.seed, space))
    results["timings"] = {"supernet_train_s": train_seconds, "total_s": time.perf_counter() - start}
    from bnbench.report import write_report

    df = scores_frame(space, ops, scores, truth_values)
    write_report(out, results, df, "truth", {i.name: i.higher_is_better for i in indicators})
    return results, df


def with_baselines(indicators: list) -> list:
    """``indicators`` followed by the structural baselines (:data:`~bnbench.indicators.cost.STRUCTURAL_BASELINES`)
    not already among them: every table carries them as reference rows."""
    from bnbench.indicators import get
    from bnbench.indicators.cost import STRUCTURAL_BASELINES

    names = {i.name for i in indicators}
    return list(indicators) + [get(n) for n in STRUCTURAL_BASELINES if n not in names]


def isomorphism_classes(space, truth, ops) -> tuple[list, list]:
    """(class id, representative key) per architecture for the isomorphism-unique statistics: the key is
    (benchmark index, arch string) (:func:`bnbench.correlation.representative_keys`), so each class is
    represented by its lowest benchmark index whatever the row order."""
    from bnbench.correlation import representative_keys

    archs = [space.to_str(o) for o in ops]
    try:
        indices = truth.indices[truth.positions([space.truth_key(o) for o in ops])]
    except BnbenchError:  # the truth spells some cells differently: match on the parsed cells instead
        index_of = dict(zip(map(tuple, space.parse_many(truth.arch_strings()).tolist()), truth.indices.tolist()))
        indices = [index_of.get(tuple(o), -1) for o in np.asarray(ops).tolist()]
    return [space.canonical(o) for o in ops], representative_keys(indices, archs)


def assemble_results(opts: RunOptions, name: str, cfg: TrainConfig, truth, space, indicators, ops, scores,
                     truth_values, network: NetSpec) -> dict:
    """The results.json document: config, seeds, versions, ground truth and per-indicator statistics."""
    from bnbench.correlation import correlate
    from bnbench.indicators.cost import STRUCTURAL_BASELINES
    from bnbench.structural import beyond_structure
    from bnbench.utils.env import package_versions

    groups, keys = isomorphism_classes(space, truth, ops)
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
    params = scores["params"][0] if "params" in scores else None
    strata, strata_label = space.structure_strata(ops, params) if params is not None else (None, None)
    for ind in indicators:
        values, seconds = scores[ind.name]
        stats = correlate(values, truth_values, higher_is_better=ind.higher_is_better, groups=groups, keys=keys,
                          n_boot=opts.n_boot, seed=opts.seed)
        entry = {"direction": ind.direction, "baseline": ind.name in STRUCTURAL_BASELINES, "time_s": seconds,
                 "time_per_arch_s": seconds / max(len(ops), 1), **stats}
        if params is not None:
            entry["beyond_structure"] = beyond_structure(values, truth_values, params, strata, strata_label,
                                                         higher_is_better=ind.higher_is_better, n_boot=opts.n_boot,
                                                         seed=opts.seed)
        results["indicators"][ind.name] = entry
    return results
