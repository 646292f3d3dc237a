"""The Python API: what a notebook user types. The CLI commands are thin layers over the same functions.

    >>> import bnbench
    >>> result = bnbench.correlate(space="nb201")          # the embedded digits default, about 2 minutes
    >>> result.table                                      # one row per indicator: tau, its interval, rho, ...
    >>> result.plot_taus()                                # matplotlib Axes: tau with intervals, baselines, ceiling
    >>> bnbench.score("nb201", ["|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"], ["params"])

Every function raises :class:`bnbench.errors.BnbenchError` (one subclass per kind: ``ArchError``, ``DataError``,
``BenchmarkError``) with a one-line message on bad input, as the CLI does.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from bnbench.errors import BnbenchError

TRAIN_OPTIONS = ("epochs", "channels", "cells", "resolution", "train_fraction", "batch_size", "lr", "weight_decay",
                 "schedule", "train_mode", "bn_scope", "sampler", "bn_every_op", "space_options", "label_smoothing",
                 "grad_clip")
SCORING_OPTIONS = ("calib_batches", "val_images", "mc_batches", "mc_batch_size", "probe_images", "ntk_samples",
                   "composite_weights", "model_variant", "zc_batch_size", "zc_batch", "jobs", "search_checkpoint",
                   "engine", "address", "econas_seeds", "econas_eval_images", "econas_batch_size", "econas_lr")


def list_spaces() -> pd.DataFrame:
    """The registered search spaces: ``name``, ``aliases``, ``size`` (None: too large to enumerate), ``summary``."""
    from bnbench.spaces import list_spaces as spaces

    frame = pd.DataFrame([{"name": s.name, "aliases": ", ".join(s.aliases), "size": s.size, "summary": s.summary}
                          for s in spaces()])
    return frame.astype({"size": "Int64"})  # exact counts (a float column would print 2.193695e+16)


def list_indicators() -> pd.DataFrame:
    """The registered indicators: ``name``, ``direction`` (higher / lower is better), ``needs`` (supernet, data),
    ``summary``."""
    from bnbench.indicators import REGISTRY

    from bnbench.indicators.registry import FAMILIES, get

    rows = [{"name": i.name, "direction": i.direction, "needs": ", ".join(sorted(i.needs)) or "nothing",
             "summary": i.summary} for i in sorted(REGISTRY.values(), key=lambda i: i.name) if ":" not in i.name]
    for fam in FAMILIES.values():  # parameterised indicators, e.g. econas:c4r4s0e10
        example = get(fam.example)
        rows.append({"name": f"{fam.prefix}:<...>", "direction": example.direction,
                     "needs": ", ".join(sorted(example.needs)) or "nothing", "summary": f"{fam.summary} (e.g. {fam.example})"})
    return pd.DataFrame(rows)


def _split_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(TrainConfig overrides, scoring options) of ``**options``; BnbenchError naming an unknown keyword."""
    unknown = sorted(set(options) - set(TRAIN_OPTIONS) - set(SCORING_OPTIONS))
    if unknown:
        raise BnbenchError(f"unknown option(s) {', '.join(unknown)}: training options are {', '.join(TRAIN_OPTIONS)}; "
                           f"scoring options are {', '.join(SCORING_OPTIONS)}")
    train = {k: v for k, v in options.items() if k in TRAIN_OPTIONS}
    scoring = {k: v for k, v in options.items() if k in SCORING_OPTIONS and v is not None}
    if scoring.get("search_checkpoint"):  # its digest keys the score cache, as on the command line
        from bnbench.indicators.darts_alpha import file_digest

        try:
            scoring["search_checkpoint_sha256"] = file_digest(scoring["search_checkpoint"])
        except OSError as err:
            raise BnbenchError(f"search_checkpoint {scoring['search_checkpoint']}: {err.strerror or err}") from None
    return train, scoring


def _indicator_list(indicators: str | Iterable[str] | None, default: str) -> str:
    if indicators is None:
        return default
    return indicators if isinstance(indicators, str) else ",".join(indicators)


def correlate(space: str = "nb201", indicators: str | Sequence[str] | None = None, benchmark: str | None = None,
              dataset: str | None = None, data_dir: str | None = None, out: str | Path | None = None, *,
              sample_archs: int | None = None, seed: int = 0, supernet: str | None = None, truth_split: str = "valid",
              truth_metric: str = "accuracy", truth_epochs: int | None = None, n_boot: int = 1000,
              scores: str | Path | None = None, device: str = "auto", progress: bool = False,
              **options: Any) -> "CorrelateResult":
    """Score architectures with ``indicators`` and rank-correlate them with the ground truth (``bnbench correlate``).

    ``space``: any registered space or alias; ``indicators``: names or a comma-separated string (default
    ``bn,composite,supernet_acc``; the structural baselines params, flops and convs are always added);
    ``benchmark``: a truth source (None: the space's embedded digits table); ``dataset`` / ``data_dir``: the images
    (None: digits without data, cifar10-valid with); ``out``: folder for results.json, scores.csv, report.md, the
    figures, the supernet checkpoint and the score caches (None: a temporary folder, removed when the result is
    garbage-collected; a second call with the same ``out`` reuses the checkpoint and caches, as the CLI does).
    ``sample_archs``: a stratified sample of that many architectures; ``seed``: sampling, training and scoring
    seed; ``supernet``: a trained checkpoint to score instead of training one; ``n_boot``: bootstrap resamples;
    ``scores``: a ``bnbench score`` CSV whose columns are correlated instead of scoring (``indicators`` None: every
    column). ``progress``: tqdm bars on a terminal (lines are written to stderr either way: :mod:`bnbench.progress`).
    ``**options``: training knobs (``epochs``, ``channels``, ``cells``, ``resolution``, ``train_fraction``,
    ``batch_size``, ``lr``, ``weight_decay``, ``schedule``, ``train_mode``, ``bn_scope``, ``sampler``,
    ``bn_every_op``, ``space_options``, ``label_smoothing``, ``grad_clip``; None = the dataset's preset) and
    scoring options (``val_images``, ``calib_batches``, ``mc_batches``, ``probe_images``, ``ntk_samples``,
    ``composite_weights``, ``model_variant``, ``zc_batch_size``, ``zc_batch``, ``jobs``, ``engine``, ``address``,
    ``econas_seeds``, ``econas_eval_images``, ``econas_batch_size``, ``econas_lr``). Raises BnbenchError (one line)
    on bad input.
    """
    from bnbench.experiment import DEFAULT_INDICATORS, RunOptions, correlate_frames

    train, scoring = _split_options(options)
    tmp = None
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="bnbench-correlate-")
        out = tmp.name
    opts = RunOptions(space=space, dataset=dataset, data_dir=data_dir, device=device, benchmark=benchmark,
                      truth_split=truth_split, truth_metric=truth_metric, truth_epochs=truth_epochs,
                      indicators=_indicator_list(indicators, "" if scores else DEFAULT_INDICATORS),
                      sample_archs=sample_archs, seed=seed,
                      supernet=supernet, out=str(out), n_boot=n_boot, scoring=scoring, progress=progress)
    results, frame = correlate_frames(opts, {"space": space, **train}, None if scores is None else str(scores))
    return CorrelateResult(results, frame, Path(out), _tmp=tmp)


def score(space: str, archs: str | int | Sequence[str] | np.ndarray, indicators: str | Sequence[str], *,
          dataset: str | None = None, data_dir: str | None = None, seed: int = 0, supernet: str | None = None,
          device: str = "auto", progress: bool = False, **options: Any) -> pd.DataFrame:
    """Indicator scores of ``archs`` (``bnbench score``): a DataFrame indexed by architecture string, one column per
    indicator.

    ``archs``: ``"all"`` (enumerable spaces), an int N (N distinct architectures drawn with ``seed``), a sequence
    of architecture strings, or an ``(n, width)`` int matrix of the space's encoding. Data-free indicators
    (params, flops, convs, synflow, ...) need no ``dataset``; the others use ``dataset`` (default cifar10-valid,
    as the CLI) from ``data_dir``, and supernet-based ones train a supernet with ``**options`` (see
    :func:`correlate`) unless ``supernet`` names a checkpoint. Raises BnbenchError (one line) on bad input.
    """
    from bnbench.experiment import RunOptions, build_context, dataset_name, net_spec, score_indicators, train_config
    from bnbench.indicators import parse_list
    from bnbench.spaces import get_space

    sp = get_space(space)
    train, scoring = _split_options(options)
    rows = _archs(sp, archs, seed)
    inds = parse_list(_indicator_list(indicators, ""))
    with tempfile.TemporaryDirectory(prefix="bnbench-score-") as work:
        opts = RunOptions(space=sp.name, dataset=dataset, data_dir=data_dir, device=device, seed=seed, supernet=supernet,
                          out=work, scoring=scoring, progress=progress)
        name = dataset_name(opts, without_data="cifar10-valid")
        opts.dataset = name
        cfg = train_config(name, seed, space=sp.name, **train)
        ctx = build_context(opts, inds, name, None, cfg, Path(work))
        ctx.space, ctx.network = sp, net_spec(name)
        scores = score_indicators(inds, rows, ctx, None, {})
    return pd.DataFrame({n: v for n, (v, _) in scores.items()}, index=pd.Index([sp.to_str(r) for r in rows], name="arch"))


def _archs(space, archs, seed: int) -> np.ndarray:
    if isinstance(archs, str) and archs == "all":
        return space.all_archs()
    if isinstance(archs, (int, np.integer)) and not isinstance(archs, bool):
        return space.sample(int(archs), seed)
    if isinstance(archs, np.ndarray) and archs.dtype.kind in "iu":
        return np.asarray(archs, dtype=np.int64).reshape(len(archs), -1)
    if isinstance(archs, str):
        return space.parse_many([archs])
    return space.parse_many(list(archs))


def load_truth(source: str | None = None, *, space: str = "nb201", dataset: str | None = None, split: str = "valid",
               metric: str = "accuracy", epochs: int | None = None) -> pd.Series:
    """A ground truth as a Series indexed by architecture (the space's truth key: NB201 strings, NB101 module
    hashes), named by what it is (e.g. ``cifar10-valid / validation / 200 epochs / mean of seeds``).

    ``source``: any benchmark file or folder bnbench reads (None: the space's embedded digits table);
    ``dataset``: the setting (None: digits for the embedded table, cifar10-valid otherwise); ``epochs``: the
    budget (None: 200, or a built table's own; a 12-epoch value is never substituted). ``series.attrs`` holds
    ``source``, ``description`` and the table's ``meta``.
    """
    from bnbench.experiment import RunOptions, dataset_name, load_ground_truth

    opts = RunOptions(space=space, dataset=dataset, benchmark=source, truth_split=split, truth_metric=metric,
                      truth_epochs=epochs)
    truth = load_ground_truth(opts, dataset_name(opts))
    series = pd.Series(truth.values, index=pd.Index(truth.archs, name="arch"), name=truth.description())
    series.attrs.update(source=str(truth.source), description=truth.description(), meta=truth.meta)
    return series


def train_supernet(space: str = "nb201", dataset: str | None = None, data_dir: str | None = None,
                   out: str | Path | None = None, *, seed: int = 0, device: str = "auto", progress: bool = False,
                   **options: Any):
    """Train (or resume, with ``out``) a supernet (``bnbench train-supernet``); returns
    :class:`bnbench.train.supernet.TrainResult` (``.model``, ``.config``, ``.history``: loss, seconds, images/s
    per epoch). ``**options``: the training knobs of :func:`correlate`. A checkpoint in ``out`` is what
    ``correlate(..., supernet=out / "supernet.pt")`` scores."""
    from bnbench.datasets import load_dataset
    from bnbench.experiment import RunOptions, dataset_name, train_config
    from bnbench.train.supernet import train_supernet as train
    from bnbench.utils.seed import resolve_device

    sp_train, scoring = _split_options(options)
    if scoring:
        raise BnbenchError(f"train_supernet takes training options only, not {', '.join(sorted(scoring))}")
    name = dataset_name(RunOptions(space=space, dataset=dataset, data_dir=data_dir))
    cfg = train_config(name, seed, space=space, **sp_train)
    data = load_dataset(name, data_dir, resolve_device(device), train_fraction=cfg.train_fraction, seed=seed)
    return train(cfg, data, out, progress=progress)


@dataclasses.dataclass
class CorrelateResult:
    """What :func:`correlate` measured. ``results``: the results.json document; ``scores``: per-architecture
    scores and truth (``arch``, ``truth``, one column per indicator); ``out``: the folder holding the files."""

    results: dict[str, Any]
    scores: pd.DataFrame
    out: Path
    _tmp: Any = dataclasses.field(default=None, repr=False)

    @property
    def config(self) -> dict[str, Any]:
        """The run's configuration (space, dataset, benchmark, indicators, training, network, scoring, seeds)."""
        return {**self.results.get("config", {}), "seeds": self.results.get("seeds")}

    @property
    def truth(self) -> dict[str, Any]:
        """The ground truth used, spelled out: description, source, n, the table's meta, and its ceiling."""
        return {**self.results.get("ground_truth", {}), "ceiling": self.results.get("ceiling")}

    @property
    def table(self) -> pd.DataFrame:
        """One row per indicator (index: name): baseline, direction, n, tau with its interval (tau_lo, tau_hi),
        rho with its interval, top-10% precision, unique tau, partial tau given params with its interval, tau
        within strata, scoring time (s)."""
        rows = []
        for name, ind in self.results.get("indicators", {}).items():
            tau_ci, rho_ci = ind.get("kendall_tau_ci") or [None, None], ind.get("spearman_rho_ci") or [None, None]
            beyond = ind.get("beyond_structure") or {}
            partial = beyond.get("partial_tau_given_params") or {}
            within = beyond.get("within_strata") or {}
            rows.append({"indicator": name, "baseline": bool(ind.get("baseline")), "direction": ind.get("direction"),
                         "n": ind.get("n"), "tau": ind.get("kendall_tau"), "tau_lo": tau_ci[0], "tau_hi": tau_ci[1],
                         "rho": ind.get("spearman_rho"), "rho_lo": rho_ci[0], "rho_hi": rho_ci[1],
                         "top10": (ind.get("topk_precision") or {}).get("10%"),
                         "unique_tau": (ind.get("unique") or {}).get("kendall_tau"),
                         "partial_tau": partial.get("partial_tau"),
                         "partial_lo": (partial.get("ci") or [None, None])[0],
                         "partial_hi": (partial.get("ci") or [None, None])[1],
                         "tau_within_strata": within.get("mean_tau"), "time_s": ind.get("time_s")})
        return pd.DataFrame(rows).set_index("indicator")

    def plot_taus(self, ax=None):
        """Kendall tau of every indicator with its interval, the partial tau given params, the structural baselines
        in grey and the ceiling as a dashed line; returns the matplotlib Axes."""
        from bnbench.report.plots import draw_taus

        ax = ax if ax is not None else _new_axes()
        draw_taus(ax, self.results)
        return ax

    def plot_scatter(self, indicator: str, ax=None):
        """Score against truth of one indicator (tau and rho in the title); returns the matplotlib Axes."""
        from bnbench.report.plots import draw_scatter

        if indicator not in self.scores.columns or indicator in ("arch", "truth"):
            raise BnbenchError(f"no indicator {indicator!r} in this result (indicators: "
                               f"{', '.join(self.results.get('indicators', {}))})")
        ind = self.results["indicators"][indicator]
        ax = ax if ax is not None else _new_axes()
        draw_scatter(ax, self.scores[indicator].to_numpy(float), self.scores["truth"].to_numpy(float), indicator,
                     ind.get("direction") != "lower", self.results.get("ground_truth", {}).get("description", "truth"))
        return ax

    def to_html(self, path: str | Path) -> Path:
        """Write the self-contained HTML report (figures embedded) to ``path``; returns the path."""
        from bnbench.report.html import write_html

        return write_html(path, self.results, self.scores)

    def _repr_html_(self) -> str:
        from bnbench.report.html import summary_html

        return summary_html(self.results)


def _new_axes():
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(6, 4)).add_subplot()
