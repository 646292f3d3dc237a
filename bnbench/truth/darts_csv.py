"""DARTS accuracy CSVs: one row per training run (or surrogate prediction), the architecture as a DARTS genotype.

Columns (kind ``darts-csv``, recognised by its header): a ``genotype`` column holding the DARTS string
``Genotype(normal=[(op, input), ...8], normal_concat=[2, 3, 4, 5], reduce=[...8], reduce_concat=[2, 3, 4, 5])``
(:mod:`bnbench.spaces.darts.arch`) and at least one metric column as in NB201 CSVs (:mod:`bnbench.truth.columns`:
``validation_accuracy``, ``test accuracy``, ``train_loss``, ...; accuracies in percent). Other columns are ignored.

Keys: the canonical genotype string (each node's two pairs ordered by input: ``DARTSSpace.truth_key``), which is
also each row's spec. Rows whose genotypes are canonically equal are **repeated runs** of one architecture: the
table holds their mean and ``{dataset}:seeds:{epochs}`` how many rows it is over (as NB101 CSVs,
:mod:`bnbench.truth.nb101_csv`).

Setting: NAS-Bench-301's CIFAR-10 protocol, labelled ``nb301-cifar10`` (``--dataset cifar10`` or none names it):
DARTS networks trained on CIFAR-10 training images, ``valid`` measured on images held out of the training set
(which ones, the file cannot tell; ``DARTSSpace.truth_image_splits`` makes the indicators evaluate on the test
set). The budget comes from the file name (``...-100ep.csv``), else ``--truth-epochs``, else NAS-Bench-301's only
budget, 100 epochs (recorded in ``setting_from``).
"""

from __future__ import annotations

import os
from pathlib import Path

from bnbench.errors import ArchError
from bnbench.truth.fail import fail
from bnbench.truth.nb101_csv import find, read_metric_csv, stated_budget
from bnbench.truth.nb101_records import RunTable

SPACE = "darts"
DATASET = "nb301-cifar10"
DATASET_ALIASES = (None, "cifar10", DATASET)
DEFAULT_EPOCHS = 100  # NAS-Bench-301 trained (and its surrogate predicts) 100-epoch runs
GENOTYPE_COLUMNS = ("genotype", "genotypes")
EXPECTED_COLUMNS = ("a genotype column (DARTS Genotype(normal=[...], normal_concat=[2, 3, 4, 5], reduce=[...], "
                    "reduce_concat=[2, 3, 4, 5]) strings) and a metric column such as validation_accuracy (percent)")
SPLITS_NOTE = ("NAS-Bench-301 CIFAR-10 protocol: DARTS networks trained on CIFAR-10 training images; valid = images "
               "held out of the training set; percent")
KEYS_NOTE = "archs are canonical DARTS genotype strings (each node's two pairs ordered by input)"


def is_darts_header(fields: list[str]) -> bool:
    """True for a header with a genotype column."""
    return find(fields, GENOTYPE_COLUMNS) is not None


def read_darts_csv(path: str | os.PathLike, dataset: str | None = None, epochs: int | None = None):
    """Every metric column of a DARTS CSV, canonically equal genotypes averaged; BenchmarkError naming ``path``
    for another setting, a budget the name and ``epochs`` disagree on, an invalid genotype or fractions."""
    path = Path(path)
    if dataset not in DATASET_ALIASES:
        raise fail(path, f"a DARTS (NAS-Bench-301) ground truth holds one setting, {DATASET} (CIFAR-10), not "
                         f"--dataset {dataset}")
    budget, budget_from = _budget(path, epochs)
    df, (column,), metrics, values = read_metric_csv(path, [("a genotype column", GENOTYPE_COLUMNS)],
                                                     EXPECTED_COLUMNS)
    from bnbench.spaces.darts.space import SPACE as DARTS  # here: bnbench.spaces brings torch

    runs = RunTable([(split, metric, "") for split, metric in metrics.values()], dataset=DATASET)
    keys: dict[str, str] = {}
    for i, text in enumerate(df[column].tolist()):
        key = keys.get(text)
        if key is None:
            try:
                key = keys[text] = DARTS.truth_key(DARTS.parse(text))
            except ArchError as err:
                raise fail(path, f"line {i + 2}: {err}") from None
        row = runs.row(key)
        if row < 0:
            row = runs.new_row(key, key)
        runs.add(row, budget, [v[i] for v in values.values()])
    counts = runs.run_counts()
    meta = {"space": SPACE, "splits": SPLITS_NOTE, "keys": KEYS_NOTE, "setting_from": budget_from,
            "repeats": f"{len(df)} rows, {len(runs)} distinct genotypes (canonical form); rows of one genotype are "
                       "separate runs, averaged",
            "columns_read": {"genotype": column, **{name: f"{DATASET}:{split}:{metric}:{budget}"
                                                    for name, (split, metric) in metrics.items()}}}
    listed = "rows listed per genotype" if counts.max() > 1 else "row listed per genotype (one run)"
    return runs.table(path, "darts-csv", meta, listed=listed)


def _budget(path: Path, epochs: int | None) -> tuple[int, str]:
    budget, source = stated_budget(path, epochs)
    if budget is not None:
        return budget, source
    return DEFAULT_EPOCHS, f"NAS-Bench-301's {DEFAULT_EPOCHS}-epoch budget (default: neither the file name nor " \
                           "--truth-epochs states one)"
