"""Exact parameter, MAC and FLOP counts of stand-alone MobileNet networks, vectorised over architectures.

Every searchable layer has fixed input and output widths and a fixed input side whatever is chosen (an identity
only occurs where ``c_in == c_out`` at stride 1), so costs add up per layer:
``cost(arch) = skeleton + sum_i T[i, arch[i]]`` (:func:`bnbench.spaces.base.masked_gather`), with ``T`` computed
in closed form per (layer, choice).

Conventions (as NB101's, ``bnbench.indicators.cost``): ``params`` every trainable tensor (conv kernels, BN scale and
shift, the classifier's weight and bias; running statistics excluded); ``macs`` per convolution
``k_h k_w c_in / groups c_out H_out W_out`` (no conv has a bias; a depthwise conv is ``k k c H_out W_out``), the
classifier ``in * out + out``; BN, activations, additions and pooling count 0; ``flops`` 2 per multiply-accumulate
without the bias additions, ``2 * (macs - num_classes)`` (what torch's ``FlopCounterMode`` counts).

An MBConv ``c_in -> c_out`` with kernel k, expansion e (hidden ``h = e c_in``), stride s, input side r and
output side ``r' = ceil(r / s)``: params ``c_in h + 2h`` (expansion, absent when e = 1) ``+ k^2 h + 2h + h c_out +
2 c_out``; MACs ``c_in h r^2 + k^2 h r'^2 + h c_out r'^2``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from bnbench.errors import BnbenchError
from bnbench.spaces.base import masked_gather
from bnbench.spaces.mobilenet.arch import BLOCKS, EXPANSION, ID, KERNEL
from bnbench.spaces.mobilenet.layout import REDUCE_BELOW, down, layout, strides


def mbconv_cost(c_in: int, c_out: int, kernel: int, expansion: int, side: int, stride: int,
                bn: bool = True) -> tuple[int, int, int]:
    """``(params, macs, output side)`` of one MBConv (module docstring)."""
    h, b = c_in * expansion, 2 if bn else 0
    out = down(side, stride)
    params = kernel * kernel * h + b * h + h * c_out + b * c_out
    macs = kernel * kernel * h * out * out + h * c_out * out * out
    if expansion != 1:
        params += c_in * h + b * h
        macs += c_in * h * side * side
    return params, macs, out


@lru_cache(maxsize=256)
def tables(width_mult: float, stem_channels: int, head_channels: int, repeats: int, bn_every_op: bool,
           num_classes: int, in_channels: int, resolution: int, reduce_below: int = REDUCE_BELOW,
           bn: bool = True) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
    """``((skeleton params, skeleton macs), T_params, T_macs)`` with ``T_*`` of shape ``(21, 7)`` (column 6: id)."""
    plan = layout(width_mult, stem_channels, head_channels)
    stem_stride, layer_strides = strides(resolution, reduce_below)
    b = 2 if bn else 0
    side = down(resolution, stem_stride)
    params = 9 * in_channels * plan.stem + b * plan.stem
    macs = 9 * in_channels * plan.stem * side * side
    p, m, side = mbconv_cost(plan.stem, plan.first_block, 3, 1, side, 1, bn)
    params, macs = params + p, macs + m
    t_params = np.zeros((len(plan.layers), len(BLOCKS) + 1), dtype=np.int64)
    t_macs = np.zeros_like(t_params)
    for layer, stride in zip(plan.layers, layer_strides):
        out = side
        for c in range(len(BLOCKS)):
            p, m, out = mbconv_cost(layer.c_in, layer.c_out, KERNEL[c], EXPANSION[c], side, stride, bn)
            for _ in range(repeats - 1):
                pr, mr, _ = mbconv_cost(layer.c_out, layer.c_out, KERNEL[c], EXPANSION[c], out, 1, bn)
                p, m = p + pr, m + mr
            t_params[layer.index, c], t_macs[layer.index, c] = p, m
        t_params[layer.index, ID] = repeats * b * layer.c_out if bn_every_op else 0
        side = out
    params += plan.last * plan.head + b * plan.head + plan.head * num_classes + num_classes
    macs += plan.last * plan.head * side * side + plan.head * num_classes + num_classes
    return (params, macs), t_params, t_macs


def cost(rows: np.ndarray, width_mult: float = 1.0, stem_channels: int = 40, head_channels: int = 1728,
         repeats: int = 1, bn_every_op: bool = False, num_classes: int = 10, in_channels: int = 3,
         resolution: int = 224, reduce_below: int = REDUCE_BELOW, bn: bool = True) -> dict[str, np.ndarray]:
    """``{"params", "macs", "flops"}`` (int64, one per row of ``rows``: checked ``(n, 21)`` choice indices)."""
    for name, value in dict(num_classes=num_classes, in_channels=in_channels, resolution=resolution,
                            repeats=repeats).items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise BnbenchError(f"MobileNet network option {name}={value!r}: expected a positive integer")
    (p0, m0), tp, tm = tables(float(width_mult), int(stem_channels), int(head_channels), int(repeats),
                              bool(bn_every_op), int(num_classes), int(in_channels), int(resolution),
                              int(reduce_below), bool(bn))
    params = np.rint(masked_gather(tp, rows, p0)).astype(np.int64)
    macs = np.rint(masked_gather(tm, rows, m0)).astype(np.int64)
    return {"params": params, "macs": macs, "flops": 2 * (macs - num_classes)}
