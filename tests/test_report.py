"""bnbench.report: files written by write_report, strict JSON, table and Markdown content, valid PNGs."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from bnbench.correlation import correlate_many
from bnbench.errors import BnbenchError
from bnbench.report import format_table, scatter_plots, to_jsonable, write_report
from bnbench.report.plots import scatter_figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DESCRIPTION = "cifar10-valid / validation / 200 epochs / mean of seeds"
INDICATORS = {"snip": True, "loss": False, "flat": True, "holey": True, "all_nan": True}


def _reject_constant(token: str):
    raise ValueError(f"non-strict JSON constant {token}")


@pytest.fixture()
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    acc = rng.uniform(60, 95, 200)
    holey = acc + rng.normal(size=200)
    holey[:7] = np.nan
    return pd.DataFrame({"acc": acc, "snip": np.exp(acc / 4 + rng.normal(size=200)),
                         "loss": -acc + 3 * rng.normal(size=200), "flat": np.ones(200), "holey": holey,
                         "all_nan": np.full(200, np.nan), "iso": np.arange(200) % 150})


@pytest.fixture()
def results(frame: pd.DataFrame) -> dict:
    stats = correlate_many(frame, "acc", INDICATORS, groups="iso", keys=list(range(200)), n_boot=50)
    indicators = {name: {"direction": "higher" if hib else "lower", "time_s": 1.25, "time_per_arch_s": 0.00625,
                         **stats[name]} for name, hib in INDICATORS.items()}
    return {"bnbench_version": "0.1.0", "command": "bnbench run --space nb201", "config": {"n_boot": 50},
            "seeds": {"bootstrap": 0, "torch": 1}, "versions": {"numpy": np.__version__, "python": "3.11"},
            "ground_truth": {"description": DESCRIPTION, "source": "nb201.csv", "n": 200},
            "indicators": indicators, "timings": {"total_s": np.float64(6.5), "nan_timer": float("nan")}}


def test_write_report_creates_all_files(tmp_path, frame, results):
    paths = write_report(tmp_path / "out", results, frame, "acc", INDICATORS)
    expected = {"results.json", "scores.csv", "report.md", "report.html", "indicator_correlations.png", "taus.png",
                *(f"scatter_{n}.png" for n in INDICATORS)}
    assert set(paths) == expected
    for name, path in paths.items():
        assert path == tmp_path / "out" / name and path.is_file() and path.stat().st_size > 0
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]


def test_results_json_is_strict(tmp_path, frame, results):
    paths = write_report(tmp_path, results, frame, "acc", INDICATORS)
    with open(paths["results.json"]) as fh:
        loaded = json.load(fh, parse_constant=_reject_constant)
    assert loaded["ground_truth"]["description"] == DESCRIPTION
    assert loaded["indicators"]["flat"]["kendall_tau"] is None
    assert loaded["indicators"]["flat"]["status"] == "constant"
    assert loaded["indicators"]["holey"]["n_nan"] == 7
    assert loaded["timings"] == {"total_s": 6.5, "nan_timer": None}


def test_scores_csv_round_trips(tmp_path, frame, results):
    paths = write_report(tmp_path, results, frame, "acc", INDICATORS)
    back = pd.read_csv(paths["scores.csv"])
    assert list(back.columns) == list(frame.columns) and len(back) == len(frame)
    np.testing.assert_allclose(back["acc"], frame["acc"])


def test_report_md_content(tmp_path, frame, results):
    paths = write_report(tmp_path, results, frame, "acc", INDICATORS)
    text = paths["report.md"].read_text()
    assert DESCRIPTION in text and "bnbench run --space nb201" in text
    for name in INDICATORS:
        assert f"| {name} |" in text and f"(scatter_{name}.png)" in text
    assert "n/a (constant)" in text and "n/a (all_nan)" in text
    assert "nan_dropped" in text and "7 NaN score(s)" in text
    assert '"torch": 1' in text and f"| numpy | {np.__version__} |" in text


def test_pngs_are_valid(tmp_path, frame, results):
    paths = write_report(tmp_path, results, frame, "acc", INDICATORS)
    for name in INDICATORS:
        assert paths[f"scatter_{name}.png"].read_bytes()[:8] == PNG_SIGNATURE


def test_format_table(results):
    text = format_table(results)
    lines = text.splitlines()
    assert DESCRIPTION in lines[0]
    assert "Kendall tau [95% CI]" in text and "top-10% precision" in text and "unique tau" in text
    for name in INDICATORS:
        assert any(line.startswith(name) for line in lines)
    assert "n/a (constant)" in text and "193 (7 dropped)" in text
    assert "! flat: constant" in text
    snip = results["indicators"]["snip"]
    lo, hi = snip["kendall_tau_ci"]
    assert f"{snip['kendall_tau']:.3f} [{lo:.3f}, {hi:.3f}]" in text


def test_format_table_without_indicators():
    text = format_table({"ground_truth": {"description": DESCRIPTION}, "indicators": {}})
    assert DESCRIPTION in text and "(no indicators)" in text


def test_scatter_log_axis_and_odd_names(tmp_path, frame):
    frame = frame.rename(columns={"snip": "snip/bn"})
    files = scatter_plots(tmp_path, frame, "acc", {"snip/bn": True, "loss": False}, "acc")
    assert files == {"snip/bn": "scatter_snip_bn.png", "loss": "scatter_loss.png"}
    score = frame["snip/bn"].to_numpy()
    assert scatter_figure(score, frame["acc"].to_numpy(), "s", True, "acc").axes[0].get_xscale() == "log"
    assert scatter_figure(-score, frame["acc"].to_numpy(), "s", True, "acc").axes[0].get_xscale() == "linear"
    with pytest.raises(BnbenchError, match="'nope'"):
        scatter_plots(tmp_path, frame, "acc", {"nope": True}, "acc")


def test_scatter_titles_report_undefined_and_hidden(frame):
    acc = frame["acc"].to_numpy()
    flat = scatter_figure(frame["flat"].to_numpy(), acc, "flat", True, "acc").axes[0].get_title()
    assert "undefined" in flat and "constant" in flat
    holey = scatter_figure(frame["holey"].to_numpy(), acc, "holey", True, "acc").axes[0].get_title()
    assert "7 non-finite not shown" in holey


def test_to_jsonable():
    obj = {"a": np.float64("nan"), "b": np.int64(3), "c": np.array([1.0, np.inf]), "d": (np.bool_(True),), 1: None}
    assert to_jsonable(obj) == {"a": None, "b": 3, "c": [1.0, None], "d": [True], "1": None}
    json.dumps(to_jsonable(obj), allow_nan=False)
