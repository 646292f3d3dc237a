"""Building blocks of the MobileNet space: conv-BN-ReLU6 units and the MBConv (inverted residual) block.

MBConv (Sandler et al., MobileNetV2, CVPR 2018; BN-NAS's ``InvertedResidual`` in ``BNNAS/supernet/torch_blocks.py``):
1x1 expansion conv ``c_in -> e c_in`` + BN + ReLU6 (absent when ``e == 1``), kxk depthwise conv (stride s,
padding k // 2) + BN + ReLU6, 1x1 projection conv ``e c_in -> c_out`` + BN (linear), and ``x +`` the result when
the block has a skip. Convs have no bias. The projection BN is registered last, so
:func:`bnbench.spaces.base.last_bn` of a block is that BN: the one BN-NAS scores and trains (its code selects the
parameters named ``conv.7.*``, the projection BN of its ``nn.Sequential``).

``bn=False`` (the BN-free copy synflow scores) drops every BN and uses a plain ReLU instead of ReLU6: synflow
evaluates the network on positive weights and an all-ones input, where every activation is the identity in its
linearised network (Tanaka et al., NeurIPS 2020); ReLU6 would clip those activations at 6 and cut the gradient.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ReLU6(nn.ReLU):
    """``min(max(x, 0), 6)``. A subclass of ``nn.ReLU``, so the indicators that read ReLU activation patterns
    (NASWOT, TE-NAS linear regions, the composite's probe) find it: its pattern ``x > 0`` is the ReLU's."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu6(x, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "max=6"


def activation(bn: bool = True) -> nn.Module:
    """ReLU6 in the ordinary network, ReLU in the BN-free copy (module docstring)."""
    return ReLU6() if bn else nn.ReLU()


class DepthwiseConv2d(nn.Conv2d):
    """A depthwise ``kxk`` conv (padding ``k // 2``, no bias) that skips the taps which only ever meet padding.

    On an input side ``s <= k // 2`` (late layers at small resolution: a 7x7 kernel on a 2x2 or 1x1 map) every
    output sees input offsets within ``+-(s - 1)`` only, so the conv equals the central ``(2r + 1)^2`` taps with
    padding ``r = min(k // 2, s - 1)``: same output size, same centres, same values and gradients (the cut taps
    multiply zeros). It saves PyTorch's CPU kernels up to ~100x on such maps. Parameters and the nominal MAC count
    (what :mod:`~bnbench.spaces.mobilenet.cost` reports) are the full kernel's."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ph, pw = self.padding
        rh, rw = min(ph, x.shape[-2] - 1), min(pw, x.shape[-1] - 1)
        if (rh, rw) == (ph, pw):
            return super().forward(x)
        weight = self.weight[:, :, ph - rh:ph + rh + 1, pw - rw:pw + rw + 1]
        return F.conv2d(x, weight, None, self.stride, (rh, rw), self.dilation, self.groups)


def conv_bn_act(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1, act: bool = True,
                bn: bool = True) -> nn.Sequential:
    """``Conv2d(kxk, padding k // 2, no bias)`` (a :class:`DepthwiseConv2d` when ``groups == c_in == c_out > 1``)
    + BN (when ``bn``) + activation (when ``act``)."""
    kind = DepthwiseConv2d if groups > 1 and groups == c_in == c_out else nn.Conv2d
    layers: list[nn.Module] = [kind(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False)]
    if bn:
        layers.append(nn.BatchNorm2d(c_out))
    if act:
        layers.append(activation(bn))
    return nn.Sequential(*layers)


class MBConv(nn.Module):
    """Inverted residual block ``(B, c_in, H, W) -> (B, c_out, ceil(H / stride), ceil(W / stride))``.

    ``skip``: add the input (callers pass it only where stride is 1 and ``c_in == c_out``). ``depthwise[0]`` is the
    strided conv (its ``stride`` is what the reduced layout changes)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, expansion: int, stride: int = 1, skip: bool = False,
                 bn: bool = True):
        super().__init__()
        hidden = c_in * expansion
        self.kernel, self.expansion, self.skip = kernel, expansion, bool(skip)
        self.expand = conv_bn_act(c_in, hidden, 1, bn=bn) if expansion != 1 else None
        self.depthwise = conv_bn_act(hidden, hidden, kernel, stride, groups=hidden, bn=bn)
        self.project = conv_bn_act(hidden, c_out, 1, act=False, bn=bn)

    @property
    def dw_conv(self) -> nn.Conv2d:
        return self.depthwise[0]

    @property
    def project_bn(self) -> nn.BatchNorm2d | None:
        """The BN after the projection (None in the BN-free copy)."""
        return self.project[1] if len(self.project) > 1 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.depthwise(y))
        return x + y if self.skip else y


def init_weights(model: nn.Module) -> None:
    """BN-NAS's initialisation (``SuperNetwork.__init__``): conv ``N(0, sqrt(2 / (k_h k_w c_out)))``, BN scale 1 and
    shift 0; the linear classifier keeps PyTorch's default."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
            nn.init.normal_(m.weight, 0.0, (2.0 / n) ** 0.5)
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
