"""`bnbench truth build`: k-fold x seeds training of sampled cells, resumable from its run log."""

import json

import numpy as np
import pytest

from bnbench.train.build_truth import BuildConfig, build_truth, read_runs
from bnbench.train.config import TrainConfig
from bnbench.truth import read_source


def tiny_config() -> BuildConfig:
    train = TrainConfig(dataset="digits", channels=4, cells=1, epochs=1, batch_size=128, train_mode="full", lr=0.05)
    return BuildConfig(sample_archs=3, sample_seed=0, seeds=(0, 1), folds=2, train=train)


def test_build_writes_mean_and_per_seed_columns_with_provenance(tmp_path):
    cfg = tiny_config()
    table = read_source(build_truth(cfg, tmp_path / "t.csv", progress=False))
    spec = [s for s in table.specs() if s.dataset == "digits"]
    assert [s.column() for s in spec] == ["digits:valid:accuracy:1"]
    truth = table.truth(spec[0], source="t")
    assert len(truth.archs) == 3 and np.all((truth.values > 0) & (truth.values <= 100))
    meta = truth.meta
    assert meta["runs"] == 12 and meta["config"]["seeds"] == [0, 1] and meta["config"]["folds"] == 2
    assert set(meta["summary"]) >= {"min", "max", "std", "tau_seed0_vs_seed1"} and "torch" in meta["versions"]
    log = (tmp_path / "t.csv.runs.jsonl").read_text().splitlines()
    per_seed = {}
    for rec in map(json.loads, log):
        per_seed.setdefault((rec["arch"], rec["seed"]), []).append(rec["acc"])
    for i, arch in enumerate(truth.archs):
        assert truth.values[i] == pytest.approx(np.mean([np.mean(per_seed[(arch, s)]) for s in (0, 1)]))


def test_killed_build_resumes_with_identical_results(tmp_path):
    cfg = tiny_config()
    whole = read_source(build_truth(cfg, tmp_path / "a.csv", progress=False))
    lines = (tmp_path / "a.csv.runs.jsonl").read_text().splitlines()
    partial = tmp_path / "b.csv.runs.jsonl"
    partial.write_text("\n".join(lines[:5]) + "\n" + lines[5][:20])  # killed mid-write of the sixth record
    resumed = read_source(build_truth(cfg, tmp_path / "b.csv", progress=False))
    assert len(read_runs(partial, cfg.key())) == 12
    spec = whole.specs()[0]
    np.testing.assert_allclose(resumed.truth(spec, "b").values, whole.truth(spec, "a").values)


def test_unestimated_bn_statistics_are_recomputed_before_evaluation(one_thread):
    """NB101's official BN momentum (0.003) leaves the running statistics ~70 % at their initial values after a
    reduced run; evaluated with them the network is at chance. NB201's 0.1 forgets them: nothing changes there."""
    import torch

    from bnbench.datasets import load_dataset
    from bnbench.spaces import get_space
    from bnbench.train.build_truth import fold_indices, pooled
    from bnbench.datasets import ImageSplit
    from bnbench.train.standalone import STALE_WEIGHT, initial_weight, train_network

    nb101, nb201 = get_space("nb101"), get_space("nb201")
    cell = nb101.parse('{"matrix": [[0, 1, 1, 0], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]], '
                       '"ops": ["input", "conv3x3-bn-relu", "conv1x1-bn-relu", "output"]}')
    net101 = nb101.network(cell, nb101.options(channels=8, cells=1), num_classes=10, in_channels=1)
    net201 = nb201.network(nb201.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|none~1|nor_conv_3x3~2|"),
                           nb201.options(channels=8, cells=1), num_classes=10, in_channels=1)
    assert initial_weight(net101, 110) == pytest.approx(0.997 ** 110) and initial_weight(net101, 110) > STALE_WEIGHT
    assert initial_weight(net201, 110) < 1e-4 and initial_weight(net101, 108 * 390) < 1e-50

    data = load_dataset("digits", None)
    full = pooled(data)
    tr_i, te_i = fold_indices(full.y.numpy(), 3, 0)[0]
    train, test = ImageSplit(full.x[tr_i], full.y[tr_i]), ImageSplit(full.x[te_i], full.y[te_i])
    cfg = TrainConfig(dataset="digits", space="nb101", channels=8, cells=1, epochs=4, lr=0.1, train_mode="full")
    acc = train_network(cell, train, test, cfg, data.mean, data.std, data.augment, 10, seed=0)
    assert acc > 40.0  # at chance (about 10 %) with the un-estimated running statistics


def test_train_fraction_trains_on_a_stratified_subset_of_each_training_fold(tmp_path, monkeypatch):
    import bnbench.train.build_truth as bt

    def images_seen(ops, train, test, cfg, *args):  # stands in for training: "accuracy" = training images, 1e-4 x test
        counts = np.bincount(train.y.numpy(), minlength=10)
        assert counts.max() - counts.min() <= 10  # stratified: every class kept
        return float(len(train)) + 1e-4 * len(test)

    monkeypatch.setattr(bt, "train_network", images_seen)
    cfg = tiny_config()
    cfg.train = TrainConfig(dataset="digits", channels=4, cells=1, epochs=1, batch_size=128, train_mode="full",
                            lr=0.05, train_fraction=0.25, resolution=16)
    cfg.test_fraction = 0.5
    table = read_source(build_truth(cfg, tmp_path / "t.csv", progress=False))
    runs = read_runs(tmp_path / "t.csv.runs.jsonl", cfg.key())
    seen = sorted({round(r["acc"], 4) for r in runs.values()})
    # digits pools 1,797 images; 2 folds train on ~898 each, a quarter of that is ~225; half a held-out fold ~449
    assert all(220 <= int(a) <= 230 and 448 <= round((a - int(a)) * 1e4) <= 450 for a in seen), seen
    meta = table.truth([s for s in table.specs() if s.dataset == "digits"][0], source="t").meta
    assert meta["config"]["train"]["train_fraction"] == 0.25 and meta["config"]["train"]["resolution"] == 16
    assert cfg.key() != tiny_config().key()
    whole = tiny_config()
    assert BuildConfig(**{**whole.__dict__, "test_fraction": 1.0}).key() == whole.key()  # old tables keep their key


def test_truth_build_cli_passes_space_options_and_refuses_unknown_ones(tmp_path, capsys, monkeypatch):
    import bnbench.train.build_truth as bt
    from bnbench.cli import main

    seen = {}
    monkeypatch.setattr(bt, "build_truth", lambda cfg, out, *a, **k: seen.setdefault("cfg", cfg) and out)
    assert main(["truth", "build", "--space", "darts", "--space-option", "drop_path_prob=0.2", "--resolution", "16",
                 "--train-fraction", "0.5", "--out", str(tmp_path / "t.csv")]) == 0
    train = seen["cfg"].train
    assert train.space_options == {"drop_path_prob": 0.2} and train.resolution == 16 and train.train_fraction == 0.5
    assert main(["truth", "build", "--space", "darts", "--space-option", "no_such=1", "--out", str(tmp_path / "u.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert "no_such" in err and "\n" not in err


@pytest.mark.parametrize("space", ["nb101", "darts", "mobilenet"])
def test_an_embedded_table_header_gives_back_its_build_config_and_key(space):
    from bnbench.embedded import embedded_truth_path

    table = read_source(embedded_truth_path(space), space=space)
    meta = table.truth(table.specs()[0], source="embedded").meta
    cfg = BuildConfig.from_dict(meta["config"])
    # tables built before --test-fraction existed record no test_fraction: they evaluated whole folds
    assert cfg.key() == meta["config_key"] and cfg.to_dict() == {"test_fraction": 1.0, **meta["config"], "seeds": cfg.seeds}
