"""Issue 16, indicator conventions: fisher's two references, FLOPs vs multiply-accumulates, NASWOT's dead ReLUs."""

import numpy as np
import pytest
import torch
from torch import nn

from bnbench.cli import main
from bnbench.indicators import NetSpec, ScoringContext, get
from bnbench.indicators.zc.common import Batch
from bnbench.indicators.zc.fisher import fisher
from bnbench.indicators.zc.nwot import nwot
from bnbench.spaces import get_space
from bnbench.spaces.nb201 import arch as A
from bnbench.spaces.nb201.model import Network
from bnbench.utils.read_options import ReadOptions

SPACE = get_space("nb201")
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
INDEX0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
EMPTY = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
CONV1X1 = "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|"


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny networks: one torch thread


def context(dataset, **options) -> ScoringContext:
    return ScoringContext(space=SPACE, network=NetSpec(4, 1, 10, 3, 8), dataset=dataset, seed=0, progress=False,
                          options={"zc_batch_size": 12, **options})


def archs(*texts: str) -> np.ndarray:
    return np.array([A.parse(t) for t in texts])


# --- flops (torch, 2 per multiply-accumulate) vs macs (the benchmark's unit) --------------------------------------

# NB201's cost figures ("flops", in millions) count multiply-accumulates (its utils/flop_benchmark.py: k*k*Cin*Cout
# per output pixel of a conv, in*out (+out for the bias) for the classifier). Derived by hand for C=16, N=5, 32x32,
# 10 classes: stem 3x3 3->16 at 32x32: 9*3*16*1024 = 442,368; each reduction block = conv_a 3x3 stride 2 + conv_b
# 3x3 + 1x1 shortcut at the halved side: 9*16*32*256 + 9*32*32*256 + 16*32*256 = 3,670,016 (16->32 at 16x16) and
# the same 3,670,016 (32->64 at 8x8); classifier 64*10 + 10 = 650. Total without cell convs: 7,783,050.
# A 1x1 cell conv costs C*C*side^2 = 262,144 at every stage (16^2*32^2 = 32^2*16^2 = 64^2*8^2); a 3x3 one 9x that.
HAND_MACS = {
    EMPTY: 7_783_050,
    INDEX0: 7_783_050 + 2 * 5 * 3 * 262_144,  # two 1x1 convs per cell, 5 cells, 3 stages: 15.64737 M
    CONV1X1: 7_783_050 + 6 * 5 * 3 * 262_144,
    BEST: 7_783_050 + 3 * 5 * 3 * 9 * 262_144,  # three 3x3 convs per cell
}


def test_macs_are_the_benchmarks_multiply_accumulates_derived_by_hand():
    ctx = ScoringContext(space=get_space("nb201"), network=NetSpec())
    texts = list(HAND_MACS)
    macs = get("macs")(archs(*texts), ctx)
    np.testing.assert_allclose(macs, [HAND_MACS[t] / 1e6 for t in texts], rtol=0, atol=1e-9)
    assert macs[1] == pytest.approx(15.64737, abs=1e-9)


@pytest.mark.parametrize("net", [NetSpec(), NetSpec(8, 2, 100, 3, 16)], ids=["cifar10", "c8-n2-100-classes"])
def test_flops_are_twice_the_macs_apart_from_the_classifier_bias(net):
    ctx = ScoringContext(space=get_space("nb201"), network=net)
    ops = SPACE.sample(12, seed=3)
    macs, flops = get("macs")(ops, ctx), get("flops")(ops, ctx)
    # torch counts 2 FLOPs per multiply-accumulate and no bias additions; NB201 counts one per bias element
    # (only the classifier has a bias): num_classes of them
    np.testing.assert_allclose(macs, flops / 2 + net.num_classes / 1e6, rtol=0, atol=1e-9)
    assert np.argsort(macs, kind="stable").tolist() == np.argsort(flops, kind="stable").tolist()


def test_macs_counts_every_conv_of_a_real_network():
    """The op table (additive per edge) equals a direct count on the whole stand-alone network."""
    from bnbench.spaces.nb201.cost import macs_of as _macs

    ctx = ScoringContext(space=get_space("nb201"), network=NetSpec(8, 2, 10, 3, 16))
    ops = SPACE.sample(5, seed=1)
    macs = get("macs")(ops, ctx)
    for row, value in zip(ops, macs):
        assert value * 1e6 == pytest.approx(_macs(Network(row, C=8, N=2), torch.zeros(1, 3, 16, 16)))


def test_indicator_listing_says_which_is_flops_and_which_is_macs(capsys):
    assert main(["indicators"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "2 per multiply-accumulate" in lines["flops"] and "NB201" in lines["flops"]
    assert "multiply-accumulates" in lines["macs"] and "NB201" in lines["macs"]
    assert "zero-cost-nas" in lines["fisher"] and "NAS-Bench-Suite-Zero" in lines["fisher_naslib"]


# --- fisher: zero-cost-nas (default) vs NAS-Bench-Suite-Zero / NASLib ------------------------------------------------

def test_conv_bias_changes_fisher_but_not_the_network_function():
    """Why the references differ: train-mode BN cancels a conv bias in the forward pass and in every weight
    gradient, but the bias stays in the hooked activation a, and per sample sum_hw dL/da is not zero."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4, affine=False, track_running_stats=False),
                        nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))
    x, y = torch.randn(6, 3, 5, 5), torch.tensor([0, 1, 2, 3, 4, 0])
    batch = Batch(tuple(x.shape), 5, 0, "k", x, y)
    with_bias, logits = fisher(lambda **kw: net, batch), net(x)
    with torch.no_grad():
        net[0].bias.zero_()
    torch.testing.assert_close(net(x), logits)  # the same function
    assert fisher(lambda **kw: net, batch) != pytest.approx(with_bias, rel=1e-3)


def test_fisher_naslib_is_fisher_on_the_official_network_whatever_the_model_variant(cifar):
    ops = archs(BEST, INDEX0)
    naslib = get("fisher_naslib")(ops, context(cifar))  # the run's variant: zc (the default)
    np.testing.assert_array_equal(naslib, get("fisher")(ops, context(cifar, model_variant="official")))
    np.testing.assert_array_equal(naslib, get("fisher_naslib")(ops, context(cifar, model_variant="official")))
    assert not np.allclose(naslib, get("fisher")(ops, context(cifar, model_variant="zc")), rtol=1e-3)
    assert np.isfinite(naslib).all()


def test_fisher_naslib_refuses_a_space_whose_naslib_network_is_unknown(cifar):
    from dataclasses import replace
    from types import SimpleNamespace

    from bnbench.errors import BnbenchError

    ctx = replace(context(cifar), space=SimpleNamespace(name="toy", variants=("official", "zc")))
    with pytest.raises(BnbenchError, match="fisher_naslib: NASLib's network is known for nb201, nb101, .* only, not toy"):
        get("fisher_naslib")(archs(BEST), ctx)


def test_fisher_naslib_reads_the_runs_options_except_the_bound_variant(cifar):
    """The score cache keys an indicator on the options it read: the bound model variant must not be one."""
    ctx = context(cifar, model_variant="zc", zc_batch="fixed")
    options = ReadOptions(ctx.options)
    ctx.options = options
    get("fisher_naslib")(archs(BEST), ctx)
    assert "model_variant" not in options.read
    assert options.read["zc_batch_size"] == 12 and "zc_batch" in options.read


# --- nwot: ReLUs that never reach the output still count ------------------------------------------------------------

def test_nwot_counts_relus_whose_output_never_reaches_the_logits():
    """Edge 0->1 holds a conv, but every edge leaving node 1 is ``none``: the conv runs, its ReLU adds codes to
    the kernel (as the reference's hook on every ReLU does), and the network computes the same function as
    with that edge ``none``."""
    dead = Network(A.parse("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"), C=4, N=1, variant="zc")
    alive = Network(A.parse("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"), C=4, N=1, variant="zc")
    alive.load_state_dict({k: v for k, v in dead.state_dict().items() if k in alive.state_dict()})
    dead.train(), alive.train()
    torch.manual_seed(0)
    x = torch.randn(10, 3, 8, 8)
    torch.testing.assert_close(dead(x), alive(x))
    batch = Batch(tuple(x.shape), 10, 0, "k", x, torch.zeros(10, dtype=torch.long))
    assert nwot(lambda **kw: dead, batch) > nwot(lambda **kw: alive, batch)  # one more PSD kernel term


# --- nwot: a singular kernel is the worst value (-inf), ranked last, never dropped ---------------------------------

def test_nwot_gives_a_cell_without_an_input_path_minus_inf_and_it_ranks_last(cifar, tmp_path):
    from bnbench.correlation import correlate
    from bnbench.indicators import get

    dead = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"  # the output is constant: every sample's codes agree
    cells = archs(dead, INDEX0, BEST, CONV1X1)
    scores = get("nwot")(cells, context(cifar, cache_dir=str(tmp_path)))
    assert scores[0] == -np.inf and np.isfinite(scores[1:]).all()
    again = get("nwot")(cells, context(cifar, cache_dir=str(tmp_path)))  # read back from the store: still -inf
    assert again[0] == -np.inf and np.array_equal(again[1:], scores[1:])
    truth = np.array([10.0, 80.0, 90.0, 85.0])  # the dead cell is the worst: a perfect ranking keeps it last
    stats = correlate(np.r_[scores[0], np.sort(scores[1:])], np.sort(truth), n_boot=0)
    assert stats["n"] == 4 and stats["n_nan"] == 0 and stats["kendall_tau"] == pytest.approx(1.0)
