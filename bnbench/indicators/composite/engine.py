"""One pass over the architectures computing any of the three composite terms, sharing the MC-BN work.

Per subnet: K train-mode passes collect the MC-BN statistics once; the K eval passes over the validation
images serve expressivity (activation codes), uncertainty (logits) and feature_rank (features);
trainability adds one ``vmap(grad)`` pass. Work is batched within a subnet (images, per-sample gradients); subnets of a weight-sharing supernet
take different modules, so they run one after another.

Expressivity, uncertainty and feature_rank share their passes, so asking for one computes all three. The last call's values
are memoised, keyed by the cells, seed, options, training config and the version counters of the
supernet's tensors (the supernet and dataset objects are held by weak reference): ``composite`` followed by
its terms on the same cells scores each subnet once. A subnet whose output is constant gets every term's
worst value (see :mod:`~bnbench.indicators.composite.diagnostics`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import weakref
from collections import Counter
from typing import Sequence

import numpy as np
import torch

from bnbench.progress import track
from bnbench.indicators.composite.diagnostics import LOGGER, WORST, record
from bnbench.indicators.composite.expressivity import add_codes, expressivity_of
from bnbench.indicators.composite.feature_rank import feature_rank_of
from bnbench.indicators.composite.probe import Probe, Stats
from bnbench.indicators.composite.trainability import log_condition, ntk_jacobian
from bnbench.indicators.composite.uncertainty import uncertainty_of
from bnbench.indicators.registry import ScoringContext

TERMS = ("expressivity", "trainability", "uncertainty", "feature_rank")
MC_TERMS = {"expressivity", "uncertainty", "feature_rank"}  # served by the same K eval passes
OPTIONS = ("mc_batches", "mc_batch_size", "probe_images", "ntk_samples")
_MEMO: dict = {}


def evaluate(archs: np.ndarray, ctx: ScoringContext, terms: Sequence[str]) -> dict[str, np.ndarray]:
    """``{term: (n,) scores}`` for the requested terms (from the memo when the same call was just made)."""
    archs = np.asarray(archs, dtype=np.int64)
    key = _key(archs, ctx)
    owners = [r() for r in _MEMO.get("owners", ())]
    if _MEMO.get("key") != key or len(owners) != 2 or owners[0] is not ctx.supernet.model \
            or owners[1] is not ctx.dataset:
        _MEMO.clear()
        _MEMO.update(key=key, owners=(weakref.ref(ctx.supernet.model), weakref.ref(ctx.dataset)), values={},
                     reasons={})
    missing = [t for t in terms if t not in _MEMO["values"]]
    if MC_TERMS & set(missing):  # one set of MC-BN passes serves them all: compute them together
        missing = sorted(set(missing) | (MC_TERMS - set(_MEMO["values"])), key=TERMS.index)
    if missing:
        values, reasons = compute(archs, ctx, missing)
        _MEMO["values"].update(values)
        _MEMO["reasons"].update(reasons)
    for t in terms:
        record(t, len(archs), _MEMO["reasons"][t])
    return {t: _MEMO["values"][t].copy() for t in terms}


def is_constant(outputs: torch.Tensor, dim: int) -> bool:
    """True when ``outputs`` do not vary along the image axis ``dim`` (relative tolerance 1e-6)."""
    spread = (outputs - outputs.mean(dim, keepdim=True)).abs().max()
    return bool(spread <= 1e-6 * (1.0 + outputs.abs().max()))


@torch.no_grad()
def mc_passes(probe: Probe, arch: Sequence[int], stats: Stats) -> tuple[torch.Tensor, torch.Tensor]:
    """(K x m x d penultimate features, K x m x m Hamming kernels of the ReLU codes) of the validation
    images, one slice per MC-BN draw (all K draws in one forward, :meth:`Probe.draws`)."""
    k, m = next(iter(stats.values()))[0].shape[0], len(probe.images)
    kernels = torch.zeros(k, m, m, dtype=torch.float64)

    def hook(module, inputs, output) -> None:  # returns None: the output passes on unchanged
        codes = (output > 0).reshape(k, m, -1)  # channels_last outputs need a copy to split this way
        for draw in range(k):
            add_codes(kernels[draw], codes[draw])

    handles = [r.register_forward_hook(hook) for r in probe.relus]
    try:
        features = probe.draws(arch, stats, probe.images)
    finally:
        for h in handles:
            h.remove()
    return features, kernels


def score_arch(probe: Probe, arch: tuple[int, ...], terms: Sequence[str]) -> dict[str, tuple[float, str | None]]:
    """``{term: (value, reason for a worst value or None)}`` of one subnet."""
    stats = probe.stats(arch)
    out: dict[str, tuple[float, str | None]] = {}
    constant = False
    if MC_TERMS & set(terms):
        features, kernels = mc_passes(probe, arch, stats)
        logits = probe.logits(features)
        constant = is_constant(logits, dim=1)
        if "expressivity" in terms:
            out["expressivity"] = expressivity_of(kernels)
        if "uncertainty" in terms:
            out["uncertainty"] = uncertainty_of(logits)
        if "feature_rank" in terms:
            out["feature_rank"] = feature_rank_of(features)
    if "trainability" in terms:
        jacobian, outputs = ntk_jacobian(probe, arch, stats)
        constant = constant or is_constant(outputs, dim=0)
        out["trainability"] = log_condition(jacobian)
    if constant:
        return {t: (WORST[t], "constant output") for t in terms}
    return out


def compute(archs: np.ndarray, ctx: ScoringContext, terms: Sequence[str]) -> tuple[dict, dict]:
    """({term: scores}, {term: Counter of worst-value reasons}) of every cell, without the memo."""
    probe = Probe.build(ctx)
    values = {t: np.empty(len(archs)) for t in terms}
    reasons = {t: Counter() for t in terms}
    for i, row in enumerate(track(archs, len(archs), "+".join(terms), ctx.progress)):
        arch = tuple(int(o) for o in row)
        for t, (value, why) in score_arch(probe, arch, terms).items():
            values[t][i] = value
            if why is not None:
                reasons[t][why] += 1
                LOGGER.debug("%s of %s: worst value %g (%s)", t, ctx.space.to_str(arch), value, why)
    return values, reasons


def _key(archs: np.ndarray, ctx: ScoringContext) -> tuple:
    model = ctx.supernet.model
    state = tuple((t.data_ptr(), t._version) for t in itertools.chain(model.parameters(), model.buffers()))
    options = json.dumps({k: ctx.options.get(k) for k in OPTIONS}, sort_keys=True, default=str)
    digest = hashlib.sha256(np.ascontiguousarray(archs).tobytes()).hexdigest()
    return (state, ctx.seed, digest, options, str(ctx.supernet.config))
