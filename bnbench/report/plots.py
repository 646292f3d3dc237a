"""Score-vs-truth scatter plots, one PNG per indicator (matplotlib Agg canvas, no pyplot global state)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..correlation import correlate
from ..errors import BnbenchError
from ..utils.io import atomic_write

LOG_DECADES = 2.0  # log x-axis when positive scores span more than this many decades


def scatter_plots(out_dir: str | os.PathLike, df: pd.DataFrame, truth_col: str, indicators: dict[str, bool],
                  truth_label: str) -> dict[str, str]:
    """Write ``scatter_<name>.png`` per indicator (name -> higher_is_better); returns name -> file name."""
    out_dir = Path(out_dir)
    missing = [c for c in [truth_col, *indicators] if c not in df.columns]
    if missing:
        raise BnbenchError(f"cannot plot: column(s) {', '.join(map(repr, missing))} not in the scores table")
    truth = _numeric(df[truth_col])
    written: dict[str, str] = {}
    for name, higher_is_better in indicators.items():
        filename = _unique_filename(str(name), set(written.values()))
        fig = scatter_figure(_numeric(df[name]), truth, str(name), higher_is_better, truth_label)
        atomic_write(out_dir / filename, lambda fh, fig=fig: FigureCanvasAgg(fig).print_png(fh), mode="wb")
        written[name] = filename
    return written


def scatter_figure(score: np.ndarray, truth: np.ndarray, name: str, higher_is_better: bool,
                   truth_label: str) -> Figure:
    """Scatter of the finite (score, truth) pairs; the title carries tau, rho and what could not be drawn."""
    fig = Figure(figsize=(5.0, 4.0), dpi=110)
    draw_scatter(fig.add_subplot(), score, truth, name, higher_is_better, truth_label)
    fig.tight_layout()
    return fig


def draw_scatter(ax, score: np.ndarray, truth: np.ndarray, name: str, higher_is_better: bool, truth_label: str) -> None:
    """:func:`scatter_figure`'s drawing on a given matplotlib Axes."""
    finite = np.isfinite(score) & np.isfinite(truth)
    x, y = score[finite], truth[finite]
    ax.scatter(x, y, s=4 if x.size > 2000 else 10, alpha=0.35 if x.size > 2000 else 0.7, linewidths=0,
               rasterized=True)
    if x.size and x.min() > 0 and np.log10(x.max() / x.min()) > LOG_DECADES:
        ax.set_xscale("log")
    if not higher_is_better:
        ax.invert_xaxis()
    ax.set_xlabel(f"{name} (" + ("higher is better)" if higher_is_better else "lower is better; axis reversed)"))
    ax.set_ylabel(truth_label, fontsize=8 if len(truth_label) > 40 else 10)
    ax.set_title(_title(score, truth, name, higher_is_better, int(finite.sum())), fontsize=9)
    if not x.size:
        ax.text(0.5, 0.5, "no finite (score, truth) pairs", ha="center", va="center", transform=ax.transAxes)
    ax.grid(True, alpha=0.3)


def _title(score: np.ndarray, truth: np.ndarray, name: str, higher_is_better: bool, n_drawn: int) -> str:
    stats = correlate(score, truth, higher_is_better=higher_is_better, n_boot=0)
    if stats["kendall_tau"] is None:
        line = f"tau, rho undefined: {stats['status']}"
    else:
        line = f"Kendall tau = {stats['kendall_tau']:.3f}, Spearman rho = {stats['spearman_rho']:.3f}"
    hidden = score.size - n_drawn
    return f"{name}  (n = {n_drawn})\n{line}" + (f"; {hidden} non-finite not shown" if hidden else "")


HEATMAP = "indicator_correlations.png"


def rank_correlation_matrix(df: pd.DataFrame, truth_col: str, indicators: dict[str, bool]) -> pd.DataFrame:
    """Spearman rho between every pair of indicators (and the truth, first), each oriented so that higher is
    better (lower-is-better scores negated); pairwise over the rows where neither is NaN (an infinite score is
    ranked first or last, as in :mod:`bnbench.correlation`)."""
    cols = {f"{name}" + ("" if hib else " (negated)"): _numeric(df[name]) * (1.0 if hib else -1.0)
            for name, hib in indicators.items()}
    frame = pd.DataFrame({truth_col: _numeric(df[truth_col]), **cols})
    return frame.corr(method="spearman", min_periods=3)


def correlation_heatmap(out_dir: str | os.PathLike, df: pd.DataFrame, truth_col: str,
                        indicators: dict[str, bool]) -> str | None:
    """Write the indicator-by-indicator Spearman heat map ``indicator_correlations.png``; ``None`` (nothing
    written) with fewer than two indicators."""
    fig = heatmap_figure(df, truth_col, indicators)
    if fig is None:
        return None
    atomic_write(Path(out_dir) / HEATMAP, lambda fh: FigureCanvasAgg(fig).print_png(fh), mode="wb")
    return HEATMAP


def heatmap_figure(df: pd.DataFrame, truth_col: str, indicators: dict[str, bool]) -> Figure | None:
    """The heat map of :func:`correlation_heatmap` as a Figure; None with fewer than two indicators."""
    if len(indicators) < 2:
        return None
    matrix = rank_correlation_matrix(df, truth_col, indicators)
    n = len(matrix)
    fig = Figure(figsize=(3.2 + 0.55 * n, 2.4 + 0.5 * n), dpi=110)
    ax = fig.add_subplot()
    image = ax.imshow(matrix.to_numpy(dtype=float), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(n), matrix.columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(n), matrix.index, fontsize=8)
    if n <= 20:
        for (i, j), value in np.ndenumerate(matrix.to_numpy(dtype=float)):
            ax.text(j, i, "" if np.isnan(value) else f"{value:.2f}", ha="center", va="center", fontsize=6,
                    color="white" if abs(value) > 0.6 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="Spearman rho")
    ax.set_title("Spearman rho between indicators\n(each oriented so that higher is better)", fontsize=9)
    fig.tight_layout()
    return fig


def _numeric(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _unique_filename(name: str, taken: set[str]) -> str:
    """``scatter_<name>.png`` with characters outside [A-Za-z0-9._-] replaced by '_' and a suffix on clashes."""
    stem = "scatter_" + (re.sub(r"[^A-Za-z0-9._-]", "_", name) or "indicator")
    filename, k = f"{stem}.png", 2
    while filename in taken:
        filename, k = f"{stem}_{k}.png", k + 1
    return filename


TAU_CHART = "taus.png"


def tau_chart(out_dir: str | os.PathLike, results: dict) -> str | None:
    """``taus.png``: Kendall tau of every indicator with its bootstrap interval (structural baselines in grey),
    the partial tau given params as a second marker, and the ceiling (``results["ceiling"]``: tau between two
    independent measurements of the truth) as a dashed line. None when no indicator has a tau."""
    fig = taus_figure(results)
    if fig is None:
        return None
    atomic_write(Path(out_dir) / TAU_CHART, lambda fh: FigureCanvasAgg(fig).print_png(fh), mode="wb")
    return TAU_CHART


def taus_figure(results: dict) -> Figure | None:
    """The tau chart of :func:`tau_chart` as a Figure; None when no indicator has a tau."""
    rows = tau_rows(results)
    if not rows:
        return None
    fig = Figure(figsize=(max(5.0, 0.55 * len(rows) + 2.0), 4.0), dpi=110)
    draw_taus(fig.add_subplot(), results)
    fig.tight_layout()
    return fig


def tau_rows(results: dict) -> list:
    """(name, statistics) of every indicator with a defined tau, in the results' order."""
    return [(name, ind) for name, ind in (results.get("indicators") or {}).items() if ind.get("kendall_tau") is not None]


def draw_taus(ax, results: dict) -> None:
    """:func:`tau_chart`'s drawing on a given matplotlib Axes."""
    rows = tau_rows(results)
    for i, (name, ind) in enumerate(rows):
        colour = "0.55" if ind.get("baseline") else "C0"
        tau, ci = ind["kendall_tau"], ind.get("kendall_tau_ci")
        err = [[max(tau - ci[0], 0.0)], [max(ci[1] - tau, 0.0)]] if ci else None  # a percentile CI may miss tau
        ax.errorbar([i], [tau], yerr=err, fmt="o", color=colour, capsize=3,
                    label="Kendall tau [CI]" if i == 0 else None)
        partial = ((ind.get("beyond_structure") or {}).get("partial_tau_given_params") or {}).get("partial_tau")
        if partial is not None:
            ax.plot([i + 0.2], [partial], "x", color="C3", label="partial tau given params" if i == 0 else None)
    ceiling = results.get("ceiling")
    if ceiling and ceiling.get("kendall_tau") is not None:
        ax.axhline(ceiling["kendall_tau"], color="C2", linestyle="--",
                   label=f"ceiling {ceiling['kendall_tau']:.2f} (two independent truths)")
    ax.axhline(0.0, color="0.3", linewidth=0.8)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([name + ("\n(baseline)" if ind.get("baseline") else "") for name, ind in rows],
                       rotation=45 if len(rows) > 6 else 0, ha="right" if len(rows) > 6 else "center", fontsize=8)
    ax.set_ylabel("Kendall tau vs ground truth")
    ax.set_ylim(min(-0.2, ax.get_ylim()[0]), 1.0)
    ax.grid(True, axis="y", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(fontsize=7, loc="upper right")
