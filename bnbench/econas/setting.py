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

How this maps to EcoNAS's settings: EcoNAS indexes its settings by *reduction factors* (0 = the factor is not
applied) and by the number of epochs, and its authors' code (``DongzhanZhou/EcoNAS``, ``search/train.py``) confirms
that ``c`` and ``r`` divide: its reliable proxy ``c4r4s0e60`` trains the DARTS network at ``--init_channels 9``
(36 / 4) on 8x8 images (32 / 4, ``--res 8``) with ``--sampler_ratio 1.0`` (``s0``: every image) for 60 epochs.
bnbench reads ``s<z>`` as the fraction ``1 / z`` of the training images; the code only shows ``s0`` = 1.0, so a
setting with ``s > 0`` copied from the paper's tables should be checked against its text. The knobs are those
bnbench already has (``--channels``, ``--resolution``, ``--train-fraction``, ``--epochs``), so a setting is
exactly a :class:`~bnbench.train.config.TrainConfig` (:meth:`ReducedSetting.train_config`).

**Stopping early: ``@<epoch>``.** ``c4r4s0e60@20`` is the network after the first 20 epochs of the 60-epoch
(cosine) ``c4r4s0e60`` run: the learning rate follows the 60-epoch schedule and training stops after epoch 20.
``@<e>`` is the run itself (``c4r4s0e60@60`` is ``c4r4s0e60``).

The hierarchical proxy chains settings: ``c8r4s0e5+top0.5+c4r2s0e10`` scores every candidate with
``c8r4s0e5``, promotes the best half to ``c4r2s0e10`` (trained from scratch), and so on (:class:`Schedule`).
A stage with the same ``c, r, s, e`` as the stage before it and a later stop **continues** the promoted networks'
runs from the previous stage's checkpoint instead of training them again: ``c4r4s0e60@20+top0.5+c4r4s0e60@40+
top0.5+c4r4s0e60`` is EcoNAS's own hierarchical proxy (its ``search/main.py`` trains every candidate for 20 of 60
epochs of one cosine schedule, continues the best for 20 more, and the best of those to 60).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from bnbench.errors import BnbenchError

_SETTING = re.compile(r"c(\d+)r(\d+)s(\d+)e(\d+)(?:@(\d+))?")
MIN_SIDE = 4  # the smallest input side a reduced resolution is allowed to reach (two stride-2 reductions)


@dataclass(frozen=True, order=True)
class ReducedSetting:
    """One EcoNAS reduced setting: channel / resolution / sample divisors (0 = unreduced), epochs of the schedule
    and ``stop``: the epoch training stops after (0 = ``e``, the whole schedule)."""

    c: int = 0
    r: int = 0
    s: int = 0
    e: int = 10
    stop: int = 0

    def __post_init__(self) -> None:
        if self.e < 1:
            raise BnbenchError(f"reduced setting {self.name}: e{self.e} trains no epoch (expected e1 or more)")
        if self.stop == self.e:
            object.__setattr__(self, "stop", 0)  # @e is the whole run: one name for one setting
        if not 0 <= self.stop <= self.e:
            raise BnbenchError(f"reduced setting {self.name}: @{self.stop} is not an epoch of its e{self.e} schedule "
                               f"(expected @1 to @{self.e})")
        for knob in ("c", "r", "s"):
            if getattr(self, knob) == 1:  # same network as 0; two names for one setting would split its store
                raise BnbenchError(f"reduced setting {self.name}: {knob}1 divides by 1; write {knob}0 (unreduced)")

    @classmethod
    def parse(cls, text: str) -> "ReducedSetting":
        """``"c4r4s0e10"`` -> ReducedSetting(4, 4, 0, 10), ``"c4r4s0e60@20"`` -> ReducedSetting(4, 4, 0, 60, 20);
        one-line BnbenchError for anything else."""
        match = _SETTING.fullmatch(str(text).strip())
        if not match:
            raise BnbenchError(f"reduced setting {text!r}: expected c<x>r<y>s<z>e<w>[@<stop epoch>] with integers, "
                               "e.g. c4r4s0e10 (divisors of channels, resolution and training images, 0 = unreduced; "
                               "epochs)")
        c, r, s, e, stop = match.groups()
        if stop is not None and int(stop) == 0:
            raise BnbenchError(f"reduced setting {text!r}: @0 trains nothing (expected @1 to @{e})")
        return cls(int(c), int(r), int(s), int(e), int(stop or 0))

    @property
    def name(self) -> str:
        return f"c{self.c}r{self.r}s{self.s}e{self.e}" + (f"@{self.stop}" if self.stop else "")

    @property
    def epochs_trained(self) -> int:
        """Epochs this setting trains (``stop``, else ``e``)."""
        return self.stop or self.e

    @property
    def run(self) -> "ReducedSetting":
        """The whole run this setting stops early in (itself without ``@``)."""
        return ReducedSetting(self.c, self.r, self.s, self.e)

    def continues(self, previous: "ReducedSetting") -> bool:
        """Whether this setting's network is ``previous``'s trained further: same run, later stop."""
        return self.run == previous.run and previous.stop != 0 and self.epochs_trained > previous.stop

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
        for before, after in zip(self.stages, self.stages[1:]):
            if after.run == before.run and not after.continues(before):
                raise BnbenchError(f"econas schedule {self.name}: {after.name} after {before.name} trains the same run "
                                   "no further (a stage of the same run must stop at a later epoch)")

    def continued(self, stage: int) -> bool:
        """Whether stage ``stage`` continues the previous stage's runs (:meth:`ReducedSetting.continues`)."""
        return stage > 0 and self.stages[stage].continues(self.stages[stage - 1])

    @classmethod
    def parse(cls, text: str) -> "Schedule":
        """``"c4r4s0e10"`` (flat), ``"c8r4s0e5+top0.5+c4r2s0e10"`` (stages joined by ``+top<fraction>+``) or
        ``"c4r4s0e60@20+top0.5+c4r4s0e60@40+top0.5+c4r4s0e60"`` (stages continuing one run)."""
        parts = str(text).strip().split("+")
        if len(parts) % 2 == 0:
            raise BnbenchError(f"econas schedule {text!r}: expected setting(+top<fraction>+setting)*, e.g. "
                               "c8r4s0e5+top0.5+c4r2s0e10 or c4r4s0e60@20+top0.5+c4r4s0e60")
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
