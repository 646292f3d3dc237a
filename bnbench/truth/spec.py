"""What a ground truth measures (dataset, split, metric, training budget) and its table column name."""

from __future__ import annotations

from dataclasses import dataclass

from bnbench.errors import BenchmarkError

# The four NB201 / NATS-Bench training settings, in the benchmarks' own spelling.
NB201_DATASETS = ("cifar10-valid", "cifar10", "cifar100", "ImageNet16-120")
SPLITS = ("train", "valid", "test")
METRICS = ("accuracy", "loss")
SPLIT_WORDS = {"train": "train", "valid": "validation", "test": "test"}
# Splits each NB201 setting has (see ``api_reader``): ``cifar10`` trains on all 50k training images and is
# evaluated on the 10k test set only, so it has no validation split. Other datasets (e.g. ``digits`` in
# bnbench-built tables) define their own splits and are not restricted here.
SETTING_SPLITS = {"cifar10-valid": SPLITS, "cifar10": ("train", "test"), "cifar100": SPLITS,
                  "ImageNet16-120": SPLITS}
NO_SPLIT_HINT = {("cifar10", "valid"): "use --dataset cifar10-valid for the validation accuracy of the 25k/25k "
                                       "split, or --truth-split test for the 10k test set"}


@dataclass(frozen=True)
class TruthSpec:
    """One ground-truth quantity; the split has its NB201 meaning for each dataset (see ``api_reader``)."""

    dataset: str = "cifar10-valid"
    split: str = "valid"
    metric: str = "accuracy"
    epochs: int = 200

    def __post_init__(self) -> None:
        known = SETTING_SPLITS.get(self.dataset)
        if known is not None and self.split not in known:
            hint = NO_SPLIT_HINT.get((self.dataset, self.split), f"its splits are {', '.join(known)}")
            raise BenchmarkError(f"the {self.dataset} setting has no {SPLIT_WORDS.get(self.split, self.split)} "
                                 f"split; {hint}")

    def column(self) -> str:
        """The compact-table column holding this quantity."""
        return column_name(self.dataset, self.split, self.metric, self.epochs)

    def describe(self, aggregation: str = "mean of seeds") -> str:
        """E.g. ``cifar10-valid / validation / 200 epochs / mean of seeds``."""
        split = SPLIT_WORDS.get(self.split, self.split)
        if self.metric != "accuracy":
            split = f"{split} {self.metric}"
        return f"{self.dataset} / {split} / {self.epochs} epochs / {aggregation}"


def column_name(dataset: str, split: str, metric: str, epochs: int) -> str:
    """``{dataset}:{split}:{metric}:{epochs}``, e.g. ``cifar10-valid:valid:accuracy:200``."""
    return f"{dataset}:{split}:{metric}:{int(epochs)}"


def parse_column(name: str) -> TruthSpec | None:
    """The spec a 4-part column name stands for; None for any other column (e.g. the seed counts
    ``{dataset}:seeds:{epochs}``). BenchmarkError for a column of a split its setting does not have."""
    parts = name.split(":")
    if len(parts) != 4 or not parts[3].isdigit():
        return None
    return TruthSpec(parts[0], parts[1], parts[2], int(parts[3]))


def seeds_column(dataset: str, epochs: int) -> str:
    """``{dataset}:seeds:{epochs}``: how many training runs (seeds) each value is the mean of."""
    return f"{dataset}:seeds:{int(epochs)}"
