"""NB101 ground truth: the official tfrecord (written here in its format), the API pickle, accuracy CSVs, the
space every table records, and bad input."""

from __future__ import annotations

import json
import pickle
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from bnbench.errors import BenchmarkError
from bnbench.truth import convert, detect_kind, read_source, read_table, write_table
from bnbench.truth.cache import cache_dir
from bnbench.truth.info import describe_source
from bnbench.truth.nb101_metrics import decode_evaluation, decode_model_metrics
from bnbench.truth.nb101_tfrecord import read_nb101_tfrecord
from bnbench.truth.tfrecord import crc32c_python, encode_record, iter_records, masked_crc, write_records
from tests.fixtures.nb101_tfrecord import (encode_evaluation, encode_model_metrics, run_payload, synthetic_api_dict,
                                           synthetic_cells, synthetic_expected, write_nb101_pickle,
                                           write_nb101_tfrecord)
from tests.conftest import shared_file

D = "nb101-cifar10"
SPLIT_KEYS = {"train": "train_accuracy", "valid": "validation_accuracy", "test": "test_accuracy"}
NB201_ARCH = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BNBENCH_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def cells():
    return synthetic_cells(12, seed=3)


@pytest.fixture(scope="module")
def full(cells, tmp_path_factory) -> Path:
    """A nasbench_full-style file: 12 cells x 4 budgets x 3 runs."""
    data = synthetic_api_dict(cells, budgets=(4, 12, 36, 108))
    return write_nb101_tfrecord(tmp_path_factory.mktemp("nb101") / "nasbench_full.tfrecord", data)


@pytest.fixture(scope="module")
def real_pkl(shared_data) -> Path:
    return shared_file(shared_data, "nb101", "nb101-30-records.pkl")


@pytest.fixture(scope="module")
def real_csv(shared_data) -> Path:
    return shared_file(shared_data, "nb101", "naslib-nb101-cifar10-250.csv")


def _load_pickle(path: Path) -> dict:
    with open(path, "rb") as fh:
        return pickle.load(fh)


def _message(excinfo, path) -> str:
    text = str(excinfo.value)
    assert str(path) in text and "\n" not in text
    return text


def _column(table, split: str, epochs: int = 108, suffix: str = "") -> np.ndarray:
    return table.columns[f"{D}:{split}:accuracy:{epochs}{suffix}"]


# --- the official tfrecord ----------------------------------------------------------------------------------------

def test_tfrecord_of_the_30_records_reads_back_every_hash_and_value(real_pkl, tmp_path, shared_data):
    from bnbench.spaces.nb101.arch import module_hash, parse

    data = _load_pickle(real_pkl)
    path = write_nb101_tfrecord(tmp_path / "nasbench_only108.tfrecord", data)
    assert detect_kind(path) == "nb101-tfrecord"
    table = read_source(path)
    assert sorted(table.archs) == sorted(data) and table.meta["space"] == "nb101"
    assert table.meta["records"] == 90 and table.meta["aggregation"] == "mean of the 3 runs per cell"
    assert (table.indices == -1).all()
    for row, key in enumerate(table.archs):
        fixed, computed = data[key]
        runs = computed[108]
        for split, name in SPLIT_KEYS.items():
            assert _column(table, split)[row] == pytest.approx(100 * np.mean([r[f"final_{name}"] for r in runs]),
                                                               abs=1e-12)
            assert _column(table, split, suffix=":halfway")[row] == pytest.approx(
                100 * np.mean([r[f"halfway_{name}"] for r in runs]), abs=1e-12)
        assert table.columns[f"{D}:seeds:108"][row] == 3
        assert table.columns["trainable_parameters"][row] == fixed["trainable_parameters"]
        assert module_hash(parse(table.arch_specs[row])) == key  # the spec builds the very cell the key names
    # an independent source: the flattened CSV of the same records (means as fractions)
    flat = __import__("pandas").read_csv(shared_data / "nb101" / "nb101-30-records.csv").set_index("nb101_hash")
    got = dict(zip(table.archs, _column(table, "valid")))
    for key, mean in flat["mean_final_validation_accuracy"].items():
        assert got[key] == pytest.approx(100 * mean, abs=1e-9)
    assert 80 < min(got.values()) and max(got.values()) < 95  # percent, not fractions


def test_full_file_has_every_budget_as_the_mean_of_three_runs(full, cells):
    table = read_nb101_tfrecord(full)
    assert table.archs == [key for key, _ in cells]
    for epochs in (4, 12, 36, 108):
        assert table.columns[f"{D}:seeds:{epochs}"].tolist() == [3.0] * len(cells)
        for split, name in SPLIT_KEYS.items():
            want = [synthetic_expected(c, epochs, name) for c in range(len(cells))]
            assert _column(table, split, epochs).tolist() == pytest.approx(want, abs=1e-12)
            half = [synthetic_expected(c, epochs, name, halfway=True) for c in range(len(cells))]
            assert _column(table, split, epochs, ":halfway").tolist() == pytest.approx(half, abs=1e-12)
    assert {s.epochs for s in table.specs()} == {4, 12, 36, 108}
    assert {s.dataset for s in table.specs()} == {D}  # halfway columns are extra columns, not quantities
    assert table.columns["trainable_parameters"].tolist() == [1000.0 + c for c in range(len(cells))]


def test_tfrecord_is_cached_and_the_cache_keeps_specs_and_space(full, monkeypatch):
    first = read_source(full)
    import bnbench.truth.load as load

    monkeypatch.setitem(load.READERS, "nb101-tfrecord", lambda p: pytest.fail("read again instead of the cache"))
    second = read_source(full)
    assert second.archs == first.archs and second.arch_specs == first.arch_specs
    assert second.meta["space"] == "nb101" and second.meta["source_kind"] == "nb101-tfrecord"
    for name, values in first.columns.items():
        assert np.array_equal(second.columns[name], values, equal_nan=True), name
    assert len(list(cache_dir().glob("*.csv"))) == 1


def _records(path: Path) -> list[bytes]:
    return list(iter_records(path))


def test_truncated_corrupt_and_foreign_tfrecords_are_one_line_errors(full, tmp_path):
    raw = full.read_bytes()
    lengths = [len(encode_record(r)) for r in _records(full)]
    cases = {}
    cases["truncated.tfrecord"] = (raw[:-10], r"truncated file: record 143 \(byte \d+\) ends after")
    cases["cut-in-header.tfrecord"] = (raw[:sum(lengths[:5]) + 7], "truncated file: record 5 .* 7-byte header")
    start = sum(lengths[:7])
    flipped = bytearray(raw)
    flipped[start + 30] ^= 0x01
    cases["bad-data-crc.tfrecord"] = (bytes(flipped), r"corrupt file: record 7 \(byte \d+\): the data checksum")
    flipped = bytearray(raw)
    flipped[start + 1] ^= 0x01
    cases["bad-length-crc.tfrecord"] = (bytes(flipped), "corrupt file: record 7 .* length checksum")
    cases["json-but-foreign.tfrecord"] = (encode_record(b'["a", 1]'), "record 0: not a JSON list .*foreign")
    for name, (content, pattern) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(BenchmarkError, match=pattern) as err:
            read_source(path)
        assert "nasbench_only108.tfrecord" in _message(err, path)
    foreign = write_records(tmp_path / "examples.tfrecord", [b"\n\x07example", b"\n\x03two"])
    with pytest.raises(BenchmarkError, match="a TFRecord file whose records are not NAS-Bench-101's") as err:
        read_source(foreign)
    _message(err, foreign)
    assert not cache_dir().is_dir() or not any(cache_dir().glob("*.csv"))


def _one_cell_file(tmp_path: Path, key: str, fixed: dict, name: str) -> Path:
    run = {f"{w}_{k}": 0.5 for w in ("final", "halfway") for k in ("train_accuracy", "validation_accuracy",
                                                                     "test_accuracy", "training_time")}
    return write_records(tmp_path / name, [run_payload(key, 108, fixed, run)])


def test_tfrecord_with_a_wrong_hash_or_an_unpruned_cell_is_refused(cells, tmp_path):
    key, cell = cells[0]
    fixed = {"module_adjacency": cell.array(), "module_operations": list(cell.ops), "trainable_parameters": 1}
    wrong = _one_cell_file(tmp_path, cells[1][0], fixed, "wrong.tfrecord")
    with pytest.raises(BenchmarkError, match=f"record 0: stored module hash {cells[1][0]} differs from its cell's, "
                                             f"{key}") as err:
        read_source(wrong)
    _message(err, wrong)
    from bnbench.spaces.nb101.arch import make_cell, module_hash

    small = make_cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    dangling = [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]]  # vertex 2 reaches no output: pruned
    ops = ["input", "conv3x3-bn-relu", "maxpool3x3", "output"]
    unpruned = _one_cell_file(tmp_path, module_hash(small), {**fixed, "module_adjacency": dangling,
                                                             "module_operations": ops}, "unpruned.tfrecord")
    with pytest.raises(BenchmarkError, match="record 0: cell .* is not pruned"):
        read_source(unpruned)


def test_tfrecord_record_with_a_bad_cell_is_refused(cells, tmp_path):
    key, cell = cells[0]
    fixed = {"module_adjacency": cell.array(), "module_operations": [*cell.ops[:-2], "conv5x5", "output"],
             "trainable_parameters": 1}
    path = _one_cell_file(tmp_path, key, fixed, "badop.tfrecord")
    with pytest.raises(BenchmarkError, match="record 0: ops .* are not input"):
        read_source(path)


# --- framing and protobuf decoding, checked against the specifications ------------------------------------------

def test_crc32c_and_mask_match_the_published_check_values():
    assert crc32c_python(b"123456789") == 0xE3069283  # RFC 3720's CRC-32C check value
    assert crc32c_python(b"") == 0
    assert crc32c_python(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4: 32 bytes of zeros
    crc = 0xE3069283
    assert masked_crc(b"123456789") == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    record = encode_record(b"abc")
    assert record[:8] == struct.pack("<Q", 3) and record[12:15] == b"abc" and len(record) == 3 + 16


def test_fast_crc_matches_the_fallback():
    google_crc32c = pytest.importorskip("google_crc32c")
    rng = np.random.default_rng(0)
    for size in (0, 1, 7, 64, 1000):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        assert google_crc32c.value(data) == crc32c_python(data)


def test_evaluation_data_decodes_bytes_derived_from_the_proto_by_hand():
    # field 1 (current_epoch, double) key 0x09; field 4 (validation_accuracy) key 0x21; field 6 (string) 0x32
    buf = b"\x09" + struct.pack("<d", 108.0) + b"\x21" + struct.pack("<d", 0.9375) + b"\x32\x03abc"
    ev = decode_evaluation(buf)
    assert ev.current_epoch == 108.0 and ev.validation_accuracy == 0.9375
    assert np.isnan(ev.test_accuracy) and np.isnan(ev.train_accuracy)  # absent: not measured, never 0.0
    fast = encode_evaluation(54.0, 1.5, 0.25, 0.5, 0.75, "ckpt")
    assert fast[:9] == b"\x09" + struct.pack("<d", 54.0)
    assert tuple(decode_evaluation(fast)) == (54.0, 1.5, 0.25, 0.5, 0.75)
    # a repeated field: the last value wins (protobuf's rule), also after the five-field fast path
    assert decode_evaluation(fast + b"\x29" + struct.pack("<d", 0.125)).test_accuracy == 0.125
    # ModelMetrics: evaluation_data key 0x0a + length, trainable_parameters key 0x10 + varint, total_time 0x19
    msg = b"\x0a" + bytes([len(buf)]) + buf + b"\x10\xe8\x07" + b"\x19" + struct.pack("<d", 2.5) + b"\x28\x01"
    metrics = decode_model_metrics(msg)
    assert metrics.trainable_parameters == 1000 and metrics.total_time == 2.5 and len(metrics.evaluations) == 1
    assert decode_model_metrics(b"\x10" + b"\xff" * 9 + b"\x01").trainable_parameters == -1  # int32 sign-extended


@pytest.mark.parametrize("buf, reason", [
    (b"\x21\x00\x00", "runs past the end"), (b"\x0a\x05\x09", "runs past the end"),
    (b"\x08\x01", "not an embedded message"), (b"\x0a\x02\x08\x01", "not a double"),
    (b"\x10" + b"\xff" * 11, "longer than 10 bytes"), (b"\x23", "wire type 3"),
])
def test_malformed_metrics_are_errors(buf, reason):
    with pytest.raises(ValueError, match=reason):
        decode_model_metrics(buf)


def test_decoder_agrees_with_the_protobuf_package():
    pytest.importorskip("google.protobuf")
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    proto = descriptor_pb2.FileDescriptorProto(name="nb101_model_metrics_test.proto", package="nasbench",
                                               syntax="proto2")
    ev = proto.message_type.add(name="EvaluationData")
    F = descriptor_pb2.FieldDescriptorProto
    for number, name in enumerate(("current_epoch", "training_time", "train_accuracy", "validation_accuracy",
                                   "test_accuracy"), 1):
        ev.field.add(name=name, number=number, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    ev.field.add(name="checkpoint_path", number=6, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    mm = proto.message_type.add(name="ModelMetrics")
    mm.field.add(name="evaluation_data", number=1, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
                 type_name=".nasbench.EvaluationData")
    mm.field.add(name="trainable_parameters", number=2, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
    mm.field.add(name="total_time", number=3, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    ModelMetrics = message_factory.GetMessageClass(pool.FindMessageTypeByName("nasbench.ModelMetrics"))
    theirs = ModelMetrics(trainable_parameters=-7, total_time=3.25)
    for i in range(3):
        theirs.evaluation_data.add(current_epoch=i * 54.0, training_time=i + 0.5, train_accuracy=0.1 * i,
                                   validation_accuracy=0.2 * i, test_accuracy=0.3 * i, checkpoint_path=f"c{i}")
    ours = decode_model_metrics(theirs.SerializeToString())
    assert ours.trainable_parameters == -7 and ours.total_time == 3.25
    assert [tuple(e) for e in ours.evaluations] == [(i * 54.0, i + 0.5, 0.1 * i, 0.2 * i, 0.3 * i) for i in range(3)]
    mine = encode_model_metrics([encode_evaluation(108.0, 1.0, 0.5, 0.25, 0.125, "x")], 1234, 9.0)
    parsed = ModelMetrics.FromString(mine)  # the fixture's encoder writes what protobuf reads
    assert parsed.trainable_parameters == 1234 and parsed.evaluation_data[0].validation_accuracy == 0.25


# --- the API pickle -----------------------------------------------------------------------------------------------

def test_real_pickle_equals_the_tfrecord_of_the_same_records(real_pkl, tmp_path):
    assert detect_kind(real_pkl) == "nb101-pkl"
    table = read_source(real_pkl)
    tf_table = read_source(write_nb101_tfrecord(tmp_path / "same.tfrecord", _load_pickle(real_pkl)))
    assert table.archs == tf_table.archs and table.arch_specs == tf_table.arch_specs
    assert table.columns.keys() == tf_table.columns.keys()
    for name, values in table.columns.items():
        assert np.array_equal(values, tf_table.columns[name]), name
    assert table.meta["space"] == "nb101" and table.meta["checks"] == "module hash recomputed for all 30 cells"


def test_pickle_with_a_wrong_key_or_a_foreign_class_is_refused(cells, tmp_path):
    data = synthetic_api_dict(cells[:3])
    keys = list(data)
    data[keys[0][::-1]] = data.pop(keys[0])
    wrong = write_nb101_pickle(tmp_path / "wrong.pkl", data)
    assert detect_kind(wrong) == "nb101-pkl"
    with pytest.raises(BenchmarkError, match=f"key {keys[0][::-1]} is not the module hash of its cell "
                                             f"\\({keys[0]}\\)") as err:
        read_source(wrong)
    _message(err, wrong)
    evil = write_nb101_pickle(tmp_path / "evil.pkl", {keys[1]: (Path("x"), {})})
    with pytest.raises(BenchmarkError, match="global pathlib.* is not allowed") as err:
        read_source(evil)
    _message(err, evil)


def test_a_value_missing_from_one_run_is_the_mean_of_the_others(cells, tmp_path):
    data = synthetic_api_dict(cells[:2])
    del data[cells[0][0]][1][108][2]["final_test_accuracy"]
    table = read_source(write_nb101_pickle(tmp_path / "gap.pkl", data))
    want = 100 * (0.125 + 0 / 1024 + 3 / 64 + 0.5 / 256)  # runs 0 and 1 of cell 0: mean of r/256 is 0.5/256
    assert _column(table, "test")[0] == pytest.approx(want, abs=1e-12)
    assert _column(table, "valid")[0] == pytest.approx(synthetic_expected(0, 108, "validation_accuracy"))
    assert table.columns[f"{D}:seeds:108"].tolist() == [3.0, 3.0]


# --- accuracy CSVs ------------------------------------------------------------------------------------------------

def test_real_csv_prunes_hashes_and_averages_repeated_cells(real_csv):
    import pandas as pd

    from bnbench.spaces.nb101.arch import make_cell, module_hash, parse

    assert detect_kind(real_csv) == "nb101-csv"
    with pytest.raises(BenchmarkError, match="cannot tell the training budget .* --truth-epochs") as err:
        read_source(real_csv)
    _message(err, real_csv)
    table = read_source(real_csv, dataset="cifar10", epochs=108)
    df = pd.read_csv(real_csv)
    df["key"] = [module_hash(make_cell(json.loads(a), json.loads(o))) for a, o in zip(df.adjacency, df.ops)]
    groups = df.groupby("key")["validation_accuracy"]
    assert len(table.archs) == 162 == groups.ngroups and len(df) == 250
    means, counts = groups.mean(), groups.size()
    values = dict(zip(table.archs, _column(table, "valid")))
    seeds = dict(zip(table.archs, table.columns[f"{D}:seeds:108"]))
    for key in table.archs:
        assert values[key] == pytest.approx(means[key], abs=1e-9)
        assert seeds[key] == counts[key]
    assert sum(seeds.values()) == 250 and max(seeds.values()) == 29
    assert table.meta["aggregation"] == "mean of the 1-29 rows listed per cell"
    assert max(sum(map(sum, json.loads(a))) for a in df.adjacency) > 9  # raw rows exceed 9 edges ...
    assert all(parse(s).num_edges <= 9 for s in table.arch_specs)  # ... the pruned cells do not
    assert list(table.columns) == [f"{D}:valid:accuracy:108", f"{D}:seeds:108"]


def test_csv_budget_comes_from_the_name_or_truth_epochs_and_must_be_nb101s(real_csv, tmp_path):
    named = Path(shutil.copy(real_csv, tmp_path / "nb101-cifar10-108ep.csv"))
    table = read_source(named)
    assert table.meta["setting_from"] == "its file name" and f"{D}:valid:accuracy:108" in table.columns
    with pytest.raises(BenchmarkError, match="its file name says 108 epochs but --truth-epochs says 36"):
        read_source(named, epochs=36)
    with pytest.raises(BenchmarkError, match="200 epochs is not an NB101 budget"):
        read_source(real_csv, epochs=200)
    with pytest.raises(BenchmarkError, match="one setting, nb101-cifar10 .* not --dataset cifar100") as err:
        read_source(real_csv, dataset="cifar100", epochs=108)
    _message(err, real_csv)
    assert read_source(real_csv, dataset=D, epochs=108).archs == read_source(real_csv, epochs=108).archs


ADJ = '"[[0, 1, 0], [0, 0, 1], [0, 0, 0]]"'
OPS = '"[""input"", ""conv3x3-bn-relu"", ""output""]"'
ROW = f"{ADJ},{OPS}"


@pytest.mark.parametrize("text, pattern", [
    (f"adjacency,ops,validation_accuracy\n{ROW},0.93\n", r"fractions, not the percentages"),
    (f"adjacency,ops,validation_accuracy\n{ROW},ninety\n", r"line 2: column 'validation_accuracy' holds 'ninety'"),
    (f"adjacency,ops,validation_accuracy\n{ROW},93\n{ROW},130\n", r"outside 0-100"),
    ('adjacency,ops,validation_accuracy\n"[[0, 0], [0, 0]]","[""input"", ""output""]",93\n',
     r"line 2: NB101 cell .*no path from input to output"),
    (f"adjacency,ops,validation_accuracy\n{ROW},93\n\"[[0,1],[0,0]]\",oops,93\n",
     r"line 3: adjacency / ops are not JSON"),
    (f"adjacency,ops,nb101_hash,validation_accuracy\n{ROW},{'0' * 32},93\n", r"line 2: nb101_hash '0{32}' is not"),
    (f"adjacency,ops,params\n{ROW},93\n", r"NB101 CSV without a metric column"),
    ("adjacency,ops,validation_accuracy\n", r"CSV has no rows"),
])
def test_bad_nb101_csv_is_a_one_line_error(text, pattern, tmp_path):
    path = tmp_path / "cells-108ep.csv"
    path.write_text(text)
    with pytest.raises(BenchmarkError, match=pattern) as err:
        read_source(path)
    _message(err, path)


def test_csv_hash_column_is_checked_and_rows_of_one_cell_average(tmp_path):
    from bnbench.spaces.nb101.arch import make_cell, module_hash

    key = module_hash(make_cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"]))
    # the same pruned cell, once with a dangling maxpool vertex (pruned away) and once as is
    dangling = '"[[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]]",' \
               '"[""input"", ""conv3x3-bn-relu"", ""maxpool3x3"", ""output""]"'
    path = tmp_path / "x-12ep.csv"
    path.write_text(f"adjacency,ops,nb101_hash,validation_accuracy,test_acc\n{ROW},{key},90,80\n{dangling},,93,\n")
    table = read_source(path)
    assert table.archs == [key] and table.meta["setting_from"] == "its file name"
    assert _column(table, "valid", 12).tolist() == [91.5] and _column(table, "test", 12).tolist() == [80.0]
    assert table.columns[f"{D}:seeds:12"].tolist() == [2.0]


# --- every table records its space ------------------------------------------------------------------------------

def test_a_table_of_another_space_is_refused_naming_both(full, tmp_path, nb201_csv):
    with pytest.raises(BenchmarkError, match=r"a ground truth of the NB101 space \(module hashes\), but --space nb201") as err:
        read_source(full, space="nb201")
    _message(err, full)
    assert read_source(full, space="nb101").meta["space"] == "nb101"
    with pytest.raises(BenchmarkError, match=r"a ground truth of the NB201 space \(NB201 arch strings\), but --space nb101"):
        read_source(nb201_csv, space="nb101")
    assert read_source(nb201_csv, space="nb201").meta["space"] == "nb201"
    converted = convert(full, tmp_path / "nb101-table.csv")
    with pytest.raises(BenchmarkError, match="a ground truth of the NB101 space") as err:
        read_source(converted, space="nb201")
    _message(err, converted)


def test_old_tables_without_a_space_are_inferred_from_their_keys(cells, tmp_path):
    old201 = write_table(tmp_path / "old201.csv", [NB201_ARCH], [0], {"cifar10-valid:valid:accuracy:200": [90.0]},
                         {"source": "t"})
    assert "space" not in read_table(old201).meta and read_source(old201).meta["space"] == "nb201"
    with pytest.raises(BenchmarkError, match="a ground truth of the NB201 space"):
        read_source(old201, space="nb101")
    old101 = write_table(tmp_path / "old101.csv", [cells[0][0]], [-1], {f"{D}:valid:accuracy:108": [90.0]},
                         {"source": "t"})
    with pytest.raises(BenchmarkError, match="a ground truth of the NB101 space"):
        read_source(old101, space="nb201")
    built = write_table(tmp_path / "built.csv", ["a", "b"], [-1, -1], {"digits:valid:accuracy:5": [1.0, 2.0]},
                        {"source": "bnbench truth build", "config": {"space": "nb101"}})
    assert read_source(built).meta["space"] == "nb101"
    unknown = write_table(tmp_path / "unknown.csv", ["a"], [-1], {"digits:valid:accuracy:5": [1.0]}, {})
    assert "space" not in read_source(unknown, space="nb101").meta  # nothing tells: never refused


def test_nb201_sources_record_their_space(nb201_csv, tmp_path):
    assert read_source(nb201_csv).meta["space"] == "nb201"
    out = convert(nb201_csv, tmp_path / "t.csv")
    assert read_table(out).meta["space"] == "nb201"


def test_nb201_tables_are_written_exactly_as_before(tmp_path):
    path = write_table(tmp_path / "t.csv", [NB201_ARCH, "|b|"], [3, -1], {"cifar10:test:accuracy:200": [93.5, np.nan]},
                       {"source": "t", "created": "c", "versions": {}})
    assert path.read_text() == ('# bnbench-truth-table v1 {"format": "bnbench-truth-table v1", "source": "t", '
                                '"created": "c", "versions": {}}\nindex,arch,cifar10:test:accuracy:200\n'
                                f"3,{NB201_ARCH},93.5\n-1,|b|,\n")
    assert read_table(path).arch_specs is None


# --- conversion, info, detection ---------------------------------------------------------------------------------

def test_conversion_to_the_compact_table_and_back_is_lossless(full, tmp_path):
    table = read_source(full)
    out = convert(full, tmp_path / "nb101.csv")
    assert out.read_text().splitlines()[1].startswith("index,arch,spec,nb101-cifar10:train:accuracy:108,")
    back = read_table(out)
    assert detect_kind(out) == "table"
    assert back.archs == table.archs and back.arch_specs == table.arch_specs
    assert back.indices.tolist() == table.indices.tolist() and back.columns.keys() == table.columns.keys()
    for name, values in table.columns.items():
        assert np.array_equal(back.columns[name], values, equal_nan=True), name
    assert back.meta["space"] == "nb101" and back.meta["source_kind"] == "nb101-tfrecord"
    again = convert(out, tmp_path / "again.csv")
    assert again.read_bytes() == out.read_bytes()
    assert back.arch_specs_of([table.archs[2], table.archs[0]]) == [table.arch_specs[2], table.arch_specs[0]]
    with pytest.raises(BenchmarkError, match="1 truth keys are not in the table"):
        back.arch_specs_of(["f" * 32])


def test_truth_info_describes_each_nb101_source(full, real_pkl, real_csv):
    tf_lines = "\n".join(describe_source(full))
    assert "official NAS-Bench-101 .tfrecord (nb101-tfrecord)" in tf_lines
    assert "architectures: 12 (no benchmark index)" in tf_lines and "space: nb101 (keys: module hashes" in tf_lines
    assert "aggregation: mean of the 3 runs per cell" in tf_lines
    for epochs in (108, 36, 12, 4):
        assert f"{epochs} epochs (12 archs" in tf_lines
    assert "seeds per arch: 3" in tf_lines and "nb101-cifar10:" in tf_lines
    pkl_lines = "\n".join(describe_source(real_pkl))
    assert "NAS-Bench-101 API pickle (nb101-pkl)" in pkl_lines and "architectures: 30" in pkl_lines
    csv_lines = "\n".join(describe_source(real_csv, epochs=108))
    assert "NAS-Bench-101 accuracy CSV (nb101-csv)" in csv_lines and "architectures: 162" in csv_lines
    assert "rows: 250 rows, 162 distinct cells" in csv_lines and "seeds per arch: 1-29" in csv_lines
    assert "columns read: adjacency <- 'adjacency', ops <- 'ops'" in csv_lines


def test_kinds_are_recognised_by_content_not_name(full, cells, tmp_path):
    assert detect_kind(Path(shutil.copy(full, tmp_path / "looks-like.csv"))) == "nb101-tfrecord"
    pkl = write_nb101_pickle(tmp_path / "nb101.pth", synthetic_api_dict(cells[:2]))
    assert detect_kind(pkl) == "nb101-pkl"
    csv = tmp_path / "cells.txt"
    csv.write_text(f"ops,adjacency,test accuracy\n{OPS},{ADJ},90\n")
    assert detect_kind(csv) == "nb101-csv"
    for protocol in (2, 5):  # Python 2-era dumps (protocol 2) store numpy arrays another way
        old = tmp_path / f"p{protocol}.pkl"
        old.write_bytes(pickle.dumps(synthetic_api_dict(cells[:2]), protocol=protocol))
        assert detect_kind(old) == "nb101-pkl" and read_source(old).archs == [key for key, _ in cells[:2]]
    plain = tmp_path / "list.pkl"
    plain.write_bytes(pickle.dumps([1, 2, 3]))
    assert detect_kind(plain) == "nb201-pth"  # other pickles: as before (its reader names what it expected)
