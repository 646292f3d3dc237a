"""Jacobian covariance (Mellor et al., "Neural Architecture Search without Training", arXiv v1 2020),
as computed by Abdelfattah et al., "Zero-Cost Proxies for Lightweight NAS", ICLR 2021
(zero-cost-nas ``foresight/pruners/measures/jacob_cov.py``).

J_i = d(sum_c f_c(x_i)) / d x_i (flattened), Sigma = correlation matrix of the rows J_i (N x N),
lambda its eigenvalues and k = 1e-5:

    score = - sum_j [ log(lambda_j + k) + 1 / (lambda_j + k) ]

Conventions: the batch of 64 training images, train mode, default initialisation; eigenvalues of the
symmetric Sigma via ``eigvalsh`` (the reference's ``eig`` gives the same real spectrum). When a row
of J is constant (e.g. no path from cell input to output: J = 0) Sigma is undefined and the
reference yields NaN; so does this (reason logged). Higher is better.
"""

from __future__ import annotations

import numpy as np

from bnbench.indicators.zc.common import Undefined
from bnbench.indicators.zc.runner import proxy
from bnbench.indicators.zc.shared import Tap

K = 1e-5


def correlation(rows: np.ndarray) -> np.ndarray:
    """Pearson correlation of the rows; :class:`Undefined` when a row is constant."""
    centred = rows - rows.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1)
    if not (norms > 0).all():
        raise Undefined(f"{int((norms == 0).sum())} of {len(rows)} Jacobian rows are constant: correlation undefined")
    unit = centred / np.where(norms > 0, norms, 1.0)[:, None]
    return np.clip(unit @ unit.T, -1.0, 1.0)


def jacob_cov_score(jacobian: np.ndarray) -> float:
    eigenvalues = np.linalg.eigvalsh(correlation(jacobian))
    return float(-np.sum(np.log(eigenvalues + K) + 1.0 / (eigenvalues + K)))


jacob_cov = proxy("jacob_cov", higher_is_better=True, tap=Tap("jacobian", lambda p: jacob_cov_score(p.jacobian)),
                  summary="Jacobian covariance: -sum(log(l+k) + 1/(l+k)) over eigenvalues of corr(J)")
