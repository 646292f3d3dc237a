"""``dartsalpha``: the architecture weights of a differentiable search as an indicator.

    score(cell) = sum over edges e of log softmax(alpha_e)[op_e]

(softmax over all of the edge's ops, ``none`` included where the relaxation has it; DARTS: over the cell's 16 used
edges of both cell types; which edges are used is not scored), the log-probability of the cell under the search's factorised op distribution (DARTS / BNAS-v2, Liu et al. ICLR
2019, Ding et al. arXiv 2009.08886): the derived cell (the argmax of every edge) scores highest, so its tau against
the truth says how well the whole alpha ranks cells, not only whether its argmax is good. It reads the checkpoint a
``bnbench search darts`` run writes (``--search-checkpoint PATH``); a checkpoint of another search space, a file
that is not one, or one that changed since the run read its digest is a one-line error. Higher is better.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from bnbench.errors import BnbenchError
from bnbench.indicators.registry import ScoringContext, register


def file_digest(path: str) -> str:
    """sha256 of a file's bytes (what the score cache keys the checkpoint on)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_alpha(ctx: ScoringContext) -> np.ndarray:
    """The checkpoint's alpha, ``(decisions, choices)``, checked against ``ctx.space``."""
    from bnbench.search.differentiable import CHECKPOINT_KIND

    path = ctx.options.get("search_checkpoint")
    if not path:
        raise BnbenchError("indicator 'dartsalpha' needs a differentiable-search checkpoint (--search-checkpoint PATH, "
                           "written by `bnbench search darts`)")
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise BnbenchError(f"--search-checkpoint {path}: unreadable ({err})") from None
    if not isinstance(doc, dict) or doc.get("kind") != CHECKPOINT_KIND:
        raise BnbenchError(f"--search-checkpoint {path}: not a `bnbench search darts` checkpoint")
    expected = ctx.options.get("search_checkpoint_sha256")
    if expected and file_digest(path) != expected:
        raise BnbenchError(f"--search-checkpoint {path}: the file changed while this run was reading it")
    space = getattr(ctx.space, "name", None)
    if doc.get("space") != space:
        raise BnbenchError(f"--search-checkpoint {path}: a search of {doc.get('space')}, this run scores {space}")
    alpha = np.asarray(doc["alpha"], dtype=np.float64)
    if alpha.ndim != 2 or alpha.shape[0] != len(ctx.space.decisions) \
            or alpha.shape[1] < max(len(d.choices) for d in ctx.space.decisions):
        raise BnbenchError(f"--search-checkpoint {path}: alpha of shape {alpha.shape} does not fit {space}")
    return alpha


def log_prob(alpha: np.ndarray, choices: np.ndarray) -> np.ndarray:
    """``(n,)`` sum over used decisions of log softmax(alpha_d)[choice]; ``alpha`` (decisions, columns),
    ``choices`` the space's ``(n, decisions)`` choice matrix (-1: unused, contributes 0)."""
    top = alpha.max(axis=1, keepdims=True)
    log_p = alpha - top - np.log(np.exp(alpha - top).sum(axis=1, keepdims=True))
    used = choices >= 0
    rows = np.arange(choices.shape[1])[None, :].repeat(len(choices), 0)
    return np.where(used, log_p[rows, np.where(used, choices, 0)], 0.0).sum(axis=1)


@register("dartsalpha", higher_is_better=True,
          summary="sum over edges of log softmax(alpha)[op] of a differentiable search (--search-checkpoint)")
def dartsalpha(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    return log_prob(load_alpha(ctx), ctx.space.choices(np.asarray(archs)))
