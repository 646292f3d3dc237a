"""bnbench.datasets: readers on tiny fake folders, splits, augmentation, batching, errors, real CIFAR-10."""

from __future__ import annotations

import pickle
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from bnbench.datasets import (DATASETS, AugmentConfig, BatchAugmenter, Dataset, ImageSplit, iterate_batches,
                              load_dataset, resolve_data_root)
from bnbench.datasets.fake import write_fake_cifar10, write_fake_cifar100, write_fake_imagenet16, write_pickle
from bnbench.datasets.sampling import class_quotas, stratified_split
from bnbench.errors import DataError

MEAN3, STD3 = (0.5, 0.4, 0.3), (0.25, 0.2, 0.3)


@pytest.fixture(scope="module", params=[False, True], ids=["str-keys", "bytes-keys"])
def fake_root(request, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bytes" if request.param else "str")
    write_fake_cifar10(root, per_batch=20, bytes_keys=request.param)
    write_fake_cifar100(root, n_train=200, n_test=200, bytes_keys=request.param)
    write_fake_imagenet16(root, per_batch=20, n_val=40, bytes_keys=request.param)
    return root


def _raw(path: Path) -> dict:
    with open(path, "rb") as fh:
        entry = pickle.load(fh, encoding="latin1")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in entry.items()}


def _one_line_error(match_path: Path | str, call, *args, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message and str(match_path) in message, message
    return message


# ---------------------------------------------------------------- readers and splits (fake folders)

def test_cifar10_shapes_and_pixel_layout(fake_root):
    ds = load_dataset("cifar10", fake_root)  # 100 train images: 10 held out (1/10), 90 train; 20 test
    assert (len(ds.train), len(ds.valid), len(ds.test), ds.num_classes, ds.resolution) == (90, 10, 20, 10, 32)
    assert ds.train.x.shape == (90, 3, 32, 32) and ds.train.x.dtype == torch.uint8
    assert ds.train.y.dtype == torch.int64 and set(ds.train.y.tolist()) == set(range(10))
    raw = _raw(fake_root / "cifar-10-batches-py" / "test_batch")
    first = ds.test.x[0].numpy()
    assert np.array_equal(first[1].ravel(), raw["data"][0, 1024:2048])  # green plane, row-major
    assert ds.test.y.tolist() == list(raw["labels"])
    assert ds.augment == AugmentConfig(pad=4, flip=True, crop=True)
    assert "90 train / 10 valid / 20 test" in ds.description and len(ds.mean) == len(ds.std) == 3


def test_cifar10_valid_is_a_fixed_balanced_half(fake_root):
    ds = load_dataset("cifar10-valid", fake_root, seed=0)
    again = load_dataset("cifar10-valid", fake_root, seed=7)
    assert (len(ds.train), len(ds.valid)) == (50, 50)
    assert torch.equal(ds.train.x, again.train.x) and torch.equal(ds.valid.y, again.valid.y)
    assert torch.bincount(ds.train.y, minlength=10).tolist() == [5] * 10
    whole = load_dataset("cifar10", fake_root)
    full = torch.cat([whole.train.x, whole.valid.x]).reshape(100, -1)  # cifar10's train + hold-out
    halves = torch.cat([ds.train.x, ds.valid.x]).reshape(100, -1)
    assert sorted(map(bytes, full.numpy())) == sorted(map(bytes, halves.numpy()))  # a partition


def test_cifar100_fine_labels_and_x_valid_half(fake_root):
    ds = load_dataset("cifar100", fake_root)  # 200 train: a 20-image hold-out (valid), 180 train; 200 test
    assert (len(ds.train), len(ds.valid), len(ds.test), ds.num_classes) == (180, 20, 200, 100)
    assert torch.bincount(ds.valid.y, minlength=100).max() == 1  # class-balanced: 20 classes, one image each
    raw = _raw(fake_root / "cifar-100-python" / "test")
    assert ds.test.y.tolist() == list(raw["fine_labels"])
    assert torch.equal(load_dataset("CIFAR100", fake_root, seed=3).valid.x, ds.valid.x)


def test_imagenet16_120_filters_and_relabels(fake_root):
    ds = load_dataset("ImageNet16-120", fake_root)
    folder = fake_root / "ImageNet16"
    raws = [_raw(folder / f"train_data_batch_{i}") for i in range(1, 11)]
    labels = np.concatenate([np.asarray(r["labels"]) for r in raws])
    keep = labels <= 120
    assert len(ds.train) + len(ds.valid) == keep.sum() == 100 and ds.num_classes == 120 and ds.resolution == 16
    data = np.concatenate([r["data"] for r in raws])[keep].reshape(-1, 3, 16, 16)
    pooled = torch.cat([ds.train.x, ds.valid.x]).numpy()  # train + its 10-image hold-out = every kept image
    assert sorted(map(bytes, pooled.reshape(100, -1))) == sorted(map(bytes, data.reshape(100, -1)))
    assert sorted(torch.cat([ds.train.y, ds.valid.y]).tolist()) == sorted((labels[keep] - 1).tolist())
    assert len(ds.valid) == 10 and len(ds.test) == 20 and int(ds.test.y.max()) < 120 and int(ds.test.y.min()) >= 0


def test_train_fraction_is_stratified_and_seeded():
    full = load_dataset("digits")
    part = load_dataset("digits", train_fraction=0.2, seed=1)
    same = load_dataset("digits", train_fraction=0.2, seed=1)
    other = load_dataset("digits", train_fraction=0.2, seed=2)
    assert len(part.train) == 200 and torch.equal(part.train.x, same.train.x)
    assert not torch.equal(part.train.x, other.train.x)
    assert torch.equal(part.valid.x, full.valid.x) and part.mean == full.mean
    full_counts = torch.bincount(full.train.y, minlength=10).double()
    counts = torch.bincount(part.train.y, minlength=10).double()
    assert torch.all((counts - full_counts * 0.2).abs() < 1)
    assert "train_fraction 0.2" in part.description and "seed 1" in part.description
    with pytest.raises(DataError, match="train_fraction"):
        load_dataset("digits", train_fraction=0)


def test_stratified_split_quotas():
    assert class_quotas(np.array([5000] * 10), 25000).tolist() == [2500] * 10
    assert class_quotas(np.array([3, 3, 4]), 5).sum() == 5
    labels = np.repeat(np.arange(4), [10, 20, 30, 40])
    first, second = stratified_split(labels, 50, seed=0)
    assert np.bincount(labels[first]).tolist() == [5, 10, 15, 20]
    assert np.array_equal(np.sort(np.concatenate([first, second])), np.arange(100))
    assert np.array_equal(first, stratified_split(labels, 50, seed=0)[0])


def test_digits(monkeypatch):
    monkeypatch.delenv("BNBENCH_DATA", raising=False)
    ds = load_dataset("digits", None)
    assert (len(ds.train), len(ds.valid), ds.num_classes, ds.resolution) == (1000, 797, 10, 8)
    assert ds.train.x.shape == (1000, 1, 8, 8) and ds.train.x.dtype == torch.uint8
    assert int(ds.train.x.max()) == 255 and ds.augment == AugmentConfig(pad=1, crop=True, flip=False)
    assert torch.bincount(ds.train.y, minlength=10).min() >= 95
    moved = ds.to("cpu")
    assert isinstance(moved, Dataset) and torch.equal(moved.train.x, ds.train.x)
    if torch.cuda.is_available():
        cuda = load_dataset("digits", device="cuda")
        assert cuda.train.x.is_cuda and torch.equal(cuda.valid.y.cpu(), ds.valid.y)


# ---------------------------------------------------------------- augmentation and batching

def _images(n=16, c=3, h=32, seed=0) -> torch.Tensor:
    return torch.randint(0, 256, (n, c, h, h), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)


def _normalise(x, mean=MEAN3, std=STD3) -> torch.Tensor:
    m, s = torch.tensor(mean).view(1, -1, 1, 1), torch.tensor(std).view(1, -1, 1, 1)
    return (x.float() / 255 - m) / s


def test_eval_mode_only_normalises_and_train_mode_is_seeded():
    x, aug = _images(), BatchAugmenter(MEAN3, STD3, AugmentConfig())
    out = aug(x, torch.Generator().manual_seed(5), train=False)
    assert out.dtype == torch.float32 and out.shape == x.shape
    assert torch.allclose(out, _normalise(x), atol=1e-5)
    a = aug(x, torch.Generator().manual_seed(5), train=True)
    b = aug(x, torch.Generator().manual_seed(5), train=True)
    c = aug(x, torch.Generator().manual_seed(6), train=True)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_train_mode_crops_and_flips_each_image():
    x = _images(n=64)
    out = BatchAugmenter(MEAN3, STD3, AugmentConfig(pad=4))(x, torch.Generator().manual_seed(0), train=True)
    assert out.shape == x.shape and not torch.allclose(out, _normalise(x))
    windows = _normalise(torch.nn.functional.pad(x, (4, 4, 4, 4))).unfold(2, 32, 1).unfold(3, 32, 1)
    flips = 0  # windows: N x C x 9 x 9 x 32 x 32, every crop position of the zero-padded input
    for i in range(len(x)):
        plain = (windows[i] - out[i][:, None, None]).abs().amax(dim=(0, 3, 4)) < 1e-5
        mirrored = (windows[i].flip(-1) - out[i][:, None, None]).abs().amax(dim=(0, 3, 4)) < 1e-5
        assert plain.any() or mirrored.any(), f"image {i} is not a crop of its padded input"
        flips += int(mirrored.any())
    assert 10 < flips < 54


def test_flip_only_config():
    x = _images(n=32)
    out = BatchAugmenter(MEAN3, STD3, AugmentConfig(pad=0, crop=False, flip=True))(
        x, torch.Generator().manual_seed(0), train=True)
    ref = _normalise(x)
    same = torch.isclose(out, ref, atol=1e-5).flatten(1).all(1)
    mirrored = torch.isclose(out, ref.flip(-1), atol=1e-5).flatten(1).all(1)
    assert torch.all(same | mirrored) and same.any() and mirrored.any()


@pytest.mark.parametrize("resolution", [16, 32, 48])
def test_resolution_resizing(resolution):
    x = _images(n=4)
    aug = BatchAugmenter(MEAN3, STD3, AugmentConfig(), resolution=resolution)
    for train in (False, True):
        out = aug(x, torch.Generator().manual_seed(0), train=train)
        assert out.shape == (4, 3, resolution, resolution) and out.dtype == torch.float32
    if resolution == 16:  # antialiased downsampling of a constant image stays constant
        grey = torch.full((1, 3, 32, 32), 128, dtype=torch.uint8)
        flat = BatchAugmenter(MEAN3, STD3, resolution=16)(grey, None, False)
        assert torch.allclose(flat, _normalise(torch.full((1, 3, 16, 16), 128)), atol=1e-5)


@pytest.mark.parametrize("bad", [torch.zeros(2, 3, 8, 8), torch.zeros(2, 1, 8, 8, dtype=torch.uint8)])
def test_augmenter_rejects_wrong_input(bad):
    with pytest.raises(ValueError):
        BatchAugmenter(MEAN3, STD3)(bad, None, train=False)


def test_iterate_batches_covers_the_split_once():
    split = ImageSplit(_images(n=50, c=1, h=8), torch.arange(50))
    aug = BatchAugmenter((0.5,), (0.25,), AugmentConfig(pad=1, flip=False))
    batches = list(iterate_batches(split, 16, aug, train=False, generator=torch.Generator().manual_seed(0),
                                   shuffle=True))
    assert [len(y) for _, y in batches] == [16, 16, 16, 2]
    seen = torch.cat([y for _, y in batches])
    assert sorted(seen.tolist()) == list(range(50)) and seen.tolist() != list(range(50))
    assert torch.allclose(batches[0][0], _normalise(split.x[batches[0][1]], (0.5,), (0.25,)), atol=1e-5)
    again = list(iterate_batches(split, 16, aug, train=True, generator=torch.Generator().manual_seed(0),
                                 shuffle=True, drop_last=True))
    assert len(again) == 3 and torch.equal(torch.cat([y for _, y in again]), seen[:48])
    plain = list(iterate_batches(split, 20, aug, train=False, generator=None, shuffle=False, drop_last=True))
    assert torch.cat([y for _, y in plain]).tolist() == list(range(40))
    with pytest.raises(ValueError):
        iterate_batches(split, 0, aug, train=False, generator=None, shuffle=False)


# ---------------------------------------------------------------- errors

def test_data_root_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv("BNBENCH_DATA", raising=False)
    message = _one_line_error("--data-dir", resolve_data_root, None)
    assert "BNBENCH_DATA" in message
    _one_line_error(tmp_path / "nowhere", resolve_data_root, tmp_path / "nowhere")
    _one_line_error(tmp_path / "nowhere", load_dataset, "cifar10", tmp_path / "nowhere")
    monkeypatch.setenv("BNBENCH_DATA", str(tmp_path))
    assert resolve_data_root(None) == tmp_path
    assert load_dataset("digits", None).name == "digits"  # digits never needs the root


def test_unknown_name_lists_datasets():
    message = _one_line_error("imagenet", load_dataset, "imagenet", None)
    assert all(name in message for name in DATASETS)


@pytest.mark.parametrize("name, folder", [("cifar10", "cifar-10-batches-py"), ("cifar100", "cifar-100-python"),
                                          ("ImageNet16-120", "ImageNet16")])
def test_missing_folder(tmp_path, name, folder):
    message = _one_line_error(tmp_path / folder, load_dataset, name, tmp_path)
    assert "expected" in message and "http" in message


def test_missing_file(tmp_path):
    folder = write_fake_cifar10(tmp_path)
    (folder / "data_batch_3").unlink()
    message = _one_line_error(folder, load_dataset, "cifar10-valid", tmp_path)
    assert "data_batch_3" in message and "cifar.html" in message
    folder = write_fake_imagenet16(tmp_path)
    (folder / "val_data").unlink()
    assert "val_data" in _one_line_error(folder, load_dataset, "ImageNet16-120", tmp_path)


_BAD = {  # how to spoil data_batch_2
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "text": lambda p: p.write_text("this is not a pickle\n"),
    "list": lambda p: p.write_bytes(pickle.dumps([1, 2, 3])),
    "shape": lambda p: write_pickle(p, {"data": np.zeros((20, 100), np.uint8), "labels": [0] * 20}),
    "labels": lambda p: write_pickle(p, {"data": np.zeros((20, 3072), np.uint8), "labels": [0] * 19}),
    "range": lambda p: write_pickle(p, {"data": np.zeros((20, 3072), np.uint8), "labels": [10] * 20}, True),
    "float": lambda p: write_pickle(p, {"data": np.full((20, 3072), 0.5), "labels": [0] * 20}),
    "nodata": lambda p: write_pickle(p, {"labels": [0] * 20}),
}


@pytest.mark.parametrize("how", sorted(_BAD))
def test_corrupt_cifar_file(tmp_path, how):
    folder = write_fake_cifar10(tmp_path)
    _BAD[how](folder / "data_batch_2")
    _one_line_error(folder / "data_batch_2", load_dataset, "cifar10", tmp_path)


def test_imagenet16_wrong_row_size_and_no_kept_classes(tmp_path):
    folder = write_fake_imagenet16(tmp_path)
    write_pickle(folder / "val_data", {"data": np.zeros((4, 3072), np.uint8), "labels": [1, 2, 3, 4]})
    assert "768" in _one_line_error(folder / "val_data", load_dataset, "ImageNet16-120", tmp_path)
    write_pickle(folder / "val_data", {"data": np.zeros((4, 768), np.uint8), "labels": [500] * 4})
    _one_line_error(folder, load_dataset, "ImageNet16-120", tmp_path)


# ---------------------------------------------------------------- real CIFAR-10 (../shared/data)

def test_real_cifar10(shared_data):
    root = shared_data / "cifar10"
    if not (root / "cifar-10-batches-py").is_dir():
        pytest.skip(f"{root / 'cifar-10-batches-py'} is missing")
    start = time.perf_counter()
    valid = load_dataset("cifar10-valid", root)
    seconds = time.perf_counter() - start
    assert (len(valid.train), len(valid.valid)) == (25000, 25000) and seconds < 20
    assert torch.bincount(valid.train.y, minlength=10).tolist() == [2500] * 10
    full = load_dataset("cifar10", shared_data)  # the parent folder works too: <root>/cifar10/cifar-10-...
    assert (len(full.train), len(full.valid), len(full.test)) == (45000, 5000, 10000)  # 5,000-image hold-out
    assert np.allclose(full.mean, (0.4913, 0.4821, 0.4465), atol=5e-4)
    assert np.allclose(valid.mean, (0.4913, 0.4821, 0.4465), atol=3e-3)
    assert np.allclose(full.std, (0.247, 0.243, 0.261), atol=5e-3)
