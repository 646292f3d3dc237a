"""Report writers: results.json, scores.csv, report.md, report.html (self-contained), one scatter plot per
indicator, the tau chart and, with two or more indicators, an indicator-by-indicator rank-correlation heat map."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..utils.io import atomic_write_text
from .jsonable import to_jsonable, write_results_json
from .html import write_html
from .markdown import render_markdown, write_markdown
from .plots import correlation_heatmap, scatter_plots, tau_chart
from .table import format_table

__all__ = ["format_table", "render_markdown", "scatter_plots", "to_jsonable", "write_markdown", "write_report",
           "write_results_json"]


def write_report(out_dir: str | os.PathLike, results: dict[str, Any], df: pd.DataFrame, truth_col: str,
                 indicators: dict[str, bool]) -> dict[str, Path]:
    """Write every report file into ``out_dir``; returns file name -> path.

    ``indicators`` maps a score column of ``df`` to higher_is_better; the plots' y-axis is labelled with the
    ground-truth description from ``results``.  ``df``'s index is written to scores.csv unless it is a default
    RangeIndex.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    truth_label = (results.get("ground_truth") or {}).get("description") or truth_col
    figures = scatter_plots(out_dir, df, truth_col, indicators, truth_label)
    paths = {"results.json": write_results_json(out_dir / "results.json", results),
             "scores.csv": atomic_write_text(out_dir / "scores.csv", df.to_csv(index=_keep_index(df)))}
    heatmap = correlation_heatmap(out_dir, df, truth_col, indicators)
    taus = tau_chart(out_dir, results)
    paths["report.md"] = write_markdown(out_dir, results, figures, heatmap, taus)
    paths["report.html"] = write_html(out_dir / "report.html", results, df, truth_col)
    if taus:
        paths[taus] = out_dir / taus
    if heatmap:
        paths[heatmap] = out_dir / heatmap
    paths.update({filename: out_dir / filename for filename in figures.values()})
    return paths


def _keep_index(df: pd.DataFrame) -> bool:
    default = isinstance(df.index, pd.RangeIndex) and df.index.start == 0 and df.index.step == 1
    return df.index.name is not None or not default
