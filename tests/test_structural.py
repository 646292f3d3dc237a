"""What an indicator knows beyond structure: partial tau given params, tau within strata, structural baselines,
and the ceiling line."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from bnbench.cli import main
from bnbench.indicators import ScoringContext, get
from bnbench.spaces import get_space
from bnbench.structural import params_deciles, partial_tau, partial_tau_formula, stratified_tau

NB201_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "nb201"


def test_partial_tau_formula_known_values():
    assert partial_tau_formula(0.5, 0.5, 0.5) == pytest.approx((0.5 - 0.25) / 0.75)
    assert partial_tau_formula(0.3, 0.0, 0.9) == pytest.approx(0.3 / np.sqrt(1 - 0.81))
    assert partial_tau_formula(0.4, 1.0, 0.4) is None  # the control orders x completely


def test_partial_tau_matches_the_three_scipy_taus():
    rng = np.random.default_rng(0)
    z = rng.normal(size=200)
    y, x = z + rng.normal(size=200), z + rng.normal(size=200) + 0.5 * rng.normal(size=200)
    out = partial_tau(x, y, z, n_boot=0)
    t = lambda a, b: stats.kendalltau(a, b).statistic  # noqa: E731
    assert out["partial_tau"] == pytest.approx(partial_tau_formula(t(x, y), t(x, z), t(y, z)))
    assert out["tau_score_control"] == pytest.approx(t(x, z)) and out["n"] == 200


def test_an_indicator_that_only_counts_params_has_no_partial_tau():
    rng = np.random.default_rng(1)
    z = rng.normal(size=1500)
    truth, score = z + rng.normal(size=1500), z + rng.normal(size=1500)  # both driven by z only
    out = partial_tau(score, truth, z, n_boot=200, seed=0)
    raw = stats.kendalltau(score, truth).statistic
    assert raw > 0.3  # a decent raw tau...
    # ...that mostly vanishes given params; Kendall's partial tau is not exactly 0 under conditional independence
    # (about 0.11 here, a known property of the statistic, stated in bnbench.structural)
    assert 0.05 < out["partial_tau"] < 0.2 and out["partial_tau"] < raw / 2
    assert out["ci"][0] < out["partial_tau"] < out["ci"][1] and out["n_boot_used"] == 200
    informed = partial_tau(truth + 0.3 * rng.normal(size=1500), truth, z, n_boot=0)  # knows the truth itself
    assert informed["partial_tau"] > 0.5


def test_partial_tau_is_undefined_for_params_itself_and_direction_is_respected():
    rng = np.random.default_rng(2)
    z = rng.normal(size=50)
    y = z + rng.normal(size=50)
    same = partial_tau(z, y, z, n_boot=10)
    assert same["partial_tau"] is None and "control" in same["reason"]
    up, down = partial_tau(y + rng.normal(size=50), y, z, n_boot=0), None
    down = partial_tau(-(y + rng.normal(size=50) * 0), y, z, higher_is_better=False, n_boot=0)
    assert up["partial_tau"] > 0 and down["partial_tau"] > 0.99


def test_partial_tau_interval_does_not_depend_on_row_order():
    rng = np.random.default_rng(3)
    z = rng.integers(0, 5, 80).astype(float)  # ties, as params have
    y, x = z + rng.normal(size=80), z + rng.normal(size=80)
    a = partial_tau(x, y, z, n_boot=300, seed=4)
    perm = rng.permutation(80)
    b = partial_tau(x[perm], y[perm], z[perm], n_boot=300, seed=4)
    assert a == b


def test_stratified_tau_pair_weighted_mean():
    x = np.array([1, 2, 3, 4, 1, 2, 3, 9, 9])
    y = np.array([1, 2, 3, 4, 3, 2, 1, 5, 6])
    strata = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2])  # tau +1 on 6 pairs, -1 on 3 pairs; stratum 2: 2 rows, skipped
    out = stratified_tau(x, y, strata)
    assert out["mean_tau"] == pytest.approx((6 * 1 - 3 * 1) / 9)
    assert out["strata_used"] == 2 and out["strata_skipped"] == 1 and out["pairs"] == 9
    assert out["per_stratum"]["2"] == {"n": 2, "tau": None}
    assert stratified_tau(x, y, np.arange(9))["mean_tau"] is None  # no stratum large enough: undefined, not 0


def test_params_deciles_keep_ties_together():
    p = np.array([1, 1, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10])
    d = params_deciles(p)
    assert len(set(d[:4])) == 1 and d[-1] == d[-2] and d.min() >= 0 and d.max() <= 9
    assert np.all(np.diff(d[np.argsort(p, kind="stable")]) >= 0)


@pytest.mark.parametrize("space", ["nb201", "nb101", "darts", "mobilenet-depth"])
def test_convs_baseline_counts_convolutional_ops(space):
    sp = get_space(space)
    archs = sp.sample(20, 0)
    counts = get("convs")(archs, ScoringContext(space=sp))
    assert counts.shape == (20,) and np.all(counts >= 0) and np.all(counts == np.round(counts))
    if space == "nb201":
        assert counts.tolist() == [sum(op in (2, 3) for op in a) for a in archs.tolist()]
    labels, what = sp.structure_strata(archs, get("params")(archs, ScoringContext(space=sp)))
    assert len(labels) == 20 and what


def test_correlate_reports_beyond_structure_baselines_and_ceiling(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["correlate", "--space", "nb201", "--sample-archs", "40", "--indicators", "bn", "--epochs", "0",
                 "--channels", "4", "--cells", "1", "--bootstrap", "50", "--no-progress", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    inds = results["indicators"]
    assert list(inds) == ["bn", "params", "flops", "convs"]
    bn = inds["bn"]["beyond_structure"]
    assert set(bn) == {"partial_tau_given_params", "within_strata"}
    assert bn["within_strata"]["strata"] == "number of convolutions in the cell"
    assert inds["params"]["beyond_structure"]["partial_tau_given_params"]["partial_tau"] is None
    # epoch 0: every op's BN scale is 1, so bn is the convolution count (x cells): the same ranking as convs
    assert inds["bn"]["kendall_tau"] == pytest.approx(inds["convs"]["kendall_tau"])
    ceiling = results["ceiling"]  # the embedded table keeps its seeds: an independent second measurement
    assert 0 < ceiling["kendall_tau"] <= 1 and ceiling["n"] == 40 and "seed" in ceiling["description"]
    report = (out / "report.md").read_text()
    assert "## Ceiling" in report and "taus.png" in report and "(baseline)" in report
    assert (out / "taus.png").stat().st_size > 0


@pytest.mark.skipif(not (NB201_DIR / "nats-tss-test-200ep.csv").exists(), reason="needs ../shared/data/nb201")
def test_nb201_ceiling_is_cifar10_valid_against_nats_cifar10_test(tmp_path):
    from bnbench.experiment import RunOptions, load_truth_and_table
    from bnbench.truth.ceiling import ceiling

    bench = str(NB201_DIR / "nb201-v1_1-cifar10-valid-200ep.csv")
    truth, table = load_truth_and_table(RunOptions(benchmark=bench), "cifar10-valid")
    keys = truth.archs[:500]
    c = ceiling(truth, table, keys, bench, n_boot=50)
    assert c is not None and "NATS" in c["description"] and c["n"] == 500
    assert 0.6 < c["kendall_tau"] < 0.95  # strongly but not perfectly agreeing independent runs
    cifar100 = str(NB201_DIR / "nb201-v1_1-cifar100-200ep.csv")
    truth, table = load_truth_and_table(RunOptions(benchmark=cifar100), "cifar100")
    assert ceiling(truth, table, truth.archs[:50], cifar100) is None  # no independent second run there
