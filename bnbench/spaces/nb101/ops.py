"""NAS-Bench-101 vertex operations and module plumbing, built as the official TensorFlow code builds them.

Reference: google-research/nasbench, ``nasbench/lib/base_ops.py`` and ``model_builder.py`` (Ying et al.,
ICML 2019). Every convolution is ``conv_bn_relu``: Conv (stride 1, "same" padding, **no bias**) -> BN
(affine: a trainable scale and shift) -> ReLU. The three vertex ops:

* ``conv3x3-bn-relu`` / ``conv1x1-bn-relu``: ``conv_bn_relu`` with a 3x3 / 1x1 kernel, ``channels`` in and out;
* ``maxpool3x3``: 3x3 max pool, stride 1, "same" padding (PyTorch pads with -inf, as TF ignores the padding),
  no parameters, channels unchanged.

A *projection* (the input vertex's edges) is a 1x1 ``conv_bn_relu``; *truncation* keeps the first ``channels``
channels of an interior vertex's output when it feeds a vertex of fewer channels (by construction at most one
fewer, see :func:`bnbench.spaces.nb101.model.vertex_channels`).

BatchNorm: TF's ``BN_MOMENTUM = 0.997`` is the decay of the moving average (``moving = 0.997 moving + 0.003
batch``); PyTorch's ``momentum`` is the weight of the *new* batch, so the translation is ``momentum = 1 - 0.997
= 0.003`` (:data:`BN_MOMENTUM`); ``eps = 1e-5`` is the same in both. The ``zc`` model variant (zero-cost-nas's
``foresight/models/nasbench1_ops.py``, copied verbatim by NASLib) uses PyTorch's default ``momentum = 0.1``.

``bn_every_op=True`` (the fairness mode, Zhu et al., arXiv 2112.00265) appends a trainable (affine) BatchNorm
to ``maxpool3x3`` so every vertex op ends in a BN whose scale BN-NAS can read; the conv ops already end in
BN -> ReLU, whose BN is the one read (:func:`last_bn`). ``use_bn=False`` drops every BN (zero-cost-nas's
``get_prunable_copy(bn=False)``, used by synflow), the extra one included.
"""

from __future__ import annotations

import torch
from torch import nn

from bnbench.spaces.base import last_bn  # noqa: F401  (re-exported: the BN that BN-NAS reads)


from bnbench.errors import ArchError

BN_MOMENTUM_TF = 0.997  # base_ops.BN_MOMENTUM: TF's moving-average decay
BN_MOMENTUM = 0.003  # the same in PyTorch's convention: 1 - 0.997
BN_MOMENTUM_TORCH_DEFAULT = 0.1  # what zero-cost-nas's port uses (nn.BatchNorm2d's default)
BN_EPSILON = 1e-5  # base_ops.BN_EPSILON
KERNELS = {"conv3x3-bn-relu": 3, "conv1x1-bn-relu": 1}


def bn(channels: int, momentum: float = BN_MOMENTUM) -> nn.BatchNorm2d:
    """An affine BatchNorm with NB101's epsilon and (by default) the official momentum in PyTorch's convention."""
    return nn.BatchNorm2d(channels, eps=BN_EPSILON, momentum=momentum)


class ConvBnRelu(nn.Sequential):
    """``conv_bn_relu``: Conv2d(k x k, stride 1, padding k // 2, no bias) -> BN -> ReLU (``use_bn=False``:
    Conv -> ReLU). Shapes: (B, c_in, H, W) -> (B, c_out, H, W)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, momentum: float = BN_MOMENTUM, use_bn: bool = True):
        layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, kernel, stride=1, padding=kernel // 2, bias=False)]
        if use_bn:
            layers.append(bn(c_out, momentum))
        layers.append(nn.ReLU(inplace=False))
        super().__init__(*layers)


class MaxPool3x3(nn.Sequential):
    """``maxpool3x3``: MaxPool2d(3, stride 1, padding 1), then a trainable BN when ``bn_every_op`` (and
    ``use_bn``). Shapes unchanged."""

    def __init__(self, channels: int, bn_every_op: bool = False, momentum: float = BN_MOMENTUM,
                 use_bn: bool = True):
        layers: list[nn.Module] = [nn.MaxPool2d(3, stride=1, padding=1)]
        if bn_every_op and use_bn:
            layers.append(bn(channels, momentum))
        super().__init__(*layers)


def make_op(name: str, channels: int, bn_every_op: bool = False, momentum: float = BN_MOMENTUM,
            use_bn: bool = True) -> nn.Module:
    """One NB101 vertex op with ``channels`` in and out; :class:`ArchError` for an unknown name."""
    if name in KERNELS:
        return ConvBnRelu(channels, channels, KERNELS[name], momentum, use_bn)
    if name == "maxpool3x3":
        return MaxPool3x3(channels, bn_every_op, momentum, use_bn)
    raise ArchError(f"unknown NB101 op {name!r} (NB101 ops: conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3)")


def projection(c_in: int, c_out: int, momentum: float = BN_MOMENTUM, use_bn: bool = True) -> ConvBnRelu:
    """``model_builder.projection``: the 1x1 ``conv_bn_relu`` every edge out of a module's input goes through."""
    return ConvBnRelu(c_in, c_out, 1, momentum, use_bn)


def truncate(x: torch.Tensor, channels: int) -> torch.Tensor:
    """``model_builder.truncate``: the first ``channels`` channels of ``x`` (B, C, H, W); ``x`` itself when C
    equals ``channels``. A ``ValueError`` when C is smaller (the official code's error: cannot happen for
    channels from ``vertex_channels``)."""
    have = x.shape[1]
    if have < channels:
        raise ValueError(f"truncate: input has {have} channels, fewer than {channels}")
    return x if have == channels else x[:, :channels]

