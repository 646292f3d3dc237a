"""``composite_untrained``: the composite indicator on the *initialised* supernet, a training-free indicator.

Issue 13 asked whether the composite needs its BN-only supernet trained at all. Measured (README, "Is
training needed?"): on the embedded digits default the composite's Kendall tau is 0.241 at epoch 0 (no training
step), 0.251 after 1 epoch, 0.223 after 30 and 0.191 after 100 epochs of BN-only training; the study on real
CIFAR-10 (1,000 NB201 cells) gives its epoch-0 and trained values side by side. Training the supernet does not
make it rank better, so this indicator skips training: it builds the run's supernet with the run's config and
seed (the very weights ``--epochs 0`` scores; ``bnbench.train.supernet.build_supernet``) and computes
:func:`bnbench.indicators.composite.composite.composite` on it (same terms, MC-BN statistics, probe images and
weights). It needs data but no trained supernet, so it runs in the same command as trained indicators without
waiting for training.
"""

from __future__ import annotations

import numpy as np

from bnbench.indicators.composite.composite import composite
from bnbench.indicators.registry import ScoringContext, register
from bnbench.utils.placement import place


@register("composite_untrained", higher_is_better=True, needs=("data",),
          summary="composite on the initialised supernet (no training step): training-free")
def composite_untrained(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    """``composite`` (:mod:`~bnbench.indicators.composite.composite`) of ``archs`` (``(n, width)`` rows) on the
    untrained supernet of ``ctx.train`` (the run's TrainConfig; None: the dataset's preset,
    :func:`bnbench.experiment.train_config`), built with its seed. Returns ``(n,)`` rank sums, higher is better."""
    from dataclasses import replace

    from bnbench.train.config import TrainConfig
    from bnbench.train.supernet import TrainResult, build_supernet

    if ctx.train is not None:
        base = ctx.train
    else:
        from bnbench.experiment import train_config

        base = train_config(ctx.dataset.name, ctx.seed, space=getattr(ctx.space, "name", None))
    cfg = TrainConfig.from_dict({**base.to_dict(), "epochs": 0})
    model = place(build_supernet(cfg, ctx.dataset), ctx.dataset.train.x.device)
    model.eval()
    return composite(archs, replace(ctx, supernet=TrainResult(model, cfg)))
