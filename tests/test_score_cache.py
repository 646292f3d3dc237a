"""The per-indicator score cache of correlate/score/study: reused while nothing it depends on changes."""

import dataclasses

import numpy as np

from bnbench.experiment import score_indicators
from bnbench.indicators import ScoringContext, get
from bnbench.spaces import get_space


def counting(name: str, calls: list, **changes):
    """Indicator ``name`` that appends to ``calls`` each time it really scores."""
    ind = get(name)
    return dataclasses.replace(ind, fn=lambda a, c: calls.append(1) or ind.fn(a, c), **changes)


def test_cache_is_reused_until_the_definition_version_changes(tmp_path):
    space = get_space("nb201")
    archs, calls = space.sample(5, 0), []
    counted = counting("params", calls)
    ctx = ScoringContext(space=space, progress=False)
    first = score_indicators([counted], archs, ctx, tmp_path, {"seed": 0})["params"][0]
    again = score_indicators([counted], archs, ctx, tmp_path, {"seed": 0})["params"][0]
    assert len(calls) == 1 and np.array_equal(first, again)
    score_indicators([dataclasses.replace(counted, version=2)], archs, ctx, tmp_path, {"seed": 0})
    assert len(calls) == 2  # a new definition is never served the old one's scores


def test_cache_is_keyed_on_the_options_each_indicator_reads(tmp_path):
    space = get_space("nb201")
    archs, calls = space.sample(4, 0), []
    reads = dataclasses.replace(get("params"), name="reads", fn=lambda a, c: calls.append(c.options.get("width", 1))
                                or np.full(len(a), float(c.options.get("width", 1))))

    def run(**options):
        ctx = ScoringContext(space=space, progress=False, options=options)
        return score_indicators([reads], archs, ctx, tmp_path, {"seed": 0})["reads"][0]

    assert run()[0] == 1.0 and calls == [1]
    assert run(zc_batch="per-arch", jobs=2)[0] == 1.0 and calls == [1]  # an option it never read: cached
    assert run(width=3)[0] == 3.0 and calls == [1, 3]  # an option it read as absent is now given: rescored
    assert run(width=3, other=1)[0] == 3.0 and calls == [1, 3]
    assert run()[0] == 1.0 and calls == [1, 3, 1]  # back to the default: rescored, never served width=3


def test_iterating_or_pickling_the_options_counts_as_reading_them_all():
    import pickle

    from bnbench.utils.read_options import ReadOptions

    seen = ReadOptions({"a": 1, "b": (2, 3)})
    assert seen.get("c") is None and seen.read == {"c": None}
    assert dict(seen) == {"a": 1, "b": (2, 3)} and seen.read == {"a": 1, "b": [2, 3], "c": None}
    sent = ReadOptions({"a": 1}, ignore=frozenset({"jobs"}))
    assert pickle.loads(pickle.dumps(sent)) == {"a": 1} and sent.read == {"a": 1}


def test_cache_is_keyed_on_the_supernet_weights_not_its_config(tmp_path):
    import torch

    space = get_space("nb201")
    archs, calls = space.sample(3, 0), []
    counted = counting("params", calls, needs=frozenset({"supernet"}))
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    ctx = ScoringContext(space=space, progress=False, supernet=type("R", (), {"model": net})())
    score_indicators([counted], archs, ctx, tmp_path, {"seed": 0})
    score_indicators([counted], archs, ctx, tmp_path, {"seed": 0})
    assert len(calls) == 1
    with torch.no_grad():
        net[1].running_mean.add_(1e-6)  # same config, different state: retrained or overwritten checkpoint
    score_indicators([counted], archs, ctx, tmp_path, {"seed": 0})
    assert len(calls) == 2


def test_the_supernet_weights_key_only_indicators_that_need_a_supernet(tmp_path):
    import torch

    space = get_space("nb201")
    archs, calls = space.sample(3, 0), []
    net = torch.nn.Linear(2, 2)
    ctx = ScoringContext(space=space, progress=False, supernet=type("R", (), {"model": net})())
    score_indicators([counting("params", calls)], archs, ctx, tmp_path, {"seed": 0})
    with torch.no_grad():
        net.weight.add_(1.0)
    score_indicators([counting("params", calls)], archs, ctx, tmp_path, {"seed": 0})
    assert len(calls) == 1  # params never reads the supernet


def test_cache_is_keyed_on_the_network_the_indicator_builds(tmp_path):
    """A truth rebuilt at another width changes the network params / FLOPs / zero-cost proxies are computed on:
    the cached scores of the old network must not be served (they once were)."""
    from bnbench.indicators import NetSpec

    space = get_space("nb101")
    archs, calls = space.sample(4, 0), []
    counted = counting("params", calls)

    def run(channels: int) -> np.ndarray:
        ctx = ScoringContext(space=space, progress=False, network=NetSpec(channels=channels, cells=1, num_classes=10,
                                                                           in_channels=1, resolution=8))
        return score_indicators([counted], archs, ctx, tmp_path, {"seed": 0})["params"][0]

    narrow = run(8)
    assert np.array_equal(run(8), narrow) and len(calls) == 1
    wide = run(16)
    assert len(calls) == 2 and (wide > narrow).all()
