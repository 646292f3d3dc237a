"""scikit-learn's bundled handwritten digits: 1,797 real 8x8 grayscale images, no download needed."""

from __future__ import annotations

import numpy as np

from bnbench.datasets.dataset import Arrays
from bnbench.errors import DataError


def read_digits() -> Arrays:
    """All 1,797 images as uint8 N x 1 x 8 x 8 (values 0..16 scaled to 0..255) with labels 0..9."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise DataError("the digits dataset ships with scikit-learn, which is not installed: "
                        "pip install scikit-learn") from err
    bunch = load_digits()
    x = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)[:, None, :, :]
    return Arrays(x, bunch.target.astype(np.int64))
