"""Issue 16, items 3 and 4 and infinite scores: repeated architectures, statistics that depended on row order,
and -inf / +inf scores through the CLI, the score cache and scores.csv."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bnbench.experiment import score_indicators
from bnbench.indicators import ScoringContext, get
from bnbench.spaces import get_space
from bnbench.truth import write_table
from tests.test_cli import assert_one_line_error, run_cli

from bnbench.spaces import get_space as _get_space

SPACE201 = _get_space("nb201")

SPEC = "cifar10-valid:valid:accuracy:200"


def _correlate(capsys, benchmark: Path, scores: Path, out: Path, *extra: str) -> dict:
    code, _, err = run_cli(capsys, "correlate", "--benchmark", str(benchmark), "--scores", str(scores),
                           "--out", str(out), *extra)
    assert code == 0, err
    return json.loads((out / "results.json").read_text())


def _isomorphic_classes(space, n_classes: int, size: int = 2) -> list[list[str]]:
    """``n_classes`` isomorphism classes with at least ``size`` distinct cells each (cell strings)."""
    return [members[:size] for members in _nb201_classes() if len(members) >= size][:n_classes]


@functools.lru_cache(maxsize=1)
def _nb201_classes() -> list[list[str]]:
    space, classes = get_space("nb201"), defaultdict(list)
    for ops in space.all_archs():
        classes[space.canonical(ops)].append(space.to_str(ops))
    return list(classes.values())


# ---- item 4: the same pairs in another order give the same statistics --------------------------------------

def test_tied_cases_give_half_and_identical_results_in_both_orders(shared_cases, nb201_csv, tmp_path, capsys):
    results = [_correlate(capsys, nb201_csv, shared_cases / f"scores-tied-{order}-first.csv", tmp_path / order,
                          "--bootstrap", "200")["indicators"]["params"] for order in ("best", "worst")]
    assert results[0]["topk_k"]["10%"] == 1 and results[0]["topk_precision"]["10%"] == 0.5
    assert results[0] == results[1]  # every number, CIs and unique statistics included


def test_permuted_scores_csv_gives_identical_results(shared_data, nb201_csv, tmp_path, capsys):
    """400 real cells scored by their number of convolutions (heavy ties, many isomorphic classes)."""
    space = get_space("nb201")
    ops = space.sample(400, seed=1)
    conv = np.isin(ops, [1, 2]).sum(axis=1).astype(float)  # nor_conv_1x1 / nor_conv_3x3 op indices
    frame = pd.DataFrame({"arch": [space.to_str(o) for o in ops], "params": conv})
    seen = None
    for seed in range(3):
        path = tmp_path / f"scores{seed}.csv"
        frame.sample(frac=1.0, random_state=seed).to_csv(path, index=False)
        stats = _correlate(capsys, nb201_csv, path, tmp_path / f"out{seed}", "--bootstrap", "100")["indicators"]
        assert stats["params"]["unique"]["n_classes"] < 400  # isomorphic cells present: representatives matter
        stats = {k: {f: v for f, v in s.items() if not f.startswith("time")} for k, s in stats.items()}
        assert seen is None or stats == seen  # scoring times of the computed baselines aside
        seen = stats


def test_unique_statistics_keep_the_lowest_benchmark_index(tmp_path, capsys):
    space = get_space("nb201")
    classes = _isomorphic_classes(space, 4)
    archs, indices, truth, score = [], [], [], []
    for c, (a, b) in enumerate(classes):  # each class: (a, high index, score = c) and (b, low index, score = -c)
        archs += [a, b]
        indices += [100 + c, 10 + c]
        truth += [float(c), float(c) + 0.5]
        score += [float(c), -float(c)]
    table = write_table(tmp_path / "truth.csv", archs, indices, {SPEC: truth}, {"source": "test"})
    for order in (slice(None), slice(None, None, -1)):
        path = tmp_path / "scores.csv"
        pd.DataFrame({"arch": archs[order], "params": score[order]}).to_csv(path, index=False)
        unique = _correlate(capsys, table, path, tmp_path / "out", "--bootstrap", "0")["indicators"]["params"]["unique"]
        assert unique["n_classes"] == 4 and unique["kendall_tau"] == pytest.approx(-1.0)  # the low-index cells


# ---- item 3: repeated architectures --------------------------------------------------------------------------

def test_repeated_arch_in_scores_is_a_one_line_error(shared_cases, nb201_csv, tmp_path, capsys):
    case = shared_cases / "scores-repeated-arch.csv"
    code, _, err = run_cli(capsys, "correlate", "--benchmark", str(nb201_csv), "--scores", str(case),
                           "--out", str(tmp_path / "out"))
    repeated = pd.read_csv(case)["arch"][4]
    assert_one_line_error(code, err, str(case), repeated, "listed twice", "lines 5 and 6")
    distinct = tmp_path / "distinct.csv"
    pd.read_csv(case).drop_duplicates("arch").to_csv(distinct, index=False)
    stats = _correlate(capsys, nb201_csv, distinct, tmp_path / "out2", "--bootstrap", "0")["indicators"]["params"]
    assert stats["n"] == 4 and stats["kendall_tau"] == pytest.approx(4 / 6)


def test_repeat_is_the_same_cell_not_the_same_class(tmp_path, capsys):
    space = get_space("nb201")
    (a, b), (c, d) = _isomorphic_classes(space, 2)
    table = write_table(tmp_path / "truth.csv", [a, b, c, d], [0, 1, 2, 3], {SPEC: [1.0, 2.0, 3.0, 4.0]},
                        {"source": "test"})
    iso = tmp_path / "iso.csv"
    pd.DataFrame({"arch": [a, b, c, d], "params": [1.0, 2.0, 3.0, 4.0]}).to_csv(iso, index=False)
    stats = _correlate(capsys, table, iso, tmp_path / "out", "--bootstrap", "0")["indicators"]["params"]
    assert stats["n"] == 4 and stats["unique"]["n_classes"] == 2  # isomorphic cells: separate entries
    respelled = tmp_path / "respelled.csv"  # the same cell, spelled with surrounding blanks: a repeat
    pd.DataFrame({"arch": [a, b, c, f"  {a} "], "params": [1.0, 2.0, 3.0, 4.0]}).to_csv(respelled, index=False)
    code, _, err = run_cli(capsys, "correlate", "--benchmark", str(table), "--scores", str(respelled),
                           "--out", str(tmp_path / "out2"))
    assert_one_line_error(code, err, "listed twice", "lines 2 and 5")


def test_score_archs_file_scores_each_cell_once(tmp_path, capsys):
    space = get_space("nb201")
    (a, b), = _isomorphic_classes(space, 1)
    c = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    archs = tmp_path / "archs.txt"
    archs.write_text(f"{c}\n{a}\n{b}\n{c}\n\n {a}\n")
    out = tmp_path / "scores.csv"
    code, _, err = run_cli(capsys, "score", "--indicators", "params", "--archs", str(archs), "--out", str(out))
    assert code == 0
    assert err.count("\n") == 1 and err.startswith("bnbench: warning: ") and "Traceback" not in err
    assert "2 repeated line(s)" in err and f"line 4, {c}, already on line 1" in err
    assert pd.read_csv(out)["arch"].tolist() == [c, a, b]  # first-occurrence order; isomorphic b kept
    unique = tmp_path / "unique.txt"
    unique.write_text(f"{c}\n{a}\n")
    code, _, err = run_cli(capsys, "score", "--indicators", "params", "--archs", str(unique), "--out", str(out))
    assert code == 0 and err == ""


# ---- infinite scores through scores.csv and the score cache ---------------------------------------------------

def test_minus_inf_in_scores_csv_is_ranked_last_not_dropped(tmp_path, capsys):
    space = get_space("nb201")
    archs = [space.to_str(o) for o in space.sample(8, seed=0)]
    table = write_table(tmp_path / "truth.csv", archs, list(range(8)), {SPEC: [float(i) for i in range(8)]},
                        {"source": "test"})
    scores = tmp_path / "scores.csv"
    scores.write_text("arch,params,flops\n" + "".join(
        f"{a},{'-inf' if i == 0 else i},{'' if i == 1 else 'inf' if i == 7 else i}\n" for i, a in enumerate(archs)))
    out = tmp_path / "out"
    res = _correlate(capsys, table, scores, out, "--bootstrap", "50")["indicators"]
    params, flops = res["params"], res["flops"]  # both higher-is-better
    assert params["n"] == 8 and params["n_inf"] == 1 and params["n_nan"] == 0
    assert params["kendall_tau"] == pytest.approx(1.0) and params["pearson_r"] is None
    assert params["kendall_tau_ci"] == pytest.approx([1.0, 1.0]) and params["pearson_r_reason"]
    assert flops["n"] == 7 and flops["n_nan"] == 1 and flops["n_inf"] == 1
    written = pd.read_csv(out / "scores.csv")  # the written table keeps -inf apart from NaN
    assert np.isneginf(written["params"][0]) and np.isnan(written["flops"][1]) and np.isposinf(written["flops"][7])
    assert "infinite score(s) kept" in (out / "report.md").read_text()


def test_score_cache_keeps_infinities_apart_from_nan(tmp_path):
    space = get_space("nb201")
    archs, calls = space.sample(4, 0), []
    values = np.array([-np.inf, np.nan, np.inf, 1.5])
    ind = dataclasses.replace(get("params"), name="infs", fn=lambda a, c: calls.append(1) or values.copy())
    ctx = ScoringContext(space=space, progress=False)
    first = score_indicators([ind], archs, ctx, tmp_path, {"seed": 0})["infs"][0]
    again = score_indicators([ind], archs, ctx, tmp_path, {"seed": 0})["infs"][0]
    assert len(calls) == 1
    np.testing.assert_array_equal(first, values)
    np.testing.assert_array_equal(again, values)  # -inf / +inf / NaN each survive the round trip
    stored = json.loads((tmp_path / "infs.json").read_text())
    assert stored["scores"] == ["-inf", None, "inf", 1.5]
    stored.pop("nonfinite")  # an entry written before infinities were kept: its nulls may have been -inf
    stored["scores"] = [None, None, None, 1.5]
    (tmp_path / "infs.json").write_text(json.dumps(stored))
    np.testing.assert_array_equal(score_indicators([ind], archs, ctx, tmp_path, {"seed": 0})["infs"][0], values)
    assert len(calls) == 2  # rescored, not served NaN for -inf


def test_study_top_cells_share_ties_at_the_cut():
    from bnbench.study import analysis

    weights = analysis.top_weights(np.array([3.0, 2.0, np.nan, 2.0, -np.inf]), True, 2)
    assert weights.tolist() == [1.0, 0.5, 0.0, 0.5, 0.0]  # two tied for one place; NaN never, -inf last
    assert analysis.top_weights(np.array([np.nan, -np.inf, 1.0]), True, 3).tolist() == [0.0, 1.0, 1.0]
    assert analysis.top_weights(np.array([5.0, np.inf, 1.0]), False, 1).tolist() == [0.0, 0.0, 1.0]
    archs = np.array([[3] * 6, [2] * 6, [0] * 6, [1] * 6, [4] * 6])
    scores = np.array([3.0, 2.0, np.nan, 2.0, 0.0])
    freq = analysis.op_frequencies(SPACE201, archs, analysis.top_weights(scores, True, 2))
    p = np.array([4, 3, 2, 1, 0])
    assert freq == analysis.op_frequencies(SPACE201, archs[p], analysis.top_weights(scores[p], True, 2))
    assert freq["nor_conv_3x3"] == pytest.approx(0.5) and freq["nor_conv_1x1"] == pytest.approx(0.25)
