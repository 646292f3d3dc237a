"""The DARTS supernet: every op on every edge, slots over both cell types, BN score, BN-only / full training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from bnbench.datasets import load_dataset
from bnbench.indicators.bn_score import bn_table
from bnbench.spaces import get_space
from bnbench.spaces.base import last_bn, masked_gather, slots_of
from bnbench.spaces.darts import arch as A
from bnbench.spaces.darts.encoding import edge_index
from bnbench.spaces.darts.ops import FactorizedReduce, Zero
from bnbench.train.config import TrainConfig
from bnbench.train.supernet import train_supernet

S = get_space("darts")


def test_every_edge_holds_every_op_and_pools_end_in_a_bn(one_thread):
    net = S.supernet(S.options(channels=4, cells=3))  # normal, reduction, reduction
    assert [c.reduction for c in net.cells] == [False, True, True]
    cell = net.cells[1]
    assert len(cell.edges) == 14 and all(len(e) == 8 for e in cell.edges)
    assert isinstance(cell.edges[edge_index(0, 0)][7], Zero)  # 'none', no slot
    assert isinstance(cell.edges[edge_index(0, 1)][A.OPS.index("skip_connect")], FactorizedReduce)  # stride 2
    assert isinstance(cell.edges[edge_index(1, 2)][A.OPS.index("skip_connect")], nn.Identity)  # stride 1
    pool = cell.edges[0][A.OPS.index("avg_pool_3x3")]
    assert isinstance(last_bn(pool), nn.BatchNorm2d) and last_bn(pool).affine  # trainable: BN-NAS reads it
    fair = S.supernet(S.options(channels=4, cells=3, bn_every_op=True))
    assert last_bn(fair.cells[0].edges[3][A.OPS.index("skip_connect")]) is not None
    slots = slots_of(net)
    assert len(slots) == 3 * 14 * 7 and {s.decision for s in slots} == set(range(28))
    assert all(s.decision >= 14 for s in slots if s.module.startswith(("cells.1.", "cells.2.")))
    out = net(torch.randn(2, 3, 32, 32), S.sample(1, 0)[0])
    assert out.shape == (2, 10)


@torch.no_grad()
def test_bn_score_sums_the_chosen_ops_of_both_cell_types(one_thread):
    net = S.supernet(S.options(channels=4, cells=3, bn_every_op=True))
    modules = dict(net.named_modules())
    for k, slot in enumerate(slots_of(net)):  # a distinct known scale per slot
        last_bn(modules[slot.module]).weight.fill_(0.001 * (k + 1))
    archs = S.sample(5, 7)
    scores = masked_gather(bn_table(net, S), S.choices(archs))
    for arch, score in zip(archs, scores):
        genotype = S.genotype(arch)
        expected = 0.0
        for c, cell in enumerate(net.cells):
            for p, (op, src) in enumerate(genotype.cell("reduce" if cell.reduction else "normal")):
                module = modules[f"cells.{c}.edges.{edge_index(p // 2, src)}.{A.OPS.index(op)}"]
                expected += float(last_bn(module).weight.abs().mean())
        assert score == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("mode", ["bn", "full"])
def test_supernet_trains_through_the_shared_trainer(mode, tmp_path, one_thread):
    digits = load_dataset("digits", train_fraction=0.1, seed=0)
    cfg = TrainConfig(dataset="digits", space="darts", channels=4, cells=3, epochs=1, batch_size=25, seed=0,
                      train_mode=mode, bn_scope="all")
    torch.manual_seed(cfg.seed)
    before = {k: v.clone() for k, v in S.supernet(cfg.build_options(), 10, 1).state_dict().items()}
    result = train_supernet(cfg, digits, tmp_path, progress=False)
    after = result.model.state_dict()
    changed = {k for k in after if k in before and not torch.equal(before[k], after[k])
               and not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
    assert changed
    is_bn = {name + "." + p for name, m in result.model.named_modules() if isinstance(m, nn.BatchNorm2d)
             for p in ("weight", "bias")}
    if mode == "bn":
        assert changed <= is_bn  # BN-only: nothing but BN scales and shifts learns
    else:
        assert changed - is_bn  # full: convolutions learn too
    assert np.isfinite(result.history[0]["loss"])
