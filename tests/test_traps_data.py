"""Issue 16, items 5-7: supernet checkpoints of other data, the default dataset, and evaluation images
disjoint from the images the ground truth is measured on."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from bnbench.spaces import get_space
from bnbench.cli import main
from bnbench.datasets import ImageSplit, load_dataset
from bnbench.datasets.fake import write_fake_cifar10, write_fake_cifar100, write_fake_imagenet16
from bnbench.datasets.protocol import DISJOINT, holdout_size
from bnbench.errors import BnbenchError
from bnbench.experiment import RunOptions, dataset_name, images_key
from bnbench.train.config import TrainConfig
from bnbench.train.supernet import CHECKPOINT, load_supernet, train_supernet

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
CELLS = [BEST, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
         "|nor_conv_1x1~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|",
         "|skip_connect~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|nor_conv_1x1~2|",
         "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|none~2|",
         "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """Fake CIFAR-10 (100 train, 20 test), CIFAR-100 (200/200) and ImageNet16 folders."""
    path = tmp_path_factory.mktemp("data")
    write_fake_cifar10(path, per_batch=20)
    write_fake_cifar100(path, n_train=200, n_test=200)
    write_fake_imagenet16(path, per_batch=20, n_val=40)
    return path


@pytest.fixture(scope="module")
def other_root(tmp_path_factory) -> Path:
    """Another copy of fake CIFAR-10: same layout and sizes, other pixels."""
    path = tmp_path_factory.mktemp("other")
    write_fake_cifar10(path, per_batch=20, seed=1)
    return path


def tiny(dataset: str, **kw) -> TrainConfig:
    return TrainConfig(**{**dict(dataset=dataset, channels=4, cells=1, epochs=1, batch_size=16, train_mode="full",
                                 seed=0), **kw})


def trained(tmp_path: Path, name: str, data, **kw) -> Path:
    out = tmp_path / name
    train_supernet(tiny(data.name, **kw), data, out, progress=False, announce=lambda _: None)
    return out / CHECKPOINT


def one_line(call, *args, **kwargs) -> str:
    with pytest.raises(BnbenchError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message, message
    return message


def rows(split: ImageSplit) -> set[bytes]:
    return set(map(bytes, split.x.reshape(len(split), -1).numpy()))


# ---------------------------------------------------------------- item 5: checkpoints of other data

@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", train_fraction=0.1, seed=0)


@pytest.fixture(scope="module")
def digits_ckpt(tmp_path_factory, digits) -> Path:
    return trained(tmp_path_factory.mktemp("ck"), "digits", digits)


def test_checkpoint_of_another_dataset_is_one_line_before_loading(digits_ckpt, root, monkeypatch):
    import bnbench.train.supernet as sn

    monkeypatch.setattr(sn, "_load_weights", lambda *a: pytest.fail("weights loaded before the data check"))
    cifar = load_dataset("cifar10-valid", root)
    message = one_line(load_supernet, digits_ckpt, cifar)
    assert (f"supernet {digits_ckpt} was trained on digits (1 channel, 10 classes, 8x8), this run uses "
            "cifar10-valid (3 channels, 10 classes, 32x32)") in message


def test_checkpoint_of_other_classes_or_resolution(tmp_path, root):
    c10 = load_dataset("cifar10", root)
    ckpt = trained(tmp_path, "c10", c10)
    assert "cifar100 (3 channels, 100 classes, 32x32)" in one_line(load_supernet, ckpt, load_dataset("cifar100", root))
    assert "ImageNet16-120 (3 channels, 120 classes, 16x16)" in one_line(load_supernet, ckpt,
                                                                         load_dataset("ImageNet16-120", root))
    state = torch.load(ckpt, weights_only=True)
    state["data"]["input_resolution"] = 16  # as if trained at 16x16: another input resolution
    torch.save(state, tmp_path / "res.pt")
    message = one_line(load_supernet, tmp_path / "res.pt", c10)
    assert "cifar10 (3 channels, 10 classes, 16x16), this run uses cifar10 (3 channels, 10 classes, 32x32)" in message
    assert load_supernet(ckpt, c10).model.classifier.out_features == 10  # its own data loads


def test_checkpoint_of_another_space(digits_ckpt, digits, tmp_path):
    assert "trained in the nb201 space, this run uses nb101" in one_line(load_supernet, digits_ckpt, digits, "nb101")
    state = torch.load(digits_ckpt, weights_only=True)
    state["space"] = "darts"
    torch.save(state, tmp_path / "darts.pt")
    assert "trained in the darts space, this run uses nb201" in one_line(load_supernet, tmp_path / "darts.pt", digits)


def test_checkpoint_of_other_images_of_the_same_dataset(tmp_path, root, other_root):
    ckpt = trained(tmp_path, "a", load_dataset("cifar10", root))
    message = one_line(load_supernet, ckpt, load_dataset("cifar10", other_root))
    assert "was trained on other cifar10 images" in message and "digest" in message
    # resuming in the same --out with other images is refused too
    other = load_dataset("cifar10", other_root)
    message = one_line(train_supernet, tiny("cifar10"), other, tmp_path / "a", progress=False,
                       announce=lambda _: None)
    assert "other cifar10 images" in message and "another --out" in message


@pytest.mark.parametrize("what, payload, fragment", [
    ("truncated", None, "unreadable"),
    ("text", b"arch,params\nx,1\n", "unreadable"),
    ("tensor", "tensor", "not a bnbench supernet checkpoint"),
    ("incomplete", "incomplete", "incomplete: no valid model"),
])
def test_corrupt_or_foreign_checkpoints(digits_ckpt, digits, tmp_path, what, payload, fragment):
    path = tmp_path / f"{what}.pt"
    if payload is None:
        path.write_bytes(digits_ckpt.read_bytes()[: digits_ckpt.stat().st_size // 2])
    elif payload == "tensor":
        torch.save(torch.zeros(3), path)
    elif payload == "incomplete":
        state = torch.load(digits_ckpt, weights_only=True)
        del state["model"]
        torch.save(state, path)
    else:
        path.write_bytes(payload)
    message = one_line(load_supernet, path, digits)
    assert str(path) in message and fragment in message
    assert "is not a file" in one_line(load_supernet, tmp_path, digits)


def test_checkpoints_written_before_the_data_record(tmp_path, root, digits, digits_ckpt):
    """Old checkpoints (no ``data``): loadable where the train split is unchanged (digits, cifar10-valid),
    refused in one line for cifar10 / cifar100 / ImageNet16-120, whose training images now exclude the hold-out."""
    def legacy(src: Path, name: str) -> Path:
        state = torch.load(src, weights_only=True)
        del state["data"]
        torch.save(state, tmp_path / name)
        return tmp_path / name

    assert load_supernet(legacy(digits_ckpt, "d.pt"), digits).config.dataset == "digits"
    c10v = load_dataset("cifar10-valid", root)
    assert load_supernet(legacy(trained(tmp_path, "v", c10v), "v.pt"), c10v).model is not None
    c10 = load_dataset("cifar10", root)
    message = one_line(load_supernet, legacy(trained(tmp_path, "c", c10), "c.pt"), c10)
    assert "records no training images" in message and "held 10 of the cifar10 training images out" in message
    old_digits = legacy(digits_ckpt, "d2.pt")  # the legacy check names the mismatch from the config and weights
    assert "digits (1 channel, 10 classes, 8x8)" in one_line(load_supernet, old_digits, c10)


def test_cli_supernet_of_another_dataset_exits_2(digits_ckpt, root, tmp_path, capsys):
    code = main(["score", "--indicators", "supernet_acc", "--archs", "2", "--dataset", "cifar10-valid",
                 "--data-dir", str(root), "--supernet", str(digits_ckpt), "--out", str(tmp_path / "s.csv")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "trained on digits (1 channel, 10 classes, 8x8), this run uses cifar10-valid" in err


# ---------------------------------------------------------------- item 6: one default dataset rule

def test_one_default_dataset_rule():
    assert dataset_name(RunOptions()) == "digits"  # nothing named: the embedded default
    assert dataset_name(RunOptions(data_dir="/data")) == "cifar10-valid"
    assert dataset_name(RunOptions(benchmark="nb201.csv")) == "cifar10-valid"
    assert dataset_name(RunOptions(data_dir="/data", dataset="cifar100")) == "cifar100"
    assert dataset_name(RunOptions(), without_data="cifar10-valid") == "cifar10-valid"  # score without data
    assert dataset_name(RunOptions(data_dir="/data"), without_data="cifar10-valid") == "cifar10-valid"


def test_train_supernet_with_data_dir_trains_on_cifar10_valid_and_says_so(root, tmp_path, capsys):
    argv = ["train-supernet", "--data-dir", str(root), "--out", str(tmp_path / "sn"), "--epochs", "1",
            "--channels", "4", "--cells", "1", "--batch-size", "16", "--no-progress"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    line = "training on cifar10-valid: 50 train images, 3x32x32, 10 classes"
    assert line in out
    state = torch.load(tmp_path / "sn" / CHECKPOINT, weights_only=True)
    assert state["data"]["dataset"] == "cifar10-valid" and state["data"]["train_images"]["count"] == 50
    assert state["data"]["line"].startswith(line) and state["config"]["dataset"] == "cifar10-valid"
    assert main(argv) == 0  # finished: nothing trained, the data line is still printed
    assert f"{line}" in capsys.readouterr().out


def test_train_supernet_without_data_trains_on_digits_and_says_so(tmp_path, capsys):
    argv = ["train-supernet", "--out", str(tmp_path / "sn"), "--epochs", "1", "--channels", "2", "--cells", "1",
            "--train-fraction", "0.1", "--no-progress"]
    assert main(argv) == 0
    assert "training on digits: 100 train images, 1x8x8, 10 classes" in capsys.readouterr().out


# ---------------------------------------------------------------- item 7: evaluation images vs truth images

@pytest.mark.parametrize("name, truth, eval_split", [
    ("cifar10-valid", "valid", "test"), ("cifar10-valid", "test", "valid"), ("cifar10-valid", "train", "test"),
    ("cifar10-valid", "kfold", "test"), ("cifar10", "test", "valid"), ("cifar10", "train", "test"),
    ("cifar10", "kfold", "test"), ("cifar100", "valid", "valid"), ("cifar100", "test", "valid"),
    ("cifar100", "train", "test"), ("ImageNet16-120", "valid", "valid"), ("ImageNet16-120", "test", "valid"),
    ("ImageNet16-120", "train", "test"),
])
def test_evaluation_split_is_disjoint_from_the_truths_images(root, name, truth, eval_split):
    ds = load_dataset(name, root, truth_split=truth)
    assert ds.eval_split == eval_split and ds.images["eval_vs_truth"] == DISJOINT
    assert ds.images["truth"]["split"] == truth and ds.images["eval"]["count"] == len(ds.eval)
    assert not rows(ds.eval) & rows(ds.train)  # never the supernet's training images
    test_rows = rows(ds.test)
    if truth in ("test", "valid") and name != "cifar10-valid":  # truth images lie in the test file (NB201 x-halves)
        assert not rows(ds.eval) & test_rows
    if truth == "test" and name == "cifar10-valid":
        assert not rows(ds.eval) & test_rows
    if truth in ("train", "kfold") or (name == "cifar10-valid" and truth == "valid"):  # truth images: train file
        assert rows(ds.eval) == test_rows
    assert "disjoint from the truth's images" in ds.description


def test_a_split_the_setting_lacks_is_refused(root):
    with pytest.raises(BnbenchError, match="no 'valid' truth split"):
        load_dataset("cifar10", root, truth_split="valid")


def test_holdout_is_class_balanced_fixed_and_excluded_from_training(root):
    a = load_dataset("cifar10", root, seed=0)
    b = load_dataset("cifar10", root, seed=9, train_fraction=0.5, truth_split="train")
    assert len(a.valid) == holdout_size(100) == 10 and torch.bincount(a.valid.y, minlength=10).tolist() == [1] * 10
    assert torch.equal(a.valid.x, b.valid.x)  # independent of the run's seed and train_fraction
    assert not rows(a.valid) & rows(a.train) and len(a.train) == 90 and len(b.train) == 45
    assert holdout_size(50_000) == 5000 and holdout_size(151_700) == 5000


def test_digits_says_its_truth_cannot_be_avoided():
    ds = load_dataset("digits", truth_split="kfold")
    assert ds.images["eval_vs_truth"].startswith("overlap: all 797 evaluation images are truth images")
    assert "NOT disjoint" in ds.description and ds.images["truth"]["count"] == 1797


def test_real_cifar10_holdout(shared_data):
    root = shared_data / "cifar10"
    if not (root / "cifar-10-batches-py").is_dir():
        pytest.skip(f"{root / 'cifar-10-batches-py'} is missing")
    ds = load_dataset("cifar10", root, truth_split="test")
    assert (len(ds.train), len(ds.eval), len(ds.test)) == (45000, 5000, 10000)
    assert torch.bincount(ds.eval.y, minlength=10).tolist() == [500] * 10
    assert ds.images["truth"] == {"split": "test", "given": "test", "images": "the CIFAR-10 test set (10,000 images)", "count": 10000}
    assert not rows(ds.eval) & rows(ds.train) and not rows(ds.eval) & rows(ds.test)


def test_indicators_read_the_evaluation_split(digits):
    from bnbench.indicators import ScoringContext, get
    from bnbench.indicators.composite.probe import Probe
    from bnbench.spaces.nb201 import arch as A

    result = train_supernet(tiny("digits", epochs=2), digits, progress=False, announce=lambda _: None)
    flipped = ImageSplit(digits.valid.x.flip(-1).contiguous(), (digits.valid.y + 1) % 10)  # other images, labels
    shifted = replace(digits, test=flipped, eval_split="test")
    archs = np.array([A.parse(BEST)])

    def acc(data) -> float:
        ctx = ScoringContext(space=get_space("nb201"), dataset=data, supernet=result, options={"calib_batches": 1}, progress=False)
        return float(get("supernet_acc")(archs, ctx)[0])

    assert acc(digits) != acc(shifted)  # read from Dataset.eval, not Dataset.valid
    ctx = ScoringContext(space=get_space("nb201"), dataset=shifted, supernet=result, options={"probe_images": 8}, progress=False)
    from bnbench.datasets import BatchAugmenter
    from bnbench.indicators.supernet_acc import fixed_images

    expected = fixed_images(shifted.eval, 8, BatchAugmenter(digits.mean, digits.std, digits.augment), 1)[0]
    assert torch.allclose(Probe.build(ctx).images, expected)


def test_caches_key_on_the_images(root):
    test_truth = images_key(load_dataset("cifar10", root, truth_split="test"))
    assert test_truth != images_key(load_dataset("cifar10", root, truth_split="train"))
    assert test_truth == images_key(load_dataset("cifar10", root, truth_split="test", seed=4))


def _truth_table(path: Path, column: str) -> Path:
    from bnbench.truth import write_table

    write_table(path, CELLS, list(range(len(CELLS))), {column: [90.0, 10.0, 80.0, 85.0, 50.0, 88.0]},
                {"source": "test"})
    return path


def test_results_and_report_name_every_indicators_images(root, tmp_path, capsys):
    table = _truth_table(tmp_path / "truth.csv", "cifar10:test:accuracy:200")
    out = tmp_path / "run"
    code = main(["correlate", "--benchmark", str(table), "--dataset", "cifar10", "--truth-split", "test",
                 "--data-dir", str(root), "--indicators", "supernet_acc,bn,snip,params", "--epochs", "1",
                 "--channels", "4", "--cells", "1", "--batch-size", "16", "--calib-batches", "1",
                 "--zc-batch-size", "8", "--bootstrap", "10", "--no-progress", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "training on cifar10: 90 train images, 3x32x32" in captured.err
    ev = json.loads((out / "results.json").read_text())["evaluation_images"]
    assert ev["truth"]["images"] == "the CIFAR-10 test set (20 images)" and ev["eval"]["split"] == "valid"
    assert ev["eval"]["count"] == 10 and ev["eval_vs_truth"] == DISJOINT and ev["disjoint"] is True
    acc = ev["indicators"]["supernet_acc"]
    assert [r["role"] for r in acc["reads"]] == ["supernet training", "evaluation", "BN recalibration"]
    assert acc["reads"][1]["count"] == 10 and "hold-out" in acc["reads"][1]["split"] and acc["vs_truth"] == DISJOINT
    assert ev["indicators"]["snip"]["reads"][0]["count"] == 8 and ev["indicators"]["params"]["reads"] == []
    report = (out / "report.md").read_text()
    assert "## Images" in report and "Evaluation images vs truth: **disjoint**" in report


def test_embedded_default_reports_the_overlap(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["correlate", "--sample-archs", "6", "--indicators", "supernet_acc,params", "--epochs", "1",
                 "--channels", "2", "--cells", "1", "--train-fraction", "0.1", "--val-images", "20",
                 "--calib-batches", "1", "--bootstrap", "10", "--no-progress", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    ev = json.loads((out / "results.json").read_text())["evaluation_images"]
    assert ev["truth"]["split"] == "kfold" and ev["disjoint"] is False
    assert ev["indicators"]["supernet_acc"]["vs_truth"].startswith("overlap: all 797 evaluation images")
    assert "overlap: all 797" in (out / "report.md").read_text()
