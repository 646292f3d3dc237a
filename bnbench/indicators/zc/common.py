"""Shared plumbing of the zero-cost proxies: the per-architecture network factory, the scoring batch and
the weight layers the pruning-at-init scores sum over (the passes several proxies share:
:mod:`~bnbench.indicators.zc.shared`).

Every proxy is a function ``proxy(make, batch) -> float`` written against

* ``make(bn=True, init=None, **overrides)``: a *freshly initialised* network for one architecture, built by the
  search space (``space.network(arch, options, num_classes, in_channels, variant=..., bn=...)``; ``overrides``
  may change the common knobs ``channels``/``cells``, ``in_channels`` or ``num_classes``) under the architecture's own seed, on the batch's device, in train mode
  (every reference computes its score on a network in train mode, BN on batch statistics). Each call
  rebuilds the same initial weights, so a proxy may mutate what it gets; ``init(model)``, if given,
  re-initialises it from the same seeded random stream. Its BatchNorms are exact on constant channels
  (:mod:`bnbench.indicators.zc.exact_bn`), so CPU scores agree with the GPU references'.
* ``batch``: a :class:`Batch` of normalised training images (or only an input shape for data-free
  proxies). With ``zc_batch = "fixed"`` (the default) it is the same un-augmented batch for every
  architecture; with ``"per-arch"`` each architecture gets its own random batch, drawn without
  replacement from the training split and randomly cropped and flipped under a seed derived from the
  architecture (reference protocol: zero-cost-nas takes ``next(iter(train_loader))`` of a shuffled,
  augmented CIFAR loader for each architecture, shared by all its measures).

Nothing here knows a particular space; it only needs ``network``, ``options``, ``to_str`` and ``variants``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

import numpy as np
import torch
from torch import nn

from bnbench.indicators.zc.exact_bn import exact_constant_channels
from bnbench.utils.placement import place

NetFactory = Callable[..., nn.Module]
NUMERICS = "exact-bn"  # how networks compute (see exact_bn): part of every batch key, so older records are not served
DEFAULT_VARIANT = "zc"
DEFAULT_BATCH = 64
BATCH_POLICIES = ("fixed", "per-arch")


class Undefined(ArithmeticError):
    """The proxy has no defined value for this architecture (e.g. a singular kernel); the message says why."""


@dataclass(frozen=True)
class Batch:
    """What every architecture is scored on: images ``x`` (N x C x H x W, normalised) and labels ``y``,
    or ``x = y = None`` with only ``shape`` for data-free proxies; ``key`` identifies it in the store."""

    shape: tuple[int, ...]
    num_classes: int
    seed: int
    key: str
    x: torch.Tensor | None = None
    y: torch.Tensor | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    where: str = "cpu"  # device of a shape-only batch
    draw: Callable[[int], tuple[torch.Tensor, torch.Tensor]] | None = None  # per-arch policy: seed -> (x, y)

    @property
    def device(self) -> torch.device:
        return self.x.device if self.x is not None else torch.device(self.where)

    def for_arch(self, arch: str) -> "Batch":
        """The batch architecture ``arch`` is scored on: itself, or (per-arch policy) its own draw."""
        if self.draw is None:
            return self
        x, y = self.draw(arch_seed(self.seed, f"batch:{arch}"))
        return replace(self, x=x, y=y, draw=None)


def digest(*parts: Any) -> str:
    """Short stable hash of tensors / arrays / JSON-able values."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, torch.Tensor):
            part = part.detach().cpu().contiguous().numpy()
        h.update(part.tobytes() if isinstance(part, np.ndarray) else repr(part).encode())
    return h.hexdigest()[:16]


def batch_size(ctx) -> int:
    """Images per architecture: ``--zc-batch-size`` if given, else the space's ``zc_batch_size`` (the batch its
    published per-architecture values used), else :data:`DEFAULT_BATCH`."""
    return resolve_batch_size(ctx.options.get("zc_batch_size"), ctx.space)


def resolve_batch_size(given: Any, space: Any) -> int:
    """``given`` (a positive int) or the default of ``space`` (a SearchSpace or its name); one-line error when bad."""
    if given is None:
        if isinstance(space, str):
            from bnbench.spaces import get_space
            space = get_space(space)
        return int(getattr(space, "zc_batch_size", DEFAULT_BATCH))
    if int(given) < 2:
        from bnbench.errors import BnbenchError
        raise BnbenchError(f"--zc-batch-size {given}: expected at least 2 images (jacob_cov and nwot compare images)")
    return int(given)


def shape_batch(ctx) -> Batch:
    """Input shape only (data-free proxies): ``zc_batch_size`` x in_channels x resolution^2, on the
    dataset's device when there is a dataset."""
    net = ctx.network
    shape = (batch_size(ctx), net.in_channels, net.resolution, net.resolution)
    where = str(ctx.dataset.train.x.device) if ctx.dataset is not None else "cpu"
    return Batch(shape, net.num_classes, ctx.seed, digest("shape", shape, net.__dict__, ctx.seed, NUMERICS), where=where)


def batch_policy(ctx) -> str:
    policy = str(ctx.options.get("zc_batch") or "fixed")
    if policy not in BATCH_POLICIES:
        from bnbench.errors import BnbenchError
        raise BnbenchError(f"--zc-batch {policy!r}: expected one of {', '.join(BATCH_POLICIES)}")
    return policy


def image_batch(ctx, **options: Any) -> Batch:
    """``zc_batch_size`` normalised training images resized to the scored network's resolution.

    ``fixed``: chosen by a ``ctx.seed`` permutation, un-augmented, the same for every architecture (as
    :func:`bnbench.indicators.supernet_acc.fixed_images`). ``per-arch``: see the module docstring; the
    key then identifies the policy, the training split and the seed. ``options`` (proxy settings) are
    passed on in ``Batch.options`` and enter the batch key."""
    from bnbench.datasets import BatchAugmenter
    from bnbench.indicators.supernet_acc import fixed_images

    data, net, n = ctx.dataset, ctx.network, batch_size(ctx)
    augmenter = BatchAugmenter(data.mean, data.std, data.augment, net.resolution)
    if batch_policy(ctx) == "fixed":
        x, y = fixed_images(data.train, n, augmenter, ctx.seed)
        key = digest("images", x, y, net.__dict__, ctx.seed, sorted(options.items()), NUMERICS)
        return Batch(tuple(x.shape), net.num_classes, ctx.seed, key, x, y, options)
    split = data.train
    if n > len(split):
        raise ValueError(f"--zc-batch-size {n} exceeds the {len(split)} training images")

    def draw(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(seed)
        index = torch.randperm(len(split), generator=g)[:n].to(split.x.device)
        return augmenter(split.x[index], g, train=True), split.y[index]

    key = digest("per-arch", split.x[::max(1, len(split) // 1024)], split.y, len(split), data.augment,
                 data.mean, data.std, n, net.__dict__, ctx.seed, sorted(options.items()), NUMERICS)
    shape = (n, net.in_channels, net.resolution, net.resolution)
    return Batch(shape, net.num_classes, ctx.seed, key, options=options, where=str(split.x.device), draw=draw)


def arch_seed(seed: int, arch: str) -> int:
    """Initialisation seed of one architecture: independent of scoring order, process and ``--jobs``."""
    return int(hashlib.sha256(f"{seed}:{arch}".encode()).hexdigest()[:8], 16)


def network_factory(space: Any, net: Any, variant: str, arch: Any, seed: int,
                    device: torch.device | str = "cpu") -> NetFactory:
    """``make(bn=True, init=None, **overrides)`` for one architecture (see the module docstring)."""

    def make(bn: bool = True, init: Callable[[nn.Module], None] | None = None, **overrides: Any) -> nn.Module:
        shape = {"num_classes": net.num_classes, "in_channels": net.in_channels}
        shape.update({k: overrides.pop(k) for k in list(overrides) if k in shape})
        options = net.space_options(space, **overrides)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = space.network(arch, options, variant=variant, bn=bn, **shape)
            if init is not None:
                init(model)  # a proxy's own re-initialisation, drawn from the same seeded stream
        return exact_constant_channels(place(model, device).train())  # CPU scores as on CUDA (see exact_bn)

    return make


def weight_layers(net: nn.Module) -> list[nn.Module]:
    """Conv and linear layers: the ones zero-cost-nas's ``get_layer_metric_array`` sums over."""
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def grad_or_zero(weight: torch.Tensor) -> torch.Tensor:
    return weight.grad if weight.grad is not None else torch.zeros_like(weight)
