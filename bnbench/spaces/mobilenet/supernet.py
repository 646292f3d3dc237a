"""The MobileNet weight-sharing supernet (SPOS / BN-NAS: one path per step).

As BN-NAS's ``SuperNetwork`` (``BNNAS/supernet/super_model.py``): the skeleton of
:mod:`bnbench.spaces.mobilenet.model` with, at every searchable layer, one MBConv per block choice
(``ops[c]``, ``c`` indexing :data:`~bnbench.spaces.mobilenet.arch.BLOCKS`); ``forward(x, arch)`` runs the chosen
one (single path). The identity choice (depth-search space; BN-NAS's ``Select_one_OP`` with ``id < 0``) returns
its input and has no module, hence no slot, except in the BN-on-every-op mode, where it is a trainable BN
(``ops[6]``, an :class:`~bnbench.spaces.mobilenet.model.IdentityBN`). With ``repeats > 1`` each layer is
``repeats`` super-layers that follow the same decision.

**Slots** (:mod:`bnbench.spaces.base`): ``Slot("layers.j.ops.c", decision=i, choice=c)`` for super-layer ``j`` of
searchable layer ``i``. The last BN of an MBConv slot is its projection BN, the BN BN-NAS scores (its ``bn_matrix``
reads ``...conv.7.weight``) and trains in BN-only mode (``conv.7.weight`` / ``conv.7.bias`` of every choice):
exactly what ``bn_scope="last"`` trains here. The stem, first block and head BNs lie outside every slot.

Initialisation: BN-NAS's (conv ``N(0, sqrt(2 / (k k c_out)))``, BN 1 / 0). BN: PyTorch's defaults, as BN-NAS.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from bnbench.spaces.base import Slot
from bnbench.spaces.mobilenet.arch import BLOCKS, EXPANSION, ID, KERNEL
from bnbench.spaces.mobilenet.layout import IDENTITY_LAYERS, REDUCE_BELOW, Layer, Layout
from bnbench.spaces.mobilenet.model import IdentityBN, Skeleton
from bnbench.spaces.mobilenet.ops import MBConv, init_weights


class SuperLayer(nn.Module):
    """Every block choice of one searchable layer (``decision``); ``forward(x, choice)`` runs one of them."""

    def __init__(self, layer: Layer, decision: int, first: bool, identity: bool, bn_every_op: bool):
        super().__init__()
        self.decision = decision
        c_in, stride, skip = (layer.c_in, layer.stride, layer.skip) if first else (layer.c_out, 1, True)
        self.ops = nn.ModuleList(MBConv(c_in, layer.c_out, KERNEL[c], EXPANSION[c], stride, skip)
                                 for c in range(len(BLOCKS)))
        self.identity_bn = identity and bn_every_op
        if self.identity_bn:
            self.ops.append(IdentityBN(layer.c_out))

    def forward(self, x: torch.Tensor, choice: int) -> torch.Tensor:
        if choice == ID and not self.identity_bn:
            return x
        return self.ops[choice](x)


class Supernet(Skeleton):
    """The supernet (module docstring): ``forward(x, arch)`` / ``features(x, arch)`` take 21 choice indices."""

    def __init__(self, plan: Layout, num_classes: int = 10, in_channels: int = 3, repeats: int = 1,
                 identity: bool = False, bn_every_op: bool = False, reduce_below: int = REDUCE_BELOW):
        super().__init__(plan, num_classes, in_channels, True, reduce_below)
        self.bn_every_op = bool(bn_every_op)
        allows = set(IDENTITY_LAYERS) if identity else set()
        for layer in plan.layers:
            for r in range(repeats):
                sl = SuperLayer(layer, layer.index, r == 0, layer.index in allows, self.bn_every_op)
                if r == 0 and layer.early:
                    self._early.extend(op.dw_conv for op in sl.ops if isinstance(op, MBConv))
                self.layers.append(sl)
        init_weights(self)

    def slots(self) -> list[Slot]:
        """One slot per (super-layer, choice module): runs iff the architecture picks that choice at that layer."""
        return [Slot(f"layers.{j}.ops.{c}", sl.decision, c) for j, sl in enumerate(self.layers)
                for c in range(len(sl.ops))]

    def features(self, x: torch.Tensor, arch: Any) -> torch.Tensor:
        """Penultimate features ``(B, head channels)``: the head's output averaged over H, W."""
        if isinstance(arch, torch.Tensor):
            arch = arch.detach().cpu().numpy()
        choices = [int(c) for c in np.asarray(arch).reshape(-1)]
        self.adapt(x.shape[-1])
        x = self.first_block(self.stem(x))
        for sl in self.layers:
            x = sl(x, choices[sl.decision])
        return self.head_features(x)

    def forward(self, x: torch.Tensor, arch: Any) -> torch.Tensor:
        return self.classifier(self.features(x, arch))
