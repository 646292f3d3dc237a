"""bnbench.correlation: known values, scipy agreement, NaN/constant handling, bootstrap behaviour."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bnbench.correlation as corr
from bnbench.correlation import (NO_INDEX, bootstrap, correlate, correlate_many, representative_keys,
                                 representatives)
from bnbench.errors import BnbenchError


def _noisy(n: int, seed: int = 0, noise: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=n)
    return truth + noise * rng.normal(size=n), truth


def test_perfect_monotone_gives_one_with_degenerate_ci():
    x = np.arange(50.0)
    out = correlate(x ** 3, x, n_boot=200)
    assert out["status"] == "ok" and out["reason"] is None and out["n"] == 50 and out["n_nan"] == 0
    for key in ("kendall_tau", "spearman_rho"):
        assert out[key] == pytest.approx(1.0)
        assert out[f"{key}_ci"] == pytest.approx([1.0, 1.0])
    assert out["n_boot_used"] == 200


def test_reversed_is_minus_one_and_direction_flips_sign():
    x = np.arange(30.0)
    down = correlate(-x, x, n_boot=50)
    assert down["kendall_tau"] == pytest.approx(-1.0) and down["spearman_rho"] == pytest.approx(-1.0)
    assert down["pearson_r"] == pytest.approx(-1.0)
    up = correlate(-x, x, higher_is_better=False, n_boot=50)
    assert up["kendall_tau"] == pytest.approx(1.0) and up["kendall_tau_ci"] == pytest.approx([1.0, 1.0])


@pytest.mark.parametrize("ties", [False, True])
def test_point_estimates_match_scipy(ties):
    x, y = _noisy(400, seed=3)
    if ties:
        x, y = np.round(x * 2), np.round(y * 3)
    out = correlate(x, y, n_boot=0)
    assert out["kendall_tau"] == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)
    assert out["spearman_rho"] == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert out["pearson_r"] == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    assert out["kendall_tau_ci"] is None and out["n_boot_used"] == 0


def test_tau_b_hand_computed_with_ties():
    # pairs: C = 6, D = 2, one pair tied in x (1,2), one tied in y (1,3), 10 pairs in all:
    # tau_b = (6 - 2) / sqrt((10 - 1) * (10 - 1)) = 4 / 9
    x, y = [1, 2, 2, 3, 4], [1, 3, 2, 3, 2.5]
    out = correlate(x, y, n_boot=0)
    assert out["kendall_tau"] == pytest.approx(4 / 9)
    # average ranks: x -> [1, 2.5, 2.5, 4, 5], y -> [1, 4.5, 2, 4.5, 3]
    assert out["spearman_rho"] == pytest.approx(np.corrcoef([1, 2.5, 2.5, 4, 5], [1, 4.5, 2, 4.5, 3])[0, 1])


@pytest.mark.parametrize("max_n", [2048, 1])  # pair-matrix path and scipy-per-resample path
@pytest.mark.parametrize("ties", [False, True])
def test_bootstrap_resamples_match_scipy(monkeypatch, max_n, ties):
    monkeypatch.setattr(corr, "_MATRIX_MAX_N", max_n)
    x, y = _noisy(120, seed=5)
    if ties:
        x, y = np.round(x), np.round(y * 2)
    boot = bootstrap(x, y, n_boot=25, seed=7)
    order = np.lexsort((x, y))  # resamples index the pairs sorted by (truth, score)
    x, y = x[order], y[order]
    idx = np.random.default_rng(7).integers(0, x.size, size=(25, x.size))  # one chunk: same draws
    for name, fn in (("kendall_tau", stats.kendalltau), ("spearman_rho", stats.spearmanr),
                     ("pearson_r", stats.pearsonr)):
        expected = [fn(x[i], y[i]).statistic for i in idx]
        np.testing.assert_allclose(boot[name], expected, atol=1e-12)


def test_topk_precision_constructed():
    truth = np.arange(20.0)  # truth top 5 = entries 15..19
    score = truth.copy()
    score[[19, 18, 0, 1, 2]] = [200, 150, 100, 99, 98]  # indicator top 5 = 19, 18, 0, 1, 2
    out = correlate(score, truth, topk_fracs=(0.05, 0.10, 0.25), n_boot=0)
    assert out["topk_k"] == {"5%": 1, "10%": 2, "25%": 5}
    assert out["topk_precision"] == {"5%": 1.0, "10%": 1.0, "25%": pytest.approx(0.4)}
    flipped = correlate(-score, truth, higher_is_better=False, topk_fracs=(0.25,), n_boot=0)
    assert flipped["topk_precision"]["25%"] == pytest.approx(0.4)


def test_default_topk_keys():
    x, y = _noisy(1000)
    out = correlate(x, y, n_boot=0)
    assert list(out["topk_precision"]) == ["1%", "5%", "10%"]
    assert out["topk_k"] == {"1%": 10, "5%": 50, "10%": 100}
    assert all(0.0 <= p <= 1.0 for p in out["topk_precision"].values())


def test_groups_keep_the_smallest_key_representative():
    x = np.array([1, 2, 3, 4, 5, 6.0])
    y = np.array([1, 2, 0, 3, 9, -5.0])
    groups = ["a", "b", "a", "c", "b", "c"]
    keys = [10, 3, 20, 7, 4, 8]  # smallest key of each class: entries 0 (a), 1 (b), 3 (c)
    out = correlate(x, y, groups=groups, keys=keys, n_boot=20)
    unique = out["unique"]
    assert unique["n"] == 3 and unique["n_classes"] == 3
    assert unique["kendall_tau"] == pytest.approx(1.0)  # x [1, 2, 4] vs y [1, 2, 3]
    assert out["n"] == 6 and out["kendall_tau"] == pytest.approx(stats.kendalltau(x, y).statistic)
    np.testing.assert_array_equal(representatives(groups, keys, 6), [0, 1, 3])
    # other keys pick other representatives: entries 2 (a), 4 (b), 5 (c): x [3, 5, 6] vs y [0, 9, -5]
    np.testing.assert_array_equal(representatives(groups, [1, 9, 0, 9, 0, 0], 6), [2, 4, 5])
    with pytest.raises(BnbenchError, match="groups has 2 entries"):
        correlate(x, y, groups=["a", "b"], keys=[0, 1])
    with pytest.raises(BnbenchError, match="need keys"):
        correlate(x, y, groups=groups)
    with pytest.raises(BnbenchError, match="share the smallest key"):
        correlate(x, y, groups=groups, keys=[1, 2, 1, 3, 4, 5])


def test_representative_keys_lowest_index_then_string():
    keys = representative_keys([5, -1, 2, None], ["b", "a", "c", "d"])
    assert keys == [(5, "b"), (NO_INDEX, "a"), (2, "c"), (NO_INDEX, "d")]
    np.testing.assert_array_equal(representatives(["g"] * 4, keys, 4), [2])  # the lowest index
    np.testing.assert_array_equal(representatives(["g", "g"], representative_keys(None, ["z", "y"]), 2), [1])
    with pytest.raises(BnbenchError, match="2 benchmark indices for 1"):
        representative_keys([1, 2], ["a"])


def test_nan_scores_dropped_and_counted():
    x, y = _noisy(100, seed=1)
    dirty = x.copy()
    dirty[[3, 10, 50]] = np.nan
    out = correlate(dirty, y, n_boot=50)
    assert out["status"] == "nan_dropped" and out["n_nan"] == 3 and out["n"] == 97 and out["n_inf"] == 0
    assert "3 NaN" in out["reason"]
    keep = np.isfinite(dirty)
    assert out["kendall_tau"] == pytest.approx(correlate(x[keep], y[keep], n_boot=0)["kendall_tau"])


def test_nan_truth_dropped_and_counted_separately():
    x, y = _noisy(50)
    y[0] = np.nan
    out = correlate(x, y, n_boot=0)
    assert out["status"] == "nan_dropped" and out["n_nan"] == 0 and out["n_nan_truth"] == 1 and out["n"] == 49


def test_all_nan_and_too_few():
    y = np.arange(5.0)
    all_nan = correlate(np.full(5, np.nan), y)
    assert all_nan["status"] == "all_nan" and all_nan["n"] == 0 and all_nan["n_nan"] == 5
    assert all_nan["kendall_tau"] is None and all_nan["topk_precision"] is None
    few = correlate([1.0, 2.0, np.nan, np.nan, np.nan], y)
    assert few["status"] == "too_few" and few["n"] == 2 and few["spearman_rho"] is None
    assert correlate([], [])["status"] == "too_few"


@pytest.mark.parametrize("which", ["scores", "truth"])
def test_constant_gives_none_and_strict_json(which):
    varying = np.arange(10.0)
    constant = np.full(10, 0.5)
    out = correlate(constant, varying) if which == "scores" else correlate(varying, constant)
    assert out["status"] == "constant" and "constant" in out["reason"]
    for key in ("kendall_tau", "spearman_rho", "pearson_r", "kendall_tau_ci"):
        assert out[key] is None
    text = json.dumps(out, allow_nan=False)
    assert "null" in text and "NaN" not in text


def test_ci_contains_estimate_and_narrows_with_n():
    widths = []
    for n in (100, 1000):
        x, y = _noisy(n, seed=2)
        out = correlate(x, y, n_boot=300)
        for key in ("kendall_tau", "spearman_rho", "pearson_r"):
            lo, hi = out[f"{key}_ci"]
            assert lo <= out[key] <= hi
        widths.append(out["kendall_tau_ci"][1] - out["kendall_tau_ci"][0])
    assert widths[1] < 0.6 * widths[0]


def test_bootstrap_deterministic_for_seed():
    x, y = _noisy(200, seed=4)
    a, b = correlate(x, y, n_boot=100, seed=11), correlate(x, y, n_boot=100, seed=11)
    assert a == b
    assert correlate(x, y, n_boot=100, seed=12)["kendall_tau_ci"] != a["kendall_tau_ci"]


def test_degenerate_resamples_skipped_and_counted():
    out = correlate([0.0, 0.0, 1.0], [0.0, 1.0, 2.0], n_boot=200)
    assert 0 < out["n_boot_used"] < 200 and out["kendall_tau_ci"] is not None


def test_input_validation():
    with pytest.raises(BnbenchError, match="scores has 3 entries but truth has 2"):
        correlate([1, 2, 3], [1, 2])
    with pytest.raises(BnbenchError, match="1-D"):
        correlate(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(BnbenchError, match="numeric"):
        correlate(["a", "b", "c"], [1, 2, 3])
    with pytest.raises(BnbenchError, match="ci"):
        correlate([1, 2, 3], [1, 2, 3], ci=95)


def test_output_is_json_serialisable():
    x, y = _noisy(60)
    out = correlate(x, y, groups=list(range(30)) * 2, keys=list(range(60)), n_boot=30)
    assert json.loads(json.dumps(out, allow_nan=False)) == out


def test_correlate_many_with_group_column():
    x, y = _noisy(80)
    df = pd.DataFrame({"acc": y, "good": x, "bad": -x, "iso": np.arange(80) % 40, "idx": np.arange(80)[::-1]})
    res = correlate_many(df, "acc", {"good": True, "bad": False}, groups="iso", keys="idx", n_boot=20)
    assert set(res) == {"good", "bad"}
    assert res["good"]["kendall_tau"] == pytest.approx(res["bad"]["kendall_tau"])
    assert res["good"]["unique"]["n_classes"] == 40
    with pytest.raises(BnbenchError, match="'missing'"):
        correlate_many(df, "acc", {"missing": True})


# ---- order independence: fractional top-k ties, canonical bootstrap ------------------------------------------

def _brute_force_topk(x: np.ndarray, y: np.ndarray, k: int) -> float:
    """E|top_k(x) & top_k(y)| / k over every tie-breaking order of x and, independently, of y."""
    def top_sets(values):
        counts: dict[frozenset, int] = {}
        for perm in itertools.permutations(range(values.size)):  # perm[i]: tie-break rank of entry i
            top = frozenset(sorted(range(values.size), key=lambda i: (-values[i], perm[i]))[:k])
            counts[top] = counts.get(top, 0) + 1
        return counts

    sx, sy = top_sets(x), top_sets(y)
    total = sum(sx.values()) * sum(sy.values())
    return sum(cx * cy * len(a & b) for a, cx in sx.items() for b, cy in sy.items()) / total / k


@pytest.mark.parametrize("seed", range(6))
def test_topk_precision_is_the_expectation_over_tie_breakings(seed):
    rng = np.random.default_rng(seed)
    x, y = rng.integers(0, 3, 7).astype(float), rng.integers(0, 3, 7).astype(float)  # many ties at every cut
    fracs = tuple(k / 7 for k in range(1, 7))
    out = corr._topk_precision(x, y, fracs)[0]
    for frac in fracs:
        k = max(1, round(frac * 7))
        assert out[f"{frac * 100:g}%"] == pytest.approx(_brute_force_topk(x, y, k), abs=1e-12)


def test_topk_ties_at_the_cut_count_half():
    y = np.arange(10.0)  # truth's best: entry 9
    x = y.copy()
    x[[8, 9]] = 100.0  # the indicator's top two tie, one of them the truth's best
    assert correlate(x, y, topk_fracs=(0.1,), n_boot=0)["topk_precision"]["10%"] == 0.5
    assert correlate(y, x, topk_fracs=(0.1,), n_boot=0)["topk_precision"]["10%"] == 0.5  # a truth tie alike
    x[7] = 100.0  # three tied for two places (k = 2 at 20%): 2/3 chance each; truth's top two are 8, 9
    assert correlate(x, y, topk_fracs=(0.2,), n_boot=0)["topk_precision"]["20%"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("max_n", [2048, 1])  # pair-matrix bootstrap and scipy-per-resample bootstrap
def test_every_statistic_is_independent_of_row_order(monkeypatch, max_n):
    monkeypatch.setattr(corr, "_MATRIX_MAX_N", max_n)
    rng = np.random.default_rng(8)
    n = 150
    y = np.round(rng.normal(size=n), 1)
    x = np.round(y + rng.normal(size=n), 0)  # heavy ties in both
    x[:4] = [np.nan, -np.inf, np.inf, -np.inf]
    groups = rng.integers(0, 60, n)
    keys = rng.permutation(n)  # e.g. benchmark indices
    base = correlate(x, y, groups=groups, keys=keys, n_boot=60, seed=3, topk_fracs=(0.01, 0.05, 0.1, 0.3))
    assert base["n_inf"] == 3 and base["n_nan"] == 1 and base["kendall_tau_ci"] is not None
    for seed in range(4):
        p = np.random.default_rng(seed).permutation(n)
        again = correlate(x[p], y[p], groups=groups[p], keys=keys[p], n_boot=60, seed=3,
                          topk_fracs=(0.01, 0.05, 0.1, 0.3))
        assert again == base


def test_bootstrap_depends_only_on_the_pair_multiset():
    x, y = _noisy(40, seed=9)
    x, y = np.round(x), np.round(y)
    p = np.random.default_rng(1).permutation(40)
    a, b = bootstrap(x, y, n_boot=50, seed=2), bootstrap(x[p], y[p], n_boot=50, seed=2)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


# ---- infinite scores: ranked at the ends, Pearson undefined, NaN still dropped ---------------------------------

def test_minus_inf_is_the_worst_score_and_plus_inf_the_best():
    x, y = _noisy(60, seed=6)
    inf = x.copy()
    inf[np.argmin(y)], inf[np.argmax(y)] = -np.inf, np.inf
    stand_in = x.copy()  # finite values with the same ranks
    stand_in[np.argmin(y)], stand_in[np.argmax(y)] = x.min() - 1, x.max() + 1
    out, ref = correlate(inf, y, n_boot=100), correlate(stand_in, y, n_boot=100)
    assert out["status"] == "ok" and out["n"] == 60 and out["n_nan"] == 0 and out["n_inf"] == 2
    for key in ("kendall_tau", "spearman_rho", "kendall_tau_ci", "spearman_rho_ci", "topk_precision", "n_boot_used"):
        assert out[key] == ref[key], key
    assert out["kendall_tau"] > correlate(x, y, n_boot=0)["kendall_tau"]  # both ends now right
    assert out["pearson_r"] is None and out["pearson_r_ci"] is None and "2 infinite" in out["pearson_r_reason"]
    assert ref["pearson_r"] is not None and ref["pearson_r_reason"] is None
    assert json.loads(json.dumps(out, allow_nan=False)) == out


def test_infinities_mirror_for_lower_is_better():
    y = np.arange(8.0)
    loss = -y.copy()
    loss[0] = np.inf  # the worst for a lower-is-better score: belongs with the worst truth
    out = correlate(loss, y, higher_is_better=False, n_boot=20)
    assert out["kendall_tau"] == pytest.approx(1.0) and out["n_inf"] == 1
    wrong = correlate(np.r_[-np.inf, loss[1:]], y, higher_is_better=False, n_boot=0)  # -inf: the best loss
    assert wrong["kendall_tau"] < 0.6
    top = correlate(np.r_[loss[:-1], -np.inf], y, higher_is_better=False, topk_fracs=(0.125,), n_boot=0)
    assert top["topk_precision"]["12.5%"] == 1.0  # -inf loss ranks first and is the truth's best


def test_nan_is_still_dropped_beside_infinities_and_all_inf_is_constant():
    y = np.arange(6.0)
    out = correlate([np.nan, -np.inf, 2, 3, 4, np.inf], y, n_boot=0)
    assert out["status"] == "nan_dropped" and out["n"] == 5 and out["n_nan"] == 1 and out["n_inf"] == 2
    assert out["kendall_tau"] == pytest.approx(1.0)
    flat = correlate(np.full(6, -np.inf), y)
    assert flat["status"] == "constant" and flat["kendall_tau"] is None
    truth_inf = correlate(np.arange(6.0), [0, 1, 2, 3, 4, np.inf], n_boot=0)
    assert truth_inf["n_nan_truth"] == 1 and truth_inf["n"] == 5 and truth_inf["n_inf"] == 0
