"""Issue 16, ground-truth traps: no silent low-fidelity fallback (1), the setting is not taken from a file name
alone (2), minimal accuracy CSVs are accepted (8), and ``truth info`` says what a source holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bnbench.cli import main
from bnbench.errors import BenchmarkError
from bnbench.experiment import RunOptions, load_ground_truth
from bnbench.truth import TruthSpec, convert, load_truth, read_source, write_table
from bnbench.truth.info import describe_source
from bnbench.truth.select import BUILT_SOURCE, resolve_spec
from tests.fixtures.truth_benchmarks import make_nb201_pth


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BNBENCH_CACHE", str(tmp_path / "cache"))


def _truth(benchmark, dataset=None, split="valid", epochs=None):
    opts = RunOptions(benchmark=str(benchmark), dataset=dataset, truth_split=split, truth_epochs=epochs)
    return load_ground_truth(opts, dataset or "cifar10-valid")


def _one_line(excinfo) -> str:
    text = str(excinfo.value)
    assert "\n" not in text
    return text


@pytest.fixture(scope="module")
def real(nb201_csv) -> pd.DataFrame:
    return pd.read_csv(nb201_csv).iloc[::97].reset_index(drop=True)  # 162 cells across the index range


# --- 1. no silent fallback to a low-fidelity budget ---------------------------------------------------------------

def test_case_12_epoch_only_source_is_refused_until_asked_for(shared_cases):
    path = shared_cases / "truth-12ep-only.csv"
    with pytest.raises(BenchmarkError, match=r"no 200-epoch value.*--truth-epochs 12") as err:
        _truth(path, "cifar10", "test")
    assert str(path) in _one_line(err)
    truth = _truth(path, "cifar10", "test", epochs=12)
    assert truth.spec.epochs == 12 and len(truth) == 60
    assert truth.description() == "cifar10 / test / 12 epochs / mean of seeds"


def test_case_12_epoch_only_exits_2_from_the_cli(shared_cases, tmp_path, capsys):
    code = main(["correlate", "--benchmark", str(shared_cases / "truth-12ep-only.csv"), "--dataset", "cifar10",
                 "--truth-split", "test", "--indicators", "params", "--out", str(tmp_path / "o"), "--no-progress"])
    assert code == 2 and "--truth-epochs 12" in capsys.readouterr().err
    assert not (tmp_path / "o" / "results.json").exists()


def test_a_converted_benchmark_table_is_still_a_benchmark_source(shared_cases, tmp_path):
    """Converting does not launder a 12-epoch benchmark table into a 'bnbench table' that sets its own budget."""
    out = convert(shared_cases / "truth-12ep-only.csv", tmp_path / "t.csv")
    with pytest.raises(BenchmarkError, match="--truth-epochs 12"):
        _truth(out, "cifar10", "test")


def test_a_bnbench_built_table_keeps_its_recorded_budget(tmp_path):
    archs = ["|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|",
             "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|"]
    meta = {"source": BUILT_SOURCE, "aggregation": "mean of 2 seeds x 3 folds", "config": {"seeds": [0, 1]}}
    path = write_table(tmp_path / "built.csv", archs, [-1, -1], {"digits:valid:accuracy:5": np.array([90.0, 80.0])},
                       meta)
    assert _truth(path, "digits").spec.epochs == 5
    unbuilt = write_table(tmp_path / "other.csv", archs, [-1, -1], {"digits:valid:accuracy:5": np.array([90.0, 80.0])},
                          {"source": "somewhere"})
    with pytest.raises(BenchmarkError, match="--truth-epochs 5"):
        _truth(unbuilt, "digits")


def test_both_budgets_present_means_200_and_12_only_when_asked(tmp_path):
    pth = make_nb201_pth(tmp_path / "NAS-Bench-201-v1_1-tiny.pth")
    table = read_source(pth)
    assert resolve_spec(table, "cifar10", "test", "accuracy", None, pth).epochs == 200
    assert resolve_spec(table, "cifar10", "test", "accuracy", 12, pth).epochs == 12


# --- 2. the setting is not taken from a file name alone ----------------------------------------------------------

def test_case_named_wrong_is_refused_for_every_split(shared_cases):
    path = shared_cases / "truth-named-wrong" / "nb201-v1_1-cifar10-200ep.csv"
    for split in ("valid", "test", "train"):
        with pytest.raises(BenchmarkError, match="no validation split.*cifar10-valid") as err:
            _truth(path, "cifar10", split)
        assert str(path) in _one_line(err)


def test_no_split_the_setting_lacks_is_ever_reported():
    with pytest.raises(BenchmarkError, match="cifar10 setting has no validation split"):
        TruthSpec("cifar10", "valid")
    assert TruthSpec("cifar10", "test").describe() == "cifar10 / test / 200 epochs / mean of seeds"
    assert TruthSpec("digits", "valid").split == "valid"  # bnbench-built settings define their own splits


def _write(df: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return path


def test_values_of_another_setting_under_a_name_are_refused(real, tmp_path, shared_data):
    c10v = real  # cifar10-valid rows
    # CIFAR-10 accuracies named cifar100: above any cifar100 cell's accuracy
    with pytest.raises(BenchmarkError, match="above any NB201 cell's in that setting"):
        load_truth(_write(c10v, tmp_path / "a" / "nb201-v1_1-cifar100-200ep.csv"), TruthSpec("cifar100", "test"))
    # CIFAR-100 accuracies named cifar10-valid: within CIFAR-10's range cell by cell, but not as a whole
    c100 = pd.read_csv(shared_data / "nb201" / "nb201-v1_1-cifar100-200ep.csv").iloc[::97]
    with pytest.raises(BenchmarkError, match="median validation accuracy"):
        load_truth(_write(c100, tmp_path / "b" / "nb201-v1_1-cifar10-valid-200ep.csv"))
    # ImageNet16-120 named cifar100
    imnet = pd.read_csv(shared_data / "nb201" / "nb201-v1_1-ImageNet16-120-200ep.csv").iloc[::97]
    with pytest.raises(BenchmarkError, match="median validation accuracy"):
        load_truth(_write(imnet, tmp_path / "c" / "nb201-v1_1-cifar100-200ep.csv"), TruthSpec("cifar100"))
    # each file under its own name is accepted
    for df, name, spec in ((c100, "cifar100", TruthSpec("cifar100")), (imnet, "ImageNet16-120",
                                                                         TruthSpec("ImageNet16-120"))):
        assert len(load_truth(_write(df, tmp_path / "d" / f"nb201-v1_1-{name}-200ep.csv"), spec)) == len(df)


def test_a_cifar10_table_whose_validation_column_repeats_the_test_column_keeps_only_the_test_split(real, tmp_path):
    df = real.assign(**{"validation accuracy": real["test accuracy"]})
    path = _write(df, tmp_path / "nb201-v1_1-cifar10-200ep.csv")
    table = read_source(path)
    assert sorted(s.split for s in table.specs()) == ["test", "train"]
    assert load_truth(path, TruthSpec("cifar10", "test")).values.tolist() == df["test accuracy"].tolist()


def test_fractions_are_not_taken_for_percentages(real, tmp_path):
    df = real.assign(**{c: real[c] / 100 for c in ("train accuracy", "validation accuracy", "test accuracy")})
    with pytest.raises(BenchmarkError, match="fractions"):
        load_truth(_write(df, tmp_path / "nb201-v1_1-cifar10-valid-200ep.csv"))


def test_name_and_explicit_dataset_must_agree(nb201_csv):
    with pytest.raises(BenchmarkError, match="file name says cifar10-valid but --dataset says cifar100"):
        _truth(nb201_csv, "cifar100")
    assert len(_truth(nb201_csv, "cifar10-valid")) == 15625


# --- 8. minimal accuracy CSVs ------------------------------------------------------------------------------------

def test_case_minimal_csv_is_accepted_with_absent_splits_absent(shared_cases, capsys):
    path = shared_cases / "truth-minimal" / "nb201-v1_1-cifar10-valid-200ep.csv"
    truth = _truth(path)
    df = pd.read_csv(path)
    assert len(truth) == len(df) == 40
    assert truth.lookup(df["arch str"]).tolist() == df["validation accuracy"].tolist()
    assert (truth.indices == -1).all()
    assert truth.description() == "cifar10-valid / validation / 200 epochs / aggregation not recorded in the file"
    with pytest.raises(BenchmarkError, match="has no cifar10-valid:test:accuracy:200.*available: "
                                             "cifar10-valid:valid:accuracy:200"):
        _truth(path, split="test")


def test_minimal_csv_column_spellings_and_a_name_that_does_not_tell(real, tmp_path):
    df = real[["arch str", "validation accuracy"]].rename(columns={"arch str": "arch",
                                                                   "validation accuracy": "valid_acc"})
    path = _write(df, tmp_path / "my-results.csv")
    with pytest.raises(BenchmarkError, match="cannot tell the dataset and budget.*--dataset and --truth-epochs"):
        _truth(path)
    with pytest.raises(BenchmarkError, match="pass --truth-epochs"):
        _truth(path, "cifar10-valid")
    truth = _truth(path, "cifar10-valid", epochs=200)
    assert truth.lookup(df["arch"]).tolist() == df["valid_acc"].tolist() and truth.spec == TruthSpec()
    both = df.assign(**{"validation accuracy": df["valid_acc"]})
    with pytest.raises(BenchmarkError, match="both hold the valid accuracy"):
        _truth(_write(both, tmp_path / "x-cifar10-valid-200ep.csv"))


def test_minimal_csv_with_repeated_or_missing_arch_is_refused(real, tmp_path):
    df = real[["arch str", "validation accuracy"]]
    rep = pd.concat([df, df.iloc[:1]])
    with pytest.raises(BenchmarkError, match="repeated"):
        _truth(_write(rep, tmp_path / "r" / "nb201-v1_1-cifar10-valid-200ep.csv"))


# --- truth info ------------------------------------------------------------------------------------------------

def test_truth_info_lists_what_a_source_holds(tmp_path, shared_cases, capsys):
    pth = make_nb201_pth(tmp_path / "NAS-Bench-201-v1_1-tiny.pth")
    text = "\n".join(describe_source(pth))
    assert "official NAS-Bench-201 .pth" in text and "architectures: 3 (3 with a benchmark index)" in text
    for line in ("cifar10:", "cifar100:", "ImageNet16-120:", "cifar10-valid:"):
        assert f"\n{line}\n" in text
    assert "validation accuracy: 200 epochs (3 archs" in text and "; 12 epochs (3 archs" in text
    assert "seeds per arch: 2" in text
    cifar10 = text.split("\ncifar10:\n")[1].split("\ncifar100:")[0]
    assert "validation" not in cifar10 and "test accuracy" in cifar10 and "train loss" in cifar10
    assert main(["truth", "info", str(shared_cases / "truth-minimal" / "nb201-v1_1-cifar10-valid-200ep.csv")]) == 0
    out = capsys.readouterr().out
    assert "architectures: 40 (no benchmark index)" in out and "'validation accuracy' -> " in out
    assert "test accuracy" not in out


@pytest.mark.parametrize("space", ["nb201", "nb101", "darts", "mobilenet"])
def test_truth_info_of_the_embedded_table_states_its_protocol(space):
    import re

    from bnbench.embedded import TABLES, embedded_truth_path

    assert space in TABLES
    text = "\n".join(describe_source(embedded_truth_path(space)))
    seeds = re.search(r"seeds per arch: (\d+) \(x (\d+) folds\)", text)
    assert "built by bnbench" in text and seeds and int(seeds[1]) >= 2 and int(seeds[2]) >= 2, text


def test_subset_of_the_nats_csv_has_no_row_index(shared_cases):
    truth = _truth(shared_cases / "truth-12ep-only.csv", "cifar10", "test", epochs=12)
    assert (truth.indices == -1).all()


def test_truth_build_refuses_the_cifar10_setting():
    from bnbench.errors import BnbenchError
    from bnbench.train.build_truth import BuildConfig

    with pytest.raises(BnbenchError, match="cifar10 setting has no validation split"):
        BuildConfig(dataset="cifar10")


def test_a_sample_does_not_depend_on_the_truth_files_row_order(real, tmp_path):
    from bnbench.experiment import select_archs
    from bnbench.spaces import get_space

    forward = _write(real, tmp_path / "f" / "nb201-v1_1-cifar10-valid-200ep.csv")
    backward = _write(real.iloc[::-1], tmp_path / "b" / "nb201-v1_1-cifar10-valid-200ep.csv")
    space = get_space("nb201")
    a, b = (select_archs(space, _truth(p), 40, seed=3) for p in (forward, backward))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_text_in_a_score_column_is_an_error_not_an_undefined_score(nb201_csv, tmp_path, capsys):
    arch = pd.read_csv(nb201_csv)["arch str"].iloc[:4].tolist()
    scores = tmp_path / "scores.csv"
    scores.write_text("arch,params\n" + "\n".join(f"{a},{v}" for a, v in zip(arch, ["1.5", "", "oops", "2"])) + "\n")
    code = main(["correlate", "--benchmark", str(nb201_csv), "--scores", str(scores), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "line 4 holds 'oops'" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("table_space", ["nb201", "nb101", "darts", "mobilenet"])
def test_an_embedded_table_given_to_another_space_is_a_one_line_error(table_space):
    from bnbench.embedded import embedded_truth_path

    path = embedded_truth_path(table_space)
    for space in {"nb201", "nb101", "darts", "mobilenet"} - {table_space}:
        with pytest.raises(BenchmarkError, match=f"a ground truth of the .* space.*but --space {space}") as err:
            read_source(path, space=space)
        assert "\n" not in str(err.value) and path.name in str(err.value)
