"""The per-indicator score cache of correlate/score/study: reused while nothing it depends on changes."""

import dataclasses

import numpy as np

from bnbench.experiment import score_indicators
from bnbench.indicators import ScoringContext, get
from bnbench.spaces import get_space


def test_cache_is_reused_until_options_or_the_definition_version_change(tmp_path):
    space = get_space("nb201")
    archs, calls = space.sample(5, 0), []
    params = get("params")
    counted = dataclasses.replace(params, fn=lambda a, c: calls.append(1) or params.fn(a, c))
    ctx = ScoringContext(space=space, progress=False)
    first = score_indicators([counted], archs, ctx, tmp_path, {"seed": 0})["params"][0]
    again = score_indicators([counted], archs, ctx, tmp_path, {"seed": 0})["params"][0]
    assert len(calls) == 1 and np.array_equal(first, again)
    score_indicators([dataclasses.replace(counted, version=2)], archs, ctx, tmp_path, {"seed": 0})
    assert len(calls) == 2  # a new definition is never served the old one's scores
    score_indicators([dataclasses.replace(counted, version=2)], archs, ScoringContext(space=space, progress=False,
                     options={"model_variant": "official"}), tmp_path, {"seed": 0})
    assert len(calls) == 3


def test_cache_is_keyed_on_the_supernet_weights_not_its_config(tmp_path):
    import torch

    space = get_space("nb201")
    archs, calls = space.sample(3, 0), []
    params = get("params")
    counted = dataclasses.replace(params, fn=lambda a, c: calls.append(1) or params.fn(a, c))
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    ctx = ScoringContext(space=space, progress=False, supernet=type("R", (), {"model": net})())
    score_indicators([counted], archs, ctx, tmp_path, {"seed": 0})
    score_indicators([counted], archs, ctx, tmp_path, {"seed": 0})
    assert len(calls) == 1
    with torch.no_grad():
        net[1].running_mean.add_(1e-6)  # same config, different state: retrained or overwritten checkpoint
    score_indicators([counted], archs, ctx, tmp_path, {"seed": 0})
    assert len(calls) == 2
