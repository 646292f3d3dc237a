"""DARTS ground truths: genotype CSVs (NAS-Bench-301's validation accuracy), repeated genotypes, bad tables."""

from __future__ import annotations

import numpy as np
import pytest

from bnbench.errors import BenchmarkError
from bnbench.spaces import get_space
from bnbench.truth import read_source
from bnbench.truth.detect import detect_kind
from bnbench.truth.spec import TruthSpec
from tests.conftest import shared_file

S = get_space("darts")
COLUMN = "nb301-cifar10:valid:accuracy:100"


def write(path, rows, header="genotype,validation_accuracy"):
    path.write_text(header + "\n" + "".join(f'"{g}",{v}\n' for g, v in rows))
    return path


def test_nas_bench_301_csv_loads_as_the_darts_truth(shared_data):
    path = shared_file(shared_data, "darts", "naslib-nb301-cifar10-362.csv")
    assert detect_kind(path) == "darts-csv"
    table = read_source(path, dataset="cifar10", space="darts")
    assert table.meta["space"] == "darts" and len(table.archs) == 362
    values = table.columns[COLUMN]
    assert 91.0 < values.min() < 91.5 and 94.0 < values.max() < 94.6  # PROVENANCE.md: 91.2-94.5 %
    assert (table.columns["nb301-cifar10:seeds:100"] == 1).all()
    assert "100-epoch budget" in table.meta["setting_from"]
    archs = S.parse_many(table.archs)
    assert [S.truth_key(a) for a in archs[:20]] == table.archs[:20]  # keyed by canonical genotype strings
    truth = table.truth(TruthSpec("nb301-cifar10", "valid", "accuracy", 100), source=str(path))
    assert len(truth.archs) == 362
    with pytest.raises(BenchmarkError, match="a ground truth of the DARTS space \\(DARTS genotypes\\), but --space nb201"):
        read_source(path, space="nb201")


def test_repeated_genotypes_are_averaged_as_runs(tmp_path):
    a, b = S.sample(2, 1)
    text = S.to_str(a)
    pairs = S.genotype(a).normal
    swapped = text.replace(f"{pairs[0]!r}, {pairs[1]!r}", f"{pairs[1]!r}, {pairs[0]!r}", 1)
    assert swapped != text and S.canonical(S.parse(swapped)) == S.canonical(a)
    path = write(tmp_path / "mine-100ep.csv", [(text, 92.0), (swapped, 94.0), (S.to_str(b), 93.5)])
    table = read_source(path)
    assert len(table.archs) == 2 and table.meta["setting_from"] == "its file name"
    row = table.archs.index(S.canonical(a))
    assert table.columns[COLUMN][row] == pytest.approx(93.0)
    assert table.columns["nb301-cifar10:seeds:100"].tolist() == [2.0, 1.0]
    assert "1-2 rows listed per genotype" in table.meta["aggregation"]


def test_bad_darts_tables_are_one_line_errors(tmp_path):
    good = S.to_str(S.sample(1, 0)[0])
    bad = good.replace(", 0)", ", 7)", 1)
    cases = [
        (write(tmp_path / "a.csv", [(good, 93.0), (bad, 92.0)]), {}, "line 3: DARTS genotype .* takes input 7"),
        (write(tmp_path / "b.csv", [(good, 0.93)]), {}, "fractions, not the percentages"),
        (write(tmp_path / "c.csv", [(good, 93.0)]), {"dataset": "cifar100"}, "holds one setting, nb301-cifar10"),
        (write(tmp_path / "d-100ep.csv", [(good, 93.0)]), {"epochs": 50}, "says 100 epochs but --truth-epochs"),
        (write(tmp_path / "e.csv", [(good, 93.0)], "genotype,notes"), {}, "without a metric column"),
    ]
    for path, kw, message in cases:
        with pytest.raises(BenchmarkError, match=message) as err:
            read_source(path, **kw)
        assert "\n" not in str(err.value)
    table = read_source(write(tmp_path / "f.csv", [(good, 93.0)]), epochs=36)
    assert list(table.columns)[0] == "nb301-cifar10:valid:accuracy:36"
    assert np.isfinite(table.columns["nb301-cifar10:valid:accuracy:36"]).all()


def test_a_darts_table_converts_to_a_compact_table_and_back(tmp_path):
    from bnbench.truth import convert

    genotypes = [S.to_str(a) for a in S.sample(3, 1)]
    source = write(tmp_path / "nb301-cifar10-100ep.csv", [(g, 92.0 + i) for i, g in enumerate(genotypes)])
    table = read_source(convert(source, tmp_path / "compact.csv"), space="darts")  # genotype keys hold commas
    original = read_source(source)
    assert list(table.archs) == list(original.archs) and len(table.archs) == 3
    np.testing.assert_array_equal(table.columns[COLUMN], original.columns[COLUMN])
