"""The search-space options on the command line: --bn-every-op (and its deprecated alias --fair), --space-option,
aliases, and `bnbench spaces`."""

from __future__ import annotations

import torch

from bnbench.cli import main

TINY = ["--dataset", "digits", "--epochs", "1", "--channels", "4", "--cells", "1", "--train-fraction", "0.2",
        "--batch-size", "32", "--no-progress"]


def _config(path):
    return torch.load(path / "supernet.pt", weights_only=True)["config"]


def test_bn_every_op_and_its_deprecated_alias(tmp_path, capsys, one_thread):
    assert main(["train-supernet", "--out", str(tmp_path / "a"), "--bn-every-op", *TINY]) == 0
    assert "deprecated" not in capsys.readouterr().err
    assert main(["train-supernet", "--out", str(tmp_path / "b"), "--fair", *TINY]) == 0
    assert "--fair is deprecated, use --bn-every-op" in capsys.readouterr().err
    assert _config(tmp_path / "a")["bn_every_op"] is True and _config(tmp_path / "b")["bn_every_op"] is True
    assert _config(tmp_path / "a")["space"] == "nb201"
    a, b = (torch.load(p / "supernet.pt", weights_only=True)["model"] for p in (tmp_path / "a", tmp_path / "b"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_unknown_space_option_and_malformed_option_are_one_line_errors(tmp_path, capsys):
    assert main(["train-supernet", "--out", str(tmp_path / "c"), "--space-option", "stacks=2", *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("bnbench: error: search space 'nb201' has no option 'stacks' "
                   "(its options: C, N, bn_every_op, cells, channels)")
    assert main(["train-supernet", "--out", str(tmp_path / "c"), "--space-option", "N", *TINY]) == 2
    assert "expected NAME=VALUE" in capsys.readouterr().err
    assert main(["train-supernet", "--out", str(tmp_path / "c"), "--space-option", "N=two", *TINY]) == 2
    assert "option N='two' is not a valid int" in capsys.readouterr().err


def test_space_option_reaches_the_network_and_aliases_name_the_space(tmp_path, capsys, one_thread):
    no_cells = TINY[:6] + TINY[8:]
    assert "--cells" not in no_cells and "--channels" in no_cells
    assert main(["train-supernet", "--out", str(tmp_path / "d"), "--space", "NAS-Bench-201", "--space-option", "N=3",
                 *no_cells]) == 0
    cfg = _config(tmp_path / "d")
    assert cfg["space"] == "nb201" and cfg["space_options"] == {"N": 3}
    model = torch.load(tmp_path / "d" / "supernet.pt", weights_only=True)["model"]
    assert any(k.startswith("layers.10.") for k in model) and not any(k.startswith("layers.11.") for k in model)


def test_spaces_command_lists_options(capsys):
    assert main(["spaces"]) == 0
    out = capsys.readouterr().out
    assert "nb201:" in out and "C=16 (--channels)" in out and "bn_every_op=False" in out
