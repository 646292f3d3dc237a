"""NAS-Bench-101 end to end through the command line: its truth, its cells in files, its bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from bnbench.cli import main


@pytest.fixture(scope="module")
def nb101_csv(shared_data):
    path = shared_data / "nb101" / "naslib-nb101-cifar10-250.csv"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


def test_correlate_on_the_250_cell_table(nb101_csv, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["correlate", "--space", "nb101", "--dataset", "cifar10", "--benchmark", str(nb101_csv),
            "--indicators", "params,macs", "--bootstrap", "50", "--no-progress", "--out", str(out)]
    assert main(args) == 2  # no silent budget: the CSV does not state its 108 epochs
    assert "--truth-epochs" in capsys.readouterr().err
    assert main(args + ["--truth-epochs", "108"]) == 0
    results = json.loads((out / "results.json").read_text())
    truth = results["ground_truth"]
    assert truth["n"] == 162 and truth["description"].startswith("nb101-cifar10 / validation / 108 epochs")
    assert results["config"]["space"] == "nb101"
    tau = results["indicators"]["params"]["kendall_tau"]
    assert 0.3 < tau < 0.6  # params rank NB101 cells moderately (0.445 on these 162)
    scores = pd.read_csv(out / "scores.csv")
    assert scores["arch"].str.startswith('{"matrix"').all()


def test_a_table_of_another_space_is_one_line(nb101_csv, tmp_path, capsys):
    code = main(["correlate", "--space", "nb201", "--benchmark", str(nb101_csv), "--truth-epochs", "108",
                 "--indicators", "params", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "NB101" in err and "nb201" in err


def test_score_reads_json_lines_and_adjacency_tables_in_input_order(nb101_csv, tmp_path):
    rows = pd.read_csv(nb101_csv).iloc[:6]
    table = tmp_path / "cells.csv"
    rows[["adjacency", "ops"]].to_csv(table, index=False)
    out = tmp_path / "scores.csv"
    assert main(["score", "--space", "nb101", "--indicators", "params", "--archs", str(table), "--out", str(out)]) == 0
    scored = pd.read_csv(out)
    from bnbench.spaces import get_space

    space = get_space("nb101")
    expected = []
    for adjacency, ops in zip(rows["adjacency"], rows["ops"]):
        text = space.to_str(space.parse(json.dumps({"matrix": json.loads(adjacency), "ops": json.loads(ops)})))
        if text not in expected:
            expected.append(text)
    assert scored["arch"].tolist() == expected
    lines = tmp_path / "cells.txt"
    lines.write_text("\n".join(expected) + "\n")
    out2 = tmp_path / "scores2.csv"
    assert main(["score", "--space", "nb101", "--indicators", "params", "--archs", str(lines), "--out", str(out2)]) == 0
    assert pd.read_csv(out2).equals(scored)


BAD = {
    "more than 9 edges": ([[0, 1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 1],
                           [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
                          ["input", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv3x3-bn-relu", "conv1x1-bn-relu",
                           "maxpool3x3", "output"], "edges after pruning"),
    "more than 7 vertices": ([[0] * 8 for _ in range(8)], ["input"] + ["conv3x3-bn-relu"] * 6 + ["output"],
                             "8 vertices"),
    "not upper triangular": ([[0, 1, 0], [1, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"],
                             "not strictly upper triangular"),
    "no input-output path": ([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"],
                             "no path from input to output"),
    "unknown op": ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv5x5-bn-relu", "output"], "unknown op"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_invalid_specs_are_one_line_errors_naming_the_line(case, tmp_path, capsys):
    matrix, ops, message = BAD[case]
    path = tmp_path / "cells.txt"
    path.write_text('{"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]}\n'
                    + json.dumps({"matrix": matrix, "ops": ops}) + "\n")
    code = main(["score", "--space", "nb101", "--indicators", "params", "--archs", str(path),
                 "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and f"{path}:2:" in err and message in err
