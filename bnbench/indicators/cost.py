"""Cheap cost baselines: parameter count, FLOPs and multiply-accumulates of the stand-alone network
(higher is better).

Each search space counts them exactly for its own networks (``space.cost``; NB201 gathers per-op tables,
since its costs add up per op; NB101 computes them from each cell's graph, since its vertex widths depend
on the graph), for the stand-alone network the ground truth was measured on (``ctx.network``).

* ``params``: trainable parameters, in millions, as NB201 reports them (BN running statistics excluded).
* ``flops``: floating-point operations of one forward pass of one image, in millions, counted by torch's
  own ``FlopCounterMode``: **2 FLOPs per multiply-accumulate** of the convolutions and the classifier's
  matrix product (pooling, BN, additions and bias additions count 0).
* ``convs``: the number of convolutional ops chosen (see each space's ``conv_ops``).
* ``macs``: **multiply-accumulates** of one forward pass of one image, in millions: the benchmark's
  convention. NB201's reported "flops" (``get_cost_info(...)['flops']``, computed by its
  ``utils/flop_benchmark.get_model_infos``) are these: per convolution ``k_h k_w C_in/groups C_out H_out
  W_out`` (+ ``C_out H_out W_out`` when it has a bias), per linear layer ``in * out`` (+ ``out`` for the
  bias); pooling, BN and additions are not summed. So ``macs = flops / 2 + b / 1e6`` with ``b`` the bias
  additions (for NB201 only the classifier's: ``num_classes``, 1e-5 M on CIFAR-10). Example, derived by
  hand: a cell of ``none`` edges leaves stem + two reduction blocks + classifier, 7,783,050 MACs
  (``macs`` 7.78305, ``flops`` 15.56608); see ``tests/test_traps_proxies.py``.

A ranking by ``flops`` and one by ``macs`` are identical; quote ``macs`` beside a benchmark's figures.
"""

from __future__ import annotations

import numpy as np

from bnbench.errors import BnbenchError
from bnbench.indicators.registry import ScoringContext, register

# Reference rows of every correlate table (issue 13): what a proxy must beat to know more than structure.
STRUCTURAL_BASELINES = ("params", "flops", "convs")


def network_cost(archs: np.ndarray, ctx: ScoringContext, what: str) -> np.ndarray:
    """``what`` (params / flops / macs) of the stand-alone networks of ``archs``, in millions."""
    if ctx.space is None:
        raise BnbenchError(f"{what}: the scoring context names no search space")
    net = ctx.network
    counts = ctx.space.cost(archs, net.space_options(ctx.space), num_classes=net.num_classes,
                            in_channels=net.in_channels, resolution=net.resolution)
    return np.asarray(counts[what], dtype=np.float64) / 1e6


@register("params", higher_is_better=True, summary="parameter count of the stand-alone network (M)")
def params(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    return network_cost(archs, ctx, "params")


@register("flops", higher_is_better=True,
          summary="FLOPs of one forward pass (M): 2 per multiply-accumulate (torch), twice NB201's 'flops'; see macs")
def flops(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    return network_cost(archs, ctx, "flops")


@register("macs", higher_is_better=True,
          summary="multiply-accumulates of one forward pass (M): what NB201 reports as 'flops'")
def macs(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    return network_cost(archs, ctx, "macs")


@register("convs", higher_is_better=True,
          summary="number of convolutional ops the architecture chooses (NB201: conv edges of the cell, 0-6)")
def convs(archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
    """Structural baseline: ``space.conv_ops`` (NB201 / DARTS / NB101: convolution ops of the cell(s); MobileNet:
    MBConv blocks). A ranking by it is the "convolution counter" every supernet indicator must beat."""
    if ctx.space is None:
        raise BnbenchError("convs: the scoring context names no search space")
    return np.asarray(ctx.space.conv_ops(archs), dtype=np.float64)
