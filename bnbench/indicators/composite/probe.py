"""How the composite terms look at a subnet: fixed images, Monte-Carlo BatchNorm statistics, functional passes.

As in Monte-Carlo BatchNorm (Teye et al., ICML 2018) the subnet runs in train mode on K fixed, un-augmented
training batches (option ``mc_batches``, default 4, of ``mc_batch_size`` images, default the supernet's
batch size capped at 64), giving each BN on its path (stem, chosen ops, reduction blocks, head) per-batch
means ``mu_k`` and biased variances ``var_k``. The terms then run it in eval mode with these statistics:
draw k uses ``(mu_k, var_k)`` (so its output equals the train-mode output on batch k); "pooled" uses the K
batches together, ``mean_k mu_k`` and ``mean_k var_k + var_k(mu_k)``. The K batches (or K draws) run as one
forward whose BNs normalise each group of images with its own statistics (:meth:`Probe.grouped`); the pooled
statistics are swapped in as running buffers (:meth:`Probe.swapped`), and ``torch.func.functional_call`` is
used only where gradients with respect to the BN affine parameters are needed. The supernet is never written
to; its train/eval flags are restored.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from bnbench.errors import BnbenchError
from bnbench.indicators.registry import ScoringContext
from bnbench.spaces.base import Slot, slots_of

Stats = dict[str, tuple[torch.Tensor, torch.Tensor]]  # BN module name -> (K x C means, K x C variances)
MAX_PROBE_IMAGES = 4096
PROBE_IMAGES = 64  # default ``probe_images``
# Indicators that read the probe images (the evaluation split); trainability reads training images only.
EVAL_IMAGE_INDICATORS = ("composite", "composite_untrained", "expressivity", "uncertainty", "feature_rank")


class _Features(nn.Module):
    """Exposes ``Supernet.features`` as ``forward`` so that ``functional_call`` can run it."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, arch: Sequence[int]) -> torch.Tensor:
        return self.net.features(x, arch)


@contextmanager
def training_flags(modules: Iterable[nn.Module], training: bool) -> Iterator[None]:
    """Temporarily set the ``training`` flag of ``modules`` (not their children); the previous flags come back.

    Supernets hold no module besides BatchNorm whose forward depends on the flag (no dropout, no drop-path), so
    the probe sets the flags of the BNs a subnet runs only: walking every module of a supernet costs about
    10 ms per call.
    """
    saved = [(m, m.training) for m in modules]
    try:
        for m, _ in saved:
            m.training = training
        yield
    finally:
        for m, flag in saved:
            m.training = flag


def option(ctx: ScoringContext, name: str, default: int) -> int:
    value = int(ctx.options.get(name, default))
    if value < 1:
        raise BnbenchError(f"scoring option {name}={value}: expected a positive integer")
    return value




@dataclass
class Probe:
    """The fixed inputs and the functional view of a trained supernet shared by all subnets of one call."""

    wrapper: _Features
    calib: torch.Tensor  # K x b x C x H x W training batches (MC-BN draws)
    images: torch.Tensor  # m x C x H x W evaluation images, ``Dataset.eval`` (expressivity, uncertainty, feature_rank)
    ntk_images: torch.Tensor  # n x C x H x W training images (trainability)
    probe: torch.Tensor  # unit logit direction orthogonal to the all-ones vector
    params: dict[str, torch.Tensor]  # detached
    norms: dict[str, nn.Module]  # every tracked BatchNorm by its name in ``wrapper``
    relus: list[nn.Module]  # every ReLU module (a subnet runs those on its path)
    space: Any = None  # the search space (its ``choices`` say which slots an architecture activates)
    slot_of: dict[str, Slot] = field(default_factory=dict)  # BN name -> the op slot it belongs to

    @classmethod
    def build(cls, ctx: ScoringContext) -> "Probe":
        from bnbench.datasets import BatchAugmenter
        from bnbench.indicators.supernet_acc import fixed_images

        model, cfg, data = ctx.supernet.model, ctx.supernet.config, ctx.dataset
        k = option(ctx, "mc_batches", 4)
        b = min(option(ctx, "mc_batch_size", min(cfg.batch_size, 64)), len(data.train) // k)
        if b < 2:
            raise BnbenchError(f"{len(data.train)} training images cannot fill {k} MC-BN batches of 2 or more")
        augmenter = BatchAugmenter(data.mean, data.std, data.augment, cfg.resolution)
        cl = torch.channels_last  # same values; CPU pooling and convs run several times faster in this layout
        calib = fixed_images(data.train, k * b, augmenter, ctx.seed)[0].contiguous(memory_format=cl)
        m = option(ctx, "probe_images", PROBE_IMAGES)
        if m > MAX_PROBE_IMAGES:
            raise BnbenchError(f"scoring option probe_images={m}: at most {MAX_PROBE_IMAGES} (an m x m kernel per subnet)")
        images = fixed_images(data.eval, m, augmenter, ctx.seed + 1)[0]  # disjoint from the truth's where possible
        classes = model.classifier.out_features
        v = torch.randn(classes, generator=torch.Generator().manual_seed(ctx.seed), dtype=torch.float64)
        v = (v - v.mean()) / (v - v.mean()).norm() if classes > 1 else torch.ones(1, dtype=torch.float64)
        wrapper = _Features(model)
        norms = {name: m for name, m in wrapper.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}
        odd = [name for name, m in norms.items() if not m.track_running_stats
               or type(m).forward is not nn.modules.batchnorm._BatchNorm.forward]
        if odd:
            raise BnbenchError(f"composite: supernet BN {odd[0].removeprefix('net.')} keeps no running statistics or "
                               "overrides BatchNorm's forward; the MC-BN probe needs plain tracked BNs")
        n = min(option(ctx, "ntk_samples", 32), k * b)
        relus = [m for m in wrapper.modules() if isinstance(m, nn.ReLU)]
        slot_of = {name: slot for slot in slots_of(model) for name in norms if name.startswith(f"net.{slot.module}.")}
        return cls(wrapper, calib.view(k, b, *calib.shape[1:]), images.contiguous(memory_format=cl), calib[:n],
                   v.to(calib), {name: p.detach() for name, p in wrapper.named_parameters()}, norms, relus,
                   ctx.space, slot_of)

    def path(self, arch: Sequence[int]) -> list[str]:
        """Names of the BNs ``arch`` may run: those outside every op slot and those of the slots it activates
        (a superset where a space runs some modules outside slots only for some architectures, e.g. NB101's input
        projections; :meth:`stats` keeps the ones that ran)."""
        choices = self.space.choices(np.asarray(arch)[None])[0]
        return [n for n in self.norms if (slot := self.slot_of.get(n)) is None
                or choices[slot.decision] == slot.choice]

    @torch.no_grad()
    def stats(self, arch: Sequence[int]) -> Stats:
        """Per-batch (mean, biased variance) of the input of every BN on ``arch``'s path.

        The K calibration batches run as one batch of K x b images through :meth:`grouped`, whose BNs normalise
        each batch with its own statistics (what K separate train-mode passes compute) and note them.
        """
        k = len(self.calib)
        noted: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        with self.grouped(self.path(arch), k, None, noted):
            self.wrapper(self.calib.flatten(0, 1), arch)
        return noted

    @torch.no_grad()
    def draws(self, arch: Sequence[int], stats: Stats, images: torch.Tensor) -> torch.Tensor:
        """Eval-mode features (K x m x d) of ``images`` (m x C x H x W) under each MC-BN draw's statistics: one
        forward of K copies of the images, copy k normalised with draw k's (mean, variance)."""
        k = next(iter(stats.values()))[0].shape[0]
        batch = images.unsqueeze(0).expand(k, *images.shape).flatten(0, 1)
        batch = batch.contiguous(memory_format=torch.channels_last) if batch.dim() == 4 else batch.contiguous()
        with self.grouped(list(stats), k, stats, None):
            return self.wrapper(batch, arch).view(k, len(images), -1)

    @contextmanager
    def grouped(self, names: Sequence[str], k: int, stats: Stats | None,
                noted: dict[str, tuple[torch.Tensor, torch.Tensor]] | None) -> Iterator[None]:
        """Context: the BNs ``names`` treat their input (K*b x C x ...) as K groups of b and normalise group k with
        ``stats[name]``'s k-th (mean, biased variance), or, with ``stats`` None, with the group's own batch
        statistics, which they note in ``noted[name]`` as (K x C means, K x C variances).

        ``y = (x - mu_k) / sqrt(var_k + eps) * gamma + beta``, BatchNorm's formula (Ioffe & Szegedy, 2015); K
        batches in one pass instead of K passes (on small inputs the per-module overhead of a weight-sharing
        supernet, not the arithmetic, sets the cost). The supernet's buffers are never read or written.
        """
        saved = []
        try:
            for name in names:
                module = self.norms[name]
                given = None if stats is None else stats[name]
                saved.append((module, module.__dict__.get("forward")))
                module.forward = _grouped_forward(module, name, k, given, noted)
            yield
        finally:
            for module, forward in saved:
                if forward is None:
                    del module.forward
                else:
                    module.forward = forward

    @contextmanager
    def swapped(self, tensors: dict[str, torch.Tensor]) -> Iterator[None]:
        """Temporarily replace BN buffers (keys ``"<BN name>.<buffer>"``) by ``tensors``; the originals come back.

        The same forward as ``functional_call(wrapper, tensors, ...)`` without re-binding every tensor of the
        supernet on each call (about 15 ms per call for a NB201 supernet; most of a subnet's cost on small inputs).
        """
        saved = []
        try:
            for key, tensor in tensors.items():
                name, attr = key.rsplit(".", 1)
                module = self.norms[name]
                saved.append((module, attr, module._buffers[attr]))
                module._buffers[attr] = tensor
            yield
        finally:
            for module, attr, tensor in reversed(saved):
                module._buffers[attr] = tensor

    def eval_mode(self, stats: Stats):
        """Context: the BNs that ran in :meth:`stats` (those of the subnet) in eval mode."""
        return training_flags([self.norms[n] for n in stats], False)

    def buffers_for(self, stats: Stats, k: int | None) -> dict[str, torch.Tensor]:
        """Running buffers of the path BNs holding draw ``k``'s statistics, or the pooled ones when ``k`` is None."""
        out = {}
        for name, (mu, var) in stats.items():
            if k is None:
                mu, var = mu.mean(0), var.mean(0) + mu.var(0, unbiased=False)
            else:
                mu, var = mu[k], var[k]
            out[f"{name}.running_mean"], out[f"{name}.running_var"] = mu, var
        return out

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(features, self.params["net.classifier.weight"], self.params["net.classifier.bias"])


def _grouped_forward(module: nn.Module, name: str, k: int, given: tuple[torch.Tensor, torch.Tensor] | None,
                     noted: dict[str, tuple[torch.Tensor, torch.Tensor]] | None):
    """The forward :meth:`Probe.grouped` gives one BN (see there)."""

    def forward(x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        groups = x.reshape(k, x.shape[0] // k, *x.shape[1:])
        shape = (k, 1, c) + (1,) * (x.dim() - 2)
        if given is None:
            dims = (1,) + tuple(range(3, groups.dim()))
            var, mean = torch.var_mean(groups, dim=dims, correction=0)
            noted[name] = (mean, var)
        else:
            mean, var = given
        scale = torch.rsqrt(var + module.eps)  # K x C: y = x * scale + shift, the formula folded per channel
        if module.weight is not None:
            scale = scale * module.weight
        shift = -mean * scale if module.bias is None else module.bias - mean * scale
        return torch.addcmul(shift.view(shape), groups, scale.view(shape)).reshape(x.shape)

    return forward
