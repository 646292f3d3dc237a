"""Zero-cost proxies: hand-derived values, directions, determinism, undefined cases, model variants."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from bnbench.errors import BnbenchError
from bnbench.indicators import REGISTRY, NetSpec, ScoringContext, get
from bnbench.indicators.zc import PROXIES
from bnbench.indicators.zc.common import Batch, Undefined, image_batch
from bnbench.indicators.zc.epe_nas import epe_score
from bnbench.indicators.zc.fisher import fisher
from bnbench.indicators.zc.jacob_cov import jacob_cov_score
from bnbench.indicators.zc.nwot import log_det
from bnbench.indicators.zc.shared import hamming_kernel
from bnbench.indicators.zc.synflow import synflow
from bnbench.indicators.zc.te_linear_regions import count_patterns
from bnbench.indicators.zc.te_ntk import condition_number
from bnbench.spaces import get_space
from bnbench.spaces.nb201 import arch as A
from bnbench.spaces.nb201.model import Network, count_params

BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
EMPTY = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
SPACE = get_space("nb201")


pytestmark = pytest.mark.usefixtures("one_thread")  # tiny networks: one torch thread


def context(dataset, **options) -> ScoringContext:
    opts = {"zc_batch_size": 12, "te_lr_samples": 200, "te_ntk_batch": 6, **options}
    return ScoringContext(space=SPACE, network=NetSpec(4, 1, 10, 3, 8), dataset=dataset, seed=0, progress=False,
                          options=opts)


def archs(*texts: str) -> np.ndarray:
    return np.array([A.parse(t) for t in texts])


def test_synflow_of_a_linear_network_is_depth_times_the_path_sum():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4, bias=False), nn.Linear(4, 2, bias=False))
    w1, w2 = net[0].weight.detach().double().abs(), net[1].weight.detach().double().abs()
    expected = 2 * float((w2 @ w1 @ torch.ones(3, dtype=torch.float64)).sum())  # each layer's sum theta dR/dtheta equals R
    value = synflow(lambda bn=True, **kw: net, Batch((5, 3), 2, 0, "k"))
    assert value == pytest.approx(expected, rel=1e-12)


def test_grasp_is_minus_theta_times_hessian_gradient():
    from torch.func import functional_call, grad, hessian

    from bnbench.indicators.zc.grasp import grasp

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    x, y = torch.randn(6, 3, dtype=torch.float64), torch.tensor([0, 1, 1, 0, 1, 0])
    net = net.double()
    names = ["0.weight", "2.weight"]
    sizes = [net.get_parameter(n).numel() for n in names]
    theta = torch.cat([net.get_parameter(n).detach().flatten() for n in names])

    def loss(flat):
        parts = dict(zip(names, (p.view_as(net.get_parameter(n)) for n, p in zip(names, flat.split(sizes)))))
        return torch.nn.functional.cross_entropy(functional_call(net, parts, (x,)), y)

    expected = -float(theta @ (hessian(loss)(theta) @ grad(loss)(theta)))
    assert grasp(lambda bn=True, **kw: net, Batch((6, 3), 2, 0, "k", x, y)) == pytest.approx(expected, rel=1e-9)


def test_fisher_is_per_channel_and_broadcast_to_the_weights():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 4))
    x, y = torch.randn(5, 2, 6, 6), torch.tensor([0, 1, 2, 3, 0])
    acts = {}
    conv_out = net[0](x)
    conv_out.retain_grad()
    logits = net[3](net[2](net[1](conv_out)))
    logits.retain_grad()
    nn.functional.cross_entropy(logits, y).backward()
    for name, a, fan in (("conv", conv_out, 2 * 3 * 3), ("fc", logits, 3)):
        g = (a * a.grad).sum(dim=(2, 3)) if a.dim() == 4 else a * a.grad
        acts[name] = float(0.5 * g.detach().pow(2).mean(0).sum()) * fan
    value = fisher(lambda bn=True, **kw: net, Batch(tuple(x.shape), 4, 0, "k", x, y))
    assert value == pytest.approx(acts["conv"] + acts["fc"], rel=1e-5)


def test_nwot_kernel_counts_agreeing_bits():
    codes = torch.tensor([[1, 0, 1], [0, 1, 1]], dtype=torch.bool)
    assert hamming_kernel(codes).tolist() == [[3.0, 1.0], [1.0, 3.0]]  # d minus the Hamming distance
    assert log_det(np.array([[2.0, 0.0], [0.0, 2.0]])) == pytest.approx(2 * math.log(2))
    # identical codes: a singular kernel, the reference's -inf (the worst score), not undefined
    assert log_det(hamming_kernel(torch.ones(3, 4, dtype=torch.bool)).numpy()) == -math.inf
    with pytest.raises(Undefined):
        log_det(np.array([[np.nan, 0.0], [0.0, 1.0]]))


def test_jacob_cov_of_uncorrelated_rows_and_closed_forms():
    hadamard = np.array([[1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]], dtype=float)  # zero-mean, orthogonal
    k = 1e-5
    assert jacob_cov_score(hadamard) == pytest.approx(-3 * (math.log(1 + k) + 1 / (1 + k)))
    with pytest.raises(Undefined):
        jacob_cov_score(np.zeros((3, 4)))
    # EPE-NAS, <= 100 classes: sum over classes of |sum log(|corr| + k)|; class 1 has a single row (corr = [1])
    labels = np.array([0, 0, 1])
    rows = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0], [0.0, 1.0, 5.0]])
    expected = abs(2 * math.log(1 + k) + 2 * math.log(1 + k)) + abs(math.log(1 + k))
    assert epe_score(rows, labels, 10) == pytest.approx(expected)
    assert condition_number(torch.diag(torch.tensor([1.0, 2.0]))) == pytest.approx(4.0)
    with pytest.raises(Undefined):
        condition_number(torch.ones(2, 3))
    assert count_patterns(np.array([[1, 0], [1, 0], [0, 1]], dtype=bool)) == 2


def test_directions_and_registration():
    assert set(PROXIES) <= set(REGISTRY)
    assert not get("te_ntk").higher_is_better
    assert all(get(p).higher_is_better for p in PROXIES if p != "te_ntk")
    assert not get("synflow").needs and not get("zen").needs and not get("l2_norm").needs
    assert get("snip").needs == {"data"}


def test_every_proxy_is_finite_deterministic_and_seeded(cifar):
    ops = archs(BEST, "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|")
    first = {p: get(p)(ops, context(cifar)) for p in PROXIES}
    again = {p: get(p)(ops, context(cifar)) for p in PROXIES}
    other = context(cifar)
    other.seed = 1
    reseeded = get("snip")(ops, other)
    for p in PROXIES:
        assert np.isfinite(first[p]).all(), p
        np.testing.assert_array_equal(first[p], again[p], err_msg=p)
    assert not np.allclose(reseeded, first["snip"])


def test_cell_with_no_path_gives_nan_with_a_reason_not_a_crash(cifar, caplog):
    ops = archs(EMPTY, BEST)
    with caplog.at_level("WARNING", logger="bnbench.zc"):
        scores = get("jacob_cov")(ops, context(cifar))
    assert np.isnan(scores[0]) and np.isfinite(scores[1])
    assert "constant" in caplog.text and "jacob_cov" in caplog.text
    assert get("synflow")(ops, context(cifar))[0] == 0.0  # defined: no signal reaches the output


def test_image_batch_is_normalised_fixed_and_resized(cifar):
    batch = image_batch(context(cifar))
    assert batch.x.shape == (12, 3, 8, 8) and batch.y.shape == (12,)
    assert batch.key == image_batch(context(cifar)).key
    assert abs(float(batch.x.mean())) < 1.0


def test_zc_variant_has_unaffine_untracked_cell_bn_and_conv_bias():
    ops = A.parse(BEST)
    official, zc = Network(ops, variant="official"), Network(ops, variant="zc")
    assert count_params(official) == 802426  # the benchmark's count is untouched
    cell_bns = [m for c in zc.cells() for m in c.modules() if isinstance(m, nn.BatchNorm2d)]
    assert cell_bns and all(not m.affine and not m.track_running_stats for m in cell_bns)
    cell_convs = [m for c in zc.cells() for m in c.modules() if isinstance(m, nn.Conv2d)]
    assert all(m.bias is not None for m in cell_convs)
    # each cell conv trades its BN's 2C affine parameters for C bias terms
    assert count_params(official) - count_params(zc) == sum(m.out_channels for m in cell_convs)
    outside = [m for m in zc.modules() if isinstance(m, nn.BatchNorm2d) and m not in cell_bns]
    assert outside and all(m.affine and m.track_running_stats for m in outside)  # stem, reductions, head


def test_bn_free_copy_keeps_only_the_reduction_blocks_bn():
    net = Network(A.parse(BEST), C=4, N=1, variant="zc", bn=False)
    bns = [name for name, m in net.named_modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(name.startswith("layers.") and ".conv_" in name for name in bns)
    assert net(torch.randn(2, 3, 8, 8)).shape == (2, 10)


def test_unknown_variant_is_a_clear_error(cifar):
    with pytest.raises(BnbenchError, match="--model-variant 'bogus'"):
        get("snip")(archs(BEST), context(cifar, model_variant="bogus"))


def test_fisher_frees_the_activations_it_hooks():
    import gc
    import weakref

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 4))
    refs = []
    net[0].register_forward_hook(lambda m, i, o: refs.append(weakref.ref(o)))
    x, y = torch.randn(5, 3, 6, 6), torch.randint(0, 4, (5,))
    fisher(lambda bn=True, **kw: net, Batch(tuple(x.shape), 4, 0, "k", x, y))
    gc.collect()
    assert refs and refs[0]() is None  # a hook holding its own tensor leaked ~100 MB per NB201 cell
