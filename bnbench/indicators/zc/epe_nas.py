"""EPE-NAS (Lopes et al., "EPE-NAS: Efficient Performance Estimation Without Training for Neural
Architecture Search", ICANN 2021; VascoLopes/EPE-NAS ``search.py``, ``eval_score_perclass``).

With J_i the input Jacobian of sample i (as jacob_cov), group the rows by label; for each class c
present, Sigma_c = correlation matrix of its rows (1 x 1 = [1] for a single sample) and

    s_c = sum_{i,j} log(|Sigma_c[i,j]| + k),   k = 1e-5   (divided by the class's row count if C > 100)
    score = sum_c |s_c|                                   (C <= 100 classes)
    score = sum_{c,c'} |s_c - s_c'| / (#classes seen)     (C > 100)

Conventions: the batch of 64 training images and their labels, train mode, default initialisation;
C = the dataset's number of classes (the reference script never passes it and so always takes the
C <= 100 branch). A constant Jacobian row leaves Sigma_c undefined: NaN, as the reference. Higher is better.
"""

from __future__ import annotations

import numpy as np

from bnbench.indicators.zc.shared import Pass, Tap
from bnbench.indicators.zc.jacob_cov import correlation
from bnbench.indicators.zc.runner import proxy

K = 1e-5


def epe_score(jacobian: np.ndarray, labels: np.ndarray, num_classes: int) -> float:
    per_class = {}
    for c in np.unique(labels):
        corr = correlation(jacobian[labels == c])
        s = float(np.sum(np.log(np.abs(corr) + K)))
        per_class[c] = s / len(corr) if num_classes > 100 else s
    values = np.array(list(per_class.values()))
    if num_classes <= 100:
        return float(np.abs(values).sum())
    return float(np.abs(values[:, None] - values[None, :]).sum() / len(values))


def epe_nas_value(p: Pass) -> float:
    """EPE-NAS's score of the input Jacobian grouped by the batch's labels."""
    return epe_score(p.jacobian, p.labels, p.num_classes)


epe_nas = proxy("epe_nas", higher_is_better=True, tap=Tap("jacobian", epe_nas_value),
                summary="EPE-NAS: per-class Jacobian correlation score")
