"""MobileNet networks and supernet: MBConv structure, skips, the reduced layouts, and what BN-NAS reads and trains."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bnbench.datasets import load_dataset
from bnbench.indicators.bn_score import bn_table
from bnbench.spaces.base import masked_gather
from bnbench.spaces.mobilenet import SPACE, SPACE_DEPTH
from bnbench.spaces.mobilenet.layout import strides
from bnbench.spaces.mobilenet.ops import DepthwiseConv2d, MBConv, ReLU6
from bnbench.train.config import TrainConfig
from bnbench.train.params import op_last_bns
from bnbench.train.supernet import train_supernet

ALL = "-".join(["k3e3", "k3e6", "k5e3", "k5e6", "k7e3", "k7e6", "k3e6"] * 3)


def head_side(net, resolution: int, *args) -> int:
    """Side of the feature map entering the head for an input of ``resolution`` px."""
    seen = []
    handle = net.head.register_forward_pre_hook(lambda m, inp: seen.append(inp[0].shape[-1]))
    with torch.no_grad():
        net(torch.zeros(1, net.stem[0].in_channels, resolution, resolution), *args)
    handle.remove()
    return seen[0]


def test_mbconv_structure_and_projection_bn_last():
    block = MBConv(8, 8, 5, 6, 1, skip=True)
    kinds = [type(m).__name__ for m in block.modules() if not isinstance(m, (nn.Sequential, MBConv))]
    assert kinds == ["Conv2d", "BatchNorm2d", "ReLU6", "DepthwiseConv2d", "BatchNorm2d", "ReLU6", "Conv2d",
                     "BatchNorm2d"]
    assert block.expand[0].out_channels == 48 and block.dw_conv.groups == 48 and block.dw_conv.kernel_size == (5, 5)
    assert [m for m in block.modules() if isinstance(m, nn.BatchNorm2d)][-1] is block.project_bn
    assert MBConv(8, 16, 3, 1).expand is None  # expansion 1: no expansion conv
    assert isinstance(ReLU6(), nn.ReLU) and ReLU6()(torch.tensor([-1.0, 3.0, 9.0])).tolist() == [0.0, 3.0, 6.0]


def test_skips_only_where_stride_one_and_widths_equal():
    net = SPACE.network(SPACE.parse(ALL), SPACE.options())
    skips = [b.skip for b in net.layers]
    stage_first = [0, 4, 8, 12, 16, 20]
    assert skips == [i not in stage_first for i in range(21)]  # 15 skips; stage 4's first (112 -> 128) has none
    assert not net.first_block.skip  # 40 -> 24
    x = torch.randn(2, 32, 6, 6)
    block = MBConv(32, 32, 3, 3, 1, skip=True).eval()
    assert torch.allclose(block(x), x + block.project(block.depthwise(block.expand(x))))


def test_identity_layers_are_skipped_or_a_bn():
    arch = SPACE_DEPTH.parse("k5e6-id-k3e3-k7e3-k3e3-id-id-k3e3-k7e3-id-k7e3-k7e3-k3e6-k7e3-k5e3-k3e3-k3e3-k7e3-"
                             "k3e3-k5e3-k5e3")
    assert len(SPACE_DEPTH.network(arch, SPACE_DEPTH.options()).layers) == 17
    bn_net = SPACE_DEPTH.network(arch, SPACE_DEPTH.options(bn_every_op=True))
    assert len(bn_net.layers) == 21 and isinstance(bn_net.layers[1], nn.BatchNorm2d)
    assert len(SPACE_DEPTH.network(arch, SPACE_DEPTH.options(cells=2)).layers) == 34


@pytest.mark.parametrize("resolution, side", [(224, 7), (64, 2), (32, 4), (16, 2), (8, 1), (3, 1)])
def test_reduced_layout_by_input_side(resolution, side, one_thread):
    opts = SPACE.options(channels=4)
    arch = SPACE.parse(ALL)
    net = SPACE.network(arch, opts, in_channels=3).eval()
    assert head_side(net, resolution) == side
    supernet = SPACE.supernet(opts, in_channels=3).eval()
    assert head_side(supernet, resolution, arch) == side
    stem, layer = strides(resolution)
    assert (stem, layer[0]) == ((1, 1) if resolution < 64 else (2, 2))
    assert net(torch.randn(2, 3, resolution, resolution)).shape == (2, 10)


def test_one_network_switches_layout_with_the_input():
    net = SPACE.network(SPACE.parse(ALL), SPACE.options(channels=4)).eval()
    assert [head_side(net, r) for r in (32, 224, 32, 8)] == [4, 7, 4, 1]
    never = SPACE.network(SPACE.parse(ALL), SPACE.options(channels=4, reduce_below=0)).eval()
    assert head_side(never, 32) == 1  # ImageNet strides on CIFAR: 32 / 32


@pytest.mark.parametrize("side, stride", [(1, 1), (2, 1), (2, 2), (3, 2), (5, 1)])
def test_depthwise_conv_skipping_padding_taps_is_exact(side, stride):
    torch.manual_seed(0)
    conv = DepthwiseConv2d(6, 6, 7, stride, 3, groups=6, bias=False)
    x = torch.randn(2, 6, side, side, requires_grad=True)
    fast, full = conv(x), F.conv2d(x, conv.weight, None, stride, 3, 1, 6)
    assert fast.shape == full.shape and torch.allclose(fast, full, atol=1e-6)
    grads = [torch.autograd.grad(y.square().sum(), (x, conv.weight)) for y in (conv(x), full)]
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(*grads))


def test_bn_free_copy_has_no_bn_and_plain_relu():
    net = SPACE.network(SPACE.parse(ALL), SPACE.options(channels=4), bn=False)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())
    assert not any(isinstance(m, ReLU6) for m in net.modules())
    assert net(torch.ones(1, 3, 32, 32)).shape == (1, 10)


def test_bn_score_reads_each_chosen_blocks_projection_bn():
    space = SPACE_DEPTH
    net = space.supernet(space.options(channels=4, bn_every_op=True))
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.fill_(100.0)  # every BN that is not a slot's last must be ignored
        for j, layer in enumerate(net.layers):
            for c, op in enumerate(layer.ops):
                norm = op.project_bn if isinstance(op, MBConv) else op
                norm.weight.fill_(-(j + c / 10))  # |gamma| = layer + choice / 10
    table = bn_table(net, space)
    stage_first = (0, 4, 8, 12, 16, 20)  # no identity choice there: no slot, score 0
    expected = np.array([[i + c / 10 if c < 6 or i not in stage_first else 0.0 for c in range(7)] for i in range(21)])
    assert np.allclose(table, expected)
    arch = space.sample(3, 0)
    assert np.allclose(masked_gather(table, space.choices(arch)),
                       [sum(expected[i, c] for i, c in enumerate(a)) for a in arch])
    trained = {id(op.project_bn if isinstance(op, MBConv) else op) for layer in net.layers for op in layer.ops}
    assert {id(n) for n in op_last_bns(net)} == trained and len(trained) == 21 * 6 + 15  # BN-only "last" scope


def test_bn_only_training_trains_only_projection_bns(one_thread):
    digits = load_dataset("digits", train_fraction=0.2, seed=0)
    cfg = TrainConfig(dataset="digits", space="mobilenet", channels=4, cells=1, epochs=1, batch_size=32, seed=0,
                      bn_scope="last")
    torch.manual_seed(cfg.seed)
    before = SPACE.supernet(cfg.build_options(), num_classes=10, in_channels=1).state_dict()
    after = train_supernet(cfg, digits, progress=False).model.state_dict()
    changed = {k for k, v in after.items() if k.endswith(("weight", "bias")) and not torch.equal(v, before[k])}
    assert changed and all(".project.1." in k for k in changed)  # the projection BN of some chosen blocks
    assert torch.equal(after["stem.0.weight"], before["stem.0.weight"])


def test_truth_build_trains_sampled_mobilenet_architectures(tmp_path, one_thread):
    from bnbench.train.build_truth import BuildConfig, build_truth
    from bnbench.truth import read_source

    train = TrainConfig(dataset="digits", space="mobilenet", channels=4, cells=1, epochs=1, batch_size=128,
                        train_mode="full", lr=0.05)
    cfg = BuildConfig(space="mobilenet", sample_archs=1, sample_seed=0, seeds=(0,), folds=2, train=train)
    table = read_source(build_truth(cfg, tmp_path / "mb.csv", progress=False), space="mobilenet")
    spec = [s for s in table.specs() if s.dataset == "digits"][0]
    truth = table.truth(spec, source="mb")
    assert list(truth.archs) == [SPACE.to_str(SPACE.sample(1, 0)[0])]
    assert np.all((truth.values > 0) & (truth.values <= 100)) and truth.meta["space"] == "mobilenet"
