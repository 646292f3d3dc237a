"""report.html: one self-contained page (figures embedded as base64 PNG, no network access, no script) with what
report.md holds: the ground truth spelled out with its ceiling, the results table with intervals and the
columns beyond structure, the tau chart (structural baselines marked, ceiling line), the indicator-by-indicator
heat map, one scatter plot per indicator, status notes, configuration, seeds, versions and timings."""

from __future__ import annotations

import base64
import io
import json
import os
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg

from ..utils.io import atomic_write_text
from .jsonable import to_jsonable
from .table import ci_label, headers, status_notes, strata_label, table_rows

STYLE = """body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;max-width:1100px;
color:#222;line-height:1.45;padding:0 1em}table{border-collapse:collapse;font-size:13px;margin:.5em 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}td:first-child,th:first-child
{text-align:left}tr.baseline td{color:#666;background:#fafafa}img{max-width:100%;border:1px solid #eee;margin:.3em}
.scatter img{width:330px}pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:12px}.note{color:#555}"""


def png_data_uri(fig) -> str:
    """A matplotlib Figure as a ``data:image/png;base64,...`` URI."""
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(fig, alt: str, cls: str = "") -> str:
    return "" if fig is None else f'<img class="{cls}" alt="{escape(alt)}" src="{png_data_uri(fig)}">'


def results_table_html(results: dict[str, Any]) -> str:
    """The results table (``report.table``'s rows) as an HTML table; structural baselines get class ``baseline``."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers(results))
    body = []
    for (name, ind), row in zip(results.get("indicators", {}).items(), table_rows(results)):
        cls = ' class="baseline"' if ind.get("baseline") else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>")
    return f'<table id="results"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _ground_truth(results: dict[str, Any]) -> str:
    gt = results.get("ground_truth") or {}
    items = [f"<li>Description: <b>{escape(str(gt.get('description', 'unknown')))}</b></li>"]
    items += [f"<li>{label}: {escape(str(gt[key]))}</li>" for key, label in (("source", "Source"), ("n", "Architectures"))
              if gt.get(key) is not None]
    c = results.get("ceiling")
    if c:
        ci = c.get("ci")
        items.append(f"<li>Ceiling: Kendall tau <b>{c['kendall_tau']:.3f}</b>"
                     + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
                     + f" between two independent measurements of the truth: {escape(c['description'])}</li>")
    else:
        items.append("<li>Ceiling: no independent second measurement of this truth is available</li>")
    return "<h2>Ground truth</h2><ul>" + "".join(items) + "</ul>"


def summary_html(results: dict[str, Any]) -> str:
    """The ground truth and results table only (Jupyter's ``_repr_html_`` of a result)."""
    return (f"<div><p><b>bnbench correlate</b>: {escape(str(results.get('config', {}).get('space')))} on "
            f"{escape(str(results.get('config', {}).get('dataset')))}</p>{_ground_truth(results)}"
            f"{results_table_html(results)}</div>")


def render_html(results: dict[str, Any], df: pd.DataFrame, truth_col: str = "truth") -> str:
    """The whole report as one HTML string."""
    from .plots import heatmap_figure, scatter_figure, taus_figure

    indicators = {name: ind.get("direction") != "lower" for name, ind in results.get("indicators", {}).items()
                  if name in df.columns}
    label = (results.get("ground_truth") or {}).get("description") or truth_col
    notes = status_notes(results)
    n_boot = ", ".join(sorted({str(i["n_boot"]) for i in results.get("indicators", {}).values() if "n_boot" in i}))
    parts = [
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>bnbench report</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>bnbench report</h1><p>Command: <code>{escape(str(results.get('command', '')))}</code>; bnbench "
        f"{escape(str(results.get('bnbench_version', '')))}</p>",
        _ground_truth(results),
        "<h2>Results</h2>", results_table_html(results),
        f"<p class=\"note\">Intervals: {escape(ci_label(results))} bootstrap percentile intervals over {escape(n_boot)} "
        "resamples. Partial tau given params: Kendall's partial tau (Kendall 1942), what the indicator knows beyond "
        f"counting parameters; tau within strata: pair-weighted mean tau within groups of equal "
        f"{escape(strata_label(results) or 'structure')}. Grey rows are the structural baselines.</p>",
        "<h2>Kendall tau of every indicator</h2>",
        _img(taus_figure(results), "Kendall tau of every indicator with intervals and the ceiling"),
    ]
    if notes:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li><b>{escape(a)}</b>: {escape(b)}</li>" for a, b in notes)
                     + "</ul>")
    heat = heatmap_figure(df, truth_col, indicators) if indicators else None
    if heat is not None:
        parts += ["<h2>Indicator-by-indicator correlation</h2>", _img(heat, "Spearman rho between indicators")]
    if indicators:
        parts.append("<h2>Scores against the truth</h2><div class=\"scatter\">")
        parts += [_img(scatter_figure(pd.to_numeric(df[n], errors="coerce").to_numpy(float),
                                      pd.to_numeric(df[truth_col], errors="coerce").to_numpy(float), n, hib, label),
                       f"{n}: score vs ground truth") for n, hib in indicators.items()]
        parts.append("</div>")
    for title, key in (("Configuration", "config"), ("Seeds", "seeds"), ("Versions", "versions"),
                       ("Timings", "timings"), ("Images", "evaluation_images")):
        if results.get(key):
            parts.append(f"<h2>{title}</h2><pre>{escape(json.dumps(to_jsonable(results[key]), indent=2))}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(path: str | os.PathLike, results: dict[str, Any], df: pd.DataFrame, truth_col: str = "truth") -> Path:
    """Write :func:`render_html` atomically to ``path``."""
    return atomic_write_text(Path(path), render_html(results, df, truth_col))
