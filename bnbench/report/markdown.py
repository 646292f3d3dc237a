"""report.md: what was measured against what, the results table, status notes and the scatter plots."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..utils.io import atomic_write_text
from .jsonable import to_jsonable
from .table import ci_label, headers, status_notes, strata_label, table_rows


def write_markdown(out_dir: str | os.PathLike, results: dict[str, Any], figures: dict[str, str],
                   heatmap: str | None = None, taus: str | None = None) -> Path:
    """Write ``out_dir/report.md``; ``figures`` maps indicator name -> image path relative to ``out_dir``;
    ``heatmap`` is the indicator-by-indicator correlation image and ``taus`` the tau chart, if any."""
    return atomic_write_text(Path(out_dir) / "report.md", render_markdown(results, figures, heatmap, taus))


def render_markdown(results: dict[str, Any], figures: dict[str, str], heatmap: str | None = None,
                    taus: str | None = None) -> str:
    """The report as Markdown text."""
    parts = [_header(results), _ground_truth(results), _images(results), _results(results), _ceiling(results, taus),
             _notes(results), _heatmap(heatmap),
             _figures(figures),
             _json_section("Configuration", results.get("config")), _json_section("Seeds", results.get("seeds")),
             _versions(results.get("versions")), _json_section("Timings", results.get("timings"))]
    return "\n\n".join(p for p in parts if p).rstrip() + "\n"


def markdown_table(head: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured Markdown table (``|`` in cells escaped)."""
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    return "\n".join([line(head), "|" + "|".join("---" for _ in head) + "|", *map(line, rows)])


def _header(results: dict[str, Any]) -> str:
    lines = ["# bnbench report", ""]
    if results.get("command"):
        lines.append(f"Command: `{results['command']}`  ")
    lines.append(f"bnbench version: {results.get('bnbench_version', 'unknown')}")
    return "\n".join(lines)


def _ground_truth(results: dict[str, Any]) -> str:
    gt = results.get("ground_truth") or {}
    lines = ["## Ground truth", "", f"- Description: {gt.get('description', 'unknown')}"]
    lines += [f"- {label}: {gt[key]}" for key, label in (("source", "Source"), ("n", "Architectures"))
              if gt.get(key) is not None]
    return "\n".join(lines)


def _images(results: dict[str, Any]) -> str:
    """Which images the truth is measured on and which each indicator saw, and whether they are disjoint."""
    ev = results.get("evaluation_images")
    if not ev:
        return ""
    if "note" in ev:
        return f"## Images\n\n{ev['note']}"
    lines = ["## Images", ""]
    if ev.get("truth"):
        t = ev["truth"]
        lines.append(f"- Truth measured on: {t.get('images')} ({t.get('count')} images; split {t.get('split')})")
    for role, label in (("train", "Supernet / calibration / zero-cost images"), ("eval", "Evaluation images")):
        if ev.get(role):
            lines.append(f"- {label}: {ev['dataset']} {ev[role].get('split', 'train')}: {ev[role].get('images')} "
                         f"({ev[role].get('count')} images)")
    for key, label in (("eval_vs_truth", "Evaluation images vs truth"), ("train_vs_truth", "Training images vs truth")):
        if ev.get(key):
            lines.append(f"- {label}: **{ev[key]}**")
    rows = [[name, "; ".join(f"{r['role']}: {r['count']} ({r['how']})" for r in v.get("reads", [])) or "none",
             v.get("vs_truth", "")] for name, v in (ev.get("indicators") or {}).items()]
    if rows:
        lines += ["", markdown_table(["indicator", "images read", "vs truth"], rows)]
    return "\n".join(lines)


def _results(results: dict[str, Any]) -> str:
    rows = table_rows(results)
    if not rows:
        return "## Results\n\nNo indicators were evaluated."
    n_boot = ", ".join(sorted({str(i["n_boot"]) for i in results["indicators"].values() if "n_boot" in i})) or "?"
    text = (f"Intervals are {ci_label(results).removesuffix(' CI')} bootstrap percentile intervals over {n_boot} resamples of "
            "(score, truth) pairs (seeds below). "
            "Top-k precision: share of the indicator's top 10% that is in the truth's top 10%. "
            "Unique tau: Kendall tau over one representative per isomorphism class. "
            "Partial tau given params: Kendall's partial tau (t_xy - t_xz t_yz) / sqrt((1 - t_xz^2)(1 - t_yz^2)) "
            "with z the parameter count (Kendall 1942), what the indicator knows beyond counting parameters; "
            f"tau within strata: pair-weighted mean Kendall tau within groups of equal {strata_label(results) or 'structure'}"
            " (number of groups used in parentheses). Rows marked (baseline) are the structural reference rows. "
            "n counts the architectures used (dropped NaN scores and non-finite truth values in parentheses; "
            "infinite scores are kept, ranked first or last).")
    return "## Results\n\n" + markdown_table(headers(results), rows) + "\n\n" + text


def _ceiling(results: dict[str, Any], taus: str | None) -> str:
    """The ceiling (tau between two independent measurements of the truth) and the tau chart."""
    c = results.get("ceiling")
    lines = ["## Ceiling", ""]
    if c:
        ci = c.get("ci")
        lines.append(f"Kendall tau between two independent measurements of the truth: **{c['kendall_tau']:.3f}**"
                     + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "") + f" (n = {c['n']}): {c['description']} "
                     f"({c['source']}). No indicator can be expected to rank this truth better.")
    else:
        lines.append("No independent second measurement of this truth is available, so no ceiling is drawn "
                     "(bnbench-built tables give one from their seeds; NB201 cifar10-valid from a NATS-Bench CSV "
                     "beside the benchmark file).")
    if taus:
        lines += ["", f"![Kendall tau of every indicator, with the ceiling]({taus})"]
    return "\n".join(lines)


def _notes(results: dict[str, Any]) -> str:
    notes = status_notes(results)
    if not notes:
        return "## Notes\n\nNo score was NaN or infinite and no indicator was constant."
    return "## Notes\n\n" + "\n".join(f"- **{label}**: {text}" for label, text in notes)


def _heatmap(path: str | None) -> str:
    if not path:
        return ""
    return ("## Indicator-by-indicator correlation\n\nSpearman rho between every pair of indicators and the "
            "ground truth, each oriented so that higher is better, over the architectures where neither is "
            f"NaN (infinite scores ranked at the ends).\n\n![Spearman rho between indicators]({path})")


def _figures(figures: dict[str, str]) -> str:
    if not figures:
        return ""
    blocks = [f"### {name}\n\n![{name}: score vs ground truth]({path})" for name, path in figures.items()]
    return "## Figures\n\n" + "\n\n".join(blocks)


def _json_section(title: str, value: Any) -> str:
    if not value:
        return ""
    return f"## {title}\n\n```json\n{json.dumps(to_jsonable(value), indent=2)}\n```"


def _versions(versions: dict[str, Any] | None) -> str:
    if not versions:
        return ""
    if all(not isinstance(v, (dict, list)) for v in versions.values()):
        return "## Versions\n\n" + markdown_table(["package", "version"], [[str(k), str(v)] for k, v in versions.items()])
    return _json_section("Versions", versions)
