"""Reduced training settings named as EcoNAS names them, and the staged (hierarchical) proxy built from them.

EcoNAS (Zhou et al., "EcoNAS: Finding Proxies for Economical Neural Architecture Search", CVPR 2020) writes a
reduced setting as ``c{x}r{y}s{z}e{w}``: four reduction knobs of training an architecture from scratch. What
each number means **in bnbench** (relative to the stand-alone network the ground truth was measured on, i.e.
the run's :class:`~bnbench.indicators.registry.NetSpec`: NB201's C=16, 32x32 CIFAR images):

========  ====================================================  =========================================
knob      bnbench trains with                                   0 means
========  ====================================================  =========================================
``c{x}``  ``max(1, round(channels / x))`` channels: the         the truth network's own width
          space's width knob (NB201 / DARTS ``C``, NB101 and
          MobileNet the stem width)
``r{y}``  inputs resized to ``max(4, round(side / y))`` pixels  the dataset's native resolution
          per side (bilinear, in the batch augmenter)
``s{z}``  a class-stratified ``1 / z`` of the training images   every training image
``e{w}``  ``w`` epochs (cosine schedule over them)              (not allowed: a proxy trains at least 1)
========  ====================================================  =========================================

So ``c4r4s0e10`` trains an NB201 cell at C=4 on 8x8 CIFAR-10 images, all training images, 10 epochs. Depth
(``cells``) is never reduced (EcoNAS reduces none), and every other training knob is the run's.

How this maps to EcoNAS's table: EcoNAS indexes its settings by *reduction factors* (0 = the factor is not
applied) and by the number of epochs; bnbench reads the three factors as divisors of the original quantity,
which is our reading of EcoNAS section 3 (the paper was not at hand to quote here: check a setting you copy
from its tables against this docstring before comparing numbers). The knobs are those bnbench already has
(``--channels``, ``--resolution``, ``--train-fraction``, ``--epochs``), so a setting is exactly a
:class:`~bnbench.train.config.TrainConfig` (:meth:`ReducedSetting.train_config`).

The hierarchical proxy chains settings: ``c8r4s0e5+top0.5+c4r2s0e10`` scores every candidate with
``c8r4s0e5``, promotes the best half to ``c4r2s0e10``, and so on (:class:`Schedule`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from bnbench.errors import BnbenchError

_SETTING = re.compile(r"c(\d+)r(\d+)s(\d+)e(\d+)")
MIN_SIDE = 4  # the smallest input side a reduced resolution is allowed to reach (two stride-2 reductions)


@dataclass(frozen=True, order=True)
class ReducedSetting:
    """One EcoNAS reduced setting: channel / resolution / sample divisors (0 = unreduced) and epochs."""

    c: int = 0
    r: int = 0
    s: int = 0
    e: int = 10

    def __post_init__(self) -> None:
        if self.e < 1:
            raise BnbenchError(f"reduced setting {self.name}: e{self.e} trains no epoch (expected e1 or more)")
        for knob in ("c", "r", "s"):
            if getattr(self, knob) == 1:  # same network as 0; two names for one setting would split its store
                raise BnbenchError(f"reduced setting {self.name}: {knob}1 divides by 1; write {knob}0 (unreduced)")

    @classmethod
    def parse(cls, text: str) -> "ReducedSetting":
        """``"c4r4s0e10"`` -> ReducedSetting(4, 4, 0, 10); one-line BnbenchError for anything else."""
        match = _SETTING.fullmatch(str(text).strip())
        if not match:
            raise BnbenchError(f"reduced setting {text!r}: expected c<x>r<y>s<z>e<w> with integers, e.g. c4r4s0e10 "
                               "(divisors of channels, resolution and training images, 0 = unreduced; epochs)")
        return cls(*(int(g) for g in match.groups()))

    @property
    def name(self) -> str:
        return f"c{self.c}r{self.r}s{self.s}e{self.e}"

    def __str__(self) -> str:
        return self.name

    def channels(self, full: int) -> int:
        """Channels trained for a network of ``full`` channels."""
        return full if self.c == 0 else max(1, round(full / self.c))

    def resolution(self, full: int) -> int:
        """Input side in pixels for native side ``full``."""
        return full if self.r == 0 else max(MIN_SIDE, round(full / self.r))

    @property
    def train_fraction(self) -> float:
        return 1.0 if self.s == 0 else 1.0 / self.s

    def train_config(self, base: Any, full_channels: int, native_side: int) -> Any:
        """``base`` (a :class:`~bnbench.train.config.TrainConfig`) with this setting's channels, resolution,
        training fraction and epochs; ``full_channels`` / ``native_side``: the unreduced width and image side."""
        from dataclasses import replace

        side = self.resolution(native_side)
        return replace(base, channels=self.channels(full_channels), resolution=None if side == native_side else side,
                       train_fraction=self.train_fraction * base.train_fraction, epochs=self.e)


@dataclass(frozen=True)
class Schedule:
    """The hierarchical proxy (EcoNAS section 5): ``stages[0]`` scores every candidate, and before each later
    stage ``i`` only the best ``keep[i-1]`` fraction (at least one architecture) of the previous stage's
    survivors is trained again, at ``stages[i]``. One stage = the flat reduced-training proxy."""

    stages: tuple[ReducedSetting, ...]
    keep: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not self.stages:
            raise BnbenchError("econas schedule: expected at least one reduced setting")
        if len(self.keep) != len(self.stages) - 1:
            raise BnbenchError(f"econas schedule {self.name}: expected one 'top<fraction>' between every two stages")
        for k in self.keep:
            if not 0.0 < k <= 1.0:
                raise BnbenchError(f"econas schedule {self.name}: top{k} is not a fraction in (0, 1]")

    @classmethod
    def parse(cls, text: str) -> "Schedule":
        """``"c4r4s0e10"`` (flat) or ``"c8r4s0e5+top0.5+c4r2s0e10"`` (stages joined by ``+top<fraction>+``)."""
        parts = str(text).strip().split("+")
        if len(parts) % 2 == 0:
            raise BnbenchError(f"econas schedule {text!r}: expected setting(+top<fraction>+setting)*, e.g. "
                               "c8r4s0e5+top0.5+c4r2s0e10")
        stages = tuple(ReducedSetting.parse(p) for p in parts[::2])
        keep = []
        for p in parts[1::2]:
            match = re.fullmatch(r"top(0?\.\d+|1(\.0*)?)", p.strip())
            if not match:
                raise BnbenchError(f"econas schedule {text!r}: {p!r} is not top<fraction> (e.g. top0.5)")
            keep.append(float(match.group(1)))
        return cls(stages, tuple(keep))

    @property
    def name(self) -> str:
        out = self.stages[0].name
        for k, stage in zip(self.keep, self.stages[1:]):
            out += f"+top{k:g}+{stage.name}"
        return out

    @property
    def flat(self) -> bool:
        return len(self.stages) == 1

    def survivors(self, stage: int, n: int) -> int:
        """How many of ``n`` candidates stage ``stage`` trains: each promotion keeps ``ceil(keep * survivors)``."""
        for k in self.keep[:stage]:
            n = max(1, math.ceil(n * k - 1e-9))
        return n
