"""Training configurations, recorded verbatim in checkpoints and result files."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from bnbench.errors import BnbenchError

TRAIN_MODES = ("bn", "full")
BN_SCOPES = ("last", "all", "last+classifier", "all+classifier")  # see bnbench.train.params
SAMPLERS = ("spos", "fairnas")
SCHEDULES = ("cosine", "constant")


@dataclass
class TrainConfig:
    """Supernet / network training knobs, EcoNAS-style reductions included (Zhou et al., CVPR 2020).

    ``space``: the search space; ``channels``/``cells``: its common width / depth knobs (NB201: C and N;
    None = the space's default), ``bn_every_op``: a trainable BN on every candidate op (fairness mode),
    ``space_options``: any other build option of the space (e.g. NB101's ``num_stacks``); an option the
    space does not have is a one-line error. ``resolution``: input side in pixels
    (``None`` = native); ``train_fraction``: stratified fraction of the training images; ``epochs`` (0: the initialised supernet,
    no training step: supernet-based indicators are then training-free).
    ``bn_scope`` (BN-only): which affine parameters learn, :mod:`bnbench.train.params`; the default
    ``all+classifier`` deviates from BN-NAS (``last``, classifier frozen), under which the loss stays at chance.
    ``lr``/``weight_decay`` default per mode: full 0.05 / 5e-4, BN-only 0.1 / 0 (decay would shrink
    the |gamma| that BN-NAS reads). Momentum 0.9 (Nesterov), cosine schedule over all steps.
    ``sampler``: ``spos`` (one uniform path per step; Guo et al., ECCV 2020) or ``fairnas`` (strict fairness:
    ``m`` paths per step covering every choice of every decision once, gradients summed, one update; Chu et al.,
    ICCV 2021). A FairNAS step passes its batch ``m`` times: at equal epochs it sees ``m`` times the images.
    ``label_smoothing``: the cross-entropy's smoothing epsilon (Szegedy et al., CVPR 2016; BN-NAS's public code
    uses 0.1); ``grad_clip``: the largest L2 norm of the gradient of all trained parameters together, rescaled
    above it (``torch.nn.utils.clip_grad_norm_``; BN-NAS's code: 5); None = no clipping. Both default off.
    """

    dataset: str = "cifar10-valid"
    space: str = "nb201"
    channels: int | None = 16
    cells: int | None = 5
    resolution: int | None = None
    train_fraction: float = 1.0
    epochs: int = 10
    batch_size: int = 64
    lr: float | None = None
    weight_decay: float | None = None
    momentum: float = 0.9
    schedule: str = "cosine"
    train_mode: str = "bn"
    bn_scope: str = "all+classifier"
    sampler: str = "spos"
    bn_every_op: bool = False
    space_options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    label_smoothing: float = 0.0
    grad_clip: float | None = None

    def __post_init__(self) -> None:
        _choice("train_mode", self.train_mode, TRAIN_MODES)
        _choice("bn_scope", self.bn_scope, BN_SCOPES)
        _choice("sampler", self.sampler, SAMPLERS)
        _choice("schedule", self.schedule, SCHEDULES)
        if not 0.0 < self.train_fraction <= 1.0:
            raise BnbenchError(f"train_fraction {self.train_fraction}: expected a value in (0, 1]")
        for name in ("channels", "cells", "batch_size"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise BnbenchError(f"{name} {getattr(self, name)}: expected a positive integer")
        if self.epochs is None or self.epochs < 0:
            raise BnbenchError(f"epochs {self.epochs}: expected 0 (the initialised supernet, untrained) or more")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise BnbenchError(f"label_smoothing {self.label_smoothing}: expected a value in [0, 1)")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise BnbenchError(f"grad_clip {self.grad_clip}: expected a positive gradient norm or None")
        if self.lr is None:
            self.lr = 0.1 if self.train_mode == "bn" else 0.05
        if self.weight_decay is None:
            self.weight_decay = 0.0 if self.train_mode == "bn" else 5e-4
        self.space_options = dict(self.space_options or {})
        options = self.build_options()  # unknown options: one line now, not a TypeError deep inside a network builder
        common = type(options).COMMON
        self.space_options = {k: getattr(options, common.get(k, k)) for k in self.space_options}  # typed values

    def build_options(self) -> Any:
        """The space's typed build options (:class:`bnbench.spaces.base.SpaceOptions`) of this config."""
        from bnbench.spaces import get_space

        return get_space(self.space).options({"channels": self.channels, "cells": self.cells,
                                              "bn_every_op": self.bn_every_op, **self.space_options})

    def to_dict(self) -> dict[str, Any]:
        """Every field, except knobs added later while they keep their default (``label_smoothing``,
        ``grad_clip``): checkpoints, score caches and truth-build keys written before those knobs existed stay
        valid, since a default knob changes nothing."""
        data = asdict(self)
        defaults = {f.name: f.default for f in fields(self)}
        for name in LATER_KNOBS:
            if data[name] == defaults[name]:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        """A config from ``to_dict`` output; configs written before the space interface (``fair``, no ``space``)
        read as NB201 ones."""
        data = dict(data)
        if "fair" in data:
            data.setdefault("bn_every_op", bool(data.pop("fair")))
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


LATER_KNOBS = ("label_smoothing", "grad_clip")  # omitted from to_dict() at their field default


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise BnbenchError(f"{name} {value!r}: expected one of {', '.join(allowed)}")
