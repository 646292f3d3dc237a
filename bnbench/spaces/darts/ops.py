"""DARTS cell operations, built as the DARTS code builds them (quark0/darts ``cnn/operations.py``).

Every op maps ``C`` channels to ``C`` channels at stride 1 or 2 (a reduction cell's edges from its two inputs):

* ``sep_conv_kxk``: ReLU -> depthwise kxk (stride s, padding k//2) -> 1x1 -> BN -> ReLU -> depthwise kxk -> 1x1
  -> BN (the separable convolution applied twice);
* ``dil_conv_kxk``: ReLU -> depthwise kxk, dilation 2 (stride s, padding k-1) -> 1x1 -> BN;
* ``max_pool_3x3`` / ``avg_pool_3x3``: 3x3 pooling, padding 1 (the average excludes the padding); no BN in the
  stand-alone network, followed by a BN in DARTS's search network (``model_search.py`` ``MixedOp``) and so in
  bnbench's supernet and the ``zc`` variant;
* ``skip_connect``: the identity at stride 1, :class:`FactorizedReduce` at stride 2;
* ``none`` (supernet only): zeros of the output's shape.

No convolution has a bias. BatchNorm: PyTorch's defaults (momentum 0.1, eps 1e-5), as the DARTS code; ``affine``
False in the search network's cell ops (the ``zc`` variant, as NASLib's NAS-Bench-301 graph), True otherwise.
``bn_every_op`` (the fairness mode, Zhu et al., arXiv 2112.00265) gives the identity and the poolings a trainable
BN, so that every op ends in a BN whose scale BN-NAS can read; ``use_bn=False`` drops every BN (the copy synflow
scores).
"""

from __future__ import annotations

import torch
from torch import nn

from bnbench.errors import ArchError
from bnbench.spaces.darts.arch import NONE, OPS


def norm(channels: int, affine: bool = True, use_bn: bool = True) -> list[nn.Module]:
    """``[BatchNorm2d(channels)]`` (PyTorch defaults, ``affine`` as given), or ``[]`` when ``use_bn`` is False."""
    return [nn.BatchNorm2d(channels, affine=affine)] if use_bn else []


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv2d(kxk, stride, padding, no bias) -> BN: a cell's 1x1 input preprocessing. (B, c_in, H, W) ->
    (B, c_out, H', W')."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 1, stride: int = 1, padding: int = 0,
                 affine: bool = True, use_bn: bool = True):
        super().__init__(nn.ReLU(inplace=False), nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False),
                         *norm(c_out, affine, use_bn))


class SepConv(nn.Sequential):
    """DARTS's separable convolution (applied twice; module docstring)."""

    def __init__(self, channels: int, kernel: int, stride: int, affine: bool = True, use_bn: bool = True):
        pad = kernel // 2
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(channels, channels, kernel, stride, pad, groups=channels, bias=False),
            nn.Conv2d(channels, channels, 1, bias=False), *norm(channels, affine, use_bn),
            nn.ReLU(inplace=False),
            nn.Conv2d(channels, channels, kernel, 1, pad, groups=channels, bias=False),
            nn.Conv2d(channels, channels, 1, bias=False), *norm(channels, affine, use_bn))


class DilConv(nn.Sequential):
    """DARTS's dilated separable convolution (dilation 2; module docstring)."""

    def __init__(self, channels: int, kernel: int, stride: int, affine: bool = True, use_bn: bool = True):
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(channels, channels, kernel, stride, kernel - 1, dilation=2, groups=channels, bias=False),
            nn.Conv2d(channels, channels, 1, bias=False), *norm(channels, affine, use_bn))


class FactorizedReduce(nn.Module):
    """ReLU, then two 1x1 stride-2 convolutions of ``c_out // 2`` channels each, the second on the input shifted by
    one pixel, concatenated, then BN. (B, c_in, H, W) -> (B, c_out, H/2, W/2); H and W must be even (the two
    halves differ in size otherwise; the networks refuse odd sides before a reduction in one line)."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True, use_bn: bool = True):
        super().__init__()
        if c_out % 2:
            raise ArchError(f"FactorizedReduce to {c_out} channels: an even number is required")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine) if use_bn else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


class Zero(nn.Module):
    """The ``none`` op: zeros shaped like the op's output (stride 1 or 2)."""

    def __init__(self, stride: int):
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x if self.stride == 1 else x[:, :, ::self.stride, ::self.stride]).mul(0.0)


def make_op(name: str, channels: int, stride: int, *, affine: bool = True, use_bn: bool = True,
            pool_bn: bool = False, bn_every_op: bool = False) -> nn.Module:
    """One DARTS op (module docstring). ``pool_bn``: a BN (``affine`` as the cell ops) after the poolings, as the
    search network; ``bn_every_op``: a trainable BN after the poolings and the stride-1 identity. ArchError for an
    unknown name."""
    if name.startswith("sep_conv_") and name in OPS:
        return SepConv(channels, int(name[-1]), stride, affine, use_bn)
    if name.startswith("dil_conv_") and name in OPS:
        return DilConv(channels, int(name[-1]), stride, affine, use_bn)
    if name in ("max_pool_3x3", "avg_pool_3x3"):
        pool = (nn.MaxPool2d(3, stride, padding=1) if name == "max_pool_3x3"
                else nn.AvgPool2d(3, stride, padding=1, count_include_pad=False))
        extra = norm(channels, affine or bn_every_op, use_bn) if (pool_bn or bn_every_op) else []
        return nn.Sequential(pool, *extra)
    if name == "skip_connect":
        if stride != 1:
            return FactorizedReduce(channels, channels, affine, use_bn)
        return nn.Sequential(*norm(channels, True, use_bn)) if bn_every_op else nn.Identity()
    if name == NONE:
        return Zero(stride)
    raise ArchError(f"unknown DARTS op {name!r} (DARTS ops: {', '.join(OPS)}; {NONE} in the supernet)")
