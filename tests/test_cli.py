"""Command-line contract: outputs, and one-line errors (exit 2, no traceback) on bad input."""

import pandas as pd
import pytest

from bnbench.cli import main

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    assert code == 2
    assert err.startswith("bnbench: error: ") and err.count("\n") == 1 and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_score_data_free_indicators_from_file(tmp_path, capsys):
    archs = tmp_path / "archs.txt"
    archs.write_text(f"# two cells\n{BEST}\n\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\n")
    out = tmp_path / "scores.csv"
    code, _, _ = run_cli(capsys, "score", "--space", "nb201", "--indicators", "params,flops", "--archs", str(archs), "--out", str(out))
    assert code == 0
    df = pd.read_csv(out)
    assert list(df.columns) == ["arch", "params", "flops"]
    assert df["arch"][0] == BEST and df["params"][0] == pytest.approx(0.802426)
    assert df["params"][1] < df["params"][0]


def test_score_stratified_sample_is_seeded(tmp_path, capsys):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for path in (a, b):
        assert run_cli(capsys, "score", "--indicators", "params", "--archs", "50", "--seed", "7", "--out", str(path))[0] == 0
    assert pd.read_csv(a).equals(pd.read_csv(b)) and len(pd.read_csv(a)) == 50


@pytest.mark.parametrize("argv, fragments", [
    (["score", "--indicators", "nope", "--archs", "3", "--out", "x.csv"], ["unknown indicator 'nope'"]),
    (["score", "--indicators", "params", "--archs", "missing.txt", "--out", "x.csv"], ["missing.txt"]),
    (["score", "--space", "nb999", "--indicators", "params", "--archs", "3", "--out", "x.csv"], ["unknown search space 'nb999'"]),
    (["score", "--indicators", "bn", "--archs", "3", "--out", "x.csv", "--data-dir", "/no/such/dir", "--dataset", "cifar10"],
     ["/no/such/dir"]),
    (["correlate", "--benchmark", "/no/such/file.pth", "--indicators", "params"], ["/no/such/file.pth"]),
    (["correlate", "--dataset", "mnist", "--indicators", "params"], ["mnist"]),
])
def test_bad_input_is_one_line(tmp_path, monkeypatch, capsys, argv, fragments):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err, *fragments)


def test_malformed_arch_file_names_file_and_line(tmp_path, capsys):
    bad = tmp_path / "archs.txt"
    bad.write_text(f"{BEST}\n|conv_7x7~0|+|none~0|none~1|+|none~0|none~1|none~2|\n")
    code, _, err = run_cli(capsys, "score", "--indicators", "params", "--archs", str(bad), "--out", str(tmp_path / "o.csv"))
    assert_one_line_error(code, err, f"{bad}:2", "conv_7x7")


def test_indicators_lists_directions(capsys):
    code, out, _ = run_cli(capsys, "indicators")
    assert code == 0 and "bn" in out and "supernet_acc" in out and "higher is better" in out


def test_scores_and_truth_covering_different_archs(tmp_path, capsys):
    from bnbench.truth import write_table

    table = tmp_path / "truth.csv"
    write_table(table, [BEST], [0], {"cifar10-valid:valid:accuracy:200": [90.0]}, {"source": "test"})
    scores = tmp_path / "scores.csv"
    other = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    pd.DataFrame({"arch": [BEST, other], "params": [0.8, 0.1]}).to_csv(scores, index=False)
    code, _, err = run_cli(capsys, "correlate", "--benchmark", str(table), "--scores", str(scores),
                           "--out", str(tmp_path / "out"))
    assert_one_line_error(code, err, str(table), "1 of 2 architectures are not in the ground truth", other)


def test_correlate_from_scores_csv(tmp_path, capsys):
    from bnbench.spaces import get_space
    from bnbench.truth import write_table

    space = get_space("nb201")
    archs = [space.to_str(a) for a in space.sample(12, seed=0)]
    truth = {"cifar10-valid:valid:accuracy:200": [float(i) for i in range(12)]}
    table = write_table(tmp_path / "truth.csv", archs, list(range(12)), truth, {"source": "test"})
    scores = tmp_path / "scores.csv"
    pd.DataFrame({"arch": archs, "good": range(12), "flat": [1.0] * 12}).rename(
        columns={"good": "params", "flat": "flops"}).to_csv(scores, index=False)
    out = tmp_path / "out"
    code, stdout, _ = run_cli(capsys, "correlate", "--benchmark", str(table), "--scores", str(scores), "--out", str(out))
    assert code == 0
    import json

    res = json.loads((out / "results.json").read_text())
    assert res["indicators"]["params"]["kendall_tau"] == pytest.approx(1.0)
    assert res["indicators"]["flops"]["status"] == "constant" and res["indicators"]["flops"]["kendall_tau"] is None
    assert "cifar10-valid / validation / 200 epochs" in res["ground_truth"]["description"]


@pytest.mark.parametrize("command", ["correlate", "score", "study fairness"])
def test_scoring_options_reach_the_run_options(command):
    """correlate, score and the study take the same scoring options (composite, zero-cost, supernet_acc)."""
    from bnbench.cli import build_parser, common

    argv = command.split() + ["--indicators", "composite", "--mc-batches", "2", "--ntk-samples", "8",
                              "--composite-weights", "trainability=1,uncertainty=1", "--zc-batch", "per-arch",
                              "--calib-batches", "3", "--out", "unused"]
    scoring = common.run_options(build_parser().parse_args(argv)).scoring
    assert scoring["mc_batches"] == 2 and scoring["ntk_samples"] == 8 and "probe_images" not in scoring
    assert scoring["composite_weights"] == "trainability=1,uncertainty=1"
    assert scoring["zc_batch"] == "per-arch" and scoring["calib_batches"] == 3
