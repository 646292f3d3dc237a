"""The contract every registered search space keeps (bnbench.spaces.base), checked on each of them.

String round trip, valid samples, the op slots that actually run equal ``choices()``, ``cost()`` equals the
parameters counted on ``network()``, a supernet checkpoint reloads, and every registered indicator scores a
few architectures. A new space passes this file or is not done.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bnbench.datasets import load_dataset
from bnbench.errors import BnbenchError
from bnbench.indicators import REGISTRY, NetSpec, ScoringContext, get
from bnbench.spaces import SPACES, get_space
from bnbench.spaces.base import slots_of
from bnbench.train.config import TrainConfig
from bnbench.train.supernet import load_supernet, train_supernet

TINY = {"channels": 4, "cells": 1}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", train_fraction=0.2, seed=0)


@pytest.fixture(params=SPACES)
def space(request):
    return get_space(request.param)


def sample(space, n=6, seed=0):
    return space.sample(n, seed)


def test_aliases_and_unknown_names():
    for name in SPACES:
        space = get_space(name)
        assert get_space(name.upper()) is space
        for alias in space.aliases:
            assert get_space(alias).name == name
    with pytest.raises(BnbenchError, match="unknown search space 'nope'"):
        get_space("nope")


def test_string_round_trip_and_canonical_form(space):
    archs = sample(space, 12)
    assert archs.shape == (12, space.width) and archs.dtype == np.int64
    for arch in archs:
        text = space.to_str(arch)
        assert np.array_equal(space.parse(text), arch)
        assert space.canonical(space.parse(text)) == space.canonical(arch)
        assert isinstance(space.truth_key(arch), str)
    assert np.array_equal(space.parse_many([space.to_str(a) for a in archs]), archs)


def test_samples_are_distinct_valid_and_reproducible(space):
    a, b = sample(space, 20, seed=3), sample(space, 20, seed=3)
    assert np.array_equal(a, b)
    assert len({space.to_str(x) for x in a}) == 20
    choices = space.choices(a)
    assert choices.shape == (20, len(space.decisions))
    for d, decision in enumerate(space.decisions):
        assert ((choices[:, d] >= -1) & (choices[:, d] < len(decision.choices))).all()
    paths = space.random_paths(np.random.default_rng(0), 5)
    assert paths.shape == (5, space.width)
    for p in paths:
        space.parse(space.to_str(p))  # every training path is a valid architecture


def test_unknown_options_are_one_line_errors(space):
    with pytest.raises(BnbenchError, match=f"search space '{space.name}' has no option 'bogus'"):
        space.options({"bogus": 1})
    assert space.options(TINY) == space.options(**TINY)


@torch.no_grad()
def test_slots_that_run_are_the_choices(space):
    torch.manual_seed(0)
    net = space.supernet(space.options(TINY), num_classes=10, in_channels=1).eval()
    modules = dict(net.named_modules())
    slots = slots_of(net)
    assert slots and all(s.module in modules for s in slots)
    ran: set[int] = set()
    handles = [modules[s.module].register_forward_pre_hook(lambda m, i, k=k: ran.add(k)) for k, s in enumerate(slots)]
    try:
        for arch, choice in zip(sample(space, 8, 1), space.choices(sample(space, 8, 1))):
            ran.clear()
            net(torch.randn(2, 1, 8, 8), arch)
            expected = {k for k, s in enumerate(slots) if choice[s.decision] == s.choice}
            assert ran == expected, space.to_str(arch)
    finally:
        for h in handles:
            h.remove()


def test_cost_equals_the_counted_parameters_of_the_network(space):
    archs = sample(space, 5, 2)
    for opts in (space.options(TINY), space.options()):
        cost = space.cost(archs, opts, num_classes=10, in_channels=3, resolution=16)
        assert set(cost) >= {"params", "flops", "macs"}
        for arch, params in zip(archs, cost["params"]):
            net = space.network(arch, opts, num_classes=10, in_channels=3)
            assert params == sum(p.numel() for p in net.parameters()), space.to_str(arch)


def test_supernet_checkpoint_reloads(space, digits, tmp_path):
    cfg = TrainConfig(dataset="digits", space=space.name, **TINY, epochs=1, batch_size=32, seed=0)
    trained = train_supernet(cfg, digits, tmp_path, progress=False)
    loaded = load_supernet(tmp_path / "supernet.pt", digits, space.name)
    for (k, a), (_, b) in zip(sorted(trained.model.state_dict().items()), sorted(loaded.model.state_dict().items())):
        assert torch.equal(a, b), k
    assert loaded.config.space == space.name
    other = next((s for s in SPACES if s != space.name), None)
    if other:
        with pytest.raises(BnbenchError, match=f"trained in the {space.name} space, this run uses {other}"):
            load_supernet(tmp_path / "supernet.pt", digits, other)


def test_every_registered_indicator_scores_a_few_architectures(space, digits, tmp_path, one_thread):
    cfg = TrainConfig(dataset="digits", space=space.name, **TINY, epochs=1, batch_size=32, seed=0)
    result = train_supernet(cfg, digits, progress=False)
    ctx = ScoringContext(space=space, network=NetSpec(4, 1, 10, 1, 8), dataset=digits, supernet=result, seed=0,
                         progress=False, options={"zc_batch_size": 8, "val_images": 40, "calib_batches": 1,
                                                  "probe_images": 8, "ntk_samples": 4, "cache_dir": str(tmp_path),
                                                  "te_lr_samples": 40})
    archs = sample(space, 4, 5)
    ctx.options.update(econas_eval_images=40, econas_batch_size=32)
    for name in sorted(REGISTRY) + ["econas:c0r0s2e1+top0.5+c0r2s0e1"]:  # + a member of each family
        if name == "dartsalpha":  # reads a differentiable search of the space, where the space has a relaxation
            scores = dartsalpha_scores(space, digits, archs, ctx, tmp_path)
            if scores is None:
                continue
        else:
            scores = get(name)(archs, ctx)
        assert np.asarray(scores).shape == (4,), name
        assert not np.isnan(scores).all() or name in ("jacob_cov",), name


def dartsalpha_scores(space, digits, archs, ctx, tmp_path):
    """dartsalpha's scores from a one-epoch search of ``space``; None (after checking the one-line refusal) where
    the space has no continuous relaxation."""
    import json
    from dataclasses import replace

    from bnbench.search.differentiable import DifferentiableConfig, checkpoint, search

    with pytest.raises(BnbenchError, match="needs a differentiable-search checkpoint"):
        get("dartsalpha")(archs, ctx)
    try:
        space.relaxed_supernet()
    except BnbenchError as err:
        assert "not available" in str(err)
        return None
    cfg = DifferentiableConfig(epochs=1, channels=4, cells=3 if space.name == "darts" else 1, batch_size=16)
    path = tmp_path / "alpha.json"
    path.write_text(json.dumps(checkpoint(search(digits, cfg, space=space))))
    return get("dartsalpha")(archs, replace(ctx, options={**ctx.options, "search_checkpoint": str(path)}))
