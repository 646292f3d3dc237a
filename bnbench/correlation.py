"""How well an indicator ranks architectures: rank correlations with the truth, bootstrap CIs, top-k overlap.

Statistics (x = indicator score, negated when lower is better; y = ground truth, higher is better):

* Kendall tau-b = (C - D) / sqrt((P - T_x) (P - T_y)), with C / D the concordant / discordant pairs,
  P = n(n-1)/2 all pairs and T_x / T_y the pairs tied in x / y (scipy ``kendalltau``).
* Spearman rho = Pearson correlation of the average ranks (ties get the mean of their ranks).
* Pearson r = cov(x, y) / (sd(x) sd(y)) on the raw values.
* top-k precision = |top_k(x) & top_k(y)| / k with k = max(1, round(frac * n)) (Python ``round``);
  ties at the cut are broken by input order.

Confidence intervals are bootstrap percentile intervals: ``n_boot`` resamples of (x, y) pairs drawn with
``np.random.default_rng(seed)``; a resample in which x or y is constant has no defined value and is skipped
(``n_boot_used`` says how many were kept).  Undefined statistics are ``None`` (JSON null), never NaN or a silent 0;
``status`` and ``reason`` say why.
"""

from __future__ import annotations

import warnings
from typing import Any, Hashable, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .errors import BnbenchError

STATISTICS = ("kendall_tau", "spearman_rho", "pearson_r")
STATUSES = ("ok", "nan_dropped", "all_nan", "constant", "too_few")
MIN_N = 3
_MATRIX_MAX_N = 2048  # n x n pair-matrix Kendall bootstrap up to this n; scipy's O(n log n) tau per resample beyond
_CHUNK_ELEMENTS = 1 << 22  # resamples are processed in chunks of about this many draws


def correlate(scores: Sequence[float], truth: Sequence[float], *, higher_is_better: bool = True,
              groups: Sequence[Hashable] | None = None, n_boot: int = 1000, seed: int = 0,
              topk_fracs: Iterable[float] = (0.01, 0.05, 0.10), ci: float = 0.95) -> dict[str, Any]:
    """Correlate indicator ``scores`` with ``truth`` (see the module docstring); returns a JSON-ready dict.

    With ``groups`` (one hashable isomorphism-class id per entry) the same statistics are also computed over one
    representative per class, the first in input order, under ``"unique"`` (plus ``n_classes``).  Isomorphic NB201
    cells were trained separately, so their truth differs only by seed noise; keeping the first one (the lowest
    benchmark index when the input is sorted by index) is the usual convention.  Representatives are chosen before
    non-finite scores are dropped, so every indicator is judged on the same architectures.
    """
    x, y = _as_vector(scores, "scores"), _as_vector(truth, "truth")
    if x.size != y.size:
        raise BnbenchError(f"scores has {x.size} entries but truth has {y.size}; they must be the same length")
    if not higher_is_better:
        x = -x
    fracs = _check_options(topk_fracs, n_boot, ci)
    out = _statistics(x, y, n_boot=n_boot, seed=seed, fracs=fracs, ci=ci)
    if groups is not None:
        keep = first_of_each_group(groups, x.size)
        out["unique"] = {**_statistics(x[keep], y[keep], n_boot=n_boot, seed=seed, fracs=fracs, ci=ci),
                         "n_classes": int(keep.size)}
    return out


def correlate_many(df: pd.DataFrame, truth_col: str, indicators: dict[str, bool], **kw: Any) -> dict[str, dict]:
    """``correlate`` for each indicator column (name -> higher_is_better); ``groups`` may name a column."""
    if isinstance(kw.get("groups"), str):
        kw["groups"] = df[_check_column(df, kw["groups"])].tolist()
    truth = _column(df, truth_col)
    return {name: correlate(_column(df, name), truth, higher_is_better=hib, **kw)
            for name, hib in indicators.items()}


def first_of_each_group(groups: Sequence[Hashable], n: int) -> np.ndarray:
    """Indices of the first entry of each class, in input order (ascending)."""
    if len(groups) != n:
        raise BnbenchError(f"groups has {len(groups)} entries but scores has {n}; they must be the same length")
    first: dict[Hashable, int] = {}
    try:
        for i, g in enumerate(groups):
            first.setdefault(g, i)
    except TypeError as err:
        raise BnbenchError(f"group ids must be hashable: {err}") from None
    return np.fromiter(first.values(), dtype=np.int64, count=len(first))


def _check_column(df: pd.DataFrame, name: str) -> str:
    if name not in df.columns:
        raise BnbenchError(f"column {name!r} not found in the scores table (columns: {', '.join(map(str, df.columns))})")
    return name


def _column(df: pd.DataFrame, name: str) -> np.ndarray:
    return _as_vector(df[_check_column(df, name)].to_numpy(), f"column {name!r}")


def _as_vector(values: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise BnbenchError(f"{what} must be numeric: {err}") from None
    if arr.ndim != 1:
        raise BnbenchError(f"{what} must be a 1-D array, got shape {arr.shape}")
    return arr


def _check_options(topk_fracs: Iterable[float], n_boot: int, ci: float) -> tuple[float, ...]:
    fracs = tuple(float(f) for f in topk_fracs)
    if any(not 0.0 < f <= 1.0 for f in fracs):
        raise BnbenchError(f"top-k fractions must lie in (0, 1], got {fracs}")
    if int(n_boot) != n_boot or n_boot < 0:
        raise BnbenchError(f"n_boot must be a non-negative integer, got {n_boot}")
    if not 0.0 < ci < 1.0:
        raise BnbenchError(f"ci must lie strictly between 0 and 1, got {ci}")
    return fracs


def _statistics(x: np.ndarray, y: np.ndarray, *, n_boot: int, seed: int, fracs: tuple[float, ...],
                ci: float) -> dict[str, Any]:
    """All statistics on pairs with finite score and truth; undefined ones stay None."""
    bad_x, bad_y = ~np.isfinite(x), ~np.isfinite(y)
    n_nan, n_nan_truth = int(bad_x.sum()), int((bad_y & ~bad_x).sum())
    keep = ~(bad_x | bad_y)
    x, y = x[keep], y[keep]
    status, reason = _status(x, y, n_nan, n_nan_truth)
    out: dict[str, Any] = {"n": int(x.size), "n_nan": n_nan, "n_nan_truth": n_nan_truth, "status": status,
                           "reason": reason, **{k: None for name in STATISTICS for k in (name, f"{name}_ci")},
                           "topk_precision": None, "topk_k": None, "ci_level": ci, "n_boot": int(n_boot),
                           "n_boot_used": 0}
    if status not in ("ok", "nan_dropped"):
        return out
    out.update(_point_estimates(x, y))
    out["topk_precision"], out["topk_k"] = _topk_precision(x, y, fracs)
    if n_boot > 0:
        boot = bootstrap(x, y, n_boot=n_boot, seed=seed)
        used = np.all([np.isfinite(v) for v in boot.values()], axis=0)
        out["n_boot_used"] = int(used.sum())
        if used.any():
            q = 100 * np.array([(1 - ci) / 2, (1 + ci) / 2])
            out.update({f"{k}_ci": [float(v) for v in np.percentile(boot[k][used], q)] for k in STATISTICS})
    return out


def _status(x: np.ndarray, y: np.ndarray, n_nan: int, n_nan_truth: int) -> tuple[str, str | None]:
    total = x.size + n_nan + n_nan_truth
    dropped = f"{n_nan} non-finite score(s)" + (f" and {n_nan_truth} non-finite truth value(s)" if n_nan_truth else "")
    if total and n_nan == total:
        return "all_nan", f"all {total} scores are non-finite (NaN/inf); nothing to correlate"
    if x.size < MIN_N:
        return "too_few", f"only {x.size} usable pair(s), fewer than {MIN_N}" + (
            f", after dropping {dropped}" if n_nan + n_nan_truth else "")
    for values, what in ((x, "indicator scores"), (y, "ground-truth values")):
        if np.all(values == values[0]):
            return "constant", (f"{what} are constant ({values[0]:g}) over {x.size} architectures, so rank "
                                f"correlation is undefined" + (f"; dropped {dropped}" if n_nan + n_nan_truth else ""))
    if n_nan or n_nan_truth:
        return "nan_dropped", f"dropped {dropped} of {total}; statistics use the remaining {x.size}"
    return "ok", None


def _point_estimates(x: np.ndarray, y: np.ndarray) -> dict[str, float | None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = {"kendall_tau": stats.kendalltau(x, y).statistic,  # tau-b is scipy's default variant
                  "spearman_rho": stats.spearmanr(x, y).statistic,
                  "pearson_r": stats.pearsonr(x, y).statistic}
    return {k: float(np.clip(v, -1.0, 1.0)) if np.isfinite(v) else None for k, v in values.items()}


def _topk_precision(x: np.ndarray, y: np.ndarray, fracs: tuple[float, ...]) -> tuple[dict, dict]:
    """Overlap of the indicator's and the truth's top k (k = max(1, round(frac * n))), as a fraction of k."""
    order_x, order_y = np.argsort(-x, kind="stable"), np.argsort(-y, kind="stable")
    precision, ks = {}, {}
    for frac in fracs:
        key, k = f"{frac * 100:g}%", max(1, round(frac * x.size))
        precision[key] = np.intersect1d(order_x[:k], order_y[:k]).size / k
        ks[key] = k
    return precision, ks


def bootstrap(x: np.ndarray, y: np.ndarray, *, n_boot: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Kendall tau-b, Spearman rho and Pearson r on ``n_boot`` resamples of the pairs (NaN where undefined).

    A resample is represented by its draw counts w (w_i = times pair i was drawn, sum N = n), so every statistic is
    a weighted sum over the n distinct pairs and all resamples of a chunk are computed at once.
    """
    n, rng = x.size, np.random.default_rng(seed)
    ties_x, ties_y = _tie_groups(x), _tie_groups(y)
    pair_sign = _pair_sign_matrix(x, y) if n <= _MATRIX_MAX_N else None
    chunk = max(1, _CHUNK_ELEMENTS // max(n, 1))
    parts: dict[str, list[np.ndarray]] = {name: [] for name in STATISTICS}
    for start in range(0, n_boot, chunk):
        w = _counts(rng.integers(0, n, size=(min(chunk, n_boot - start), n)), n)
        gx, gy = _group_sums(w, ties_x), _group_sums(w, ties_y)
        degenerate = (np.count_nonzero(gx, axis=1) < 2) | (np.count_nonzero(gy, axis=1) < 2)
        tau = (_kendall_from_counts(w, gx, gy, pair_sign) if pair_sign is not None
               else _kendall_per_row(w, x, y, degenerate))
        rho = _weighted_pearson(w, _avg_ranks(gx, ties_x), _avg_ranks(gy, ties_y))
        for name, values in zip(STATISTICS, (tau, rho, _weighted_pearson(w, x, y))):
            parts[name].append(np.where(degenerate, np.nan, values))
    return {name: np.concatenate(vals) if vals else np.empty(0) for name, vals in parts.items()}


def _counts(idx: np.ndarray, n: int) -> np.ndarray:
    """w[b, i] = how often pair i was drawn in resample b."""
    rows = idx.shape[0]
    flat = (idx + n * np.arange(rows)[:, None]).ravel()
    return np.bincount(flat, minlength=rows * n).reshape(rows, n).astype(np.float64)


def _tie_groups(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sort order, start of each group of equal values in that order, group index of every entry)."""
    order = np.argsort(values, kind="stable")
    new = np.r_[True, values[order][1:] != values[order][:-1]]
    group = np.empty(values.size, dtype=np.int64)
    group[order] = np.cumsum(new) - 1
    return order, np.flatnonzero(new), group


def _group_sums(w: np.ndarray, ties: tuple) -> np.ndarray:
    """G[b, g] = draws in resample b with the g-th smallest value."""
    order, starts, _ = ties
    return np.add.reduceat(w[:, order], starts, axis=1)


def _avg_ranks(g: np.ndarray, ties: tuple) -> np.ndarray:
    """Average rank of every entry within its resample: C_g - (G_g - 1) / 2 with C_g = cumulative draws up to g."""
    return (np.cumsum(g, axis=1) - (g - 1) / 2)[:, ties[2]]


def _weighted_pearson(w: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """r = sum w a_c b_c / sqrt(sum w a_c^2 * sum w b_c^2) per row, with a_c = a - (sum w a) / (sum w)."""
    a, b = np.broadcast_to(a, w.shape), np.broadcast_to(b, w.shape)
    total = w.sum(axis=1)
    a = a - (np.einsum("ij,ij->i", w, a) / total)[:, None]
    b = b - (np.einsum("ij,ij->i", w, b) / total)[:, None]
    wa = w * a
    num, den = np.einsum("ij,ij->i", wa, b), np.sqrt(np.einsum("ij,ij->i", wa, a) * np.einsum("ij,ij,ij->i", w, b, b))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(num / den, -1.0, 1.0)


def _pair_sign_matrix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """M_ij = sign(x_i - x_j) sign(y_i - y_j): +1 concordant, -1 discordant, 0 tied in x or y."""
    return (np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :])).astype(np.float32)


def _kendall_from_counts(w: np.ndarray, gx: np.ndarray, gy: np.ndarray, pair_sign: np.ndarray) -> np.ndarray:
    """Tau-b from draw counts: C - D = w M w^T / 2, pairs untied in x = (N^2 - sum_g G_g^2) / 2 (same for y)."""
    n_sq = w.sum(axis=1) ** 2
    s = np.einsum("ij,ij->i", (w.astype(np.float32) @ pair_sign).astype(np.float64), w)  # float32 exact: |.| <= n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(s / np.sqrt((n_sq - (gx ** 2).sum(axis=1)) * (n_sq - (gy ** 2).sum(axis=1))), -1.0, 1.0)


def _kendall_per_row(w: np.ndarray, x: np.ndarray, y: np.ndarray, degenerate: np.ndarray) -> np.ndarray:
    """Tau-b per resample with scipy's O(n log n) algorithm (when the n x n pair matrix would be too large)."""
    tau, by_y = np.full(w.shape[0], np.nan), np.argsort(y, kind="stable")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in np.flatnonzero(~degenerate):
            drawn = np.repeat(by_y, w[i, by_y].astype(np.int64))  # already sorted by y: cheaper for scipy
            tau[i] = stats.kendalltau(x[drawn], y[drawn]).statistic
    return tau
