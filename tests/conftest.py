"""Shared fixtures: the real data beside the checkout (``../shared/data``), skipped with a reason when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("BNBENCH_SHARED_DATA", REPO.parent / "shared" / "data"))
SHARED_CASES = Path(os.environ.get("BNBENCH_SHARED_CASES", REPO.parent / "shared" / "cases"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (CIFAR-10, NB201 and NB101 ground truth); the test skips when it is missing."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (set BNBENCH_SHARED_DATA or place ../shared/data)")
    return SHARED_DATA


def shared_file(shared_data: Path, *parts: str) -> Path:
    """``shared_data / parts``; the calling test skips with a reason when that file is missing."""
    path = shared_data.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture(scope="session")
def shared_cases() -> Path:
    """``../shared/cases``: the smallest inputs of known user traps (issue 16); skipped when missing."""
    if not SHARED_CASES.is_dir():
        pytest.skip(f"trap cases not found at {SHARED_CASES} (set BNBENCH_SHARED_CASES or place ../shared/cases)")
    return SHARED_CASES


@pytest.fixture(scope="session")
def nb201_csv(shared_data: Path) -> Path:
    path = shared_data / "nb201" / "nb201-v1_1-cifar10-valid-200ep.csv"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture(scope="module")
def one_thread():
    """Tiny nets on a shared 2-core machine: one torch thread avoids oversubscription stalls."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def cifar(tmp_path_factory):
    """A tiny fake CIFAR-10 (20 images per batch file) loaded as the ``cifar10`` setting."""
    from bnbench.datasets import load_dataset
    from bnbench.datasets.fake import write_fake_cifar10

    root = tmp_path_factory.mktemp("data")
    write_fake_cifar10(root, per_batch=20)
    return load_dataset("cifar10", root)


@pytest.fixture(scope="session")
def nb101_record_stats(shared_data) -> dict:
    """``{module_hash: fixed_stats}`` of the 30 official NB101 records (``../shared/data/nb101``)."""
    import pickle

    path = shared_data / "nb101" / "nb101-30-records.pkl"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    with open(path, "rb") as f:
        return {h: fs for h, (fs, _) in pickle.load(f).items()}
