"""The MobileNet skeleton and the stand-alone network of one architecture.

Skeleton (:mod:`bnbench.spaces.mobilenet.layout`): stem conv-BN-ReLU6, the fixed expansion-1 MBConv, the 21
searchable layers (each repeated ``repeats`` times: the repeats after the first run at stride 1 with a skip), head
1x1 conv-BN-ReLU6, global average pooling, linear ``classifier``. The stride of the stem and of stage 1's first
layer follows the input side (the reduced layout below ``reduce_below`` px), set on every forward pass.

Stand-alone network: each layer holds its chosen MBConv; an ``id`` layer holds nothing (BN-NAS's retrain model
skips it), or, with ``bn_every_op``, a trainable BN (the op the supernet's identity choice has in that mode).
Initialisation: BN-NAS's (:func:`~bnbench.spaces.mobilenet.ops.init_weights`).

Variants: ``official`` and ``zc`` build the same network. No zero-cost reference publishes a network or values for
this space; ``zc`` exists because the zero-cost runner asks for it by default.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from bnbench.errors import BnbenchError
from bnbench.spaces.mobilenet.arch import EXPANSION, ID, KERNEL
from bnbench.spaces.mobilenet.layout import REDUCE_BELOW, STEM_STRIDE, Layout, reduced
from bnbench.spaces.mobilenet.ops import MBConv, conv_bn_act, init_weights

VARIANTS = ("official", "zc")


class Skeleton(nn.Module):
    """Stem, first block, head and classifier around ``self.layers`` (built by the subclass)."""

    def __init__(self, plan: Layout, num_classes: int, in_channels: int, bn: bool = True,
                 reduce_below: int = REDUCE_BELOW):
        super().__init__()
        for name, value in dict(num_classes=num_classes, in_channels=in_channels).items():
            if isinstance(value, bool) or int(value) < 1:
                raise BnbenchError(f"MobileNet network option {name}={value!r}: expected a positive integer")
        self.plan, self.num_classes, self.reduce_below = plan, int(num_classes), int(reduce_below)
        self.stem = conv_bn_act(in_channels, plan.stem, 3, STEM_STRIDE, bn=bn)
        self.first_block = MBConv(plan.stem, plan.first_block, 3, 1, 1, skip=plan.stem == plan.first_block, bn=bn)
        self.layers = nn.ModuleList()
        self.head = conv_bn_act(plan.last, plan.head, 1, bn=bn)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(plan.head, num_classes)
        self._early: list[nn.Conv2d] = [self.stem[0]]  # convs whose stride the reduced layout sets to 1
        self._small: bool | None = None

    def adapt(self, side: int) -> None:
        """Set the early strides for an input of ``side`` pixels (module docstring)."""
        small = reduced(side, self.reduce_below)
        if small != self._small:
            for conv in self._early:
                conv.stride = (1, 1) if small else (STEM_STRIDE, STEM_STRIDE)
            self._small = small

    def head_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.global_pooling(self.head(x)).flatten(1)


class IdentityBN(nn.BatchNorm2d):
    """The identity choice in the BN-on-every-op mode: a trainable BN and nothing else."""


class Network(Skeleton):
    """Stand-alone network of one architecture (21 choice indices). ``forward(x)``: ``(B, C, H, W) -> (B, classes)``."""

    def __init__(self, arch: Sequence[int], plan: Layout, num_classes: int = 10, in_channels: int = 3,
                 repeats: int = 1, bn_every_op: bool = False, variant: str = "official", bn: bool = True,
                 reduce_below: int = REDUCE_BELOW):
        if variant not in VARIANTS:
            raise BnbenchError(f"MobileNet model variant {variant!r}: expected one of {', '.join(VARIANTS)}")
        super().__init__(plan, num_classes, in_channels, bn, reduce_below)
        self.variant = variant
        for layer, choice in zip(plan.layers, (int(c) for c in arch)):
            for r in range(repeats):
                if choice == ID:
                    if bn_every_op and bn:
                        self.layers.append(IdentityBN(layer.c_out))
                    continue
                c_in, stride, skip = (layer.c_in, layer.stride, layer.skip) if r == 0 else (layer.c_out, 1, True)
                block = MBConv(c_in, layer.c_out, KERNEL[choice], EXPANSION[choice], stride, skip, bn=bn)
                if r == 0 and layer.early:
                    self._early.append(block.dw_conv)
                self.layers.append(block)
        init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.adapt(x.shape[-1])
        x = self.first_block(self.stem(x))
        for layer in self.layers:
            x = layer(x)
        return self.classifier(self.head_features(x))
