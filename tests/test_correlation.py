"""bnbench.correlation: known values, scipy agreement, NaN/constant handling, bootstrap behaviour."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bnbench.correlation as corr
from bnbench.correlation import bootstrap, correlate, correlate_many, first_of_each_group
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


def test_groups_keep_first_representative():
    x = np.array([1, 2, 3, 4, 5, 6.0])
    y = np.array([1, 2, 0, 3, 9, -5.0])
    groups = ["a", "b", "a", "c", "b", "c"]  # first of each class: entries 0, 1, 3
    out = correlate(x, y, groups=groups, n_boot=20)
    unique = out["unique"]
    assert unique["n"] == 3 and unique["n_classes"] == 3
    assert unique["kendall_tau"] == pytest.approx(1.0)  # x [1, 2, 4] vs y [1, 2, 3]
    assert out["n"] == 6 and out["kendall_tau"] == pytest.approx(stats.kendalltau(x, y).statistic)
    np.testing.assert_array_equal(first_of_each_group(groups, 6), [0, 1, 3])
    with pytest.raises(BnbenchError, match="groups has 2 entries"):
        correlate(x, y, groups=["a", "b"])


def test_nan_scores_dropped_and_counted():
    x, y = _noisy(100, seed=1)
    dirty = x.copy()
    dirty[[3, 10, 50]] = np.nan
    dirty[77] = np.inf
    out = correlate(dirty, y, n_boot=50)
    assert out["status"] == "nan_dropped" and out["n_nan"] == 4 and out["n"] == 96
    assert "4 non-finite" in out["reason"]
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
    out = correlate(x, y, groups=list(range(30)) * 2, n_boot=30)
    assert json.loads(json.dumps(out, allow_nan=False)) == out


def test_correlate_many_with_group_column():
    x, y = _noisy(80)
    df = pd.DataFrame({"acc": y, "good": x, "bad": -x, "iso": np.arange(80) % 40})
    res = correlate_many(df, "acc", {"good": True, "bad": False}, groups="iso", n_boot=20)
    assert set(res) == {"good", "bad"}
    assert res["good"]["kendall_tau"] == pytest.approx(res["bad"]["kendall_tau"])
    assert res["good"]["unique"]["n_classes"] == 40
    with pytest.raises(BnbenchError, match="'missing'"):
        correlate_many(df, "acc", {"missing": True})
