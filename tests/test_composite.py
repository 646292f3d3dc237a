import copy
import logging
import math

import numpy as np
import pytest
import torch

from bnbench.spaces import get_space
from bnbench.datasets import load_dataset
from bnbench.errors import BnbenchError
from bnbench.indicators import ScoringContext, get
from bnbench.indicators.composite import DIAGNOSTICS, WORST, count_degenerate, engine
from bnbench.indicators.composite.composite import parse_weights, rank_sum
from bnbench.indicators.composite.expressivity import add_codes, expressivity_of
from bnbench.indicators.composite.feature_rank import effective_rank
from bnbench.indicators.composite.probe import Probe
from bnbench.indicators.composite.trainability import log_condition, ntk_jacobian
from bnbench.indicators.composite.uncertainty import mutual_information, uncertainty_of
from bnbench.spaces.nb201 import arch as A
from bnbench.train.config import TrainConfig
from bnbench.train.supernet import train_supernet

TERMS = ("expressivity", "trainability", "uncertainty", "composite")
ALL_NONE = A.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
CUT = A.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|none~0|none~1|none~2|")  # output node unreachable
GOOD = A.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|")


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", train_fraction=0.3, seed=0)


def supernet(digits, **kw):
    base = dict(dataset="digits", channels=4, cells=1, epochs=1, batch_size=32, train_fraction=0.3, seed=1)
    return train_supernet(TrainConfig(**{**base, **kw}), digits, progress=False)


@pytest.fixture(scope="module")
def bn_only(digits):
    return supernet(digits)


def context(result, digits, **options) -> ScoringContext:
    opts = {"mc_batches": 3, "mc_batch_size": 32, "probe_images": 48, "ntk_samples": 12, **options}
    return ScoringContext(space=get_space("nb201"), dataset=digits, supernet=result, seed=3, options=opts, progress=False)


def archs(n: int = 8) -> np.ndarray:
    rng = np.random.default_rng(0)
    return A.ops_matrix([ALL_NONE, CUT, GOOD, *A.sample(n - 3, rng)])


def test_effective_rank_of_known_spectra():
    assert effective_rank(np.ones(4)) == pytest.approx(4.0)
    assert effective_rank([5.0, 0.0, 0.0]) == pytest.approx(1.0)
    assert effective_rank([2.0, 1.0, 1.0]) == pytest.approx(math.exp(1.5 * math.log(2)))
    assert math.isnan(effective_rank(np.zeros(3)))


def test_hamming_kernel_of_codes_hand_example():
    kernel = torch.zeros(3, 3, dtype=torch.float64)
    d = add_codes(kernel, torch.tensor([[True, False], [False, True], [True, True]]))
    d += add_codes(kernel, torch.tensor([[[True]], [[True]], [[False]]]))  # a second layer, 1 unit
    # D - Hamming over the 3 units: codes 101, 011, 110
    assert d == 3 and torch.equal(kernel, torch.tensor([[3.0, 1, 1], [1, 3, 1], [1, 1, 3]], dtype=torch.float64))
    value, why = expressivity_of(kernel[None].repeat(2, 1, 1))
    assert why is None and value == pytest.approx(math.log(5 * 2 * 2))  # eigenvalues 5, 2, 2
    twins = torch.zeros(1, 2, 2, dtype=torch.float64)
    add_codes(twins[0], torch.tensor([[True, False], [True, False]]))
    assert expressivity_of(twins) == (WORST["expressivity"], "inputs share an activation code (singular kernel)")
    assert WORST["expressivity"] < 3 * math.log(1e-12)  # below any regular value


def test_log_condition_known_and_singular():
    assert log_condition(torch.diag(torch.tensor([1.0, 0.1])))[0] == pytest.approx(2.0)
    assert log_condition(torch.ones(3, 5)) == (WORST["trainability"], "singular NTK")
    assert log_condition(torch.tensor([[float("nan"), 1.0]]))[1] == "non-finite NTK"


def test_mutual_information_hand_example():
    confident = torch.tensor([[[20.0, 0.0]], [[0.0, 20.0]]])  # two draws, opposite certain predictions
    assert float(mutual_information(confident)[0]) == pytest.approx(math.log(2), abs=1e-6)
    assert uncertainty_of(confident)[0] == pytest.approx(1.0, abs=1e-6)
    same = torch.randn(1, 5, 10).expand(4, 5, 10)
    assert uncertainty_of(same)[0] == pytest.approx(0.0, abs=1e-12)


def test_mc_bn_uncertainty_is_zero_for_identical_batches(bn_only, digits):
    probe = Probe.build(context(bn_only, digits))
    probe.calib = probe.calib[:1].expand_as(probe.calib)
    logits = probe.logits(engine.mc_passes(probe, GOOD, probe.stats(GOOD))[0])
    value, why = uncertainty_of(logits)
    assert why is None and value == pytest.approx(0.0, abs=1e-12)


def test_mc_draw_reproduces_train_mode_output(bn_only, digits):
    probe = Probe.build(context(bn_only, digits))
    stats = probe.stats(GOOD)
    model = copy.deepcopy(bn_only.model).train()
    probe.images = probe.calib[1]
    with torch.no_grad():
        expected = model.features(probe.calib[1], GOOD)
    assert torch.allclose(engine.mc_passes(probe, GOOD, stats)[0][1], expected, atol=1e-5, rtol=1e-4)


def test_ntk_jacobian_matches_per_sample_backward(bn_only, digits):
    probe = Probe.build(context(bn_only, digits))
    stats = probe.stats(GOOD)
    jac, outputs = ntk_jacobian(probe, GOOD, stats)
    model = copy.deepcopy(bn_only.model).eval()
    for name, value in probe.buffers_for(stats, None).items():
        model.get_buffer(name.removeprefix("net.")).copy_(value)
    params = [model.get_parameter(f"{n.removeprefix('net.')}.{p}") for n in stats for p in ("weight", "bias")]
    for p in params:
        p.requires_grad_(True)  # BN-only training froze the stem, reduction and head BNs
    rows = []
    for x in probe.ntk_images:
        out = model(x[None], GOOD)[0] @ probe.probe
        rows.append(torch.cat([g.reshape(-1) for g in torch.autograd.grad(out, params)]))
    assert jac.shape == (len(probe.ntk_images), sum(p.numel() for p in params))
    assert torch.allclose(jac, torch.stack(rows), atol=1e-5, rtol=1e-4)
    assert float(outputs.std()) > 0


def test_path_holds_fair_mode_bns(digits):
    probe = Probe.build(context(supernet(digits, bn_every_op=True, epochs=1), digits))
    skip_pool = A.parse("|skip_connect~0|+|avg_pool_3x3~0|none~1|+|skip_connect~0|none~1|avg_pool_3x3~2|")
    cell_bns = [n for n in probe.path(skip_pool) if ".edges." in n]
    assert len(cell_bns) == 4 * 3  # 4 ops, each with its fairness BN, in each of the 3 cells
    assert not [n for n in probe.path(ALL_NONE) if ".edges." in n]


def test_degenerate_cells_get_worst_scores_not_nan(bn_only, digits, caplog):
    ctx = context(bn_only, digits)
    cells = archs()
    with caplog.at_level(logging.DEBUG, logger="bnbench.indicators.composite"):
        scores = {name: get(name)(cells, ctx) for name in TERMS}
    for name, values in scores.items():
        assert np.all(np.isfinite(values)), name
    for term in TERMS[:3]:
        assert scores[term][0] == WORST[term] and scores[term][1] == WORST[term]
        assert scores[term][2] != WORST[term]
        assert DIAGNOSTICS[term].degenerate == count_degenerate(term, scores[term]) >= 2
        assert DIAGNOSTICS[term].reasons.get("constant output", 0) >= 2
    assert DIAGNOSTICS["composite"].degenerate >= 2
    assert scores["composite"][0] == scores["composite"].min()
    assert "constant output" in caplog.text


@pytest.mark.parametrize("mode", ["bn", "full"])
def test_scoring_leaves_the_supernet_untouched_and_is_deterministic(digits, mode):
    result = supernet(digits, train_mode=mode)
    model = result.model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flags = [(p.requires_grad, p.grad) for p in model.parameters()]
    cells = archs(6)
    first = {n: get(n)(cells, context(result, digits)) for n in TERMS}
    engine._MEMO.clear()
    second = {n: get(n)(cells, context(result, digits)) for n in TERMS}
    assert all(np.array_equal(first[n], second[n]) for n in TERMS)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert [(p.requires_grad, p.grad) for p in model.parameters()] == flags
    assert not model.training


def test_memo_serves_terms_after_composite_and_notices_weight_changes(bn_only, digits, monkeypatch):
    calls = []
    real = engine.compute
    monkeypatch.setattr(engine, "compute", lambda *a: calls.append(a[2]) or real(*a))
    engine._MEMO.clear()
    ctx, cells = context(bn_only, digits), archs(5)
    get("composite")(cells, ctx)
    for term in TERMS[:3]:
        get(term)(cells, ctx)
    assert calls == [["expressivity", "trainability", "uncertainty", "feature_rank"]]
    with torch.no_grad():
        next(iter(bn_only.model.parameters())).mul_(1.0)  # same values, but an in-place write bumps the version
    get("expressivity")(cells, ctx)
    assert calls[1:] == [["expressivity", "uncertainty", "feature_rank"]]
    twin = load_dataset("digits", train_fraction=0.3, seed=0)  # equal content, another object: recomputed
    assert np.array_equal(get("expressivity")(cells, context(bn_only, twin)), get("expressivity")(cells, ctx))
    assert len(calls) == 4


def test_rank_sum_hand_example():
    terms = {"expressivity": np.array([3.0, 1.0, 2.0]), "trainability": np.array([1.0, 2.0, 3.0]),
             "uncertainty": np.array([0.5, 0.1, 0.1])}
    # oriented ranks (1 = worst): e [3, 1, 2]; -t [3, 2, 1]; -u [1, 2.5, 2.5]
    got = rank_sum(terms, {"expressivity": 2.0, "trainability": 0.0, "uncertainty": 1.0})
    assert np.allclose(got, np.array([2 * 3 + 1, 2 * 1 + 2.5, 2 * 2 + 2.5]) / 3)
    assert np.allclose(rank_sum(terms, parse_weights(None)), np.array([7, 5.5, 5.5]) / 3)


def test_parse_weights():
    assert parse_weights("expressivity=2, uncertainty=0.5") == {"expressivity": 2.0, "trainability": 0.0,
                                                                "uncertainty": 0.5}
    assert parse_weights([1, 2, 3])["trainability"] == 2.0
    for bad in ("speed=1", "expressivity", [1, 2], {"expressivity": -1}, {"uncertainty": 0}):
        with pytest.raises(BnbenchError):
            parse_weights(bad)


def test_composite_weight_zero_skips_a_term(bn_only, digits, monkeypatch):
    calls = []
    real = engine.compute
    monkeypatch.setattr(engine, "compute", lambda *a: calls.append(a[2]) or real(*a))
    engine._MEMO.clear()
    scores = get("composite")(archs(5), context(bn_only, digits, composite_weights="expressivity=1"))
    assert calls == [["expressivity", "uncertainty", "feature_rank"]]  # they share the MC-BN passes
    assert np.allclose(np.sort(scores)[2:], [3 / 5, 4 / 5, 1.0])


def test_composite_untrained_is_the_composite_of_the_initialised_supernet(digits):
    untrained = supernet(digits, epochs=0)  # the weights `correlate --epochs 0` scores
    trained = supernet(digits, epochs=1)
    a = archs()
    ctx = context(untrained, digits)
    expected = get("composite")(a, ctx)
    free = get("composite_untrained")
    assert free.needs == frozenset({"data"})  # no trained supernet: it runs beside trained indicators, no waiting
    got = free(a, ScoringContext(**{**vars(context(trained, digits)), "supernet": None, "train": trained.config}))
    np.testing.assert_array_equal(got, expected)
    assert not np.array_equal(get("composite")(a, context(trained, digits)), expected)  # training moved it
