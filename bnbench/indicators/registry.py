"""Registry of indicators: each is a pure function ``(archs, context) -> scores`` with a direction.

``archs`` is an ``(n, width)`` int matrix of the search space's encoding (one row per architecture,
see :mod:`bnbench.spaces.base`; ``ctx.space`` interprets it) and the result an ``(n,)`` float array. ``needs`` says what the context must provide: ``"supernet"`` (a trained
supernet) and/or ``"data"`` (a dataset); data-free indicators need neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from bnbench.errors import BnbenchError


@dataclass(frozen=True)
class NetSpec:
    """The stand-alone network whose properties are scored: the space's common width/depth knobs
    (``channels``, ``cells``; None = the space's default), any other build option of the space
    (``options``: ``((name, value), ...)``), and the data's shape."""

    channels: int | None = None
    cells: int | None = None
    num_classes: int = 10
    in_channels: int = 3
    resolution: int = 32
    options: tuple[tuple[str, Any], ...] = ()

    def space_options(self, space: Any, **overrides: Any) -> Any:
        """The space's typed options for this spec (``overrides`` win; common knob names accepted)."""
        return space.options({"channels": self.channels, "cells": self.cells, **dict(self.options), **overrides})


@dataclass
class ScoringContext:
    """Everything an indicator may read. Indicators must not mutate it (beyond BN recalibration)."""

    space: Any  # bnbench.spaces.base.SearchSpace
    network: NetSpec = field(default_factory=NetSpec)
    dataset: Any = None
    supernet: Any = None  # bnbench.train.supernet.TrainResult
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    progress: bool = True
    train: Any = None  # the run's TrainConfig: the supernet a training-free indicator builds untrained
    memo: dict = field(default_factory=dict, repr=False, compare=False)  # run-scoped caches shared by its
    # indicators (the zero-cost score store, :func:`bnbench.indicators.zc.runner.run_store`); carried by ``replace``


ScoreFn = Callable[[np.ndarray, ScoringContext], np.ndarray]


@dataclass(frozen=True)
class Indicator:
    name: str
    fn: ScoreFn
    higher_is_better: bool
    needs: frozenset[str]
    summary: str
    version: int = 1  # bumped when the definition changes, so cached scores of the old one are not reused

    def missing(self, ctx: ScoringContext) -> str | None:
        """Why ``ctx`` cannot be scored with this indicator (a one-line message), or None."""
        for need in self.needs:
            if need == "supernet" and ctx.supernet is None:
                return f"indicator {self.name!r} needs a trained supernet (train one or pass --supernet)"
            if need == "data" and ctx.dataset is None:
                return f"indicator {self.name!r} needs a dataset (pass --dataset/--data-dir)"
        return None

    def ready(self, ctx: ScoringContext) -> bool:
        return self.missing(ctx) is None

    def __call__(self, archs: np.ndarray, ctx: ScoringContext) -> np.ndarray:
        problem = self.missing(ctx)
        if problem:
            raise BnbenchError(problem)
        scores = np.asarray(self.fn(np.asarray(archs), ctx), dtype=np.float64)
        if scores.shape != (len(archs),):
            raise RuntimeError(f"indicator {self.name} returned shape {scores.shape}, expected ({len(archs)},)")
        return scores

    @property
    def direction(self) -> str:
        return "higher" if self.higher_is_better else "lower"


REGISTRY: dict[str, Indicator] = {}


@dataclass(frozen=True)
class Family:
    """Indicators named ``prefix:argument`` (e.g. ``econas:c4r4s0e10``), made on first use by ``make(argument)``
    (which raises a one-line BnbenchError for a bad argument); ``example`` and ``summary`` are listed."""

    prefix: str
    make: Callable[[str], Indicator]
    example: str
    summary: str


FAMILIES: dict[str, Family] = {}
_MEMBERS: dict[str, Indicator] = {}  # family members made so far, by full name


def register_family(prefix: str, make: Callable[[str], Indicator], example: str, summary: str) -> None:
    if prefix in FAMILIES or prefix in REGISTRY:
        raise ValueError(f"indicator family {prefix!r} registered twice")
    FAMILIES[prefix] = Family(prefix, make, example, summary)


def register(name: str, higher_is_better: bool = True, needs: tuple[str, ...] = (), summary: str = "",
             version: int = 1):
    """Decorator registering ``fn`` under ``name``; ``version`` enters every score-cache key."""

    def wrap(fn: ScoreFn) -> ScoreFn:
        if name in REGISTRY:
            raise ValueError(f"indicator {name!r} registered twice")
        REGISTRY[name] = Indicator(name, fn, higher_is_better, frozenset(needs),
                                   summary or (fn.__doc__ or "").strip().split("\n")[0], version)
        return fn

    return wrap


def get(name: str) -> Indicator:
    """The indicator called ``name``: a registered one, or a member ``prefix:argument`` of a family (made once)."""
    if name not in REGISTRY:
        prefix, _, argument = name.partition(":")
        if prefix in FAMILIES and argument:
            if name not in _MEMBERS:  # not added to REGISTRY: that lists the fixed indicators only
                _MEMBERS[name] = FAMILIES[prefix].make(argument)
            return _MEMBERS[name]
        families = ", ".join(f"{f.prefix}:<...> (e.g. {f.example})" for f in FAMILIES.values())
        raise BnbenchError(f"unknown indicator {name!r} (available: {', '.join(sorted(REGISTRY))}"
                           + (f"; families: {families}" if families else "") + ")")
    return REGISTRY[name]


def parse_list(text: str) -> list[Indicator]:
    """``"bn,params"`` -> indicators, each name checked."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise BnbenchError(f"--indicators {text!r}: expected a comma-separated list of indicator names")
    return [get(n) for n in names]
