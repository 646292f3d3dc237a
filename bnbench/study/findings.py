"""What the fairness study's measurements show, in words computed from its results (never written by hand).

Three findings, each derived from ``results`` (the study's results.json content):

* fairness: the BN score's tau in the original and the bn_every_op space, and whether its top cells
  over-select convolutions (share of conv ops in its top-k beside the truth's top-k) or, with a BN on
  every op, the parameter-free ops;
* composite: the formulation chosen on the selection sample, its tau on the report sample against the
  0.60 target and against ``params`` (the cheapest baseline);
* BN-only vs full training: for each indicator, the training time each mode needs to come within
  ``TOLERANCE`` of the best tau either mode reaches (BN-NAS, Chen et al., ICCV 2021, claims BN-only
  training reaches the same ranking quality more than 10x faster). Checkpoints bound the answer: a run
  already on its plateau at its first checkpoint may have got there earlier.
"""

from __future__ import annotations

from typing import Any

TARGET = 0.60  # issue 3's composite target (Kendall tau)
TOLERANCE = 0.02  # tau within this of the best counts as "reached"
CLAIM = 10.0  # BN-NAS's speed-up claim
CONV = ("nor_conv_1x1", "nor_conv_3x3")
FREE = ("skip_connect", "avg_pool_3x3")


def findings(results: dict[str, Any]) -> list[str]:
    """Bullet points (Markdown) of what the study measured."""
    out = [_fairness(results), _composite(results), *_speed(results)]
    return [line for line in out if line]


def _tau(stats: dict) -> float | None:
    return stats.get("kendall_tau")


def final_indicators(results: dict, run: str) -> dict:
    """Per-indicator statistics of ``run``'s last scored epoch."""
    epochs = results["runs"][run]["epochs"]
    return epochs[max(epochs, key=int)]["indicators"]


def _share(freqs: dict[str, float], ops: tuple[str, ...]) -> float:
    return sum(freqs.get(o, 0.0) for o in ops)


def _fairness(results: dict) -> str:
    runs = results["runs"]
    if not {"original-bn", "fair-bn"} <= set(runs) or "bn" not in final_indicators(results, "original-bn"):
        return ""
    orig, fair = _tau(final_indicators(results, "original-bn")["bn"]), _tau(final_indicators(results, "fair-bn")["bn"])
    if orig is None or fair is None:
        return ""
    top = results["config"]["top"]
    o_ops, f_ops = runs["original-bn"]["top_ops"], runs["fair-bn"]["top_ops"]
    bn_conv, truth_conv = _share(o_ops["bn"], CONV), _share(o_ops["truth"], CONV)
    fair_free, truth_free = _share(f_ops["bn"], FREE), _share(f_ops["truth"], FREE)
    bias = "over-selects" if bn_conv > truth_conv + 0.05 else "does not over-select"
    after = ("swings to parameter-free ops" if fair_free > truth_free + 0.05 else
             "no longer over-selects convolutions" if _share(f_ops["bn"], CONV) <= _share(f_ops["truth"], CONV) + 0.05
             else "still over-selects convolutions")
    verdict = ("keeps" if fair >= orig - 0.05 else "loses most of" if fair < orig / 2 else "loses part of")
    return (f"- **Fairness.** In the original space the BN score {bias} convolutions: {bn_conv:.0%} of the edges of "
            f"its top-{top} cells are convolutions (truth's top-{top}: {truth_conv:.0%}). With a BN on every op its "
            f"top-{top} {after} (skip/avg-pool {fair_free:.0%}, truth {truth_free:.0%}) and it {verdict} its "
            f"ranking: tau {orig:.3f} -> {fair:.3f}.")


def _composite(results: dict) -> str:
    parts = []
    for run in ("original-bn", "fair-bn"):
        choice = results["runs"].get(run, {}).get("composite_choice") or {}
        final = final_indicators(results, run) if run in results["runs"] else {}
        tau = _tau(choice.get("report", {})) if choice.get("chosen") else None
        if tau is None:
            continue
        params = _tau(final.get("params", {}))
        vs = "" if params is None else f", {'above' if tau > params else 'not above'} params ({params:.3f})"
        parts.append(f"{run}: {choice['label']}, tau {tau:.3f} ({'meets' if tau >= TARGET else 'misses'} the "
                     f"{TARGET:.2f} target{vs})")
    if not parts:
        return ""
    return ("- **Composite** (formulation chosen on the selection sample, judged on the report sample): "
            + "; ".join(parts) + ".")


def _speed(results: dict) -> list[str]:
    curves = {mode: sorted(results["runs"].get(f"original-{mode}", {}).get("epochs", {}).items(),
                           key=lambda kv: int(kv[0])) for mode in ("bn", "full")}
    if not all(len(c) > 1 for c in curves.values()):
        return []
    lines = []
    for name in curves["bn"][-1][1]["indicators"]:
        taus = {m: [(e["train_s"], _tau(e["indicators"].get(name, {}))) for _, e in c] for m, c in curves.items()}
        known = [t for c in taus.values() for _, t in c if t is not None]
        if not known:
            continue
        best = max(known)
        reach = {m: next((s for s, t in c if t is not None and t >= best - TOLERANCE), None) for m, c in taus.items()}
        lines.append(_speed_line(name, best, reach, {m: c[0][0] for m, c in taus.items()}))
    return ["- **BN-only vs full training** (original space; time to come within "
            f"{TOLERANCE} of the best tau either mode reaches; BN-NAS claims more than {CLAIM:.0f}x faster):",
            *[f"  - {line}" for line in lines]]


def _speed_line(name: str, best: float, reach: dict[str, float | None], first: dict[str, float]) -> str:
    bn, full = reach["bn"], reach["full"]
    if bn is None:
        return f"{name}: BN-only training never reaches {best - TOLERANCE:.3f} (full training does, after {full:.0f} s)."
    if full is None:
        return (f"{name}: BN-only reaches tau {best - TOLERANCE:.3f} after {bn:.0f} s; full training never does "
                "in the epochs scored: BN-only is better, not only faster.")
    if bn == 0 or full == 0:
        who = "the untrained supernet (epoch 0)" if bn == full == 0 else \
            f"the untrained supernet (epoch 0), while {'full' if bn == 0 else 'BN-only'} training needs " \
            f"{max(bn, full):.0f} s to come back to it"
        return (f"{name}: best tau {best:.3f} is already reached by {who}: this ranking needs no training, so "
                "the speed-up claim does not apply to it.")
    ratio = full / bn
    bound = " (both at their first checkpoint: a bound, not a measurement of the plateau)" \
        if bn == first["bn"] and full == first["full"] else ""
    verdict = "supports" if ratio >= CLAIM else "does not support"
    return (f"{name}: best tau {best:.3f}; BN-only reaches it after {bn:.0f} s, full training after {full:.0f} s: "
            f"{ratio:.1f}x, which {verdict} the >{CLAIM:.0f}x claim{bound}.")
