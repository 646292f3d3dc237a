"""The stand-alone DARTS network: DARTS-V2's published size, exact cost, variants, options and shape errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from bnbench.errors import BnbenchError
from bnbench.spaces import get_space
from bnbench.spaces.darts.arch import DARTS_V2
from bnbench.spaces.darts import arch as A
from bnbench.spaces.darts.cost import cost, measure
from bnbench.spaces.darts.encoding import encode
from bnbench.spaces.darts.model import count_params, reduction_cells
from bnbench.spaces.darts.ops import FactorizedReduce

S = get_space("darts")
# NAS-Bench-Suite-Zero's zc_nasbench301.json (automl/NASLib commit 22280f71): the first three cells as NASLib's
# compact (input, op index) pairs and their published "params" (millions) of the network the proxies scored
PUBLISHED = [
    ([[(0, 4), (1, 3), (0, 2), (2, 3), (2, 3), (0, 3), (2, 6), (3, 5)],
      [(0, 3), (1, 3), (1, 1), (0, 5), (2, 3), (0, 2), (4, 4), (3, 1)]], 1.204906),
    ([[(1, 1), (0, 6), (1, 1), (0, 3), (1, 1), (2, 5), (0, 1), (4, 4)],
      [(0, 1), (1, 1), (0, 4), (2, 4), (0, 4), (1, 5), (2, 4), (4, 0)]], 0.920618),
    ([[(0, 1), (1, 0), (0, 2), (1, 4), (1, 2), (2, 6), (3, 4), (4, 3)],
      [(1, 1), (0, 1), (0, 3), (1, 5), (2, 6), (3, 0), (4, 0), (0, 1)]], 0.84945),
]


def compact_row(compact) -> np.ndarray:
    return encode(A.make_genotype(*[[(A.OPS[op], src) for src, op in cell] for cell in compact]))


def bns(model: nn.Module) -> list[nn.BatchNorm2d]:
    return [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]


def test_darts_v2_has_darts_published_size(one_thread):
    row = S.parse(DARTS_V2)
    net = S.network(row, S.options())  # C=36, 20 layers, no auxiliary head
    assert (net.C, net.layers) == (36, 20) and reduction_cells(20) == (6, 13)
    assert count_params(net) == 3_349_342  # DARTS's train.py logs "param size = 3.349342MB": the paper's 3.3 M
    with_aux = S.network(row, S.options(auxiliary=True))
    assert count_params(with_aux, auxiliary=False) == 3_349_342 and count_params(with_aux) == 3_825_768
    assert S.cost(row[None], S.options())["params"][0] == 3_349_342
    assert S.cost(row[None], S.options(auxiliary=True))["params"][0] == 3_825_768


def test_reduction_cells_use_factorized_reduce_and_pools_have_no_bn(one_thread):
    strided_skip = DARTS_V2.replace("reduce=[('max_pool_3x3', 0)", "reduce=[('skip_connect', 0)")
    net = S.network(S.parse(strided_skip), S.options(channels=4, cells=5))  # reductions: cells 1 and 3
    reduce_cell, after = net.cells[1], net.cells[2]
    assert reduce_cell.reduction and isinstance(after.preprocess0, FactorizedReduce)
    assert isinstance(reduce_cell.ops[0], FactorizedReduce)  # skip_connect from input 0 of a reduction cell
    assert isinstance(reduce_cell.ops[2], nn.Identity)  # skip_connect from node 0 (stride 1)
    assert isinstance(net.cells[0].ops[5], nn.Identity)  # normal cell, skip_connect from input 0
    assert not bns(reduce_cell.ops[1])  # max_pool_3x3 of the evaluation network: no BN
    zc = S.network(S.parse(DARTS_V2), S.options(channels=4, cells=5), variant="zc")
    assert [b.affine for b in bns(zc.cells[1].ops[0])] == [False]  # search-network pooling + non-affine BN
    assert not any(b.affine for b in bns(zc.cells[0].ops[0]))  # cell ops: non-affine
    assert all(b.affine for b in bns(zc.cells[0].preprocess1))  # preprocessing: affine
    fair = S.network(S.parse(DARTS_V2), S.options(channels=4, cells=5, bn_every_op=True))
    assert len(bns(fair.cells[1].ops[0])) == 1 and len(bns(fair.cells[0].ops[5])) == 1  # pool, identity
    assert not bns(S.network(S.parse(DARTS_V2), S.options(channels=4, cells=5), bn=False))


def test_zc_variant_is_the_network_nas_bench_suite_zero_scored(one_thread):
    rows = np.stack([compact_row(c) for c, _ in PUBLISHED])
    params = cost(rows, variant="zc")["params"]  # C=32, 8 layers by default in this variant
    assert params.tolist() == [round(p * 1e6) for _, p in PUBLISHED]
    net = S.network(rows[2], S.options(), variant="zc")
    assert (net.C, net.layers, net.auxiliary_head) == (32, 8, None) and count_params(net) == 849_450


@pytest.mark.parametrize("opts, resolution", [
    (dict(channels=4, cells=5), 16), (dict(channels=3, cells=4, bn_every_op=True), 8), (dict(channels=2, cells=1), 4),
])
def test_cost_equals_what_is_counted_on_the_network(opts, resolution, one_thread):
    archs = np.concatenate([S.sample(4, 11), S.parse(DARTS_V2)[None]])
    options = S.options(opts)
    table = S.cost(archs, options, num_classes=7, in_channels=3, resolution=resolution)
    for k, arch in enumerate(archs):
        net = S.network(arch, options, num_classes=7, in_channels=3)
        counted = measure(net, torch.zeros(1, 3, resolution, resolution))
        assert [table[n][k] for n in ("params", "macs", "flops")] == list(counted), S.to_str(arch)
    assert (table["flops"] == 2 * (table["macs"] - 7)).all()


def test_auxiliary_head_and_drop_path(one_thread):
    torch.manual_seed(0)
    arch = S.sample(1, 3)[0]
    net = S.network(arch, S.options(channels=4, cells=3, auxiliary=True, drop_path_prob=0.3))
    x = torch.randn(4, 3, 32, 32)
    net.train()
    torch.manual_seed(1)
    a = net(x)
    assert net.aux_logits is not None and net.aux_logits.shape == (4, 10) and a.shape == (4, 10)
    torch.manual_seed(2)
    assert not torch.allclose(a, net(x))  # another drop-path mask
    net.eval()
    y = net(x)
    assert net.aux_logits is None and torch.equal(y, net(x))  # eval: no drop-path, no auxiliary logits
    with pytest.raises(BnbenchError, match="auxiliary head: a 2x2 feature map"):
        net.train()(torch.randn(2, 3, 8, 8))


def test_odd_sides_before_a_reduction_are_one_line_errors(one_thread):
    arch = S.sample(1, 0)[0]
    net = S.network(arch, S.options(channels=2, cells=3)).eval()  # reductions at cells 1 and 2
    assert net(torch.randn(1, 3, 4, 4)).shape == (1, 10)  # 4 -> 2 -> 1
    with pytest.raises(BnbenchError, match="reduction cell 2 gets a 3x3 feature map"):
        net(torch.randn(1, 3, 6, 6))
    with pytest.raises(BnbenchError, match="a 6x6 input reaches reduction cell 2 at 3x3"):
        S.cost(arch[None], S.options(channels=2, cells=3), resolution=6)
    with pytest.raises(BnbenchError, match="option C=0"):
        S.options(channels=0)
    with pytest.raises(BnbenchError, match="drop_path_prob=1.0"):
        S.options(drop_path_prob=1.0)


def test_standalone_training_adds_the_auxiliary_loss_and_ramps_drop_path(one_thread, monkeypatch):
    from bnbench.datasets import ImageSplit
    from bnbench.datasets.augment import AugmentConfig
    from bnbench.train import standalone
    from bnbench.train.config import TrainConfig

    arch = S.sample(1, 3)[0]
    net = S.network(arch, S.options(channels=4, cells=3, auxiliary=True, drop_path_prob=0.3))
    net.set_progress(0.5)
    assert net.drop_path_now == pytest.approx(0.15) and net.drop_path_prob == 0.3
    x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
    net.train()
    torch.manual_seed(0)
    logits = net(x)
    assert net.auxiliary_loss(y).item() == pytest.approx(0.4 * nn.functional.cross_entropy(net.aux_logits, y).item())
    net.eval()
    net(x)
    assert net.auxiliary_loss(y) is None

    seen: list[float] = []  # drop-path probability at each training forward of train_network
    built = {}
    real_network = S.network

    def network(*args, **kwargs):
        built["net"] = real_network(*args, **kwargs)
        built["aux0"] = {k: v.clone() for k, v in built["net"].auxiliary_head.state_dict().items()}
        forward = built["net"].forward
        built["net"].forward = lambda inp: (seen.append(built["net"].drop_path_now), forward(inp))[1]
        return built["net"]

    monkeypatch.setattr(type(S), "network", lambda self, *a, **k: network(*a, **k))
    g = torch.Generator().manual_seed(0)
    data = ImageSplit(torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8, generator=g), torch.arange(64) % 10)
    cfg = TrainConfig(dataset="cifar10", space="darts", channels=4, cells=3, epochs=4, batch_size=32, lr=0.05,
                      train_mode="full", space_options={"auxiliary": True, "drop_path_prob": 0.2})
    standalone.train_network(arch, data, data, cfg, (0.5,) * 3, (0.25,) * 3, AugmentConfig(), 10, seed=0)
    train_forwards = seen[:8]  # 4 epochs x 2 batches, then evaluation
    assert train_forwards == pytest.approx([0.0, 0.0, 0.05, 0.05, 0.1, 0.1, 0.15, 0.15])
    trained = built["net"].auxiliary_head.state_dict()  # the auxiliary loss reached the auxiliary head's weights
    assert not torch.equal(trained["classifier.weight"], built["aux0"]["classifier.weight"])
