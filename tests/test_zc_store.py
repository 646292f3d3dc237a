"""Per-architecture proxy store (skip finished work, survive a torn line), --jobs, and the CLI path."""

import json

import numpy as np
import pandas as pd
import pytest

from bnbench.cli import main
from bnbench.datasets import load_dataset
from bnbench.indicators import NetSpec, ScoringContext, get
from bnbench.indicators.zc import runner
from bnbench.indicators.zc.store import FILENAME
from bnbench.spaces import get_space
from bnbench.truth import write_table
from bnbench.truth.select import BUILT_SOURCE

SPACE = get_space("nb201")


@pytest.fixture(autouse=True)
def isolated(monkeypatch, one_thread):
    monkeypatch.delenv("BNBENCH_CACHE", raising=False)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def context(dataset, cache_dir=None, **options) -> ScoringContext:
    opts = {"zc_batch_size": 16, "cache_dir": str(cache_dir) if cache_dir else None, **options}
    return ScoringContext(space=SPACE, network=NetSpec(4, 1, 10, 1, 8), dataset=dataset, seed=0, progress=False,
                          options=opts)


def test_rerun_skips_finished_architectures(tmp_path, digits, monkeypatch):
    ops = SPACE.sample(5, 0)
    first = get("snip")(ops, context(digits, tmp_path))
    lines = (tmp_path / FILENAME).read_text().splitlines()
    assert len(lines) == 5 and {json.loads(line)["proxy"] for line in lines} == {"snip"}

    def fail(task):
        raise AssertionError("finished work was recomputed")

    monkeypatch.setattr(runner, "_score_one", fail)
    np.testing.assert_array_equal(get("snip")(ops, context(digits, tmp_path)), first)


def test_torn_last_line_is_ignored_and_recomputed(tmp_path, digits):
    ops = SPACE.sample(4, 1)
    first = get("nwot")(ops, context(digits, tmp_path))
    path = tmp_path / FILENAME
    text = path.read_text()
    path.write_text(text[: len(text) - 25])  # killed while writing the last record
    again = get("nwot")(ops, context(digits, tmp_path))
    np.testing.assert_array_equal(again, first)
    lines = path.read_text().splitlines()  # 3 intact, the torn one, the recomputed one on a line of its own
    assert len(lines) == 5 and all(json.loads(line)["proxy"] == "nwot" for line in lines[:3] + lines[4:])


def test_other_variant_or_seed_is_a_different_key(tmp_path, digits):
    ops = SPACE.sample(2, 2)
    zc = get("grad_norm")(ops, context(digits, tmp_path))
    official = get("grad_norm")(ops, context(digits, tmp_path, model_variant="official"))
    assert not np.allclose(zc, official)
    assert len((tmp_path / FILENAME).read_text().splitlines()) == 4


def test_two_jobs_give_identical_results(digits):
    ops = SPACE.sample(6, 3)
    for name in ("synflow", "jacob_cov"):
        serial = get(name)(ops, context(digits, jobs=1))
        parallel = get(name)(ops, context(digits, jobs=2))
        np.testing.assert_array_equal(parallel, serial)


def test_cli_correlate_with_proxies_writes_heatmap(tmp_path, capsys):
    archs = [SPACE.to_str(a) for a in SPACE.sample(8, 0)]
    truth = tmp_path / "truth.csv"
    write_table(truth, archs, np.full(8, -1), {"digits:valid:accuracy:5": np.linspace(50, 90, 8)},
                {"source": BUILT_SOURCE, "config": {"train": {"channels": 4, "cells": 1}}})
    out = tmp_path / "run"
    code = main(["correlate", "--benchmark", str(truth), "--dataset", "digits", "--indicators",
                 "synflow,nwot,te_ntk,params", "--bootstrap", "20", "--zc-batch-size", "16", "--no-progress",
                 "--out", str(out)])
    capsys.readouterr()
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    assert results["indicators"]["te_ntk"]["direction"] == "lower"
    assert results["config"]["scoring"]["model_variant"] == "zc"
    assert (out / "indicator_correlations.png").stat().st_size > 0
    assert "indicator_correlations.png" in (out / "report.md").read_text()
    assert len((out / FILENAME).read_text().splitlines()) == 3 * 8
    assert list(pd.read_csv(out / "scores.csv").columns) == ["arch", "truth", "synflow", "nwot", "te_ntk", "params", "flops",
                                                            "convs"]


def test_cli_rejects_bad_jobs(tmp_path, capsys):
    code = main(["score", "--indicators", "synflow", "--archs", "2", "--jobs", "0", "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err
    assert code == 2 and "--jobs 0" in err and err.count("\n") == 1


def test_per_arch_batch_policy(tmp_path, digits):
    """per-arch: each cell its own seeded augmented draw (same for every proxy and any --jobs), stored
    under its own key beside the fixed batch's."""
    from bnbench.indicators.zc.common import image_batch

    ctx = context(digits, tmp_path, zc_batch="per-arch")
    batch = image_batch(ctx)
    a, b = (batch.for_arch(SPACE.to_str(o)) for o in SPACE.sample(2, 4))
    assert a.x.shape == (16, 1, 8, 8) and not np.allclose(a.x, b.x)
    np.testing.assert_array_equal(batch.for_arch(SPACE.to_str(SPACE.sample(2, 4)[0])).x, a.x)
    assert image_batch(context(digits, zc_batch="fixed")).for_arch("x").key != batch.key
    ops = SPACE.sample(4, 5)
    serial = get("snip")(ops, context(digits, tmp_path, zc_batch="per-arch"))
    fixed = get("snip")(ops, context(digits, tmp_path))
    parallel = get("snip")(ops, context(digits, zc_batch="per-arch", jobs=2))
    np.testing.assert_array_equal(parallel, serial)
    assert not np.allclose(serial, fixed)
    assert len((tmp_path / FILENAME).read_text().splitlines()) == 8


def test_unknown_batch_policy_is_one_line_error(digits):
    from bnbench.errors import BnbenchError

    with pytest.raises(BnbenchError, match="--zc-batch 'random'"):
        get("snip")(SPACE.sample(1, 0), context(digits, zc_batch="random"))
