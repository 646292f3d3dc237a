"""Every space with an embedded digits table runs `bnbench correlate --space S` with no data arguments."""

from __future__ import annotations

import json

import pytest

from bnbench.cli import main
from bnbench.embedded import TABLES


@pytest.mark.parametrize("space", sorted(TABLES))
def test_correlate_runs_on_the_embedded_table_of_every_space(space, tmp_path, capsys, one_thread):
    out = tmp_path / space
    code = main(["correlate", "--space", space, "--sample-archs", "8", "--indicators", "bn,params", "--epochs", "1",
                 "--channels", "4", "--cells", "1", "--train-fraction", "0.2", "--bootstrap", "10", "--no-progress",
                 "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    results = json.loads((out / "results.json").read_text())
    truth = results["ground_truth"]
    assert truth["source"] == f"embedded:{TABLES[space]}" and truth["n"] == 8, truth
    assert truth["meta"]["source"] == "bnbench truth build" and truth["meta"]["space"] == space
    assert set(results["indicators"]) == {"bn", "params", "flops", "convs"}  # + the structural baselines
    assert results["indicators"]["flops"]["baseline"] and not results["indicators"]["bn"]["baseline"]
