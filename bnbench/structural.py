"""What an indicator knows beyond structure: partial Kendall tau given params and tau within structural strata.

A proxy that ranks well only because it counts parameters is worth no more than counting them. Two views:

* **Partial Kendall tau** of the indicator x and the truth y given the parameter count z (Kendall, "Partial
  rank correlation", Biometrika 32, 1942; Kendall & Gibbons, *Rank Correlation Methods*, 5th ed., 1990,
  ch. 8), from the three pairwise tau-b values::

      tau_xy.z = (tau_xy - tau_xz tau_yz) / sqrt((1 - tau_xz^2) (1 - tau_yz^2))

  Near 0 means: once the ranking by params is accounted for, the indicator adds little; for ``params`` itself it
  is undefined (tau_xz = 1). Caveat: unlike a partial Pearson r, Kendall's partial tau is not exactly 0 when the
  indicator and the truth depend on params only (measured: 0.11-0.12 for x = z + e1, y = z + e2 with Gaussian
  z, e1, e2, raw tau 0.33), so read small positive values as "little beyond params", and compare with the
  within-strata tau. Its bootstrap interval resamples the (x, y, z) triples (percentile
  interval, ``n_boot`` resamples, the same generator rule as :mod:`bnbench.correlation`); a resample where any
  of the three is constant, or where tau_xz or tau_yz is +-1, is skipped.
* **Tau within strata**: Kendall tau-b inside each group of architectures of equal structure, averaged over the
  groups with weights equal to their number of pairs n_g (n_g - 1) / 2 (groups with fewer than 3 architectures,
  or where the indicator or the truth is constant, are left out and counted). The strata are the space's
  :meth:`~bnbench.spaces.base.SearchSpace.structure_strata`: the number of convolutions of the cell on NB201,
  deciles of the parameter count elsewhere.

No number here is a silent 0: undefined values are ``None`` with a ``reason``.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
from scipy import stats

from bnbench.correlation import _counts, _dense_ranks, _group_sums, _kendall_from_counts, _pair_sign_matrix, \
    _tie_groups, _MATRIX_MAX_N, _CHUNK_ELEMENTS, MIN_N
from bnbench.errors import BnbenchError

PARAMS_DECILES = 10


def partial_tau_formula(tau_xy: float, tau_xz: float, tau_yz: float) -> float | None:
    """Kendall's partial tau ``(t_xy - t_xz t_yz) / sqrt((1 - t_xz^2)(1 - t_yz^2))``; None where |t_xz| or
    |t_yz| is 1 (the control fixes the order of x or y: nothing is left to correlate)."""
    den = (1.0 - tau_xz ** 2) * (1.0 - tau_yz ** 2)
    if not np.isfinite(den) or den <= 1e-12:
        return None
    return float(np.clip((tau_xy - tau_xz * tau_yz) / np.sqrt(den), -1.0, 1.0))


def _tau(a: np.ndarray, b: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = stats.kendalltau(_dense_ranks(a), _dense_ranks(b)).statistic
    return float(value) if np.isfinite(value) else float("nan")


def _weighted_taus(w: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Tau-b of (a, b) in each resample given by draw counts ``w`` (rows); NaN where a or b is constant."""
    ra, rb = _dense_ranks(a), _dense_ranks(b)
    ta, tb = _tie_groups(ra), _tie_groups(rb)
    ga, gb = _group_sums(w, ta), _group_sums(w, tb)
    degenerate = (np.count_nonzero(ga, axis=1) < 2) | (np.count_nonzero(gb, axis=1) < 2)
    if a.size <= _MATRIX_MAX_N:
        tau = _kendall_from_counts(w, ga, gb, _pair_sign_matrix(ra, rb))
    else:
        tau = np.full(w.shape[0], np.nan)
        for i in np.flatnonzero(~degenerate):
            drawn = np.repeat(np.arange(a.size), w[i].astype(np.int64))
            tau[i] = _tau(a[drawn], b[drawn])
    return np.where(degenerate, np.nan, tau)


def partial_tau(scores: Sequence[float], truth: Sequence[float], control: Sequence[float], *,
                higher_is_better: bool = True, n_boot: int = 1000, seed: int = 0, ci: float = 0.95) -> dict[str, Any]:
    """Partial Kendall tau of ``scores`` and ``truth`` given ``control`` (e.g. params), with a bootstrap interval.

    Rows with a NaN score, or a non-finite truth or control, are dropped. Returns ``{"partial_tau", "ci",
    "tau_score_control", "tau_truth_control", "n", "n_boot_used", "reason"}``; ``partial_tau`` is None (with a
    ``reason``) for fewer than 3 rows, a constant column, or a score or truth ranked exactly as the control.
    """
    x, y, z = (np.asarray(v, dtype=np.float64) for v in (scores, truth, control))
    if not x.size == y.size == z.size:
        raise BnbenchError(f"partial tau: scores ({x.size}), truth ({y.size}) and control ({z.size}) differ in length")
    if not higher_is_better:
        x = -x
    keep = ~np.isnan(x) & np.isfinite(y) & np.isfinite(z)
    x, y, z = x[keep], y[keep], z[keep]
    order = np.lexsort((z, x, y))  # resamples depend only on the multiset of triples, not on row order
    x, y, z = x[order], y[order], z[order]
    out: dict[str, Any] = {"partial_tau": None, "ci": None, "tau_score_control": None, "tau_truth_control": None,
                           "n": int(x.size), "n_boot_used": 0, "ci_level": ci, "reason": None}
    if x.size < MIN_N:
        out["reason"] = f"only {x.size} usable rows"
        return out
    for values, what in ((x, "scores"), (y, "truth"), (z, "control")):
        if np.all(values == values[0]):
            out["reason"] = f"{what} constant"
            return out
    t_xy, t_xz, t_yz = _tau(x, y), _tau(x, z), _tau(y, z)
    out["tau_score_control"], out["tau_truth_control"] = t_xz, t_yz
    out["partial_tau"] = partial_tau_formula(t_xy, t_xz, t_yz)
    if out["partial_tau"] is None:
        out["reason"] = "the score or the truth ranks exactly as the control (|tau| = 1): nothing left beyond it"
        return out
    if n_boot > 0:
        rng, chunk, values = np.random.default_rng(seed), max(1, _CHUNK_ELEMENTS // max(x.size, 1)), []
        for start in range(0, n_boot, chunk):
            w = _counts(rng.integers(0, x.size, size=(min(chunk, n_boot - start), x.size)), x.size)
            txy, txz, tyz = _weighted_taus(w, x, y), _weighted_taus(w, x, z), _weighted_taus(w, y, z)
            with np.errstate(divide="ignore", invalid="ignore"):
                den = (1 - txz ** 2) * (1 - tyz ** 2)
                part = np.where(den > 1e-12, (txy - txz * tyz) / np.sqrt(np.where(den > 0, den, 1.0)), np.nan)
            values.append(part)
        boot = np.concatenate(values)
        used = np.isfinite(boot)
        out["n_boot_used"] = int(used.sum())
        if used.any():
            q = 100 * np.array([(1 - ci) / 2, (1 + ci) / 2])
            out["ci"] = [float(v) for v in np.clip(np.percentile(boot[used], q), -1, 1)]
    return out


def stratified_tau(scores: Sequence[float], truth: Sequence[float], strata: Sequence[Any], *,
                   higher_is_better: bool = True) -> dict[str, Any]:
    """Pair-weighted mean Kendall tau-b within strata (see the module docstring).

    Returns ``{"mean_tau", "strata_used", "strata_skipped", "pairs", "per_stratum": {label: {"n", "tau"}},
    "reason"}``; ``mean_tau`` is None when no stratum has 3 or more rows with a varying score and truth.
    """
    x, y = np.asarray(scores, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    labels = np.asarray(strata)
    if not x.size == y.size == labels.size:
        raise BnbenchError(f"stratified tau: scores ({x.size}), truth ({y.size}) and strata ({labels.size}) differ "
                           "in length")
    if not higher_is_better:
        x = -x
    keep = ~np.isnan(x) & np.isfinite(y)
    x, y, labels = x[keep], y[keep], labels[keep]
    per, total, weighted, skipped = {}, 0, 0.0, 0
    for label in sorted(set(labels.tolist()), key=lambda v: (str(type(v)), v)):
        idx = labels == label
        n = int(idx.sum())
        xs, ys = x[idx], y[idx]
        if n < MIN_N or np.all(xs == xs[0]) or np.all(ys == ys[0]):
            per[str(label)] = {"n": n, "tau": None}
            skipped += 1
            continue
        tau = _tau(xs, ys)
        per[str(label)] = {"n": n, "tau": tau}
        pairs = n * (n - 1) // 2
        total += pairs
        weighted += pairs * tau
    return {"mean_tau": float(weighted / total) if total else None, "strata_used": len(per) - skipped,
            "strata_skipped": skipped, "pairs": int(total), "per_stratum": per,
            "reason": None if total else "no stratum with 3 or more architectures and varying scores and truth"}


def params_deciles(params: Sequence[float]) -> np.ndarray:
    """Decile (0-9) of each parameter count; equal counts always share a decile (ranks by value, ties averaged)."""
    p = np.asarray(params, dtype=np.float64)
    if p.size == 0:
        return np.zeros(0, dtype=np.int64)
    ranks = stats.rankdata(p, method="average")
    return np.minimum(((ranks - 0.5) * PARAMS_DECILES / p.size).astype(np.int64), PARAMS_DECILES - 1)


def beyond_structure(scores: Sequence[float], truth: Sequence[float], params: Sequence[float],
                     strata: Sequence[Any], strata_label: str, *, higher_is_better: bool = True, n_boot: int = 1000,
                     seed: int = 0, ci: float = 0.95) -> dict[str, Any]:
    """results.json's ``beyond_structure`` entry of one indicator: partial tau given params and the tau within
    ``strata`` (described by ``strata_label``)."""
    within = stratified_tau(scores, truth, strata, higher_is_better=higher_is_better)
    return {"partial_tau_given_params": partial_tau(scores, truth, params, higher_is_better=higher_is_better,
                                                     n_boot=n_boot, seed=seed, ci=ci),
            "within_strata": {"strata": strata_label, **within}}
