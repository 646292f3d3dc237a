"""Zero-cost proxies scored together from one shared pass equal their single-proxy values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bnbench.indicators import NetSpec, ScoringContext, get
from bnbench.indicators.zc import runner, shared
from bnbench.indicators.zc.runner import SPECS, prefetch, score_proxies
from bnbench.spaces import get_space
from bnbench.spaces.nb201 import arch as A

pytestmark = pytest.mark.usefixtures("one_thread")

SPACE = get_space("nb201")
SHAREABLE = ("snip", "grad_norm", "plain", "fisher", "grasp", "jacob_cov", "epe_nas", "nwot", "l2_norm")
CELLS = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
         "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|nor_conv_3x3~0|none~1|none~2|",  # node 2 feeds nothing
         "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")  # no path: jacob_cov/epe_nas undefined, nwot -inf


def context(dataset, **options) -> ScoringContext:
    opts = {"zc_batch_size": 12, **options}
    return ScoringContext(space=SPACE, network=NetSpec(4, 1, 10, 3, 8), dataset=dataset, seed=0, progress=False,
                          options=opts)


def ops() -> np.ndarray:
    return np.array([A.parse(t) for t in CELLS])


def assert_same(together: np.ndarray, alone: np.ndarray, name: str) -> None:
    assert np.array_equal(np.isnan(together), np.isnan(alone)), name
    np.testing.assert_allclose(together, alone, rtol=1e-6, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("options", [{}, {"zc_batch": "per-arch"}, {"model_variant": "official"}])
def test_every_shared_value_equals_its_single_proxy_value(cifar, options):
    together = score_proxies(SHAREABLE, ops(), context(cifar, **options))
    for name in SHAREABLE:
        alone = score_proxies([name], ops(), context(cifar, **options))[name]  # a fresh run: its own pass
        assert_same(together[name], alone, name)
    assert np.isnan(together["jacob_cov"][2]) and together["nwot"][2] == -math.inf
    assert np.isfinite(together["snip"]).all() and np.isfinite(together["grasp"]).all()


def test_proxies_share_a_pass_only_on_the_same_network_and_images(cifar):
    ctx = context(cifar)
    groups = runner._groups([runner._member(SPECS[n], ctx) for n in SPECS])
    names = [sorted(m.name for m in g) for g in groups]
    assert sorted(SHAREABLE) in names  # l2_norm reads no images and joins the image group
    for alone in ("synflow", "zen", "te_ntk", "te_linear_regions", "fisher_naslib"):  # own conventions; NB201
        assert [alone] in names, alone  # fisher_naslib scores NB201's official network, not the default zc one
    official = runner._groups([runner._member(SPECS[n], context(cifar, model_variant="official"))
                               for n in ("fisher", "fisher_naslib", "snip")])
    assert len(official) == 1  # same network: one pass


def test_one_pass_per_architecture_and_the_indicator_reads_the_store(cifar, monkeypatch):
    calls = []
    real = shared.run_pass
    monkeypatch.setattr(runner, "run_pass", lambda *a: calls.append(a[2]) or real(*a))
    ctx = context(cifar)
    charged = prefetch(SHAREABLE, ops(), {n: ctx for n in SHAREABLE})
    assert len(calls) == len(CELLS) and calls[0] == {t.quantity for t in (SPECS[n].tap for n in SHAREABLE)}
    assert set(charged) == set(SHAREABLE) and all(s > 0 for s in charged.values())
    scores = get("snip")(ops(), ctx)  # served by the run's store: no further pass
    assert len(calls) == len(CELLS) and np.isfinite(scores).all()
    record = runner.run_store(ctx).get((SPACE.to_str(ops()[0]), "snip", "zc", 0, runner._member(SPECS["snip"], ctx).batch.key))
    assert sorted(record["shared"]) == sorted(SHAREABLE)


def test_shared_passes_in_parallel_workers_equal_one_process(cifar):
    one = score_proxies(SHAREABLE, ops(), context(cifar))
    two = score_proxies(SHAREABLE, ops(), context(cifar, jobs=2))
    for name in SHAREABLE:
        np.testing.assert_array_equal(one[name], two[name], err_msg=name)


def test_a_failing_proxy_does_not_fail_the_others_of_its_pass(cifar, monkeypatch):
    def broken(p):
        raise ArithmeticError("boom")

    monkeypatch.setitem(SPECS, "grad_norm", SPECS["grad_norm"].__class__(
        "grad_norm", SPECS["grad_norm"].fn, SPECS["grad_norm"].make_batch, shared.Tap("loss_grads", broken)))
    scores = score_proxies(["snip", "grad_norm"], ops()[:1], context(cifar))
    assert np.isnan(scores["grad_norm"]).all() and np.isfinite(scores["snip"]).all()


def test_score_indicators_charges_each_shared_proxy_a_share_of_the_pass(cifar, tmp_path):
    from bnbench.experiment import score_indicators

    out = score_indicators([get(n) for n in ("snip", "grasp", "synflow")], ops(), context(cifar), tmp_path, {})
    assert list(out) == ["snip", "grasp", "synflow"]
    assert all(seconds > 0 for _, seconds in out.values())
    again = score_indicators([get(n) for n in ("snip", "grasp")], ops(), context(cifar), tmp_path, {})
    np.testing.assert_array_equal(again["snip"][0], out["snip"][0])  # the per-indicator cache
