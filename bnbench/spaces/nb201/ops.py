"""NAS-Bench-201 candidate operations, built as in the benchmark's own code.

``nor_conv_kxk`` is ReLU -> Conv(bias=False) -> BN(affine); ``avg_pool_3x3`` is a 3x3 average pool
(stride 1, ``count_include_pad=False``); ``skip_connect`` is the identity; ``none`` outputs zeros.

Fairness mode ``fair=True`` (``bn_every_op``, Zhu et al., arXiv 2112.00265) appends a trainable
(affine) BatchNorm to ``skip_connect`` and ``avg_pool_3x3`` so that every op with a signal ends in a BN
and can be judged by its BN scale. ``none`` stays a zero op with no BN: it carries no signal, so its
BN-NAS score is 0 in both modes.
"""

from __future__ import annotations

import torch
from torch import nn

from bnbench.spaces.base import last_bn  # noqa: F401  (re-exported: the BN that BN-NAS reads)


def bn(channels: int, affine: bool = True, track: bool = True) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, affine=affine, track_running_stats=track)


class ReLUConvBN(nn.Sequential):
    """ReLU -> Conv -> BN; the conv carries a bias only when the BN has no affine parameters.

    ``use_bn=False`` drops the BN (the conv keeps the bias rule), as zero-cost-nas builds its
    ``bn=False`` copies for synflow.
    """

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int,
                 affine: bool = True, track: bool = True, use_bn: bool = True):
        layers = [nn.ReLU(inplace=False),
                  nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding, bias=not affine)]
        super().__init__(*layers, *([bn(c_out, affine, track)] if use_bn else []))


class Zero(nn.Module):
    """The ``none`` op: an all-zero output of the input's shape."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int, fair: bool = False, affine: bool = True, track: bool = True,
            use_bn: bool = True) -> nn.Module:
    """One NB201 candidate op at stride 1 with ``channels`` in and out (``use_bn``: see ReLUConvBN)."""
    if name == "none":
        return Zero()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0, affine, track, use_bn)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1, affine, track, use_bn)
    if name == "skip_connect":
        return nn.Sequential(bn(channels)) if fair and use_bn else nn.Identity()
    if name == "avg_pool_3x3":
        pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        return nn.Sequential(pool, bn(channels)) if fair and use_bn else pool
    from bnbench.errors import ArchError

    raise ArchError(f"unknown NB201 op {name!r}")




class ResNetBlock(nn.Module):
    """NB201's reduction block: two ReLUConvBN (3x3, first with stride 2) plus an avg-pool + 1x1 shortcut."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True, track: bool = True):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1, affine, track)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1, affine, track)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, stride=2, padding=0), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_b(self.conv_a(x)) + self.downsample(x)
