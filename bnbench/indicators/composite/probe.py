"""How the composite terms look at a subnet: fixed images, Monte-Carlo BatchNorm statistics, functional passes.

As in Monte-Carlo BatchNorm (Teye et al., ICML 2018) the subnet runs in train mode on K fixed, un-augmented
training batches (option ``mc_batches``, default 4, of ``mc_batch_size`` images, default the supernet's
batch size capped at 64), giving each BN on its path (stem, chosen ops, reduction blocks, head) per-batch
means ``mu_k`` and biased variances ``var_k``. The terms then run it in eval mode via
``torch.func.functional_call`` with these as running buffers: draw k uses ``(mu_k, var_k)`` (so its output
equals the train-mode output on batch k); "pooled" uses the K batches together, ``mean_k mu_k`` and
``mean_k var_k + var_k(mu_k)``. The supernet is never written to; its train/eval flags are restored.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from bnbench.errors import BnbenchError
from bnbench.indicators.registry import ScoringContext
from bnbench.spaces.base import Slot, slots_of

Stats = dict[str, tuple[torch.Tensor, torch.Tensor]]  # BN module name -> (K x C means, K x C variances)
_BUFFERS = ("running_mean", "running_var", "num_batches_tracked")
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
def training_flags(model: nn.Module, training: bool) -> Iterator[None]:
    """Temporarily set every module's ``training`` flag; the previous flags come back afterwards."""
    saved = [(m, m.training) for m in model.modules()]
    model.train(training)
    try:
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
    buffers: dict[str, torch.Tensor]  # private copies of the BN buffers: train-mode passes write here
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
        norms = {name: m for name, m in wrapper.named_modules()
                 if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats}
        buffers = {f"{n}.{b}": getattr(m, b).detach().clone() for n, m in norms.items() for b in _BUFFERS}
        n = min(option(ctx, "ntk_samples", 32), k * b)
        relus = [m for m in wrapper.modules() if isinstance(m, nn.ReLU)]
        slot_of = {name: slot for slot in slots_of(model) for name in norms if name.startswith(f"net.{slot.module}.")}
        return cls(wrapper, calib.view(k, b, *calib.shape[1:]), images.contiguous(memory_format=cl), calib[:n],
                   v.to(calib), {name: p.detach() for name, p in wrapper.named_parameters()}, buffers, norms, relus,
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

        BN computes them itself: with its private running buffers zeroed, one train-mode step leaves
        ``running_mean = momentum * mean`` and ``running_var = momentum * n / (n - 1) * var`` (torch's
        update rule; ``momentum=None`` means 1 on a fresh buffer); a forward pre-hook only notes ``n``.
        """
        names = self.path(arch)
        bufs = {f"{n}.{b}": self.buffers[f"{n}.{b}"] for n in names for b in _BUFFERS}
        sizes: dict[nn.Module, int] = {}
        handles = [self.norms[n].register_forward_pre_hook(
            lambda module, inputs: sizes.__setitem__(module, inputs[0].numel() // inputs[0].shape[1])) for n in names]
        record: dict[str, list[tuple[torch.Tensor, torch.Tensor]]] = {n: [] for n in names}
        try:
            with training_flags(self.wrapper, True):
                for x in self.calib:
                    for t in bufs.values():
                        t.zero_()
                    functional_call(self.wrapper, bufs, (x, arch))
                    for n in names:
                        if self.norms[n] not in sizes:
                            continue  # outside every slot but not run by this architecture
                        scale, size = 1.0 / (self.norms[n].momentum or 1.0), sizes[self.norms[n]]
                        record[n].append((bufs[f"{n}.running_mean"] * scale,
                                          bufs[f"{n}.running_var"] * (scale * (size - 1) / size)))
        finally:
            for h in handles:
                h.remove()
        return {n: (torch.stack([m for m, _ in r]), torch.stack([v for _, v in r])) for n, r in record.items() if r}

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
