"""Which images play which role in a run: the supernet's training images, the images indicators evaluate
on, and the images a ground truth is measured on (issue 16, item 7).

An indicator that is scored on the images its ground truth is measured on is not an independent
estimate of that truth. So for every dataset and truth split the indicators' *evaluation* split is
chosen disjoint from the truth's images wherever this copy of the data allows it:

=================  ==========================  ==========================  ===============================
dataset            truth split (its images)    indicators evaluate on      supernet trains on
=================  ==========================  ==========================  ===============================
cifar10-valid      valid (NB201's 25k half)    test set (10k)              this copy's 25k train half
                   test (10k test set)         this copy's 25k valid half
                   train (NB201's 25k half)    test set
cifar10            test (10k test set)         hold-out of the train set   the other 45k training images
                   train (all 50k)             test set
cifar100           valid/test (x-valid/x-test  hold-out of the train set   the other 45k training images
                   halves of the test set)
                   train (all 50k)             test set (10k)
ImageNet16-120     valid/test (halves of val)  hold-out of the train set   the rest of the train set
                   train                       val_data
digits             any (k-fold over all 1,797) the 797 valid images:       the 1,000 train images
                                               OVERLAP, see below
=================  ==========================  ==========================  ===============================

*Hold-out*: where the setting has no validation split of its own the indicators evaluate on a
class-balanced hold-out of ``holdout_size(n) = min(5,000, n // 10)`` training images, drawn once with the
fixed seed ``SPLIT_SEED`` (never the run's seed), and the supernet trains on the rest. 5,000 of CIFAR's
50,000 is the classic 45k/5k split of He et al. (CVPR 2016, section 4.2): 500 images per CIFAR-10 class
put the standard error of a one-shot accuracy near 0.7 points while the supernet keeps 90 % of its data;
``supernet_acc`` reads ``--val-images`` (default 1,000) of them and the composite ``--probe-images`` (64).

*Truth split ``kfold``*: a ``bnbench truth build`` table cross-validates over the dataset's train and valid
splits pooled, so its images are all of them; the indicators then use the test set. The embedded digits
truth is such a table over all 1,797 digits images: no digits image is left that it does not test, so
disjoint evaluation is impossible without rebuilding that truth on a subset, and the record says so.

*cifar10-valid*: NB201's official 25k/25k halves index the original CIFAR-10 image order; bnbench halves
the train set with its own class-balanced split (any copy, shuffled or not), so about half of the
supernet's training images are expected among NB201's validation images. Only the training side is
affected (a supernet trained on images of the truth's split); the evaluation side is disjoint.
"""

from __future__ import annotations

from dataclasses import dataclass

HOLDOUT_IMAGES = 5000  # class-balanced hold-out from the training images (see the module docstring)
HOLDOUT_FRACTION_CAP = 10  # ... but at most 1/10 of them (tiny or fake copies)
TRUTH_SPLITS = ("train", "valid", "test", "kfold")
DISJOINT = "disjoint"


def holdout_size(n_train: int) -> int:
    """Images held out of ``n_train`` training images: ``min(HOLDOUT_IMAGES, n_train // 10)``."""
    return min(HOLDOUT_IMAGES, n_train // HOLDOUT_FRACTION_CAP)


@dataclass(frozen=True)
class TruthImages:
    """The images one truth split of a dataset is measured on, and how the run's images relate to them.

    ``eval_split`` names the dataset split the indicators evaluate on (``"valid"`` or ``"test"``);
    ``eval_vs_truth`` / ``train_vs_truth`` are ``"disjoint"`` or a sentence giving the overlap.
    """

    images: str
    count: int
    eval_split: str
    eval_vs_truth: str = DISJOINT
    train_vs_truth: str = DISJOINT


def truth_split_key(split: str | None, built_by_bnbench: bool) -> str | None:
    """The key of :data:`TRUTH_SPLITS` for a truth: ``kfold`` for a bnbench-built (cross-validated) table."""
    if split is None:
        return None
    return "kfold" if built_by_bnbench else str(split)


def combine(relations: list[str]) -> str:
    """``"disjoint"`` when every relation is; else the distinct overlaps joined by ``"; "``."""
    overlaps = list(dict.fromkeys(r for r in relations if r != DISJOINT))
    return DISJOINT if not overlaps else "; ".join(overlaps)
