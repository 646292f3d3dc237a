"""Is a CSV's content consistent with the NB201 training setting it claims (by its name or by the user)?

A file name is a claim, not a fact: a ``cifar10-valid`` table saved under a ``cifar10`` name would pass its
test column off as the accuracy of networks trained on all 50k images, and report a validation split that
the ``cifar10`` setting does not have. Where the settings can be told apart from the values, bnbench checks:

1. **Splits.** ``cifar10`` (train on 50k, evaluate on the 10k test set) has no validation split. A validation
   column that merely repeats the test column is dropped (some exports copy it); one with other values is
   what a ``cifar10-valid`` table holds: refused.
2. **Ceilings.** No NB201 cell's mean validation/test accuracy exceeds the setting's best value in the
   benchmark (NB201 v1.1 / NATS-Bench, 200 epochs: cifar10-valid 91.6 / 91.5 %, cifar10 94.4 %, cifar100
   73.5 %, ImageNet16-120 46.7 / 47.3 %); a value above it by more than ``CEILING_MARGIN`` points is refused.
3. **Medians.** At the 200-epoch budget, with at least ``MEDIAN_MIN_ROWS`` values, the median validation/test
   accuracy must lie in the setting's band: the full benchmark's medians are about 87 % (CIFAR-10), 65 %
   (CIFAR-100) and 36 % (ImageNet16-120), and the bands split the gaps halfway (76 % and 50 %). A random
   sample of 20 cells crosses a boundary with negligible probability (under 1e-6 from the benchmark's
   distributions); a hand-picked sample of collapsed cells could, and is better named with ``--dataset``.

Only NB201 settings are checked; bnbench-built tables (digits, reduced protocols) record their own protocol.
"""

from __future__ import annotations

import os

import numpy as np

from bnbench.truth.fail import fail

CEILING_MARGIN = 1.5  # points above the benchmark's best mean accuracy still accepted (seed noise, other sources)
MEDIAN_MIN_ROWS = 20
BEST = {("cifar10-valid", "valid"): 91.61, ("cifar10-valid", "test"): 91.52, ("cifar10", "test"): 94.37,
        ("cifar100", "valid"): 73.49, ("cifar100", "test"): 73.51,
        ("ImageNet16-120", "valid"): 46.73, ("ImageNet16-120", "test"): 47.31}
MEDIAN_BAND = {"cifar10-valid": (76.0, 100.0), "cifar10": (76.0, 100.0), "cifar100": (50.0, 76.0),
               "ImageNet16-120": (0.0, 50.0)}
_SPLIT_WORDS = {"valid": "validation", "test": "test"}


def check_setting(path: str | os.PathLike, dataset: str, epochs: int, claimed_by: str,
                  accuracies: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Check ``accuracies`` (``{split: percent per row}``) against ``dataset``; returns the columns to keep.

    ``claimed_by`` says where the setting came from (``"its file name"``, ``"--dataset"``), for the message.
    Raises BenchmarkError naming ``path`` on a contradiction.
    """
    accuracies = dict(accuracies)
    if dataset not in MEDIAN_BAND:
        return accuracies
    if dataset == "cifar10" and "valid" in accuracies:
        valid, test = accuracies["valid"], accuracies.get("test")
        both = np.isfinite(valid) & (np.isfinite(test) if test is not None else False)
        if not np.isfinite(valid).any() or (test is not None and np.array_equal(valid[both], test[both])
                                            and both.sum() == np.isfinite(valid).sum()):
            accuracies.pop("valid")  # an empty column, or a copy of the test column: not a split of its own
        else:
            raise fail(path, f"{claimed_by} says the cifar10 setting, which has no validation split (it trains on "
                             "all 50k training images and is evaluated on the 10k test set), but the table holds "
                             "validation accuracies distinct from its test accuracies, as a cifar10-valid table "
                             "does; name the setting it was trained in (e.g. ...-cifar10-valid-200ep.csv)")
    for split, values in accuracies.items():
        finite = values[np.isfinite(values)]
        if split not in _SPLIT_WORDS or finite.size == 0:
            continue
        if finite.max() <= 1.0 and finite.min() >= 0.0:
            raise fail(path, f"its {_SPLIT_WORDS[split]} accuracies all lie in [0, 1] (max {finite.max():g}): "
                             "fractions, not the percentages bnbench reads; multiply them by 100")
        best = BEST.get((dataset, split))
        if best is not None and finite.max() > best + CEILING_MARGIN:
            raise fail(path, f"{claimed_by} says {dataset}, but its {_SPLIT_WORDS[split]} accuracy reaches "
                             f"{finite.max():.2f}%, above any NB201 cell's in that setting (best {best:.2f}%); "
                             "these values belong to another setting")
        low, high = MEDIAN_BAND[dataset]
        median = float(np.median(finite))
        if int(epochs) == 200 and finite.size >= MEDIAN_MIN_ROWS and not low <= median <= high:
            raise fail(path, f"{claimed_by} says {dataset}, but the median {_SPLIT_WORDS[split]} accuracy of its "
                             f"{finite.size} cells is {median:.1f}%, outside that setting's range ({low:g}-{high:g}%"
                             "); these values belong to another setting")
    return accuracies
