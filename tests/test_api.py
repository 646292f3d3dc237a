"""The Python API (what a notebook user types) and the self-contained HTML report, rendered in headless Chromium."""

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import bnbench
from bnbench.errors import ArchError, BnbenchError

pytestmark = pytest.mark.usefixtures("one_thread")
SMALL = dict(sample_archs=30, epochs=1, channels=4, cells=1, n_boot=30)


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return bnbench.correlate(space="nb201", indicators=["bn", "supernet_acc"], val_images=100,
                             out=tmp_path_factory.mktemp("api") / "run", **SMALL)


def test_import_bnbench_exposes_the_api():
    assert {"correlate", "score", "load_truth", "train_supernet", "list_spaces", "list_indicators",
            "CorrelateResult", "BnbenchError"} <= set(dir(bnbench))
    spaces, indicators = bnbench.list_spaces(), bnbench.list_indicators()
    assert {"nb201", "nb101", "darts", "mobilenet"} <= set(spaces["name"])
    assert {"bn", "composite", "composite_untrained", "convs"} <= set(indicators["name"])
    with pytest.raises(AttributeError):
        bnbench.no_such_function


def test_correlate_returns_a_result_object(result):
    table = result.table
    assert list(table.index) == ["bn", "supernet_acc", "params", "flops", "convs"]
    assert table.loc["params", "baseline"] and not table.loc["bn", "baseline"]
    for name in ("bn", "params"):
        row = table.loc[name]
        assert row["tau_lo"] <= row["tau"] <= row["tau_hi"] or np.isnan(row["tau"])
        assert row["n"] == 30
    assert set(result.scores.columns) >= {"arch", "truth", "bn", "params"} and len(result.scores) == 30
    assert result.truth["source"] == "embedded:nb201-digits-truth.csv" and result.truth["ceiling"]["kendall_tau"] > 0
    assert result.config["space"] == "nb201" and result.config["train"]["epochs"] == 1
    assert (result.out / "results.json").exists() and (result.out / "report.html").exists()
    assert result.plot_taus().get_ylabel().startswith("Kendall tau")
    assert "bn" in result.plot_scatter("bn").get_xlabel()
    with pytest.raises(BnbenchError, match="no indicator 'nwot'"):
        result.plot_scatter("nwot")
    html = result._repr_html_()
    assert "<table" in html and "bn" in html and "params (baseline)" in html


def test_correlate_reuses_the_supernet_and_caches_of_its_out(result, monkeypatch):
    import bnbench.train.supernet as supernet
    from bnbench.indicators.registry import Indicator

    monkeypatch.setattr(supernet, "_train_epoch", lambda *a, **k: pytest.fail("retrained"))
    monkeypatch.setattr(Indicator, "__call__", lambda *a, **k: pytest.fail("rescored"))
    again = bnbench.correlate(space="nb201", indicators="bn,supernet_acc", val_images=100, out=result.out, **SMALL)
    pd.testing.assert_frame_equal(again.table.drop(columns="time_s"), result.table.drop(columns="time_s"))


def test_bad_input_is_a_one_line_error():
    with pytest.raises(BnbenchError, match="unknown option.*epoch"):
        bnbench.correlate(space="nb201", epoch=3)
    with pytest.raises(BnbenchError, match="unknown indicator"):
        bnbench.score("nb201", 2, ["no_such_proxy"])
    with pytest.raises(ArchError):
        bnbench.score("nb201", ["|conv_9x9~0|+|none~0|none~1|+|none~0|none~1|none~2|"], ["params"])


def test_score_load_truth_and_train_supernet():
    cell = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    frame = bnbench.score("nb201", [cell], ["params", "convs"])
    assert frame.index.tolist() == [cell] and frame.loc[cell, "convs"] == 3
    from bnbench.spaces import get_space

    space = get_space("nb201")  # the benchmark's network (C=16, N=5, CIFAR-10), counted parameter by parameter
    net = space.network(space.parse(cell), space.options({}), num_classes=10, in_channels=3)
    assert frame.loc[cell, "params"] == pytest.approx(sum(p.numel() for p in net.parameters()) / 1e6)
    assert len(bnbench.score("nb201", 4, "params")) == 4
    truth = bnbench.load_truth()
    assert isinstance(truth, pd.Series) and len(truth) == 300 and "digits" in truth.name
    assert truth.attrs["source"].startswith("embedded:")
    trained = bnbench.train_supernet("nb201", epochs=1, channels=4, cells=1, train_fraction=0.2)
    assert len(trained.history) == 1 and trained.config.bn_scope == "all+classifier"


def test_html_report_is_self_contained(result):
    html = (result.out / "report.html").read_text()
    assert '<table id="results">' in html and "Ceiling" in html and "params (baseline)" in html
    images = re.findall(r'<img[^>]*src="([^"]+)"', html)
    assert len(images) >= 4 and all(src.startswith("data:image/png;base64,") for src in images)  # no files, no network
    assert "http://" not in html and "https://" not in html and "<script" not in html


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_html_report_renders_in_headless_chromium(result, tmp_path):
    """As a person sees it: the DOM after rendering holds the table and every figure decoded, and a screenshot
    of the page is not blank."""
    from matplotlib.image import imread

    page = (result.out / "report.html").resolve().as_uri()
    flags = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    dom = subprocess.run([*flags, "--dump-dom", page], capture_output=True, text=True, timeout=120).stdout
    assert '<table id="results">' in dom and dom.count("<tr") >= 6 and "Kendall tau of every indicator" in dom
    shot = tmp_path / "shot.png"
    subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1200,1600", page], capture_output=True,
                   timeout=120, check=True)
    pixels = imread(shot)[..., :3]
    assert pixels.shape[:2] == (1600, 1200)
    ink = (pixels < 0.9).any(axis=2)
    assert ink.mean() > 0.03  # text, table and figures drawn, not a blank page
    assert ink[900:1500].mean() > 0.01  # the tau chart below the table


def test_cli_default_indicators_are_the_api_defaults():
    from bnbench.cli.correlate import DEFAULT_INDICATORS
    from bnbench.experiment import DEFAULT_INDICATORS as API_DEFAULT

    assert DEFAULT_INDICATORS == API_DEFAULT
