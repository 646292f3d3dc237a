"""FairNAS strict-fair sampling (Chu et al., ICCV 2021): every choice of every decision runs exactly once per step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bnbench.datasets import load_dataset
from bnbench.errors import BnbenchError
from bnbench.spaces import get_space
from bnbench.spaces.base import slots_of
from bnbench.spaces.sampling import strict_fair_rows
from bnbench.train import loop
from bnbench.train.config import TrainConfig
from bnbench.train.supernet import train_supernet


def test_strict_fair_rows_are_one_permutation_per_decision():
    rows = strict_fair_rows(np.random.default_rng(0), 50, [5] * 6)
    assert rows.shape == (50, 5, 6)
    assert (np.sort(rows, axis=1) == np.arange(5)[None, :, None]).all()
    # independent per decision: the columns are not all the same permutation
    assert any(len({tuple(rows[s, :, d]) for d in range(6)}) > 1 for s in range(50))
    with pytest.raises(BnbenchError, match="same number of choices"):
        strict_fair_rows(np.random.default_rng(0), 3, [5, 3])


def test_nb101_fair_paths_balance_the_ops_of_a_shared_structure():
    space = get_space("nb101")
    groups = space.fair_paths(np.random.default_rng(1), 40)
    assert groups.shape == (40, 3, space.width)
    for group in groups:
        choices = space.choices(group)  # valid rows (choices() checks them)
        ops, edges = choices[:, :5], choices[:, 5:]
        assert (edges == edges[0]).all()  # one structure per step
        used = ops[0] >= 0
        assert ((ops >= 0) == used).all()
        assert (np.sort(ops[:, used], axis=0) == np.arange(3)[:, None]).all()


def test_darts_fair_paths_balance_the_ops_of_shared_cell_structures():
    space = get_space("darts")
    groups = space.fair_paths(np.random.default_rng(2), 30)
    assert groups.shape == (30, 7, space.width)
    for group in groups:
        choices = space.choices(group)  # (7, 28): valid genotypes
        used = choices[0] >= 0
        assert ((choices >= 0) == used).all() and used.sum() == 16  # one structure: 8 edges per cell type
        assert (np.sort(choices[:, used], axis=0) == np.arange(7)[:, None]).all()


def test_one_fairnas_step_runs_every_slot_exactly_once_and_sums_gradients(one_thread):
    import copy

    space = get_space("nb201")
    torch.manual_seed(0)
    model = space.supernet(space.options(channels=4, cells=1), num_classes=10, in_channels=1).train()
    reference = copy.deepcopy(model)
    group = space.fair_paths(np.random.default_rng(0), 1)[0]
    x, y = torch.randn(8, 1, 8, 8), torch.randint(0, 10, (8,))

    # the summed gradient of the m paths' losses, path by path on the untouched copy
    summed = {name: torch.zeros_like(p) for name, p in reference.named_parameters()}
    for a in group:
        reference.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(reference(x, a), y).backward()
        for name, p in reference.named_parameters():
            if p.grad is not None:
                summed[name] += p.grad

    runs: dict[str, int] = {}
    modules = dict(model.named_modules())
    slots = slots_of(model)
    for slot in slots:
        modules[slot.module].register_forward_hook(
            lambda m, i, o, name=slot.module: runs.__setitem__(name, runs.get(name, 0) + 1))
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    loop.accumulated_step([lambda inp, a=a: model(inp, a) for a in group], optimizer, x, y)
    assert runs == {s.module: 1 for s in slots}  # every choice of every edge, once
    for name, p in model.named_parameters():  # one update: minus the summed gradient (lr 1, plain SGD)
        assert torch.allclose(p.detach(), before[name] - summed[name], atol=1e-5), name


def test_fairnas_supernet_trains_and_records_its_sampler(one_thread):
    data = load_dataset("digits", train_fraction=0.2, seed=0)
    cfg = TrainConfig(dataset="digits", space="nb201", channels=4, cells=1, epochs=1, batch_size=32,
                      train_mode="full", sampler="fairnas")
    result = train_supernet(cfg, data, progress=False, announce=lambda line: None)
    (record,) = result.history
    assert record["paths_per_step"] == 5 and np.isfinite(record["loss"])
    with pytest.raises(BnbenchError, match="sampler 'fair'"):
        TrainConfig(sampler="fair")
