"""Datasets for NB201 training: whole splits kept as uint8 tensors on the device, batched and augmented there.

``load_dataset(name, data_dir)`` reads the standard folders under the data root (as torchvision's
``root``): ``cifar-10-batches-py``, ``cifar-100-python``, ``ImageNet16``; ``digits`` needs none.
Split definitions are documented in :mod:`bnbench.datasets.registry`.
"""

from bnbench.datasets.augment import AugmentConfig, BatchAugmenter
from bnbench.datasets.batches import iterate_batches
from bnbench.datasets.dataset import Dataset, ImageSplit
from bnbench.datasets.registry import DATASETS, load_dataset
from bnbench.datasets.root import resolve_data_root

__all__ = ["AugmentConfig", "BatchAugmenter", "DATASETS", "Dataset", "ImageSplit", "iterate_batches",
           "load_dataset", "resolve_data_root"]
