"""The MobileNet (MBConv) spaces through the search-space interface (:class:`bnbench.spaces.base.SearchSpace`).

Two registered spaces share everything but the identity choice:

* ``mobilenet`` (BN-NAS's searched space): 21 layers x 6 MBConv blocks, 6^21 ~ 2.2e16 architectures;
* ``mobilenet-depth`` (depth search, ProxylessNAS-style): the 15 layers that are not the first of their stage also
  offer ``id``: 6^6 x 7^15 ~ 2.2e17 architectures.

The identity choice is a property of the space, not a build option: it changes which strings parse, the
decisions' choices and what ``sample`` / ``random_paths`` draw (supernet training draws its paths from the space,
without its build options). BN-NAS's own code does not search depth: its sampler draws 6 blocks per layer and then
fixes layers 1, 5, 6 and 9 to identity (``change_depth`` in ``BNNAS/search/ea.py``, the same four in
``BNNAS/supernet/train.py``), a 17-block network; ``mobilenet`` keeps all 21 layers and ``mobilenet-depth`` makes
every eligible layer's depth a decision. BN-NAS's final model (``--model_id`` of ``BNNAS/retrain``) is
``k5e6-id-k3e3-k7e3-k3e3-id-id-k3e3-k7e3-id-k7e3-k7e3-k3e6-k7e3-k5e3-k3e3-k3e3-k7e3-k3e3-k5e3-k5e3`` in the depth
space: 5,228,536 parameters at 224 px and 1,000 classes, as its retrain log reports and :meth:`cost` computes.

Options (:class:`MobileNetOptions`): ``stem_channels`` (``--channels``; 40, BN-NAS's stem: all widths scale with
it), ``width_mult`` (BN-NAS's multiplier, 1.0; composes with the former), ``repeats`` (``--cells``: blocks per
searchable layer, 1 = BN-NAS's layout; each extra repeat is a stride-1 copy of the chosen block with a skip),
``head_channels`` (1728), ``reduce_below`` (64: inputs with a smaller side run the reduced layout),
``bn_every_op`` (a trainable BN on the identity choice; no effect in ``mobilenet``, whose choices all end in a BN).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Sequence

import numpy as np
from torch import nn

from bnbench.errors import BnbenchError
from bnbench.spaces.base import Decision, SearchSpace, SpaceOptions
from bnbench.spaces.mobilenet import arch as A
from bnbench.spaces.mobilenet.layout import HEAD_CHANNELS, NUM_LAYERS, REDUCE_BELOW, STEM_CHANNELS, layout
from bnbench.spaces.mobilenet.sampling import random_rows, sample_distinct, strata


@dataclass(frozen=True)
class MobileNetOptions(SpaceOptions):
    """Build options of MobileNet networks and supernets (defaults: BN-NAS's ImageNet network)."""

    stem_channels: int = STEM_CHANNELS
    width_mult: float = 1.0
    repeats: int = 1
    head_channels: int = HEAD_CHANNELS
    reduce_below: int = REDUCE_BELOW
    bn_every_op: bool = False

    COMMON: ClassVar[dict[str, str]] = {"channels": "stem_channels", "cells": "repeats"}

    def __post_init__(self) -> None:
        for name in ("stem_channels", "repeats", "head_channels"):
            if getattr(self, name) < 1:
                raise BnbenchError(f"mobilenet option {name}={getattr(self, name)}: expected a positive integer")
        if not self.width_mult > 0:
            raise BnbenchError(f"mobilenet option width_mult={self.width_mult}: expected a positive number")
        if self.reduce_below < 0:
            raise BnbenchError(f"mobilenet option reduce_below={self.reduce_below}: expected a side in pixels >= 0 "
                               "(0: never reduce)")

    @property
    def plan(self):
        return layout(self.width_mult, self.stem_channels, self.head_channels)


class MobileNetSpace(SearchSpace):
    """BN-NAS's MobileNet space (Chen et al., ICCV 2021): one MBConv block choice per layer, 21 layers."""

    width = NUM_LAYERS
    Options = MobileNetOptions
    variants = ("official", "zc")
    default_truth_epochs = 240  # BN-NAS's ImageNet retraining; no public truth exists, bnbench builds its own
    min_channels = 1
    # SPOS supernet steps on one core, batch 64, BN-only / full: digits preset (stem 8 = widths x0.2, 8x8 input)
    # ~740 / 350 img/s, i.e. ~40 s for the digits preset's 30 epochs of 1,000 images; default preset (stem 16 = x0.4,
    # CIFAR 32x32, reduced layout) ~57 / 17 img/s, vs 61 / 77 for NB201's default supernet
    presets = {"digits": dict(channels=8, cells=1), "default": dict(channels=16, cells=1)}
    arch_help = "21 blocks k<3|5|7>e<3|6> joined by '-', e.g. " + A.to_str([0, 1, 2, 3, 4, 5] * 3 + [0, 1, 2])

    def __init__(self, identity: bool = False):
        self.identity = bool(identity)
        names = A.allowed(self.identity)
        self.decisions = tuple(Decision(f"layer {i}", c) for i, c in enumerate(names))
        self.limits = np.array([len(c) for c in names], dtype=np.int64)
        self.size = int(np.prod([int(x) for x in self.limits], dtype=object))
        if self.identity:
            self.name = "mobilenet-depth"
            self.aliases = ("mbconv-depth", "bnnas-depth", "proxyless-depth", "mobilenet-id")
            self.summary = ("MobileNet MBConv space with depth search: BN-NAS's 21 layers, kernel 3/5/7 x expansion "
                            "3/6, plus identity on the 15 layers after the first of each stage")
            self.arch_help += " (id allowed on layers that are not the first of their stage)"
        else:
            self.name = "mobilenet"
            self.aliases = ("mbconv", "bnnas", "bn-nas", "proxyless", "proxylessnas")
            self.summary = "MobileNet MBConv space as BN-NAS searched it: 21 layers x kernel 3/5/7 x expansion 3/6"

    # --- representations ---------------------------------------------------------------------------------------
    def parse(self, text: str) -> np.ndarray:
        return A.parse(text, self.identity)

    def to_str(self, arch: Sequence[int]) -> str:
        return A.to_str(A.check_rows(arch, self.identity)[0])

    def canonical(self, arch: Sequence[int]) -> str:
        """The string with each stage's identities moved to its end (the same stand-alone network)."""
        return A.canonical(A.check_rows(arch, self.identity)[0])

    # --- populations -------------------------------------------------------------------------------------------
    def sample(self, n: int, seed: int) -> np.ndarray:
        """``n`` distinct architectures, each layer uniform over its choices."""
        return sample_distinct(int(n), seed, self.limits)

    def random_paths(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` architectures drawn uniformly with replacement (SPOS: one path per training step)."""
        return random_rows(rng, n, self.limits)

    def strata(self, archs: np.ndarray) -> np.ndarray:
        """``32 * #id + #expansion-6 layers``."""
        return strata(A.check_rows(archs, self.identity))

    def conv_ops(self, archs: np.ndarray) -> np.ndarray:
        """MBConv blocks among the 21 searched layers (identity layers hold none); each block is three
        convolutions (expand, depthwise, project)."""
        return (A.check_rows(archs, self.identity) != A.ID).sum(1).astype(np.int64)

    def choices(self, archs: np.ndarray) -> np.ndarray:
        """``(n, 21)``: the encoding itself (every layer decides; ``id`` is a choice that runs no module unless
        ``bn_every_op``)."""
        return A.check_rows(archs, self.identity)

    # --- networks ------------------------------------------------------------------------------------------------
    def network(self, arch: Sequence[int], options: MobileNetOptions | None = None, num_classes: int = 10,
                in_channels: int = 3, variant: str = "official", bn: bool = True) -> nn.Module:
        from bnbench.spaces.mobilenet.model import Network

        o = options or MobileNetOptions()
        row = A.check_rows(arch, self.identity)[0]
        return Network(row, o.plan, num_classes, in_channels, o.repeats, o.bn_every_op, variant, bn, o.reduce_below)

    def supernet(self, options: MobileNetOptions | None = None, num_classes: int = 10,
                 in_channels: int = 3) -> nn.Module:
        from bnbench.spaces.mobilenet.supernet import Supernet

        o = options or MobileNetOptions()
        return Supernet(o.plan, num_classes, in_channels, o.repeats, self.identity, o.bn_every_op, o.reduce_below)

    def cost(self, archs: np.ndarray, options: MobileNetOptions | None = None, num_classes: int = 10,
             in_channels: int = 3, resolution: int = 32) -> dict[str, np.ndarray]:
        """Exact ``params`` / ``macs`` / ``flops`` (:mod:`bnbench.spaces.mobilenet.cost`) at ``resolution`` px,
        whose layout (full or reduced) follows ``options.reduce_below``."""
        from bnbench.spaces.mobilenet.cost import cost

        o = options or MobileNetOptions()
        rows = A.check_rows(archs, self.identity)
        return cost(rows, o.width_mult, o.stem_channels, o.head_channels, o.repeats, o.bn_every_op, num_classes,
                    in_channels, resolution, o.reduce_below)


SPACE = MobileNetSpace(identity=False)
SPACE_DEPTH = MobileNetSpace(identity=True)
