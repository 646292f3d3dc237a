"""Exact BN centring for the zero-cost proxies: no change where BN is well defined, exact zeros on
constant channels (the GPU's behaviour), so a network with no input-output path scores like on CUDA."""

import numpy as np
import torch
from torch import nn

from bnbench.datasets import load_dataset
from bnbench.datasets.fake import write_fake_cifar10
from bnbench.indicators import NetSpec, ScoringContext, get
from bnbench.indicators.zc.exact_bn import exact_constant_channels
from bnbench.spaces import get_space
from bnbench.spaces.nb201 import arch as A

DEAD = "|none~0|+|none~0|nor_conv_1x1~1|+|none~0|skip_connect~1|nor_conv_1x1~2|"  # convs see only zeros


def _pair(bn: nn.Module) -> tuple[nn.Module, nn.Module]:
    plain = nn.Sequential(bn)
    hooked = exact_constant_channels(nn.Sequential(type(bn)(bn.num_features, affine=bn.affine,
                                                            track_running_stats=bn.track_running_stats)))
    hooked.load_state_dict(plain.state_dict())
    return plain, hooked


def test_same_output_gradient_and_running_stats_as_plain_bn():
    torch.manual_seed(0)
    plain, hooked = _pair(nn.BatchNorm2d(3))
    x = (torch.randn(8, 3, 5, 5) * 4 + 7).requires_grad_(True)
    x2 = x.detach().clone().requires_grad_(True)
    w = torch.randn(8, 3, 5, 5)
    (plain(x) * w).sum().backward()
    (hooked(x2) * w).sum().backward()
    torch.testing.assert_close(hooked(x2.detach()), plain(x.detach()), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(x2.grad, x.grad, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(hooked[0].running_mean, plain[0].running_mean, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(hooked[0].running_var, plain[0].running_var, rtol=1e-5, atol=1e-6)
    hooked.eval()
    torch.testing.assert_close(hooked(x.detach()), plain.eval()(x.detach()), rtol=1e-5, atol=1e-5)


def test_a_constant_channel_normalises_to_exact_zero():
    _, hooked = _pair(nn.BatchNorm2d(2, affine=False, track_running_stats=False))
    x = torch.full((64, 2, 32, 32), 0.1)  # float32 sums of 0.1 are not exact: CPU BN leaves round-off here
    x[:, 1] = torch.randn(64, 32, 32)
    out = hooked(x)
    assert torch.count_nonzero(out[:, 0]) == 0
    assert out[:, 1].std() > 0.9


def test_a_network_with_no_path_gets_no_gradient_as_on_cuda(tmp_path):
    write_fake_cifar10(tmp_path, per_batch=20)
    data = load_dataset("cifar10", tmp_path)
    ctx = ScoringContext(space=get_space("nb201"), network=NetSpec(4, 1, 10, 3, 16), dataset=data, seed=0,
                         progress=False, options={"zc_batch_size": 16})
    ops = np.array([A.parse(DEAD)])
    assert get("snip")(ops, ctx)[0] == 0.0 and get("grad_norm")(ops, ctx)[0] == 0.0
    assert get("fisher")(ops, ctx)[0] < 1e-3  # the classifier's own term only
