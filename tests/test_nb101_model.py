"""The NB101 stand-alone network: parameter counts against the benchmark, vertex widths, pruned-cell handling,
forward passes at reduced sizes, model variants and the closed-form cost."""

import math

import pytest
import torch
from torch import nn

from bnbench.errors import ArchError, BnbenchError
from bnbench.spaces.nb101.arch import make_cell, parse
from bnbench.spaces.nb101.model import (CellModule, Network, cost, count_params, measured_cost, vertex_bns,
                                        vertex_channels)
from bnbench.spaces.nb101.ops import BN_EPSILON, BN_MOMENTUM, last_bn, make_op

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
IN, OUT = "input", "output"
# input -> output only (what pruning leaves of a cell whose interior is off every path)
IO = make_cell([[0, 1], [0, 0]], [IN, OUT])
# one vertex, fed by the input, feeding the output; plus input -> output
SKIP1 = make_cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], [IN, C3, OUT])
# three vertices feed the output (128 = 43 + 43 + 42); vertex 1 (43) also feeds vertex 3 (42): truncated
TRUNC = make_cell([[0, 1, 1, 1, 0], [0, 0, 0, 1, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
                  [IN, C3, MP, C1, OUT])
# a chain: vertex 1 feeds only vertex 2, so it takes vertex 2's width
CHAIN = make_cell([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], [IN, MP, C1, OUT])


@pytest.fixture(scope="module")
def records(nb101_record_stats):
    return [(make_cell(fs["module_adjacency"], fs["module_operations"]), fs["trainable_parameters"])
            for fs in nb101_record_stats.values()]


def test_param_count_equals_benchmark_for_all_30_records(records):
    assert len(records) == 30
    for cell, expected in records:
        with torch.device("meta"):  # shapes only: counting needs no weights
            net = Network(cell)
        assert count_params(net) == expected
        assert cost(cell)["params"] == expected


def test_param_count_of_built_network_and_zc_variant(records):
    cell, expected = min(records, key=lambda r: r[1])
    assert count_params(Network(cell)) == expected
    assert count_params(Network(cell, variant="zc")) == expected


def test_vertex_channels_follow_the_official_split():
    assert vertex_channels(TRUNC.matrix, 64, 128) == [64, 43, 43, 42, 128]
    assert vertex_channels(TRUNC.matrix, 16, 16) == [16, 6, 5, 5, 16]
    assert vertex_channels(CHAIN.matrix, 16, 32) == [16, 32, 32, 32]
    assert vertex_channels(IO.matrix, 16, 32) == [16, 32]
    # 7 vertices, output fed by 3, 4, 5 (86, 85, 85); 2 feeds 4 and 5 (85); 1 feeds 2 and 3: max(85, 86)
    m = [[0, 1, 0, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0, 0], [0, 0, 0, 0, 1, 1, 0], [0, 0, 0, 0, 0, 0, 1],
         [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 1], [0] * 7]
    assert vertex_channels(m, 128, 256) == [128, 86, 85, 86, 85, 85, 256]
    assert count_params(Network(make_cell(m, [IN, C1, MP, C3, C1, MP, OUT]), 8, 1, 1)) > 0  # 1 -> 2 truncates
    with pytest.raises(BnbenchError, match="3 vertices feeding the output"):
        vertex_channels(TRUNC.matrix, 2, 2)


def test_truncation_keeps_the_first_channels():
    torch.manual_seed(0)
    cell = CellModule(TRUNC, 8, 16).train()
    x = torch.randn(2, 8, 5, 5)
    ops, proj = cell.vertex_ops, cell.projections
    v1 = ops[1](proj[1](x))
    v2 = ops[2](proj[2](x))
    v3 = ops[3](v1[:, :5] + proj[3](x))
    assert cell.channels == [8, 6, 5, 5, 16]
    torch.testing.assert_close(cell(x), torch.cat([v1, v2, v3], 1))


def test_input_only_cell_is_one_projection_and_input_edge_adds_a_projection():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 6, 6)
    io = CellModule(IO, 4, 8)
    assert [type(m).__name__ for m in io.vertex_ops] == ["Identity", "Identity"]
    torch.testing.assert_close(io(x), io.projections[1](x))
    skip = CellModule(SKIP1, 4, 8)
    torch.testing.assert_close(skip(x), skip.vertex_ops[1](skip.projections[1](x)) + skip.projections[2](x))


def test_hand_counted_cost_of_the_projection_only_network():
    # stem 3*3*3*128 + BN; stack widths 128/256/512, each cell one 1x1 projection + BN; dense 512*10 + 10
    params = (3456 + 256) + 3 * (16384 + 256) + (32768 + 512) + 2 * (65536 + 512) \
        + (131072 + 1024) + 2 * (262144 + 1024) + 5130
    macs = 3456 * 1024 + 3 * 16384 * 1024 + (32768 + 2 * 65536) * 256 + (131072 + 2 * 262144) * 64 + 5130
    assert cost(IO) == {"params": params, "macs": macs, "flops": 2 * (macs - 10)}
    assert params == 882_570 and macs == 137_761_802


@pytest.mark.parametrize("cell", [IO, SKIP1, TRUNC, CHAIN])
@pytest.mark.parametrize("kw", [dict(stem_channels=16, resolution=32),
                                dict(stem_channels=8, num_stacks=2, cells_per_stack=1, in_channels=1,
                                     resolution=8, bn_every_op=True),
                                dict(stem_channels=6, resolution=7, variant="zc", bn=False)])
def test_closed_form_cost_equals_counts_on_the_built_network(cell, kw, one_thread):
    kw = dict(kw)
    side = kw.pop("resolution")
    net = Network(cell, **kw)
    x = torch.zeros(1, kw.get("in_channels", 3), side, side)
    assert cost(cell, resolution=side, **kw) == measured_cost(net, x)


def test_full_width_cost_at_32x32(records, one_thread):
    cell, expected = min(records, key=lambda r: r[1])
    measured = measured_cost(Network(cell), torch.zeros(1, 3, 32, 32))
    assert measured == cost(cell) and measured["params"] == expected
    assert measured["flops"] == 2 * (measured["macs"] - 10)


@pytest.mark.parametrize("cell", [IO, SKIP1, TRUNC, CHAIN])
def test_forward_on_cifar_and_digit_sizes(cell, one_thread):
    torch.manual_seed(0)
    net = Network(cell, stem_channels=16, num_stacks=3, cells_per_stack=1)
    out = net(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10) and torch.isfinite(out).all()
    digits = Network(cell, stem_channels=8, num_stacks=2, cells_per_stack=2, in_channels=1, bn_every_op=True)
    out = digits(torch.randn(3, 1, 8, 8))
    assert out.shape == (3, 10) and torch.isfinite(out).all()
    out.sum().backward()
    assert all(p.grad is not None for p in digits.parameters())
    assert net.features(torch.randn(2, 3, 32, 32)).shape == (2, 64)


def test_downsampling_rounds_up_like_tf_same_padding_and_zc_floors():
    seen = {}
    for variant in ("official", "zc"):
        net = Network(IO, stem_channels=4, num_stacks=3, cells_per_stack=1, variant=variant).eval()
        sides = []
        for cell in net.cells():
            cell.register_forward_hook(lambda m, i, o, s=sides: s.append(o.shape[-1]))
        net(torch.randn(1, 3, 7, 7))
        seen[variant] = sides
    assert seen == {"official": [7, 4, 2], "zc": [7, 3, 1]}


def test_pruned_vertices_build_nothing():
    raw = [[0, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0],
           [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0] * 7]  # 2 -> 3 is a dead end, 4 -> 5 unreachable
    cell = make_cell(raw, [IN, C3, C3, C3, C1, C1, OUT])
    assert cell.ops == (IN, C3, OUT)
    assert count_params(Network(cell, stem_channels=16)) == count_params(Network(parse(
        '{"matrix": [[0, 1, 0], [0, 0, 1], [0, 0, 0]], "ops": ["input", "conv3x3-bn-relu", "output"]}'),
        stem_channels=16))


def test_bn_settings_and_bn_every_op():
    net = Network(TRUNC, stem_channels=16, num_stacks=1, cells_per_stack=2)
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(b.momentum == BN_MOMENTUM == pytest.approx(1 - 0.997) and b.eps == BN_EPSILON == 1e-5
                       and b.affine and b.track_running_stats for b in bns)
    assert {b.momentum for m in [Network(TRUNC, 16, 1, 1, variant="zc")] for b in m.modules()
            if isinstance(b, nn.BatchNorm2d)} == {0.1}
    plain = [[b is not None for b in cell] for cell in vertex_bns(net)]
    assert plain == [[True, False, True]] * 2  # conv, maxpool, conv
    fair = Network(TRUNC, stem_channels=16, num_stacks=1, cells_per_stack=2, bn_every_op=True)
    assert [[b is not None and b.affine for b in cell] for cell in vertex_bns(fair)] == [[True] * 3] * 2
    assert count_params(fair) - count_params(net) == 2 * 2 * 5  # a BN (scale, shift) on each 5-wide maxpool
    assert last_bn(make_op(MP, 4)) is None and last_bn(make_op(MP, 4, bn_every_op=True, use_bn=False)) is None
    bare = Network(TRUNC, stem_channels=16, num_stacks=1, bn_every_op=True, bn=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in bare.modules())


def test_tf_initialisation_statistics():
    torch.manual_seed(0)
    net = Network(SKIP1, stem_channels=64, num_stacks=2, cells_per_stack=1)
    conv = net.cells()[1].vertex_ops[1][0]  # 3x3, 128 -> 128: fan-in 1152
    std = math.sqrt(1 / 1152)
    assert conv.weight.std().item() == pytest.approx(std, rel=0.02)
    assert conv.weight.abs().max().item() <= 2 * std / 0.87962566 + 1e-7
    bound = math.sqrt(6 / (128 + 10))  # Glorot uniform
    assert net.classifier.weight.abs().max().item() <= bound and net.classifier.weight.abs().max() > 0.9 * bound
    assert (net.classifier.bias == 0).all()
    zc = Network(SKIP1, stem_channels=64, num_stacks=2, cells_per_stack=1, variant="zc")
    conv = zc.cells()[1].vertex_ops[1][0]
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / (9 * 128)), rel=0.02)
    assert zc.classifier.weight.std().item() == pytest.approx(0.01, rel=0.1)


def test_bad_options_are_one_line_errors():
    with pytest.raises(BnbenchError, match="stem_channels=0"):
        Network(SKIP1, stem_channels=0)
    with pytest.raises(BnbenchError, match="num_stacks=1.5"):
        cost(SKIP1, num_stacks=1.5)
    with pytest.raises(BnbenchError, match="variant 'tf'"):
        Network(SKIP1, variant="tf")
    with pytest.raises(BnbenchError, match="cannot be split among the 3 vertices"):
        Network(TRUNC, stem_channels=2)
    with pytest.raises(ArchError, match="expected a Cell"):
        Network([[0, 1], [0, 0]])
    with pytest.raises(ArchError, match="unknown NB101 op"):
        make_op("conv5x5", 4)
    with pytest.raises(BnbenchError, match="too small"):
        cost(SKIP1, resolution=2, variant="zc")


def test_matches_nasbench_pytorch_forward_when_installed(records, one_thread):
    """An independent port (romulus0914/NASBench-PyTorch): with the same weights, the same train-mode outputs.
    Its extra parameters (a scalar ``Placeholder.a`` per unused slot, an empty ``dev_param``) are skipped."""
    nbp = pytest.importorskip("nasbench_pytorch.model")
    torch.manual_seed(0)
    for cell, _ in records[:6]:
        ours = Network(cell, stem_channels=8, cells_per_stack=1)
        theirs = nbp.Network((cell.array(), list(cell.ops)), stem_out_channels=8, num_modules_per_stack=1)
        extra = [p for n, p in theirs.named_parameters() if n.endswith((".a", "dev_param"))]
        assert count_params(theirs) - count_params(ours) == sum(p.numel() for p in extra) > 0
        kept = [p for n, p in theirs.named_parameters() if not n.endswith((".a", "dev_param"))]
        with torch.no_grad():
            for mine, other in zip(ours.parameters(), kept, strict=True):
                other.copy_(mine)
        x = torch.randn(2, 3, 32, 32)
        torch.testing.assert_close(ours(x), theirs(x), rtol=0, atol=0)
