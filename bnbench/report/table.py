"""The results table: one row per indicator, shared by the terminal view and the Markdown report."""

from __future__ import annotations

from typing import Any

TOPK_KEY = "10%"


def ci_label(results: dict[str, Any]) -> str:
    """``"95% CI"`` from the first indicator's ``ci_level`` (0.95 when unknown)."""
    levels = [ind.get("ci_level") for ind in results.get("indicators", {}).values() if ind.get("ci_level")]
    return f"{(levels[0] if levels else 0.95) * 100:g}% CI"


def headers(results: dict[str, Any]) -> list[str]:
    ci = ci_label(results)
    return ["indicator", "direction", "n", f"Kendall tau [{ci}]", f"Spearman rho [{ci}]",
            f"top-{TOPK_KEY} precision", "unique tau", f"partial tau given params [{ci}]", "tau within strata",
            "time (s)"]


def table_rows(results: dict[str, Any]) -> list[list[str]]:
    """Formatted cells, one list per indicator, in the order of ``headers``."""
    rows = []
    for name, ind in results.get("indicators", {}).items():
        unique = ind.get("unique")
        beyond = ind.get("beyond_structure") or {}
        rows.append([str(name) + (" (baseline)" if ind.get("baseline") else ""), str(ind.get("direction", "?")),
                     _count(ind), _with_ci(ind, "kendall_tau"), _with_ci(ind, "spearman_rho"),
                     _value(ind, (ind.get("topk_precision") or {}).get(TOPK_KEY)),
                     _value(unique, unique.get("kendall_tau")) if unique else "-",
                     _partial(beyond.get("partial_tau_given_params")), _within(beyond.get("within_strata")),
                     _seconds(ind.get("time_s"))])
    return rows


def _partial(stats: dict[str, Any] | None) -> str:
    if not stats:
        return "-"
    if stats.get("partial_tau") is None:
        return "n/a"
    ci = stats.get("ci")
    return _number(stats["partial_tau"]) + (f" [{_number(ci[0])}, {_number(ci[1])}]" if ci else "")


def _within(stats: dict[str, Any] | None) -> str:
    if not stats:
        return "-"
    return "n/a" if stats.get("mean_tau") is None else f"{_number(stats['mean_tau'])} ({stats['strata_used']})"


def strata_label(results: dict[str, Any]) -> str | None:
    """What the strata of the "tau within strata" column are (from the first indicator that has them)."""
    for ind in results.get("indicators", {}).values():
        within = (ind.get("beyond_structure") or {}).get("within_strata")
        if within:
            return within.get("strata")
    return None


def status_notes(results: dict[str, Any]) -> list[tuple[str, str]]:
    """(indicator, reason) for every indicator (or its unique-architecture view) whose status is not "ok",
    that kept infinite scores, or whose interval used only some bootstrap resamples."""
    notes = []
    for name, ind in results.get("indicators", {}).items():
        for label, stats in ((str(name), ind), (f"{name} (unique)", ind.get("unique"))):
            if stats and stats.get("status", "ok") != "ok":
                notes.append((label, f"{stats['status']}: {stats.get('reason') or 'no reason given'}"))
            if stats and stats.get("n_inf"):
                notes.append((label, f"{stats['n_inf']} infinite score(s) kept, ranked first or last in the "
                                     "indicator's direction; Pearson r undefined"))
            if stats and 0 < stats.get("n_boot_used", 0) < stats.get("n_boot", 0):
                notes.append((label, f"CI from {stats['n_boot_used']} of {stats['n_boot']} bootstrap resamples "
                                     "(the others were constant)"))
    return notes


def format_table(results: dict[str, Any]) -> str:
    """Fixed-width terminal table headed by the ground-truth description, followed by status notes."""
    head, rows = headers(results), table_rows(results)
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    lines = [ground_truth_line(results), "", line(head), "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in rows] or ["(no indicators)"]
    lines += [f"! {label}: {text}" for label, text in status_notes(results)]
    return "\n".join(lines) + "\n"


def ground_truth_line(results: dict[str, Any]) -> str:
    gt = results.get("ground_truth") or {}
    extra = ", ".join(f"{k}={gt[k]}" for k in ("n", "source") if gt.get(k) is not None)
    return f"Ground truth: {gt.get('description', 'unknown')}" + (f" ({extra})" if extra else "")


def _number(value: float) -> str:
    return f"{value:+.3f}" if value < 0 else f"{value:.3f}"


def _missing(stats: dict[str, Any]) -> str:
    status = stats.get("status")
    return f"n/a ({status})" if status and status not in ("ok", "nan_dropped") else "n/a"


def _value(stats: dict[str, Any], value: float | None) -> str:
    return _missing(stats) if value is None else _number(value)


def _with_ci(stats: dict[str, Any], key: str) -> str:
    value, ci = stats.get(key), stats.get(f"{key}_ci")
    if value is None:
        return _missing(stats)
    return _number(value) + (f" [{_number(ci[0])}, {_number(ci[1])}]" if ci else "")


def _count(ind: dict[str, Any]) -> str:
    n, dropped = ind.get("n"), ind.get("n_nan", 0) + ind.get("n_nan_truth", 0)
    return "?" if n is None else f"{n}" + (f" ({dropped} dropped)" if dropped else "")


def _seconds(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}" if value >= 10 else f"{value:.2f}"
