"""``bnbench study econas``: which reduced training settings keep the ranking of architectures (EcoNAS, Zhou et al.,
CVPR 2020), measured against a real ground truth.

A fixed stratified sample of cells (:func:`bnbench.experiment.select_archs`, seed ``seed``) is trained from scratch
under every setting of a grid (:mod:`bnbench.econas.setting`), each with every seed of ``seeds``
(:mod:`bnbench.econas.runs`; one task per (architecture, setting, seed), appended to ``<out>/econas-runs.jsonl``
as it finishes: a killed or partial study continues where it stopped, on this or another machine given the same
store). Per setting it reports

* Kendall tau and Spearman rho of the mean accuracy over seeds against the truth, with bootstrap 95 % intervals;
* the setting's own noise: Kendall tau between the accuracies of two seeds (mean over seed pairs; interval of the
  first pair), the ceiling any reduced proxy of that setting can reach;
* its cost: wall seconds per architecture and seed, one thread (CPU- or GPU-seconds by where it ran);

and for each hierarchical schedule (:mod:`bnbench.econas.hierarchical`) the tau of its final ranking over every
cell, the tau among the cells its last stage trained, top-10 % precision and its total cost per candidate, beside
the flat settings of no greater cost. The findings section states, from the numbers, which of EcoNAS's
observations reproduce (:data:`OBSERVATIONS`).
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import kendalltau

from bnbench.econas.setting import ReducedSetting, Schedule
from bnbench.experiment import RunOptions

# Each factor alone around the unreduced network at 10 epochs, fewer and more epochs, and reduced combinations
# (channels and resolution together, as EcoNAS recommends, with and without fewer images).
DEFAULT_SETTINGS = ("c0r0s0e10", "c2r0s0e10", "c4r0s0e10", "c8r0s0e10", "c0r2s0e10", "c0r4s0e10", "c0r0s2e10",
                    "c0r0s4e10", "c0r0s0e5", "c0r0s0e20", "c4r2s0e10", "c4r4s0e10", "c8r4s0e10", "c4r4s2e10",
                    "c4r4s0e20")
# A cheap setting promoting to a dearer one (trained from scratch), and EcoNAS's own form: thirds of one c4r4s0
# run, the best half continued after each third (its search/main.py and search/train.py).
DEFAULT_SCHEDULES = ("c8r4s0e10+top0.5+c4r2s0e10", "c4r4s0e30@10+top0.5+c4r4s0e30@20+top0.5+c4r4s0e30")

# EcoNAS's observations as bnbench tests them (our paraphrase of the paper's section 4; compare with its text). The
# last is the paper's own first observation (its introduction: with the same iteration numbers, more training
# samples with fewer epochs reduce the rank inconsistency more than more epochs with fewer samples).
OBSERVATIONS = {
    "channels": "reducing the channels keeps the ranking",
    "resolution": "reducing the input resolution keeps the ranking",
    "samples": "reducing the training images hurts the ranking",
    "epochs": "more training epochs give a better ranking",
    "combined": "reducing channels and resolution together keeps the ranking at a fraction of the cost",
    "iterations": "at the same number of iterations, more training images for fewer epochs rank better than fewer "
                  "images for more epochs",
}


@dataclass
class EcoNASConfig:
    """The study: ``run`` (data, truth, seed, output folder, engine options in ``scoring``; ``sample_archs`` cells),
    the ``settings`` grid, training ``seeds`` per setting, hierarchical ``schedules``, ``eval_images``
    (evaluation images per run, None = all of the evaluation split) and ``batch_size`` / ``lr`` overrides."""

    run: RunOptions = field(default_factory=lambda: RunOptions(out="runs/econas", sample_archs=100))
    settings: tuple[str, ...] = DEFAULT_SETTINGS
    seeds: tuple[int, ...] = (0, 1)
    schedules: tuple[str, ...] = DEFAULT_SCHEDULES
    eval_images: int | None = None
    batch_size: int | None = None
    lr: float | None = None


def relative_cost(setting: ReducedSetting) -> float:
    """Cost relative to ``c0r0s0e1`` if compute scales with channels^2 x pixels x images x epochs (used only to
    run the cheapest settings first, so a partial study has its cheap rows)."""
    c = max(setting.c, 1) ** 2
    r = max(setting.r, 1) ** 2
    return setting.e / (c * r * max(setting.s, 1))


def run_econas(cfg: EcoNASConfig) -> dict:
    """Run (or continue) the study; writes ``results.json``, ``report.md`` and ``tau_vs_cost.png`` to ``cfg.run.out``
    and returns the results document."""
    from bnbench.experiment import build_context, dataset_name, load_truth_and_table, select_archs, train_config
    from bnbench.indicators import get
    from bnbench.indicators.econas import runner_for
    from bnbench.spaces import get_space
    from bnbench.utils.env import package_versions
    from bnbench.utils.io import atomic_write_json

    start = time.perf_counter()
    opts, out = cfg.run, Path(cfg.run.out)
    settings = sorted({ReducedSetting.parse(s) for s in cfg.settings}, key=relative_cost)
    schedules = [Schedule.parse(s) for s in cfg.schedules]
    space = get_space(opts.space)
    name = dataset_name(opts)
    truth, _ = load_truth_and_table(opts, name)
    archs, truth_values = select_archs(space, truth, opts.sample_archs, opts.seed)
    arch_names = [space.to_str(a) for a in archs]
    options = {**opts.scoring, "econas_eval_images": cfg.eval_images, "econas_batch_size": cfg.batch_size,
               "econas_lr": cfg.lr}
    run_opts = dataclasses.replace(opts, scoring=options)
    probe = get(f"econas:{settings[0].name}")
    ctx = build_context(run_opts, [probe], name, truth, train_config(name, opts.seed, space=space.name), out)
    runner = runner_for(ctx)
    rows, means = {}, {}
    for setting in settings:
        acc, sec = runner.accuracy(arch_names, setting, cfg.seeds)
        rows[setting.name] = setting_row(setting, acc, sec, truth_values, opts.n_boot, opts.seed)
        means[setting.name] = np.where(np.isnan(acc).any(axis=1), np.nan, acc.mean(axis=1))
    staged = {}
    for schedule in schedules:
        from bnbench.econas.hierarchical import staged_scores

        res = staged_scores(runner, arch_names, schedule, cfg.seeds)
        staged[schedule.name] = schedule_row(schedule, res, truth_values, opts.n_boot, opts.seed, len(cfg.seeds))
    results = {
        "command": "study econas", "bnbench_version": package_versions()["bnbench"], "versions": package_versions(),
        "config": {"space": space.name, "dataset": name, "benchmark": opts.benchmark, "sample_archs": len(archs),
                   "settings": [s.name for s in settings], "seeds": list(cfg.seeds), "schedules": list(cfg.schedules),
                   "eval_images": cfg.eval_images, "job": _job_dict(runner.job), "n_boot": opts.n_boot,
                   "engine": runner.engine.describe()},
        "seeds": {"sample": opts.seed, "training": list(cfg.seeds), "bootstrap": opts.seed},
        "ground_truth": {"description": truth.description(), "source": str(truth.source), "n": len(archs)},
        "images": ctx.dataset.images, "archs": arch_names,
        "settings": rows, "schedules": staged, "failed_runs": len(runner.failed),
        "truth": truth_values.tolist(), "accuracy": {n: v.tolist() for n, v in means.items()},
        "findings": findings(rows, means, truth_values, opts.n_boot, opts.seed), "wall_s": time.perf_counter() - start,
    }
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "results.json", results)
    tau_vs_cost_chart(out / "tau_vs_cost.png", rows, staged)
    (out / "report.md").write_text(report(results))
    return results


def _job_dict(job) -> dict:
    return {"space": job.space, "dataset": job.dataset, "truth_split": job.truth_split, "base": job.base,
            "full_channels": job.full_channels, "native_side": job.native_side, "eval_images": job.eval_images}


def seed_tau(acc: np.ndarray, n_boot: int, seed: int) -> dict[str, Any]:
    """Kendall tau between the accuracies of two training seeds: mean over all seed pairs, and the first pair's
    bootstrap interval (None with fewer than two seeds)."""
    from bnbench.correlation import correlate

    pairs = list(itertools.combinations(range(acc.shape[1]), 2))
    if not pairs:
        return {"tau": None, "ci": None, "pairs": 0}
    ok = ~np.isnan(acc).any(axis=1)
    taus = [float(kendalltau(acc[ok, i], acc[ok, j]).statistic) for i, j in pairs]
    first = correlate(acc[ok, 0], acc[ok, 1], n_boot=n_boot, seed=seed)
    return {"tau": float(np.mean(taus)), "ci": first["kendall_tau_ci"], "pairs": len(pairs)}


def setting_row(setting: ReducedSetting, acc: np.ndarray, sec: np.ndarray, truth: np.ndarray, n_boot: int,
                seed: int) -> dict[str, Any]:
    """One row of the study's table: statistics of the mean accuracy over seeds against ``truth``."""
    from bnbench.correlation import correlate

    mean = np.where(np.isnan(acc).any(axis=1), np.nan, acc.mean(axis=1))
    stats = correlate(mean, truth, n_boot=n_boot, seed=seed)
    return {"setting": setting.name, "c": setting.c, "r": setting.r, "s": setting.s, "e": setting.e,
            "stop": setting.stop,
            "kendall_tau": stats["kendall_tau"], "kendall_tau_ci": stats["kendall_tau_ci"],
            "spearman_rho": stats["spearman_rho"], "spearman_rho_ci": stats["spearman_rho_ci"],
            "topk_precision_10": stats["topk_precision"].get("10%"), "seed_tau": seed_tau(acc, n_boot, seed),
            "accuracy_mean": float(np.nanmean(acc)), "accuracy_sd_across_archs": float(np.nanstd(mean)),
            "seconds_per_arch": float(np.nanmean(sec)), "seconds_total": float(np.nansum(sec)),
            "runs": int((~np.isnan(acc)).sum()), "failed": int(np.isnan(acc).sum())}


def schedule_row(schedule: Schedule, res, truth: np.ndarray, n_boot: int, seed: int, n_seeds: int) -> dict[str, Any]:
    """The hierarchical proxy's row: its final ranking over all cells and over its last stage's cells."""
    from bnbench.correlation import correlate

    stats = correlate(res.scores, truth, n_boot=n_boot, seed=seed)
    last = ~np.isnan(res.accuracy[-1])
    final = correlate(res.accuracy[-1][last], truth[last], n_boot=n_boot, seed=seed) if last.sum() > 2 else None
    return {"schedule": schedule.name, "trained": res.trained.tolist(),
            "kendall_tau": stats["kendall_tau"], "kendall_tau_ci": stats["kendall_tau_ci"],
            "spearman_rho": stats["spearman_rho"], "topk_precision_10": stats["topk_precision"].get("10%"),
            "final_stage_tau": None if final is None else final["kendall_tau"],
            "final_stage_tau_ci": None if final is None else final["kendall_tau_ci"],
            "seconds_per_candidate": res.total_seconds / (len(truth) * n_seeds),
            "seconds_by_stage": res.seconds.tolist()}


def paired_delta(a: np.ndarray, b: np.ndarray, truth: np.ndarray, n_boot: int, seed: int) -> tuple[float, list[float]]:
    """Kendall tau(a, truth) - tau(b, truth) and its paired bootstrap 95 % interval (the same resampled cells for
    both, so the interval is that of the difference, narrower than comparing two separate intervals)."""
    ok = np.isfinite(a) & np.isfinite(b) & np.isfinite(truth)
    a, b, t = a[ok], b[ok], truth[ok]

    def tau(x, y):
        value = kendalltau(x, y).statistic
        return 0.0 if np.isnan(value) else float(value)

    rng = np.random.default_rng(seed)
    draws = [tau(a[i], t[i]) - tau(b[i], t[i]) for i in rng.integers(0, len(t), size=(n_boot, len(t)))]
    return tau(a, t) - tau(b, t), [float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))]


def _more_reduced(x: dict, y: dict, knobs: tuple[str, ...]) -> bool:
    """``x`` has a larger value than ``y`` in every knob of ``knobs`` (c, r, s: a larger divisor, i.e. reduced more;
    0 = unreduced; e: more epochs) and equals it in the other knobs."""
    def level(v: int) -> int:
        return max(v, 1)
    others = [k for k in ("c", "r", "s", "e") if k not in knobs]
    return (x.get("stop", 0) == y.get("stop", 0) == 0 and all(x[k] == y[k] for k in others)
            and all(level(x[k]) > level(y[k]) for k in knobs))


def _same_iterations(x: dict, y: dict) -> bool:
    """``x`` trains on more images for fewer epochs than ``y``, the same number of iterations (images x epochs), the
    same channels and resolution, both whole runs."""
    def fraction(s: int) -> float:
        return 1.0 / max(s, 1)
    return (x.get("stop", 0) == y.get("stop", 0) == 0 and x["c"] == y["c"] and x["r"] == y["r"]
            and fraction(x["s"]) > fraction(y["s"])
            and abs(fraction(x["s"]) * x["e"] - fraction(y["s"]) * y["e"]) < 1e-9)


def findings(rows: dict[str, dict], means: dict[str, np.ndarray], truth: np.ndarray, n_boot: int,
             seed: int) -> list[dict[str, Any]]:
    """Which of :data:`OBSERVATIONS` reproduce, decided from paired comparisons of settings that differ in the knob
    the observation is about (and agree in the others): for each pair, ``delta`` = tau(more reduced, or more
    epochs) - tau(the other) with its paired bootstrap interval (:func:`paired_delta`); a pair is *lower* / *higher*
    when the interval excludes 0, else *no detectable difference* (at this sample size). An observation without
    such a pair in the grid is *not tested*. A "keeps the ranking" observation is *consistent* when no pair shows a
    detectable loss (which is not a proof of equality: the interval's width says how large a loss could hide)."""
    ok = {n: r for n, r in rows.items() if r["kendall_tau"] is not None}
    out = []

    def compare(name: str, knobs: tuple[str, ...], claim: str, pair=None) -> None:
        # (more reduced, less reduced); for e a larger value is more epochs: (more epochs, fewer epochs)
        pair = pair or (lambda x, y: _more_reduced(x, y, knobs))
        pairs = [(x, y) for x in ok.values() for y in ok.values() if pair(x, y)]
        pairs.sort(key=lambda p: (p[1]["setting"], p[0]["setting"]))
        if not pairs:
            what = ("no two settings of the grid differ in this knob alone" if knobs else
                    "no two settings of the grid train the same iterations with different images and epochs")
            out.append({"observation": OBSERVATIONS[name], "verdict": "not tested", "evidence": what, "pairs": []})
            return
        evidence, signs = [], []
        for x, y in pairs:
            delta, ci = paired_delta(means[x["setting"]], means[y["setting"]], truth, n_boot, seed)
            sign = "lower" if ci[1] < 0 else "higher" if ci[0] > 0 else "no detectable difference"
            signs.append(sign)
            evidence.append({"setting": x["setting"], "versus": y["setting"], "delta_tau": delta, "ci": ci,
                             "result": sign})
        if claim == "keeps":  # absence of a detectable loss is consistency, not proof of equality
            verdict = ("consistent (no detectable loss)" if "lower" not in signs else
                       "does not reproduce (detectable loss)" if all(s == "lower" for s in signs) else
                       "partly (a detectable loss in some pairs)")
        else:  # "hurts" (samples: lower expected) or "helps" (epochs: higher expected)
            want = "lower" if claim == "hurts" else "higher"
            verdict = ("reproduces" if all(s == want for s in signs) else "partly" if want in signs else
                       "not detected at this sample size" if all(
                           s == "no detectable difference" for s in signs) else "does not reproduce (opposite effect)")
        out.append({"observation": OBSERVATIONS[name], "verdict": verdict, "pairs": evidence,
                    "evidence": "; ".join(f"{e['setting']} vs {e['versus']}: delta tau {e['delta_tau']:+.3f} "
                                          f"[{e['ci'][0]:+.3f}, {e['ci'][1]:+.3f}]" for e in evidence)})

    compare("channels", ("c",), "keeps")
    compare("resolution", ("r",), "keeps")
    compare("samples", ("s",), "hurts")
    compare("epochs", ("e",), "helps")
    compare("combined", ("c", "r"), "keeps")
    compare("iterations", (), "helps", pair=_same_iterations)  # delta: tau(more images) - tau(more epochs)
    return out


def tau_vs_cost_chart(path: Path, rows: dict[str, dict], staged: dict[str, dict]) -> None:
    """Kendall tau (with its interval) against seconds per architecture (log scale), one point per setting; the
    hierarchical schedules as diamonds."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 4.8))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for row in rows.values():
        if row["kendall_tau"] is None:
            continue
        lo, hi = row["kendall_tau_ci"]
        ax.errorbar(row["seconds_per_arch"], row["kendall_tau"], yerr=[[row["kendall_tau"] - lo], [hi - row["kendall_tau"]]],
                    fmt="o", color="tab:blue", ecolor="0.7", capsize=2)
        ax.annotate(row["setting"], (row["seconds_per_arch"], row["kendall_tau"]), fontsize=7,
                    xytext=(3, 3), textcoords="offset points")
    for row in staged.values():
        if row["kendall_tau"] is not None:
            ax.plot(row["seconds_per_candidate"], row["kendall_tau"], "D", color="tab:red")
            ax.annotate("hierarchical", (row["seconds_per_candidate"], row["kendall_tau"]), fontsize=7, color="tab:red",
                        xytext=(3, -10), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_xlabel("seconds per architecture and seed (one thread)")
    ax.set_ylabel("Kendall tau vs ground truth")
    ax.set_title("EcoNAS reduced settings: rank consistency against cost")
    ax.axhline(0, color="0.8", lw=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _ci(ci) -> str:
    return "" if ci is None else f" [{ci[0]:.3f}, {ci[1]:.3f}]"


def report(results: dict) -> str:
    """The study's Markdown report."""
    cfg = results["config"]
    lines = ["# EcoNAS study: reduced training settings against the ground truth", "",
             f"Ground truth: {results['ground_truth']['description']} ({results['ground_truth']['source']}), "
             f"{cfg['sample_archs']} cells of {cfg['space']} (stratified sample, seed {results['seeds']['sample']}); "
             f"training seeds {', '.join(map(str, cfg['seeds']))}; engine {cfg['engine']}.", "",
             f"Training images: {results['images']['train']['images']}; evaluation images: "
             f"{results['images']['eval']['images']} ({cfg['eval_images'] or 'all'}), {results['images']['eval_vs_truth']} "
             "from the truth's images.", "",
             "Settings: c/r/s divide the truth network's channels, the image side and the training images (0 = not "
             "reduced), e is epochs (see `bnbench.econas.setting`).", "",
             "| setting | Kendall tau [95% CI] | Spearman rho [95% CI] | top-10% | tau seed vs seed | mean acc % | "
             "s / arch / seed |", "|---|---|---|---|---|---|---|"]
    for row in results["settings"].values():
        tau = "n/a" if row["kendall_tau"] is None else f"{row['kendall_tau']:.3f}{_ci(row['kendall_tau_ci'])}"
        rho = "n/a" if row["spearman_rho"] is None else f"{row['spearman_rho']:.3f}{_ci(row['spearman_rho_ci'])}"
        st = row["seed_tau"]
        seed_text = "n/a" if st["tau"] is None else f"{st['tau']:.3f}{_ci(st['ci'])}"
        top = "n/a" if row["topk_precision_10"] is None else f"{row['topk_precision_10']:.2f}"
        lines.append(f"| {row['setting']} | {tau} | {rho} | {top} | {seed_text} | {row['accuracy_mean']:.1f} | "
                     f"{row['seconds_per_arch']:.1f} |")
    if results["schedules"]:
        lines += ["", "## Hierarchical proxy", "",
                  "| schedule | trained per stage | tau, all cells [95% CI] | tau, last stage's cells | top-10% | "
                  "s / candidate |", "|---|---|---|---|---|---|"]
        notes = []
        for row in results["schedules"].values():
            final = "n/a" if row["final_stage_tau"] is None else f"{row['final_stage_tau']:.3f}{_ci(row['final_stage_tau_ci'])}"
            lines.append(f"| {row['schedule']} | {' / '.join(map(str, row['trained']))} | {row['kendall_tau']:.3f}"
                         f"{_ci(row['kendall_tau_ci'])} | {final} | {row['topk_precision_10']:.2f} | "
                         f"{row['seconds_per_candidate']:.1f} |")
            cheaper = [r for r in results["settings"].values()
                       if r["seconds_per_arch"] <= row["seconds_per_candidate"] and r["kendall_tau"] is not None]
            if cheaper:
                best = max(cheaper, key=lambda r: r["kendall_tau"])
                notes.append(f"- {row['schedule']} ({row['seconds_per_candidate']:.1f} s per candidate): the best flat "
                             f"setting of no greater cost is {best['setting']}, tau {best['kendall_tau']:.3f} "
                             f"({best['seconds_per_arch']:.1f} s per architecture and seed).")
        lines += [""] + notes
    lines += ["", "## EcoNAS's observations, from these numbers", ""]
    for f in results["findings"]:
        lines.append(f"- **{f['verdict']}**: {f['observation']}. {f['evidence']}.")
    lines += ["", "![tau against cost](tau_vs_cost.png)", "",
              f"Failed runs: {results['failed_runs']}. Wall time of this invocation: {results['wall_s']:.0f} s. "
              "Every run is stored in econas-runs.jsonl; rerun the same command to continue or extend the study.", ""]
    return "\n".join(lines)

