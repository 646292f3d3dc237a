"""What every continuous relaxation of a space shares (``SearchSpace.relaxed_supernet``; DARTS, Liu et al. ICLR
2019; PC-DARTS, Xu et al. ICLR 2020): the split of its parameters into architecture parameters (``alpha``, op
logits; ``beta``, edge-normalisation logits, or None) and network weights, and PC-DARTS's channel shuffle."""

from __future__ import annotations

import torch
from torch import nn


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet's channel shuffle: ``(N, g*c, H, W)`` -> channels reordered as ``c`` groups of ``g``."""
    n, channels, h, w = x.shape
    return x.reshape(n, groups, channels // groups, h, w).transpose(1, 2).reshape(n, channels, h, w)


class ArchitectureParameters:
    """Mixin of relaxed supernets (``nn.Module`` subclasses with ``alpha`` and ``beta`` attributes)."""

    alpha: nn.Parameter
    beta: nn.Parameter | None

    def arch_parameters(self) -> list[nn.Parameter]:
        """``alpha`` and, with edge normalisation, ``beta``: what the architecture optimiser updates."""
        return [p for p in (self.alpha, self.beta) if p is not None]

    def weight_parameters(self) -> list[nn.Parameter]:
        """Every other parameter: what the weight optimiser updates."""
        arch = {id(p) for p in self.arch_parameters()}
        return [p for p in self.parameters() if id(p) not in arch]  # type: ignore[attr-defined]
