import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from bnbench.spaces import get_space
from bnbench.indicators import NetSpec, ScoringContext, get
from bnbench.spaces.nb201 import arch as A
from bnbench.spaces.nb201.model import Network, Supernet, count_params
from bnbench.spaces.nb201.ops import last_bn, make_op

INDEX0 = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
INDEX1 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@pytest.mark.parametrize("text, params_m", [(INDEX0, 0.129306), (INDEX1, 0.802426)])
def test_param_count_equals_benchmark(text, params_m):
    assert count_params(Network(A.parse(text))) == round(params_m * 1e6)


def test_forward_shapes_and_reduced_sizes():
    net = Network(A.parse(INDEX1), C=4, N=1, num_classes=7, in_channels=1)
    assert net(torch.randn(2, 1, 8, 8)).shape == (2, 7)


def test_fair_mode_puts_bn_on_every_signal_op():
    for name in ("skip_connect", "avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3"):
        assert last_bn(make_op(name, 4, fair=True)) is not None
        assert last_bn(make_op(name, 4, fair=True)).affine
    assert last_bn(make_op("none", 4, fair=True)) is None
    assert last_bn(make_op("skip_connect", 4, fair=False)) is None


def test_supernet_path_equals_standalone_network_with_same_weights():
    torch.manual_seed(0)
    sn = Supernet(C=4, N=1).eval()
    ops = A.parse(INDEX1)
    net = Network(ops, C=4, N=1).eval()
    state = {}
    for k, v in sn.state_dict().items():
        parts = k.split(".")
        if parts[0] == "layers" and parts[2] == "edges":
            e, o = int(parts[3]), int(parts[4])
            if o != ops[e]:
                continue
            parts[4] = "0"
        state[".".join(parts)] = v
    net.load_state_dict(state)
    x = torch.randn(3, 3, 32, 32)
    torch.testing.assert_close(sn(x, ops), net(x))


def test_params_and_flops_indicators_match_direct_counts():
    ctx = ScoringContext(space=get_space("nb201"), network=NetSpec())
    rng = np.random.default_rng(0)
    archs = A.ops_matrix(A.sample(4, rng))
    p, f = get("params")(archs, ctx), get("flops")(archs, ctx)
    for i, ops in enumerate(archs):
        net = Network(ops).eval()
        with FlopCounterMode(display=False) as counter:
            net(torch.zeros(1, 3, 32, 32))
        assert p[i] == pytest.approx(count_params(net) / 1e6)
        assert f[i] == pytest.approx(counter.get_total_flops() / 1e6)


def test_bn_indicator_is_sum_of_mean_abs_gamma():
    torch.manual_seed(0)
    sn = Supernet(C=4, N=1)
    for m in sn.modules():
        if isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, -2, 2)
    ctx = ScoringContext(space=get_space("nb201"), supernet=type("R", (), {"model": sn})())
    archs = A.ops_matrix(A.all_archs())
    scores = get("bn")(archs, ctx)
    for i in (0, 777, 15624, 4242):
        expected = 0.0
        for cell in sn.cells():
            for e, o in enumerate(archs[i]):
                bn = last_bn(cell.edges[e][o])
                expected += 0.0 if bn is None else bn.weight.abs().mean().item()
        assert scores[i] == pytest.approx(expected)
    none_cell = A.encode((0,) * 6)
    assert scores[none_cell] == 0.0
