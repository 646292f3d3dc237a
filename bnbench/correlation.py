"""How well an indicator ranks architectures: rank correlations with the truth, bootstrap CIs, top-k overlap.

Statistics (x = indicator score, negated when lower is better; y = ground truth, higher is better):

* Kendall tau-b = (C - D) / sqrt((P - T_x) (P - T_y)), with C / D the concordant / discordant pairs,
  P = n(n-1)/2 all pairs and T_x / T_y the pairs tied in x / y (scipy ``kendalltau``).
* Spearman rho = Pearson correlation of the average ranks (ties get the mean of their ranks).
* Pearson r = cov(x, y) / (sd(x) sd(y)) on the raw values.
* top-k precision with k = max(1, round(frac * n)) (Python ``round``): the *expected* overlap of the
  indicator's and the truth's top k, as a fraction of k, when ties in x and ties in y are each broken by
  an independent, uniformly random order.  Let t be the k-th largest x, a = #{x_i > t} and g = #{x_i = t};
  a uniformly random tie-break puts a uniformly random (k - a)-subset of the g tied entries into the
  top k, so entry i is in the indicator's top k with probability p_i = 1 (x_i > t), (k - a) / g (x_i = t)
  or 0; q_i is the same for y.  The two tie-breaks are independent, so by linearity of expectation

      precision = E|top_k(x) & top_k(y)| / k = sum_i p_i q_i / k.

  Without ties at either cut this is the plain overlap; with the best two tied at the cut for k = 1 and
  one of them the truth's best, it is 1/2.  (Breaking ties by row order instead made the same ten pairs
  score 1.0 or 0.0 depending on which of the tied rows came first.)

Every number depends only on the set of (architecture, score, truth) triples, never on the row order:
the statistics above are symmetric in the pairs; the bootstrap draws its resamples from the pairs sorted
lexicographically by (truth, score) (identical pairs are interchangeable); and the isomorphism-unique view
(``groups``) keeps, of each class, the entry with the smallest ``keys`` value, e.g. the lowest benchmark
index (:func:`representative_keys`: the index, then the architecture string where there is none).

Non-finite values:

* NaN scores are undefined: dropped and counted (``n_nan``).  Non-finite truth values (NaN or +-inf: a
  measured accuracy or loss is never infinite) are dropped and counted separately (``n_nan_truth``).
* An infinite score is a value, not a gap: after orienting (negating lower-is-better scores), -inf is the
  worst possible score and ranks last, +inf the best and ranks first (a log-determinant of a singular
  kernel, as in NASWOT, is -inf: the worst cell, not a missing one).  Infinite scores are kept and counted
  (``n_inf``); tau, rho, top-k precision and their bootstrap intervals use them through their ranks.
  Pearson r is not defined with an infinite value, so it and its interval are ``None`` and
  ``pearson_r_reason`` says why (the rows are never dropped silently to compute it).

Confidence intervals are bootstrap percentile intervals: ``n_boot`` resamples of (x, y) pairs drawn with
``np.random.default_rng(seed)`` from the canonically sorted pairs; a resample in which x or y is constant has
no defined value and is skipped (``n_boot_used`` says how many were kept).  Undefined statistics are ``None``
(JSON null), never NaN or a silent 0; ``status`` and ``reason`` say why.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any, Hashable, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .errors import BnbenchError

STATISTICS = ("kendall_tau", "spearman_rho", "pearson_r")
STATUSES = ("ok", "nan_dropped", "all_nan", "constant", "too_few")
MIN_N = 3
NO_INDEX = sys.maxsize  # representative_keys: architectures without a benchmark index sort after all indexed ones
_MATRIX_MAX_N = 2048  # n x n pair-matrix Kendall bootstrap up to this n; scipy's O(n log n) tau per resample beyond
_CHUNK_ELEMENTS = 1 << 22  # resamples are processed in chunks of about this many draws


def correlate(scores: Sequence[float], truth: Sequence[float], *, higher_is_better: bool = True,
              groups: Sequence[Hashable] | None = None, keys: Sequence[Any] | None = None, n_boot: int = 1000,
              seed: int = 0, topk_fracs: Iterable[float] = (0.01, 0.05, 0.10), ci: float = 0.95) -> dict[str, Any]:
    """Correlate indicator ``scores`` with ``truth`` (see the module docstring); returns a JSON-ready dict.

    With ``groups`` (one hashable isomorphism-class id per entry) the same statistics are also computed over one
    representative per class under ``"unique"`` (plus ``n_classes``).  The representative is the entry with the
    smallest ``keys`` value (required with ``groups``; one mutually comparable key per entry, e.g. the benchmark
    index, see :func:`representative_keys`), so the choice never depends on row order.  Isomorphic NB201 cells
    were trained separately, so their truth differs only by seed noise; keeping the lowest benchmark index is
    the usual convention.  Representatives are chosen before NaN scores are dropped, so every indicator is
    judged on the same architectures.

    Raises :class:`BnbenchError` on unequal lengths, non-numeric values, bad options, ``groups`` without
    ``keys``, or keys that cannot be compared or leave a class's representative ambiguous.
    """
    x, y = _as_vector(scores, "scores"), _as_vector(truth, "truth")
    if x.size != y.size:
        raise BnbenchError(f"scores has {x.size} entries but truth has {y.size}; they must be the same length")
    if not higher_is_better:
        x = -x
    fracs = _check_options(topk_fracs, n_boot, ci)
    keep = None
    if groups is not None:
        if keys is None:
            raise BnbenchError("groups need keys (e.g. benchmark indices) to choose each class's representative "
                               "by a canonical rule rather than by row order")
        keep = representatives(groups, keys, x.size)
    out = _statistics(x, y, n_boot=n_boot, seed=seed, fracs=fracs, ci=ci)
    if keep is not None:
        out["unique"] = {**_statistics(x[keep], y[keep], n_boot=n_boot, seed=seed, fracs=fracs, ci=ci),
                         "n_classes": int(keep.size)}
    return out


def correlate_many(df: pd.DataFrame, truth_col: str, indicators: dict[str, bool], **kw: Any) -> dict[str, dict]:
    """``correlate`` for each indicator column (name -> higher_is_better); ``groups`` and ``keys`` may name
    columns."""
    for arg in ("groups", "keys"):
        if isinstance(kw.get(arg), str):
            kw[arg] = df[_check_column(df, kw[arg])].tolist()
    truth = _column(df, truth_col)
    return {name: correlate(_column(df, name), truth, higher_is_better=hib, **kw)
            for name, hib in indicators.items()}


def representative_keys(indices: Sequence[int] | None, archs: Sequence[str]) -> list[tuple[int, str]]:
    """The canonical representative key of each architecture: ``(benchmark index, arch string)``, with
    ``NO_INDEX`` for an architecture without an index (``None`` indices, or a negative one: the truth's
    "source has none").  The lowest index wins; where no member of a class has one, the smallest string."""
    if indices is None:
        indices = [-1] * len(archs)
    if len(indices) != len(archs):
        raise BnbenchError(f"{len(indices)} benchmark indices for {len(archs)} architectures")
    return [(int(i) if i is not None and int(i) >= 0 else NO_INDEX, str(a)) for i, a in zip(indices, archs)]


def representatives(groups: Sequence[Hashable], keys: Sequence[Any], n: int) -> np.ndarray:
    """Position of each class's entry with the smallest key, ascending (independent of row order).

    Raises :class:`BnbenchError` when the lengths differ from ``n``, a group id is unhashable, keys cannot be
    compared, or two entries of a class share its smallest key (the representative would be ambiguous).
    """
    if len(groups) != n:
        raise BnbenchError(f"groups has {len(groups)} entries but scores has {n}; they must be the same length")
    if len(keys) != n:
        raise BnbenchError(f"keys has {len(keys)} entries but scores has {n}; they must be the same length")
    best: dict[Hashable, int] = {}
    tied: dict[Hashable, int] = {}
    try:
        for i, (g, key) in enumerate(zip(groups, keys)):
            j = best.setdefault(g, i)
            if j == i:
                continue
            if key < keys[j]:
                best[g] = i
                tied.pop(g, None)
            elif not keys[j] < key:
                tied[g] = i
    except TypeError as err:
        raise BnbenchError(f"group ids must be hashable and keys mutually comparable: {err}") from None
    if tied:
        g, i = next(iter(tied.items()))
        raise BnbenchError(f"entries {best[g]} and {i} of class {g!r} share the smallest key {keys[i]!r}; keys "
                           f"must single out one representative per class")
    return np.sort(np.fromiter(best.values(), dtype=np.int64, count=len(best)))


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


def canonical_order(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Permutation sorting the pairs lexicographically by (y, x): equal pair sets give equal sorted arrays."""
    return np.lexsort((x, y))


def _statistics(x: np.ndarray, y: np.ndarray, *, n_boot: int, seed: int, fracs: tuple[float, ...],
                ci: float) -> dict[str, Any]:
    """All statistics on pairs with a non-NaN score and a finite truth; undefined ones stay None."""
    bad_x, bad_y = np.isnan(x), ~np.isfinite(y)
    n_nan, n_nan_truth = int(bad_x.sum()), int((bad_y & ~bad_x).sum())
    keep = ~(bad_x | bad_y)
    x, y = x[keep], y[keep]
    order = canonical_order(x, y)
    x, y = x[order], y[order]
    n_inf = int(np.isinf(x).sum())
    status, reason = _status(x, y, n_nan, n_nan_truth)
    out: dict[str, Any] = {"n": int(x.size), "n_nan": n_nan, "n_nan_truth": n_nan_truth, "n_inf": n_inf,
                           "status": status, "reason": reason,
                           **{k: None for name in STATISTICS for k in (name, f"{name}_ci")},
                           "pearson_r_reason": None, "topk_precision": None, "topk_k": None, "ci_level": ci,
                           "n_boot": int(n_boot), "n_boot_used": 0}
    if status not in ("ok", "nan_dropped"):
        return out
    out.update(_point_estimates(x, y))
    if n_inf:
        out["pearson_r_reason"] = (f"{n_inf} infinite score(s): Pearson r is undefined (tau, rho and top-k rank "
                                   f"them at the ends)")
    out["topk_precision"], out["topk_k"] = _topk_precision(x, y, fracs)
    if n_boot > 0:
        boot = bootstrap(x, y, n_boot=n_boot, seed=seed)
        defined = [k for k in STATISTICS if out[k] is not None]
        used = np.all([np.isfinite(boot[k]) for k in defined], axis=0)
        out["n_boot_used"] = int(used.sum())
        if used.any():
            q = 100 * np.array([(1 - ci) / 2, (1 + ci) / 2])
            out.update({f"{k}_ci": [float(v) for v in np.percentile(boot[k][used], q)] for k in defined})
    return out


def _status(x: np.ndarray, y: np.ndarray, n_nan: int, n_nan_truth: int) -> tuple[str, str | None]:
    total = x.size + n_nan + n_nan_truth
    dropped = f"{n_nan} NaN score(s)" + (f" and {n_nan_truth} non-finite truth value(s)" if n_nan_truth else "")
    if total and n_nan == total:
        return "all_nan", f"all {total} scores are NaN (undefined); nothing to correlate"
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


def _dense_ranks(values: np.ndarray) -> np.ndarray:
    """0-based dense ranks (equal values share one); +-inf rank first / last.  Tau and rho depend on ranks only."""
    return np.unique(values, return_inverse=True)[1].reshape(values.shape).astype(np.float64)


def _point_estimates(x: np.ndarray, y: np.ndarray) -> dict[str, float | None]:
    rx, ry = _dense_ranks(x), _dense_ranks(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = {"kendall_tau": stats.kendalltau(rx, ry).statistic,  # tau-b is scipy's default variant
                  "spearman_rho": stats.spearmanr(rx, ry).statistic,
                  "pearson_r": stats.pearsonr(x, y).statistic if np.all(np.isfinite(x)) else np.nan}
    return {k: float(np.clip(v, -1.0, 1.0)) if np.isfinite(v) else None for k, v in values.items()}


def topk_membership(values: np.ndarray, k: int) -> np.ndarray:
    """P(entry i is among the k largest) under a uniformly random order of ties: 1 above the k-th largest
    value t, (k - #{v > t}) / #{v = t} at t, 0 below.  Sums to k."""
    values = np.asarray(values, dtype=np.float64)
    if not 1 <= k <= values.size:
        raise BnbenchError(f"top-k needs 1 <= k <= {values.size}, got k = {k}")
    cut = np.sort(values)[values.size - k]
    above, at = values > cut, values == cut
    return np.where(above, 1.0, np.where(at, (k - above.sum()) / at.sum(), 0.0))


def _topk_precision(x: np.ndarray, y: np.ndarray, fracs: tuple[float, ...]) -> tuple[dict, dict]:
    """Expected overlap of the indicator's and the truth's top k under random tie-breaking, as a fraction of k:
    sum_i p_i q_i / k (module docstring), k = max(1, round(frac * n))."""
    precision, ks = {}, {}
    for frac in fracs:
        key, k = f"{frac * 100:g}%", max(1, round(frac * x.size))
        precision[key] = float(np.dot(topk_membership(x, k), topk_membership(y, k)) / k)
        ks[key] = k
    return precision, ks


def bootstrap(x: np.ndarray, y: np.ndarray, *, n_boot: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Kendall tau-b, Spearman rho and Pearson r on ``n_boot`` resamples of the pairs (NaN where undefined).

    The resamples index the pairs in :func:`canonical_order`, so the result depends only on the multiset of
    pairs.  x may hold +-inf: tau and rho use dense ranks; Pearson r is NaN in every resample then.  A resample
    is represented by its draw counts w (w_i = times pair i was drawn, sum N = n), so every statistic is a
    weighted sum over the n distinct pairs and all resamples of a chunk are computed at once.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    order = canonical_order(x, y)
    x, y = x[order], y[order]
    rx, ry = _dense_ranks(x), _dense_ranks(y)
    n, rng = x.size, np.random.default_rng(seed)
    pearson_defined = bool(np.all(np.isfinite(x)) and np.all(np.isfinite(y)))
    ties_x, ties_y = _tie_groups(rx), _tie_groups(ry)
    pair_sign = _pair_sign_matrix(rx, ry) if n <= _MATRIX_MAX_N else None
    chunk = max(1, _CHUNK_ELEMENTS // max(n, 1))
    parts: dict[str, list[np.ndarray]] = {name: [] for name in STATISTICS}
    for start in range(0, n_boot, chunk):
        w = _counts(rng.integers(0, n, size=(min(chunk, n_boot - start), n)), n)
        gx, gy = _group_sums(w, ties_x), _group_sums(w, ties_y)
        degenerate = (np.count_nonzero(gx, axis=1) < 2) | (np.count_nonzero(gy, axis=1) < 2)
        tau = (_kendall_from_counts(w, gx, gy, pair_sign) if pair_sign is not None
               else _kendall_per_row(w, rx, ry, degenerate))
        rho = _weighted_pearson(w, _avg_ranks(gx, ties_x), _avg_ranks(gy, ties_y))
        r = _weighted_pearson(w, x, y) if pearson_defined else np.full(w.shape[0], np.nan)
        for name, values in zip(STATISTICS, (tau, rho, r)):
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
