"""bnbench.truth: official formats built tiny at test time, caching, compact tables, real CSVs, bad input."""

from __future__ import annotations

import bz2
import os
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import bnbench.truth.nats_dir as nats_dir
import bnbench.truth.nb201_pth as nb201_pth
from bnbench.errors import BenchmarkError
from bnbench.truth import (GroundTruth, TruthSpec, convert, detect_kind, load_truth, read_source, read_table,
                           write_table)
from bnbench.truth.cache import cache_dir
from tests.fixtures.truth_benchmarks import ARCHS, SPLIT_SET, expected, make_nats_dir, make_nb201_pth

INDEX0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
ALL_SPECS = [TruthSpec(d, s, m, e) for d, splits in SPLIT_SET.items() for s in splits
             for m in ("accuracy", "loss") for e in (200, 12)]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    """Every test gets its own empty cache directory (never ~/.cache)."""
    monkeypatch.setenv("BNBENCH_CACHE", str(tmp_path / "cache"))
    yield
    assert not str(cache_dir()).startswith(str(Path.home() / ".cache")), "a test wrote to the user's cache"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bench")
    return {"pth": make_nb201_pth(root / "NAS-Bench-201-v1_1-tiny.pth"), "nats": make_nats_dir(root / "NATS-tss-tiny")}


@pytest.fixture
def copies(built, tmp_path) -> dict[str, Path]:
    """Private copies that a test may modify."""
    pth = Path(shutil.copy2(built["pth"], tmp_path / built["pth"].name))
    return {"pth": pth, "nats": Path(shutil.copytree(built["nats"], tmp_path / built["nats"].name))}


def _message(excinfo, path) -> str:
    text = str(excinfo.value)
    assert str(path) in text and "\n" not in text
    return text


def _bump_mtime(path: Path) -> None:
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


# --- official formats -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["pth", "nats"])
def test_every_quantity_is_the_final_epoch_mean_of_seeds(built, kind):
    assert detect_kind(built[kind]) == {"pth": "nb201-pth", "nats": "nats-dir"}[kind]
    for spec in ALL_SPECS:
        truth = load_truth(built[kind], spec)
        assert truth.archs == ARCHS and truth.indices.tolist() == [0, 1, 2]
        want = [expected(i, spec.dataset, spec.split, spec.metric, spec.epochs) for i in range(3)]
        assert truth.values == pytest.approx(want, abs=1e-9), spec


@pytest.mark.parametrize("kind", ["pth", "nats"])
def test_default_spec_is_cifar10_valid_validation_200_epochs(built, kind):
    truth = load_truth(built[kind])
    assert truth.spec == TruthSpec("cifar10-valid", "valid", "accuracy", 200)
    assert truth.values == pytest.approx([expected(i, "cifar10-valid", "valid", "accuracy", 200) for i in range(3)])
    assert truth.description() == "cifar10-valid / validation / 200 epochs / mean of seeds"
    assert truth.source == str(built[kind]) and truth.meta["source_kind"] == detect_kind(built[kind])
    short = load_truth(built[kind], TruthSpec(epochs=12))
    assert not np.allclose(short.values, truth.values)
    assert short.description() == "cifar10-valid / validation / 12 epochs / mean of seeds"


@pytest.mark.parametrize("kind", ["pth", "nats"])
def test_convert_round_trips_through_read_table(built, tmp_path, kind):
    out = convert(built[kind], tmp_path / "out" / "truth.csv")
    assert detect_kind(out) == "table"
    table, source = read_table(out), read_source(built[kind])
    assert table.archs == source.archs == ARCHS and np.array_equal(table.indices, source.indices)
    assert list(table.columns) == list(source.columns) and len(table.specs()) == 44  # cifar10 has no valid split
    seeds = {n: v for n, v in table.columns.items() if ":seeds:" in n}  # seed counts: 4 settings x 2 schedules
    assert len(seeds) == 8 and all(v.tolist() == [2.0, 2.0, 2.0] for v in seeds.values())
    for name, values in source.columns.items():
        assert np.array_equal(table.columns[name], values), name
    assert table.meta["source"] == str(built[kind]) and "versions" in table.meta and "created" in table.meta
    spec = TruthSpec("cifar100", "test", "loss", 12)
    assert load_truth(out, spec).values.tolist() == load_truth(built[kind], spec).values.tolist()


def test_legacy_torch_format_and_non_allowlisted_content_load(tmp_path):
    legacy = make_nb201_pth(tmp_path / "legacy.pth", legacy=True)
    assert legacy.read_bytes()[:2] == b"\x80\x02" and detect_kind(legacy) == "nb201-pth"
    want = [expected(i, "cifar100", "valid", "accuracy", 200) for i in range(3)]
    assert load_truth(legacy, TruthSpec("cifar100")).values == pytest.approx(want)
    numpy_scalars = make_nb201_pth(tmp_path / "np.pth", extra={"note": np.float64(1.0)})
    with pytest.warns(UserWarning, match="full unpickling"):
        assert load_truth(numpy_scalars, TruthSpec("cifar100")).values == pytest.approx(want)


def test_pth_cache_is_used_then_invalidated(copies, monkeypatch):
    pth = copies["pth"]
    first = load_truth(pth)
    assert len(list(cache_dir().glob("*.csv"))) == 1
    real_load = nb201_pth.torch_load
    monkeypatch.setattr(nb201_pth, "torch_load", lambda path: pytest.fail("the .pth was opened again"))
    start = time.perf_counter()
    again = load_truth(pth)
    assert time.perf_counter() - start < 0.5 and again.values.tolist() == first.values.tolist()
    make_nb201_pth(pth, scale=2.0)
    _bump_mtime(pth)
    monkeypatch.setattr(nb201_pth, "torch_load", real_load)
    changed = load_truth(pth)
    assert changed.values == pytest.approx([expected(i, "cifar10-valid", "valid", "accuracy", 200, 2.0)
                                            for i in range(3)])


def test_nats_cache_is_used_then_invalidated(copies, monkeypatch):
    root = copies["nats"]
    load_truth(root)
    real_api = nats_dir._api
    monkeypatch.setattr(nats_dir, "_api", lambda path: pytest.fail("the NATS directory was read again"))
    load_truth(root, TruthSpec("ImageNet16-120", "test"))
    monkeypatch.setattr(nats_dir, "_api", real_api)
    shutil.rmtree(root)
    make_nats_dir(root, scale=2.0)
    _bump_mtime(root / "000001.pickle.pbz2")
    assert load_truth(root).values[1] == pytest.approx(expected(1, "cifar10-valid", "valid", "accuracy", 200, 2.0))
    assert len(list(cache_dir().glob("NATS-tss-tiny-*.csv"))) == 2


def test_corrupt_cache_is_rebuilt_and_unwritable_cache_only_warns(copies, tmp_path, monkeypatch):
    load_truth(copies["pth"])
    (cached,) = cache_dir().glob("*.csv")
    cached.write_text("garbage\n")
    assert load_truth(copies["pth"]).values[0] == pytest.approx(expected(0, "cifar10-valid", "valid", "accuracy", 200))
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("BNBENCH_CACHE", str(blocker))
    with pytest.warns(UserWarning, match="could not cache"):
        assert len(load_truth(copies["pth"])) == 3


def test_kind_is_recognised_by_content_not_extension(built, tmp_path):
    pth_as_csv = Path(shutil.copy(built["pth"], tmp_path / "bench.csv"))
    assert detect_kind(pth_as_csv) == "nb201-pth"
    table_as_pth = convert(built["pth"], tmp_path / "table.pth")
    assert detect_kind(table_as_pth) == "table"
    assert load_truth(table_as_pth).values.tolist() == load_truth(built["pth"]).values.tolist()


# --- GroundTruth and compact tables -------------------------------------------------------------------------------

def _truth() -> GroundTruth:
    return GroundTruth(archs=list(ARCHS), indices=np.array([5, 6, 7]), values=np.array([1.0, 2.0, 3.0]),
                       spec=TruthSpec(), source="t.csv", aggregation="mean of 3 seeds x 2 folds", meta={})


def test_ground_truth_lookup_index_subset():
    truth = _truth()
    assert truth.lookup([ARCHS[2], ARCHS[0]]).tolist() == [3.0, 1.0]
    assert truth.index_of(ARCHS[1]) == 6
    sub = truth.subset([ARCHS[2], ARCHS[1]])
    assert sub.archs == [ARCHS[2], ARCHS[1]] and sub.indices.tolist() == [7, 6] and sub.values.tolist() == [3.0, 2.0]
    assert sub.description() == "cifar10-valid / validation / 200 epochs / mean of 3 seeds x 2 folds"
    with pytest.raises(BenchmarkError, match=r"t\.csv: 2 of 3 architectures .*\|none~0\|") as err:
        truth.lookup([ARCHS[0], "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "|x~0|"])
    assert "\n" not in str(err.value)


def test_write_read_table_keeps_nan_extra_columns_and_meta(tmp_path):
    cols = {"digits:valid:accuracy:15": np.array([0.5, np.nan, 0.25]),
            "digits:valid:accuracy:15:seed0": np.array([0.1, 0.2, 1 / 3])}
    path = write_table(tmp_path / "t.csv", ARCHS, [-1, -1, -1], cols, {"aggregation": "mean of 3 seeds x 2 folds",
                                                                         "config": {"seeds": [0, 1, 2]}})
    table = read_table(path)
    assert table.meta["config"] == {"seeds": [0, 1, 2]} and table.indices.tolist() == [-1, -1, -1]
    assert np.array_equal(table.columns["digits:valid:accuracy:15:seed0"], cols["digits:valid:accuracy:15:seed0"])
    truth = load_truth(path, TruthSpec("digits", "valid", "accuracy", 15))
    assert truth.archs == [ARCHS[0], ARCHS[2]] and truth.values.tolist() == [0.5, 0.25]
    assert truth.description() == "digits / validation / 15 epochs / mean of 3 seeds x 2 folds"
    with pytest.raises(BenchmarkError, match="available: digits:valid:accuracy:15") as err:
        load_truth(path, TruthSpec("digits"))  # epochs=200 is not in a 15-epoch table
    _message(err, path)


def test_table_of_15625_rows_loads_in_milliseconds(tmp_path):
    rng = np.random.default_rng(0)
    archs = [f"|a{i}~0|" for i in range(15625)]
    cols = {f"cifar10-valid:{s}:{m}:{e}": rng.random(15625) * 100 for s in ("train", "valid", "test")
            for m in ("accuracy", "loss") for e in (200, 12)}
    path = write_table(tmp_path / "big.csv", archs, np.arange(15625), cols, {})
    read_table(path)
    start = time.perf_counter()
    table = read_table(path)
    assert time.perf_counter() - start < 0.25
    assert np.array_equal(table.columns["cifar10-valid:valid:accuracy:200"], cols["cifar10-valid:valid:accuracy:200"])


# --- real shared CSVs ---------------------------------------------------------------------------------------------

def test_real_nb201_csv(nb201_csv):
    truth = load_truth(nb201_csv)
    assert len(truth) == 15625 and truth.archs[0] == INDEX0 and truth.index_of(INDEX0) == 0
    assert truth.lookup([truth.archs[1]])[0] == pytest.approx(90.769, abs=1e-3)
    assert truth.description() == "cifar10-valid / validation / 200 epochs / mean of seeds"
    test = load_truth(nb201_csv, TruthSpec(split="test"))
    assert test.values[1] == pytest.approx(90.513, abs=1e-3)


@pytest.mark.parametrize("dataset,best,value", [("cifar10", 6111, 94.373), ("cifar100", 9930, 73.513),
                                                ("ImageNet16-120", 857, 47.311)])
def test_real_nats_csv_best_cells(shared_data, dataset, best, value):
    path = shared_data / "nb201" / "nats-tss-test-200ep.csv"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    truth = load_truth(path, TruthSpec(dataset, "test"))
    assert len(truth) == 15625 and truth.archs[0] == INDEX0
    top = int(np.argmax(truth.values))
    assert truth.indices[top] == best and round(truth.values[top], 3) == value


def test_real_csv_converts_and_lacking_specs_name_what_exists(nb201_csv, tmp_path):
    out = convert(nb201_csv, tmp_path / "c10v.csv")
    assert read_table(out).columns.keys() == {f"cifar10-valid:{s}:accuracy:200" for s in ("train", "valid", "test")}
    for spec in (TruthSpec(metric="loss"), TruthSpec(epochs=12), TruthSpec(dataset="cifar100")):
        with pytest.raises(BenchmarkError, match="available: cifar10-valid:train:accuracy:200") as err:
            load_truth(nb201_csv, spec)
        _message(err, nb201_csv)


def test_real_nb201_csv_needs_a_dataset_in_its_name(nb201_csv, tmp_path):
    path = Path(shutil.copy(nb201_csv, tmp_path / "accuracies.csv"))
    with pytest.raises(BenchmarkError, match="cannot tell the dataset") as err:
        load_truth(path)
    _message(err, path)


# --- bad input ----------------------------------------------------------------------------------------------------

def _truncated_pth(tmp, built):
    data = built["pth"].read_bytes()
    return _write(tmp / "cut.pth", data[: len(data) // 2])


def _truncated_legacy_pth(tmp, built):
    data = make_nb201_pth(tmp / "legacy.pth", legacy=True).read_bytes()
    return _write(tmp / "cut-legacy.pth", data[: len(data) // 2])


def _write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return path


def _torch_other(tmp, built):
    import torch

    torch.save({"state_dict": {"w": torch.zeros(2)}}, tmp / "model.pth")
    return tmp / "model.pth"


def _plain_zip(tmp, built):
    with zipfile.ZipFile(tmp / "x.zip", "w") as zf:
        zf.writestr("a.txt", "hello")
    return tmp / "x.zip"


def _nats_missing(tmp, built):
    root = Path(shutil.copytree(built["nats"], tmp / "nats"))
    (root / "000002.pickle.pbz2").unlink()
    return root


def _nats_corrupt(tmp, built):
    root = Path(shutil.copytree(built["nats"], tmp / "nats"))
    (root / "000001.pickle.pbz2").write_bytes(bz2.compress(b"not a pickle"))
    return root


def _nats_bad_meta(tmp, built):
    root = Path(shutil.copytree(built["nats"], tmp / "nats"))
    (root / "meta.pickle.pbz2").write_bytes(b"BZh9 truncated")
    return root


BAD_INPUTS = {
    "missing path": lambda tmp, built: tmp / "nope.pth",
    "empty file": lambda tmp, built: _write(tmp / "empty.csv", b""),
    "plain directory": lambda tmp, built: tmp,
    "truncated pth": _truncated_pth,
    "truncated legacy pth": _truncated_legacy_pth,
    "pickle garbage": lambda tmp, built: _write(tmp / "g.pth", b"\x80\x04garbage-not-a-pickle"),
    "torch file of another kind": _torch_other,
    "zip that is not torch": _plain_zip,
    "bz2 single file": lambda tmp, built: _write(tmp / "NATS-tss.pickle.pbz2", bz2.compress(b"x")),
    "binary junk": lambda tmp, built: _write(tmp / "junk.bin", bytes(range(200, 256)) * 4),
    "unknown csv": lambda tmp, built: _write(tmp / "other.csv", "a,b,c\n1,2,3\n"),
    "nb201 csv without a metric column": lambda tmp, built: _write(
        tmp / "nb201-v1_1-cifar100-200ep.csv", f"file id,arch str,cfg name\n0,{INDEX0},x\n"),
    "nb201 csv without an arch column": lambda tmp, built: _write(
        tmp / "nb201-v1_1-cifar100-200ep.csv", "file id,validation accuracy\n0,50\n"),
    "nb201 csv with text values": lambda tmp, built: _write(
        tmp / "nb201-v1_1-cifar100-200ep.csv",
        f"file id,arch str,train accuracy,validation accuracy,test accuracy\n0,{INDEX0},1,ninety,2\n"),
    "nats csv without accuracy": lambda tmp, built: _write(tmp / "n.csv", f"ArchitectureString,X\n{INDEX0},1\n"),
    "nats csv with text accuracy": lambda tmp, built: _write(
        tmp / "n.csv", f"ArchitectureString,CIFAR10TestAccuracy200Epochs\n{INDEX0},high\n"),
    "table with bad json": lambda tmp, built: _write(tmp / "t.csv", "# bnbench-truth-table v1 {oops\nindex,arch\n"),
    "table without rows": lambda tmp, built: _write(tmp / "t.csv", "# bnbench-truth-table v1 {}\nindex,arch,a:b:c:1\n"),
    "table with text value": lambda tmp, built: _write(
        tmp / "t.csv", f"# bnbench-truth-table v1 {{}}\nindex,arch,a:b:c:1\n0,{INDEX0},zz\n"),
    "nats dir missing an arch file": _nats_missing,
    "nats dir corrupt arch file": _nats_corrupt,
    "nats dir corrupt meta": _nats_bad_meta,
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_a_one_line_benchmark_error_naming_the_path(case, built, tmp_path):
    path = BAD_INPUTS[case](tmp_path, built)
    with pytest.raises(BenchmarkError) as err:
        load_truth(path)
    assert "expected" in _message(err, path)
    assert not cache_dir().is_dir() or not any(cache_dir().glob("*.csv"))  # nothing cached from a bad source
