"""EcoNAS's hierarchical proxy (Zhou et al., CVPR 2020, section 5): cheap training for all, more for the promising.

Stage 0 trains every candidate at ``schedule.stages[0]``; stage ``i`` trains the best ``schedule.keep[i-1]``
fraction (rounded up, :meth:`Schedule.survivors`) of stage ``i-1``'s candidates, ranked by their mean accuracy over seeds (a failed run
ranks last and is not promoted), at ``schedule.stages[i]``. The final ranking puts every architecture that reached
a later stage above every one dropped earlier; within a stage, its accuracy orders them: the score is
``k + acc_k / 100`` (``k``: last stage trained, ``acc_k``: its mean accuracy there, in %). A one-stage schedule
(the flat proxy) scores the mean accuracy (%) itself.

A stage that continues the previous one (same run, later stop: ``c4r4s0e60@20+top0.5+c4r4s0e60``) trains the
promoted networks on from their checkpoints, as EcoNAS's own search does (``DongzhanZhou/EcoNAS``,
``search/main.py`` and ``search/train.py``: 20-epoch slices of one 60-epoch cosine run, the best networks of each
slice trained on), and is charged only the continuation. Differences from that code: EcoNAS scores a slice by its
best test accuracy over the slice's epochs and restarts the optimiser (momentum) at each slice; bnbench scores the
network at the slice's end on the evaluation images and continues the optimiser's state, so that a network
continued to the end is exactly the network of the uninterrupted run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bnbench.econas.setting import Schedule


@dataclass
class StagedResult:
    """``scores``: (n,) the ranking score above (flat: accuracy %) (NaN where the architecture's last run failed); ``accuracy``:
    (stages, n) mean accuracy (%) per stage, NaN where not trained; ``seconds``: (stages,) summed wall seconds of
    the stage's runs (one thread each); ``trained``: (stages,) architectures trained per stage."""

    scores: np.ndarray
    accuracy: np.ndarray
    seconds: np.ndarray
    trained: np.ndarray

    @property
    def total_seconds(self) -> float:
        return float(self.seconds.sum())


def staged_scores(runner, archs: list[str], schedule: Schedule, seeds: tuple[int, ...]) -> StagedResult:
    """Run ``schedule`` over ``archs`` with ``runner`` (a :class:`~bnbench.econas.runs.ProxyRunner`)."""
    n = len(archs)
    accuracy = np.full((len(schedule.stages), n), np.nan)
    seconds = np.zeros(len(schedule.stages))
    trained = np.zeros(len(schedule.stages), dtype=int)
    last = np.zeros(n, dtype=int)
    alive = np.arange(n)
    for k, setting in enumerate(schedule.stages):
        if k > 0:
            keep = schedule.survivors(k, n)
            prev = accuracy[k - 1, alive]
            order = np.lexsort((alive, -np.where(np.isnan(prev), -np.inf, prev)))  # best first; ties: input order
            alive = np.sort(alive[order[:keep]])
        after = schedule.stages[k - 1] if schedule.continued(k) else None  # continue its runs' checkpoints
        acc, sec = runner.accuracy([archs[i] for i in alive], setting, seeds, after=after)
        with np.errstate(invalid="ignore"):
            accuracy[k, alive] = np.where(np.isnan(acc).any(axis=1), np.nan, acc.mean(axis=1))
        seconds[k] = float(np.nansum(sec))
        trained[k] = len(alive)
        last[alive] = k
    final = accuracy[last, np.arange(n)]
    scores = final if schedule.flat else last + final / 100.0  # flat: the accuracy itself (%)
    return StagedResult(scores=scores, accuracy=accuracy, seconds=seconds, trained=trained)
