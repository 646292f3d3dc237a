"""The fairness study's report: results.json, report.md and three kinds of PNG figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bnbench.report.jsonable import to_jsonable, write_results_json
from bnbench.report.markdown import markdown_table
from bnbench.study.findings import final_indicators as _final
from bnbench.study.findings import findings
from bnbench.utils.io import atomic_write, atomic_write_text

BN_RUNS = ("original-bn", "fair-bn")


def write_study_report(out: Path, results: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_results_json(out / "results.json", results)
    figures = {"tau": _save(out / "tau_bars.png", tau_bars(results))}
    for run, entry in results["runs"].items():
        figures[f"ops-{run}"] = _save(out / f"top_ops_{run}.png", ops_bars(entry["top_ops"], run, results))
    if any(len(results["runs"].get(r, {}).get("epochs", {})) > 1 for r in ("original-bn", "original-full")):
        figures["curve"] = _save(out / "curve.png", curve(results))
    atomic_write_text(out / "report.md", render(results, figures))


def _save(path: Path, fig: Figure) -> str:
    atomic_write(path, lambda fh: FigureCanvasAgg(fig).print_png(fh), mode="wb")
    return path.name


def _fmt(stats: dict, key: str) -> str:
    value, ci = stats.get(key), stats.get(f"{key}_ci")
    if value is None:
        return f"— ({stats.get('status')})"
    return f"{value:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")


def render(results: dict, figures: dict[str, str]) -> str:
    runs = [r for r in BN_RUNS if r in results["runs"]]
    samples = ", ".join(f"{k}: {v} cells" for k, v in results["samples"].items())
    parts = ["# BN fairness study", f"Ground truth: {results['ground_truth']['description']} "
             f"({results['ground_truth']['source']}). Samples (stratified, disjoint): {samples}. "
             "Every number below is on the report sample.",
             "## What the measurement shows", "\n".join(findings(results)) or "(not enough runs to say)",
             "## 1. BN-only supernet: original space vs BN on every op",
             markdown_table(["indicator", *[f"{r} {s}" for r in runs for s in ("tau", "rho")],
                             *[f"{r} worst-score cells" for r in runs]],
                            [[name + (" (baseline)" if _final(results, runs[0])[name].get("baseline") else ""),
                              *[_fmt(_final(results, r)[name], k) for r in runs for k in ("kendall_tau", "spearman_rho")],
                              *[str(_final(results, r)[name]["degenerate"]) for r in runs]]
                             for name in _final(results, runs[0])]),
             _beyond(results, runs), _ceiling_line(results),
             f"![tau]({figures['tau']})", "## 2. Composite formulation"]
    for run in runs:
        choice = results["runs"][run].get("composite_choice")
        if not choice or choice.get("chosen") is None:
            parts.append(f"{run}: {choice.get('reason') if choice else 'composite terms not scored'}.")
            continue
        rows = [[_label(r["weights"]), _fmt(r, "kendall_tau")] for r in choice["selection_table"]]
        parts += [f"{run}: tau of each formulation on the selection sample; chosen **{choice['label']}**, "
                  f"whose tau on the report sample is {_fmt(choice['report'], 'kendall_tau')}.",
                  markdown_table(["terms (equal weights)", "tau (selection)"], rows)]
    parts.append(f"## 3. Op frequencies in the top-{results['config']['top']} cells")
    for run, entry in results["runs"].items():
        ops = _choice_names(entry["top_ops"])
        parts += [f"{run}:", markdown_table(["top cells of", *ops], [[k, *[f"{v[o]:.2f}" for o in ops]]
                                                                    for k, v in entry["top_ops"].items()]),
                  f"![ops {run}]({figures[f'ops-{run}']})"]
    parts += _curve_section(results, figures)
    parts.append("## Configuration\n\n```json\n" + json.dumps(to_jsonable(results["config"]), indent=2) + "\n```")
    return "\n\n".join(parts) + "\n"


def _beyond(results: dict, runs: list[str]) -> str:
    """What each indicator knows beyond structure, at each BN run's last epoch (:mod:`bnbench.structural`)."""
    from bnbench.report.table import _partial, _within

    first = _final(results, runs[0])
    if not any("beyond_structure" in v for v in first.values()):
        return ""
    label = next((v["beyond_structure"]["within_strata"]["strata"] for v in first.values() if "beyond_structure" in v),
                 "structure")
    rows = [[name, *[f(( _final(results, r).get(name, {}).get("beyond_structure") or {}).get(key))
                     for r in runs for f, key in ((_partial, "partial_tau_given_params"), (_within, "within_strata"))]]
            for name in first]
    return ("What each indicator knows beyond structure: Kendall's partial tau given params (Kendall 1942) with its "
            f"95% bootstrap interval, and the pair-weighted mean tau within groups of equal {label} (groups used in "
            "parentheses).\n\n" + markdown_table(["indicator", *[f"{r} {s}" for r in runs
                                                                  for s in ("partial tau | params", "tau within strata")]],
                                                  rows))


def _ceiling_line(results: dict) -> str:
    c = results.get("ceiling")
    if not c:
        return "Ceiling: no independent second measurement of this truth is available."
    ci = c.get("ci")
    return (f"Ceiling (dashed line in the chart): Kendall tau {c['kendall_tau']:.3f}"
            + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "") + f" between two independent measurements of the truth "
            f"on the report sample: {c['description']} ({c['source']}).")


def _choice_names(freqs: dict[str, dict[str, float]]) -> list[str]:
    """The choice (op) names of a run's frequency tables, in the space's order."""
    return list(next(iter(freqs.values()), {}))


def _label(weights: dict) -> str:
    from bnbench.study.analysis import weights_label

    return weights_label(weights)


def _curve_section(results: dict, figures: dict[str, str]) -> list[str]:
    if "curve" not in figures:
        return []
    names = list(_final(results, "original-bn"))
    rows = []
    for run in ("original-bn", "original-full"):
        for epoch, entry in sorted(results["runs"].get(run, {}).get("epochs", {}).items(), key=lambda kv: int(kv[0])):
            scored = entry["indicators"]
            rows.append([run, str(epoch), f"{entry['train_s']:.1f}",
                         *[_fmt(scored[n], "kendall_tau").split(" [")[0] if n in scored else "" for n in names]])
    return ["## 4. BN-only vs full training (tau after each epoch)",
            markdown_table(["run", "epoch", "train s", *names], rows), f"![curve]({figures['curve']})"]


def tau_bars(results: dict) -> Figure:
    runs = [r for r in BN_RUNS if r in results["runs"]]
    names = list(_final(results, runs[0]))
    fig = Figure(figsize=(1.2 * len(names) + 2, 4))
    ax = fig.add_subplot()
    width = 0.8 / len(runs)
    for j, run in enumerate(runs):
        stats = [_final(results, run)[n] for n in names]
        tau = np.array([s["kendall_tau"] if s["kendall_tau"] is not None else np.nan for s in stats])
        ci = np.array([s["kendall_tau_ci"] or [np.nan, np.nan] for s in stats], dtype=float)
        err = np.abs(np.vstack([tau - ci[:, 0], ci[:, 1] - tau]))
        ax.bar(np.arange(len(names)) + j * width, tau, width, yerr=np.nan_to_num(err), label=run, capsize=3)
    ax.set_xticks(np.arange(len(names)) + width * (len(runs) - 1) / 2, names, rotation=30, ha="right")
    ax.axhline(0, color="black", lw=0.5)
    ceiling = results.get("ceiling")
    if ceiling and ceiling.get("kendall_tau") is not None:
        ax.axhline(ceiling["kendall_tau"], color="C2", ls="--", lw=1,
                   label=f"ceiling {ceiling['kendall_tau']:.2f} (two independent truths)")
    ax.set_ylabel("Kendall tau vs truth")
    ax.legend()
    fig.tight_layout()
    return fig


def ops_bars(freqs: dict[str, dict[str, float]], run: str, results: dict) -> Figure:
    fig = Figure(figsize=(9, 4))
    ax = fig.add_subplot()
    width, ops = 0.8 / len(freqs), _choice_names(freqs)
    for j, (name, f) in enumerate(freqs.items()):
        ax.bar(np.arange(len(ops)) + j * width, [f[o] for o in ops], width, label=name,
               color="black" if name == "truth" else None)
    ax.set_xticks(np.arange(len(ops)) + width * (len(freqs) - 1) / 2, ops)
    ax.set_ylabel(f"share of edges in the top-{results['config']['top']} cells")
    ax.set_title(run)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def curve(results: dict) -> Figure:
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    for run, style in (("original-bn", "-o"), ("original-full", "--s")):
        epochs = sorted(results["runs"].get(run, {}).get("epochs", {}).items(), key=lambda kv: int(kv[0]))
        for k, name in enumerate(epochs[0][1]["indicators"] if epochs else []):
            taus = [e["indicators"].get(name, {}).get("kendall_tau") for _, e in epochs]
            ax.plot([e["train_s"] for _, e in epochs], [np.nan if t is None else t for t in taus], style,
                    color=f"C{k}", label=f"{name} ({run.split('-')[1]})")
    ax.set_xlabel("supernet training time (s)")
    ax.set_ylabel("Kendall tau vs truth")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig
